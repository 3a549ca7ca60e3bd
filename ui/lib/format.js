// How the window words and formats what it shows: pure functions, no page and no Tauri, so
// that they run (and are tested) under node as they do in the window.

export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export const money = (v) => (v === 0 ? "$0" : v < 0.0001 ? "<$0.0001" : `$${v.toFixed(v < 1 ? 4 : 2)}`);

// Counts as people read them, in their locale: 19.3M, 11.2K.
const compactNumber = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
export const count = (v) => compactNumber.format(v);
export const exact = (v) => v.toLocaleString();

// An axis tick of a cost chart: cents keep two significant digits, dollars go compact.
export const moneyTick = (v) => (v < 1 ? `$${Number(v.toPrecision(2))}` : `$${count(v)}`);

// When a request was made, short enough for its column: the time for today, else the day
// and the time (the whole date is in the detail).
export function shortWhen(tsMs, now = Date.now()) {
  const d = new Date(tsMs);
  return d.toDateString() === new Date(now).toDateString()
    ? d.toLocaleTimeString()
    : d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// A duration in milliseconds: seconds once it is over one.
export const duration = (v) => (v == null ? "–" : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`);

export function mapToText(map) {
  return Object.entries(map || {}).map(([k, v]) => `${k} = ${v}`).join("\n");
}

export function textToMap(text) {
  const map = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const i = line.indexOf("=");
    if (i < 1) throw new Error(`model map line "${line}" is not "requested = upstream"`);
    map[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return map;
}

// The first id from `base`, `base-2`, `base-3`... that no provider has.
export function freeId(base, taken) {
  let candidate = base, n = 2;
  while (taken.includes(candidate)) candidate = `${base}-${n++}`;
  return candidate;
}

// Test connection's outcome as [ok, sentence].
export function describeTest(r) {
  return r.ok
    ? [true, `${r.model_tried} answered in ${r.latency_ms} ms${r.models.length ? `; ${plural(r.models.length, "model")} listed` : ""}`]
    : [false, `${r.model_tried ? `${r.model_tried}: ` : ""}${r.error}`];
}

// What a provider card says of its key.
export function keyBadge(p) {
  // Codex's own login rides along; Plugboard holds no key for it.
  if (p.preset === "chatgpt") return "your ChatGPT login";
  if (p.key_unreadable) return "key locked in the keyring";
  if (p.key_mask) return `key ${p.key_mask}`;
  return p.needs_key ? "no key" : "local, no key needed";
}

// What the form's fields show greyed out for a preset: its own values, or for a server of
// the user's own (the Custom preset, no model of its own) what such a server looks like.
export function placeholders(preset) {
  const own = preset.id === "custom";
  const model = preset.default_model || "the model's name on the server";
  return {
    id: own ? "my-server" : preset.id,
    name: own ? "My server" : preset.name,
    base_url: preset.base_url,
    default_model: model,
    model_map: `gpt-* = ${preset.default_model || "the model's name"}`,
  };
}

// Tokens or cost per day, one dataset per provider with something to show (a provider with
// nothing is left out of the chart and its legend).
export function byDayAndProvider(daily, value, nameOf = (id) => id) {
  const days = [...new Set(daily.map((d) => d.day))];
  const providers = [...new Set(daily.map((d) => d.provider))];
  const datasets = providers
    .map((p) => ({
      label: nameOf(p),
      data: days.map((day) => { const r = daily.find((d) => d.day === day && d.provider === p); return r ? value(r) : 0; }),
    }))
    .filter((d) => d.data.some((v) => v > 0));
  return { labels: days, datasets };
}

// A long session id cut for a table cell (the whole id is on hover).
export const shortSession = (s) => (s.length > 14 ? `${s.slice(0, 13)}…` : s);

// A request row's Status cell: the status when answered, else the failure in words.
export const requestOutcome = (r) => (r.answered ? r.status : (r.sentence ?? r.status));

// One request as a person reads it: local time, who answered, how it ended, its numbers.
export function requestDetail(r, nameOf = (id) => id) {
  return [
    ["When", new Date(r.ts_ms).toLocaleString()],
    ["Model", r.route ? `${r.model} (route ${r.route})` : r.model],
    ["Provider", `${nameOf(r.provider)} · ${r.upstream_model}${r.attempt > 1 ? ` · attempt ${r.attempt}` : ""}${r.local ? " · stayed local" : ""}`],
    ["Outcome", r.answered ? r.status : `${r.sentence ?? r.status} (${r.status}${r.error_class ? `, ${r.error_class}` : ""})`],
    ["Tokens", `${exact(r.input_tokens)} in (${exact(r.cached_tokens)} cached) · ${exact(r.output_tokens)} out (${exact(r.reasoning_tokens)} reasoning)`],
    ["Time", `first event ${duration(r.first_event_ms)} · total ${duration(r.total_ms)}${r.stream ? " · streamed" : ""}`],
    ["Cost", r.priced ? money(r.cost_usd) : "unpriced"],
    ["Request id", r.request_id],
  ];
}

// The Codex check's headline: how many steps failed, of how many.
export function checkHeadline(r) {
  const failed = r.steps.filter((s) => s.status === "failed").length;
  const counted = r.steps.filter((s) => s.status !== "info").length;
  return failed ? `✗ ${failed} of ${counted} steps failed` : "✓ Codex check passed";
}
