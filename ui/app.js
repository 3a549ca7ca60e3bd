// Plugboard's settings window: a plain ES module over Tauri commands (see src-tauri/src/commands.rs).
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

let state = null;      // what get_state returned last
let editing = null;    // id of the provider in the form, "" for a new one

function toast(text, isError = false) {
  const t = $("#toast");
  t.textContent = text;
  t.style.background = isError ? "var(--bad)" : "";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), isError ? 7000 : 3000);
}

// An in-app question (never the browser's own dialog): resolves "ok", "alt" or null.
function ask(text, okLabel = "OK", altLabel = null) {
  const d = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  $("#confirm-alt").hidden = !altLabel;
  $("#confirm-alt").textContent = altLabel ?? "";
  return new Promise((resolve) => {
    const done = (answer) => { d.close(); resolve(answer); };
    $("#confirm-ok").onclick = () => done("ok");
    $("#confirm-alt").onclick = () => done("alt");
    $("#confirm-cancel").onclick = () => done(null);
    d.oncancel = (e) => { e.preventDefault(); done(null); };
    d.showModal();
    $("#confirm-ok").focus();
  });
}

const providerName = (id) => state?.providers.find((p) => p.id === id)?.name ?? id;

async function call(cmd, args) {
  try {
    return await invoke(cmd, args);
  } catch (e) {
    throw new Error(typeof e === "string" ? e : e?.message ?? String(e));
  }
}

async function refresh() {
  state = await call("get_state");
  renderFirstRun();
  renderHeader();
  renderProviders();
  renderRoutes();
  renderCodex();
  renderSettings();
}

function renderHeader() {
  const { status, base_url, warnings } = state.snapshot;
  const pill = $("#status");
  // The tray's state: running, stopped, error (also a failed last request) or setup.
  pill.className = `pill ${state.snapshot.tray_state}`;
  pill.textContent = state.status_line;
  $("#base-url-display").textContent = base_url;
  $("#proxy-toggle").textContent = status.state === "running" ? "Stop proxy" : "Start proxy";
  const w = $("#warnings");
  w.hidden = warnings.length === 0;
  w.replaceChildren(...warnings.map((text) => el("div", {}, text)), el("button", { className: "secondary", id: "dismiss-warnings", textContent: "Dismiss", onclick: async () => { await call("dismiss_warnings"); refresh(); } }));
}

function renderProviders() {
  const list = $("#provider-list");
  list.replaceChildren(
    ...state.providers.map((p) => {
      const badges = el("div", { className: "badges" });
      if (p.active) badges.append(el("span", { className: "badge active", textContent: "active" }));
      badges.append(el("span", { className: "badge", textContent: p.wire_api === "responses" ? "pass-through" : "chat" }));
      badges.append(el("span", { className: "badge key", textContent: p.key_unreadable ? "key locked in the keyring" : p.key_mask ? `key ${p.key_mask}` : p.needs_key ? "no key" : "local, no key needed" }));
      if (p.check) {
        const c = p.check;
        const when = new Date(c.checked_at * 1000).toLocaleString();
        badges.append(el("span", {
          className: `badge check ${c.passed ? "check-ok" : "check-bad"}${c.stale ? " stale" : ""}`,
          textContent: `Codex ${c.passed ? "✓" : "✗"}${c.stale ? " (changed since)" : ""}`,
          title: `${c.summary} for ${c.model}, ${when}${c.stale ? "; the provider changed since: check again" : ""}`,
        }));
      }
      const buttons = el(
        "div",
        { className: "buttons" },
        el("button", { className: "make-active secondary", textContent: "Make active", disabled: p.active, onclick: (e) => { e.stopPropagation(); activate(p.id); } }),
        el("button", { className: "duplicate link", textContent: "Duplicate", onclick: (e) => { e.stopPropagation(); duplicate(p.id); } }),
        el("button", { className: "delete link", textContent: "Delete", onclick: (e) => { e.stopPropagation(); remove(p.id); } }),
      );
      const li = el("li", {
        className: "provider" + (editing === p.id ? " selected" : ""), tabIndex: 0, role: "button",
        ariaLabel: `Edit ${p.name}`, onclick: () => edit(p.id),
        onkeydown: (e) => { if ((e.key === "Enter" || e.key === " ") && e.target === e.currentTarget) { e.preventDefault(); edit(p.id); } },
      }, el("div", { className: "name", textContent: p.name }), el("div", { className: "url", textContent: p.base_url }), badges, buttons);
      li.dataset.id = p.id;
      return li;
    }),
  );
  $("#provider-form").hidden = editing === null;
  $("#empty-editor").hidden = editing !== null;
}

function fillPresets() {
  const sel = $("#f-preset");
  if (sel.options.length) return;
  sel.append(...state.presets.map((p) => el("option", { value: p.id, textContent: p.name })));
}

function mapToText(map) {
  return Object.entries(map || {}).map(([k, v]) => `${k} = ${v}`).join("\n");
}

function textToMap(text) {
  const map = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const i = line.indexOf("=");
    if (i < 1) throw new Error(`model map line "${line}" is not "requested = upstream"`);
    map[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return map;
}

function applyPreset(id, keepId) {
  const p = state.presets.find((x) => x.id === id);
  if (!p) return;
  if (!keepId) {
    let candidate = p.id, n = 2;
    while (state.providers.some((x) => x.id === candidate)) candidate = `${p.id}-${n++}`;
    $("#f-id").value = candidate;
  }
  $("#f-name").value = p.name;
  $("#f-base-url").value = p.base_url;
  $("#f-wire-api").value = p.wire_api;
  $("#f-default-model").value = p.default_model ?? "";
  $("#f-model-map").value = p.default_model && p.wire_api === "chat" ? `gpt-* = ${p.default_model}` : "";
  $("#key-hint").textContent = p.needs_key ? "kept in the OS keyring, never in files" : "a local server needs no key";
}

function edit(id) {
  fillPresets();
  editing = id;
  $("main").scrollTo(0, 0);
  $("#form-error").hidden = true;
  $("#test-result").hidden = true;
  $("#f-api-key").value = "";
  $("#f-clear-key").checked = false;
  if (id === "") {
    $("#form-title").textContent = "New provider";
    $("#f-preset").disabled = false;
    $("#f-preset").value = "deepseek";
    applyPreset("deepseek", false);
    $("#f-api-key").placeholder = "paste a key";
    $("#clear-key-row").hidden = true;
  } else {
    const p = state.providers.find((x) => x.id === id);
    $("#form-title").textContent = `Edit ${p.name}`;
    $("#f-preset").value = p.preset ?? "custom";
    $("#f-preset").disabled = true;
    $("#f-id").value = p.id;
    $("#f-name").value = p.name;
    $("#f-base-url").value = p.base_url;
    $("#f-wire-api").value = p.wire_api;
    $("#f-default-model").value = p.default_model ?? "";
    $("#f-model-map").value = mapToText(p.model_map);
    $("#f-api-key").placeholder = p.key_mask ? `stored: ${p.key_mask} (type to replace)` : "paste a key";
    $("#clear-key-row").hidden = !p.key_mask;
  }
  $("#codex-check").disabled = id === "";
  $("#check-result").hidden = true;
  if (id !== "") call("last_codex_check", { id }).then((r) => { if (r && editing === id && !checking) showCheck(r); }).catch(() => {});
  renderProviders();
}

function formInput() {
  const base = $("#f-base-url").value.trim();
  let url;
  try { url = new URL(base); } catch { throw new Error(`Base URL "${base}" is not a URL (e.g. https://api.deepseek.com/v1)`); }
  if (!["http:", "https:"].includes(url.protocol)) throw new Error("Base URL must start with http:// or https://");
  const id = $("#f-id").value.trim();
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error("Id may only hold letters, digits, - and _");
  const key = $("#f-api-key").value.trim();
  return {
    original_id: editing || null,
    id,
    name: $("#f-name").value.trim(),
    preset: $("#f-preset").value || null,
    base_url: base,
    wire_api: $("#f-wire-api").value,
    default_model: $("#f-default-model").value.trim() || null,
    model_map: textToMap($("#f-model-map").value),
    api_key: key || null,
    clear_key: $("#f-clear-key").checked,
  };
}

async function saveProvider(ev) {
  ev.preventDefault();
  const err = $("#form-error");
  err.hidden = true;
  try {
    const id = await call("save_provider", { input: formInput() });
    editing = id;
    await refresh();
    edit(id);
    toast(`Saved ${providerName(id)}`);
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

async function activate(id) {
  try { await call("set_active", { id }); await refresh(); toast(`Codex now runs on ${providerName(id)} (next request)`); } catch (e) { toast(e.message, true); }
}

async function duplicate(id) {
  const p = state.providers.find((x) => x.id === id);
  let copyKey = false;
  if (p?.key_mask) {
    const answer = await ask(`Duplicate ${p.name}. Copy its stored key (${p.key_mask}) to the copy too?`, "Copy with the key", "Copy without the key");
    if (!answer) return;
    copyKey = answer === "ok";
  }
  try { const n = await call("duplicate_provider", { id, copyKey }); await refresh(); edit(n); } catch (e) { toast(e.message, true); }
}

async function remove(id) {
  if (await ask(`Delete ${providerName(id)} and its stored key? Routes that use it go too.`, "Delete") !== "ok") return;
  try { await call("delete_provider", { id }); if (editing === id) editing = null; await refresh(); } catch (e) { toast(e.message, true); }
}

// Both work on what the form says, saved or not.
async function fetchModels() {
  const out = $("#test-result");
  try {
    const models = await call("list_models", { input: formInput() });
    $("#model-options").replaceChildren(...models.map((m) => el("option", { value: m })));
    showResult(out, true, `${plural(models.length, "model")} listed: pick one in Default model`);
  } catch (e) { showResult(out, false, e.message); }
}

function showResult(out, ok, text) {
  out.hidden = false;
  out.className = `result ${ok ? "ok" : "bad"}`;
  out.textContent = `${ok ? "✓" : "✗"} ${text}`;
  out.scrollIntoView({ block: "nearest" });
}

function describeTest(r) {
  return r.ok
    ? [true, `${r.model_tried} answered in ${r.latency_ms} ms${r.models.length ? `; ${plural(r.models.length, "model")} listed` : ""}`]
    : [false, `${r.model_tried ? `${r.model_tried}: ` : ""}${r.error}`];
}

async function testConnection() {
  const out = $("#test-result");
  out.hidden = false;
  out.className = "result";
  out.textContent = "Testing…";
  try {
    const r = await call("test_connection", { input: formInput() });
    showResult(out, ...describeTest(r));
    if (r.native_responses) {
      // Offered, not done: the key and the model map stay as they are.
      out.append("\nThis provider also speaks the Responses API: requests can be passed through untranslated. ",
        el("button", { type: "button", id: "use-passthrough", className: "secondary", textContent: "Use pass-through", onclick: () => { $("#f-wire-api").value = "responses"; toast("Pass-through chosen: Save to keep it"); } }));
    }
  } catch (e) { showResult(out, false, e.message); }
}

// The Codex check: one line per step, a failed step's fix as a button that saves the
// switch and checks again.
const MARKS = { passed: "✓", failed: "✗", warning: "!", skipped: "–", info: "i" };
let checking = false; // a check is under way: an older report must not replace its progress

function showCheck(r) {
  const box = $("#check-result");
  box.hidden = false;
  const failed = r.steps.filter((s) => s.status === "failed").length;
  $("#check-title").textContent = `${failed ? `✗ ${failed} of ${r.steps.filter((s) => s.status !== "info").length} steps failed` : "✓ Codex check passed"} · ${r.model} · ${new Date(r.checked_at * 1000).toLocaleString()}`;
  $("#check-title").className = failed ? "bad" : "ok";
  $("#check-steps").replaceChildren(...r.steps.map((s) => {
    const li = el("li", { className: s.status },
      el("span", { className: "mark", textContent: MARKS[s.status] ?? "?" }),
      el("span", { className: "title", textContent: s.title }),
      el("span", { className: "detail", textContent: s.detail }));
    li.dataset.step = s.id;
    // A path switch (pass-through, or back to translation) is a choice offered on a note;
    // a repair is offered on a failure.
    const pathSwitch = s.fix && ["pass_through", "translate"].includes(s.fix.change.kind);
    if (s.fix && (s.status === "failed" || pathSwitch)) {
      const label = pathSwitch ? s.fix.label : `${s.fix.label} and check again`;
      li.append(el("button", { type: "button", className: "check-fix", textContent: label, onclick: () => applyFix(r.provider_id, s.fix) }));
    }
    return li;
  }));
  box.scrollIntoView({ block: "nearest" });
}

async function runCheck() {
  const id = editing;
  if (!id) return;
  const button = $("#codex-check");
  const box = $("#check-result");
  button.disabled = true;
  checking = true;
  box.hidden = false;
  $("#check-title").textContent = "Checking with Codex tools… (a few short requests; a slow model can take a minute)";
  $("#check-title").className = "";
  $("#check-steps").replaceChildren();
  try {
    const r = await call("codex_check", { id, model: $("#f-default-model").value.trim() || null });
    if (editing === id) showCheck(r);
    await refresh();
  } catch (e) {
    $("#check-title").textContent = `✗ ${e.message}`;
    $("#check-title").className = "bad";
  } finally { checking = false; button.disabled = editing === ""; }
}

async function applyFix(id, fix) {
  try {
    await call("apply_check_fix", { id, fix });
    toast(`${fix.label}: saved`);
    await refresh();
    if (editing === id) { edit(id); await runCheck(); }
  } catch (e) { toast(e.message, true); }
}

// The first run: the empty state walks from a preset to "Applied to Codex".
let firstRun = null; // null: not shown; otherwise which steps are done

function renderFirstRun() {
  const empty = state.providers.length === 0;
  if (firstRun === null && empty && !sessionStorage.getItem("skip-first-run")) firstRun = { tested: false, saved: false, applied: false };
  const show = firstRun !== null && !firstRun.applied_and_closed;
  $("#first-run").hidden = !show;
  if (!show) return;
  document.querySelectorAll(".tab-page").forEach((p) => (p.hidden = true));
  const sel = $("#fr-preset");
  if (!sel.options.length) {
    sel.append(...state.presets.filter((p) => p.id !== "custom").map((p) => el("option", { value: p.id, textContent: p.name })));
    sel.value = "deepseek";
    firstRunPreset();
  }
  $("#fr-step-provider").classList.add("done");
  $("#fr-step-key").classList.toggle("done", !!$("#fr-key").value.trim() || $("#fr-key").disabled);
  $("#fr-step-test").classList.toggle("done", firstRun.tested);
  $("#fr-step-save").classList.toggle("done", firstRun.saved);
  $("#fr-check-row").hidden = !firstRun.saved;
  $("#fr-step-apply").classList.toggle("done", firstRun.applied);
  $("#fr-skip").textContent = firstRun.applied ? "Done: show my providers" : "Set up by hand instead";
}

function firstRunPreset() {
  const p = state.presets.find((x) => x.id === $("#fr-preset").value);
  $("#fr-base-url").value = p.base_url;
  $("#fr-key").disabled = !p.needs_key;
  $("#fr-key").hidden = !p.needs_key;
  $("#fr-no-key").hidden = p.needs_key;
  firstRun.tested = false;
}

function firstRunInput() {
  const p = state.presets.find((x) => x.id === $("#fr-preset").value);
  const id = state.providers.some((x) => x.id === p.id) ? null : p.id;
  return {
    original_id: firstRun.saved ? firstRun.saved : null,
    id: firstRun.saved || id || `${p.id}-2`,
    name: p.name,
    preset: p.id,
    base_url: $("#fr-base-url").value.trim(),
    wire_api: p.wire_api,
    default_model: p.default_model ?? null,
    model_map: p.default_model && p.wire_api === "chat" ? { "gpt-*": p.default_model } : {},
    api_key: $("#fr-key").value.trim() || null,
    clear_key: false,
  };
}

async function firstRunTest() {
  const out = $("#fr-test-result");
  out.hidden = false; out.className = "result"; out.textContent = "Testing…";
  try {
    const [ok, text] = describeTest(await call("test_connection", { input: firstRunInput() }));
    firstRun.tested = ok;
    showResult(out, ok, text);
  } catch (e) { firstRun.tested = false; showResult(out, false, e.message); }
  renderFirstRun();
}

async function firstRunSave() {
  try {
    const id = await call("save_provider", { input: firstRunInput() });
    firstRun.saved = id;
    await refresh();
    showResult($("#fr-save-result"), true, `${providerName(id)} saved and active: every request now goes there`);
  } catch (e) { showResult($("#fr-save-result"), false, e.message); }
  renderFirstRun();
}

async function firstRunCheck() {
  const id = firstRun.saved;
  if (!id) return;
  const out = $("#fr-check-result");
  out.hidden = false;
  out.className = "result";
  out.textContent = "Checking with Codex tools… (a slow model can take a minute)";
  $("#fr-check").disabled = true;
  try {
    const r = await call("codex_check", { id, model: null });
    const failed = r.steps.filter((s) => s.status === "failed");
    if (!failed.length) {
      showResult(out, true, `Codex check passed: ${r.model} streams, calls Codex's tools and sends valid patches`);
    } else {
      showResult(out, false, failed.map((s) => `${s.title}: ${s.detail}`).join("\n"));
      out.append("\n", el("button", { type: "button", className: "secondary", textContent: "See the steps and the fixes", onclick: () => {
        firstRun = { applied_and_closed: true };
        $("#first-run").hidden = true;
        document.querySelector('.tab[data-tab="providers"]').click();
        edit(id);
        showCheck(r);
      } }));
    }
    await refresh();
  } catch (e) { showResult(out, false, e.message); }
  $("#fr-check").disabled = false;
}

async function firstRunApply() {
  if (!firstRun.saved) { showResult($("#fr-apply-result"), false, "Save the provider first (step 4)"); return; }
  try {
    const p = await call("codex_apply", { makeDefault: true, model: "gpt-5.5" });
    firstRun.applied = true;
    showResult($("#fr-apply-result"), true, `Applied to Codex: ${p.path} now points at Plugboard. Run \`codex\` as usual.${p.catalog ? `\n${p.catalog}` : ""}`);
    await refresh();
  } catch (e) { showResult($("#fr-apply-result"), false, e.message); }
  renderFirstRun();
}

function routeRow(r = { model: "", provider: state.providers[0]?.id ?? "", upstream_model: "", fallbacks: [] }) {
  const providers = el("select", { className: "r-provider" }, ...state.providers.map((p) => el("option", { value: p.id, textContent: p.name })));
  providers.value = r.provider;
  // Fields this table does not edit ride along, so that saving keeps them.
  const row = el("tr", {},
    el("td", {},
      el("input", { className: "r-model", value: r.model, placeholder: "plan or gpt-5.2-*" }),
      ...(r.subagent ? [el("span", { className: "hint", textContent: " subagents only" })] : [])),
    el("td", {}, providers),
    el("td", {}, el("input", { className: "r-upstream", value: r.upstream_model ?? "", placeholder: "(provider's mapping)" })),
    el("td", {}, el("input", { className: "r-fallbacks", value: (r.fallbacks ?? []).join(", "), placeholder: "e.g. openrouter, local" })),
    el("td", {}, el("button", { className: "link", textContent: "Remove", onclick: (e) => e.target.closest("tr").remove() })),
  );
  row.dataset.kept = JSON.stringify({ subagent: !!r.subagent, context_window: r.context_window ?? null });
  return row;
}

function renderRoutes() {
  $("#routes tbody").replaceChildren(...state.snapshot.settings.route.map(routeRow));
}

async function saveRoutes() {
  const routes = [...document.querySelectorAll("#routes tbody tr")].map((tr) => ({
    ...JSON.parse(tr.dataset.kept || "{}"),
    model: tr.querySelector(".r-model").value.trim(),
    provider: tr.querySelector(".r-provider").value,
    upstream_model: tr.querySelector(".r-upstream").value.trim() || null,
    fallbacks: tr.querySelector(".r-fallbacks").value.split(",").map((f) => f.trim()).filter(Boolean),
  })).filter((r) => r.model);
  const err = $("#routes-error");
  err.hidden = true;
  try { await call("set_routes", { routes }); await refresh(); toast("Routes saved"); } catch (e) { err.textContent = e.message; err.hidden = false; }
}

function planExecute() {
  if (state.providers.length < 1) { toast("Add providers first", true); return; }
  const body = $("#routes tbody");
  const first = state.providers[0].id, second = (state.providers[1] ?? state.providers[0]).id;
  body.append(routeRow({ model: "plan", provider: first, upstream_model: "" }), routeRow({ model: "execute", provider: second, upstream_model: "" }));
  toast("Pick the providers and models, then Save: `codex -p plan` and `codex -p execute` follow after Apply to Codex");
}

function renderCodex() {
  $("#codex-home").textContent = state.codex_home;
  $("#codex-state").textContent = state.snapshot.codex_attached ? "Plugboard is attached" : "not attached";
  const exec = state.snapshot.settings.route.find((r) => r.subagent && r.model === "*");
  $("#hybrid-state").textContent = exec
    ? `Subagents run on ${providerName(exec.provider)} (${exec.upstream_model ?? "its mapping"}).`
    : "Not set up: every request goes where its model name routes it.";
}

async function codexHybrid() {
  const planner = $("#hybrid-planner").value.trim(), executor = $("#hybrid-executor").value.trim();
  if (!planner || !executor) { toast("Name the planner and the executor", true); return; }
  const out = $("#codex-diff");
  try {
    const p = await call("codex_hybrid", { planner, executor });
    out.hidden = false;
    out.textContent = (p.diff || `${p.path} already has this configuration.`) + (p.catalog ? `\n\n${p.catalog}` : "");
    toast(`${planner} plans; subagents run on ${executor}`);
    await refresh();
  } catch (e) { toast(e.message, true); }
}

async function codex(cmd) {
  const args = { makeDefault: $("#codex-default").checked, model: $("#codex-model").value.trim() || null };
  const out = $("#codex-diff");
  try {
    if (cmd === "codex_detach") {
      await call(cmd);
      out.hidden = true;
      toast("Detached: your config.toml is restored");
    } else {
      const p = await call(cmd, args);
      out.hidden = false;
      out.textContent = p.diff || `${p.path} already has this configuration.`;
      if (p.catalog) out.textContent += `\n\n${p.catalog}`;
      if (cmd === "codex_apply") toast(`Written: ${p.path} (a backup was kept)`);
    }
    await refresh();
  } catch (e) { toast(e.message, true); }
}

// Usage page: Chart.js charts from the usage history.
const charts = {};

function chart(id, config) {
  charts[id]?.destroy();
  charts[id] = new window.Chart($(`#${id}`), config);
}

function byDayAndProvider(daily, value) {
  const days = [...new Set(daily.map((d) => d.day))];
  const providers = [...new Set(daily.map((d) => d.provider))];
  const datasets = providers.map((p) => ({
    label: providerName(p),
    data: days.map((day) => { const r = daily.find((d) => d.day === day && d.provider === p); return r ? value(r) : 0; }),
  }))
    // A provider with nothing to show is left out of the chart and its legend.
    .filter((d) => d.data.some((v) => v > 0));
  return { labels: days, datasets };
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const money = (v) => (v === 0 ? "$0" : v < 0.0001 ? "<$0.0001" : `$${v.toFixed(v < 1 ? 4 : 2)}`);
// Counts as people read them, in their locale: 19.3M, 11.2K.
const compactNumber = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const count = (v) => compactNumber.format(v);
const exact = (v) => v.toLocaleString();

async function renderUsage() {
  const days = Number($("#usage-days").value);
  let u;
  try { u = await call("usage_overview", { days }); } catch (e) { $("#usage-summary").textContent = e.message; return; }
  const s = u.summary;
  const card = (label, value, cls = "") => el("div", { className: `card ${cls}` }, el("b", { textContent: value }), label);
  const exactTokens = `${exact(s.input_tokens)} input (${exact(s.cached_tokens)} cached), ${exact(s.output_tokens)} output tokens`;
  $("#usage-summary").replaceChildren(
    card("requests", exact(s.requests)),
    card("failed", exact(s.failed)),
    card("input tokens", `${count(s.input_tokens)} (${count(s.cached_tokens)} cached)`),
    card("output tokens", count(s.output_tokens)),
    card("cost", money(s.cost_usd)),
    card(`saved versus ${s.compare_model}`, `${money(s.saved_usd)} of ${money(s.cost_if_compare_usd)}`, "saved"),
  );
  $("#usage-summary").title = exactTokens;
  // Charts tall enough to read, legends small and below.
  const readable = { responsive: true, animation: false, aspectRatio: 1.8, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } };
  const stacked = (tick) => ({ ...readable, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { callback: tick } } } });
  chart("chart-tokens", { type: "bar", data: byDayAndProvider(u.daily, (r) => r.input_tokens + r.output_tokens), options: stacked(count) });
  chart("chart-cost", { type: "bar", data: byDayAndProvider(u.daily, (r) => r.cost_usd), options: stacked((v) => (v < 1 ? `$${Number(v.toPrecision(2))}` : `$${count(v)}`)) });
  chart("chart-latency", {
    type: "bar",
    data: {
      labels: u.latency.map((l) => providerName(l.provider)),
      datasets: [
        { label: "p50", data: u.latency.map((l) => l.first_event_p50_ms) },
        { label: "p95", data: u.latency.map((l) => l.first_event_p95_ms) },
        { label: "p99", data: u.latency.map((l) => l.first_event_p99_ms) },
      ],
    },
    options: { ...readable, scales: { y: { beginAtZero: true, ticks: { callback: (v) => `${count(v)} ms` } } } },
  });
  renderSessions(u.sessions);
}

function renderSessions(sessions) {
  const body = $("#usage-sessions tbody");
  if (!sessions.length) {
    body.replaceChildren(el("tr", {}, el("td", { colSpan: 6, className: "hint", textContent: "No sessions yet: Codex names its session on every request." })));
    return;
  }
  body.replaceChildren(...sessions.map((s) => {
    const split = s.parts.map((p) => `${providerName(p.provider)} · ${p.upstream_model}: ${p.requests} req, ${money(p.cost_usd)}`);
    const planner = s.planner_model ? `${money(s.cost_if_planner_usd)} (${s.planner_model})` : "–";
    return el("tr", {},
      el("td", { className: "mono", textContent: s.session.length > 14 ? `${s.session.slice(0, 13)}…` : s.session, title: s.session }),
      el("td", { textContent: new Date(s.last_ts_ms).toLocaleString() }),
      el("td", {}, ...split.map((t) => el("div", { textContent: t }))),
      el("td", { textContent: money(s.cost_usd) }),
      el("td", { textContent: planner }),
      el("td", { className: s.saved_usd > 0 ? "saved" : "", textContent: money(s.saved_usd) }),
    );
  }));
}

async function renderRequestLog() {
  const filter = { status: $("#log-status").value || null, provider: $("#log-provider").value || null, model: $("#log-model").value.trim() || null };
  let rows;
  try { rows = await call("request_log", { limit: 200, filter }); } catch (e) { toast(e.message, true); return; }
  const provSel = $("#log-provider");
  const chosen = provSel.value;
  provSel.replaceChildren(el("option", { value: "", textContent: "all" }), ...state.providers.map((p) => el("option", { value: p.id, textContent: p.name })));
  provSel.value = chosen;
  const ms = (v) => (v == null ? "–" : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(1)} ms`);
  $("#request-log tbody").replaceChildren(...rows.map((r) => {
    const ok = r.answered;
    const show = () => showRequest(r, ms);
    const tr = el("tr", { tabIndex: 0, onclick: show, onkeydown: (e) => { if (e.key === "Enter") show(); } },
      el("td", { textContent: new Date(r.ts_ms).toLocaleString() }),
      el("td", { textContent: r.model }),
      el("td", { textContent: `${providerName(r.provider)} (${r.upstream_model})${r.attempt > 1 ? ` · attempt ${r.attempt}` : ""}` }, ...(r.local ? [" ", el("span", { className: "badge local", textContent: "stayed local", title: "The provider was on this machine or the local network" })] : [])),
      el("td", { className: ok ? "" : "bad", textContent: ok ? r.status : (r.sentence ?? r.status), title: r.error_class ? `${r.status}: ${r.error_class}` : r.status }),
      el("td", { textContent: `${count(r.input_tokens)} / ${count(r.output_tokens)}`, title: `${exact(r.input_tokens)} in, ${exact(r.output_tokens)} out` }),
      el("td", { textContent: ms(r.first_event_ms) }),
      el("td", { textContent: ms(r.total_ms) }),
      r.priced ? el("td", { textContent: money(r.cost_usd) }) : el("td", { className: "muted", textContent: "unpriced", title: `No price known for ${r.upstream_model}: add one under [prices] in the settings file` }),
    );
    tr.dataset.provider = r.provider;
    return tr;
  }));
}

// One request as a person reads it: local time, who answered, how it ended, its numbers.
function showRequest(r, ms) {
  const lines = [
    ["When", new Date(r.ts_ms).toLocaleString()],
    ["Model", r.route ? `${r.model} (route ${r.route})` : r.model],
    ["Provider", `${providerName(r.provider)} · ${r.upstream_model}${r.attempt > 1 ? ` · attempt ${r.attempt}` : ""}${r.local ? " · stayed local" : ""}`],
    ["Outcome", r.answered ? r.status : `${r.sentence ?? r.status} (${r.status}${r.error_class ? `, ${r.error_class}` : ""})`],
    ["Tokens", `${r.input_tokens.toLocaleString()} in (${r.cached_tokens.toLocaleString()} cached) · ${r.output_tokens.toLocaleString()} out (${r.reasoning_tokens.toLocaleString()} reasoning)`],
    ["Time", `first event ${ms(r.first_event_ms)} · total ${ms(r.total_ms)}${r.stream ? " · streamed" : ""}`],
    ["Cost", r.priced ? money(r.cost_usd) : "unpriced"],
    ["Request id", r.request_id],
  ];
  const d = $("#log-detail");
  d.hidden = false;
  d.replaceChildren(...lines.flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]));
}

async function saveUsageSettings() {
  try {
    await call("set_usage_settings", { compareModel: $("#compare-model").value.trim() || "gpt-5.5", retentionDays: Number($("#retention-days").value) || 90 });
    await refresh();
    renderUsage();
    toast("Saved");
  } catch (e) { toast(e.message, true); }
}

function renderSettings() {
  const listen = state.snapshot.settings.listen;
  if (document.activeElement !== $("#port")) $("#port").value = listen.split(":").pop();
  $("#autostart").checked = state.snapshot.autostart;
  $("#local-only").checked = state.snapshot.settings.local_only;
  if (document.activeElement !== $("#compare-model")) $("#compare-model").value = state.snapshot.settings.compare_model;
  if (document.activeElement !== $("#retention-days")) $("#retention-days").value = state.snapshot.settings.usage_retention_days;
}

async function savePort() {
  const port = Number($("#port").value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) { toast("The port must be a number from 1 to 65535", true); return; }
  try { await call("set_port", { port }); await refresh(); toast(state.snapshot.codex_attached ? `Proxy now on port ${port}; Codex's config follows` : `Proxy now on port ${port}`); } catch (e) { toast(e.message, true); }
}

function wire() {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.onclick = () => {
      if (firstRun) { firstRun.applied_and_closed = true; $("#first-run").hidden = true; }
      document.querySelectorAll(".tab").forEach((t) => { t.classList.toggle("active", t === tab); t.setAttribute("aria-selected", String(t === tab)); });
      document.querySelectorAll(".tab-page").forEach((p) => (p.hidden = p.id !== `tab-${tab.dataset.tab}`));
      // Each page opens at its top, not where another page was scrolled to.
      $("main").scrollTo(0, 0);
      if (tab.dataset.tab === "usage") renderUsage();
      if (tab.dataset.tab === "requests") renderRequestLog();
    };
  }
  $("#add-provider").onclick = () => edit("");
  $("#cancel-edit").onclick = () => { editing = null; renderProviders(); };
  $("#f-preset").onchange = (e) => applyPreset(e.target.value, false);
  $("#provider-form").onsubmit = saveProvider;
  $("#fetch-models").onclick = fetchModels;
  $("#test-connection").onclick = testConnection;
  $("#codex-check").onclick = runCheck;
  $("#proxy-toggle").onclick = async () => { await call(state.snapshot.status.state === "running" ? "proxy_stop" : "proxy_start"); refresh(); };
  $("#add-route").onclick = () => $("#routes tbody").append(routeRow());
  $("#plan-execute").onclick = planExecute;
  $("#save-routes").onclick = saveRoutes;
  $("#codex-preview").onclick = () => codex("codex_preview");
  $("#codex-apply").onclick = () => codex("codex_apply");
  $("#codex-detach").onclick = () => codex("codex_detach");
  $("#codex-hybrid").onclick = codexHybrid;
  $("#save-port").onclick = savePort;
  $("#usage-days").onchange = renderUsage;
  $("#save-usage-settings").onclick = saveUsageSettings;
  for (const id of ["#log-status", "#log-provider"]) $(id).onchange = renderRequestLog;
  $("#log-model").onchange = renderRequestLog;
  $("#log-refresh").onclick = renderRequestLog;
  $("#local-only").onchange = async (e) => {
    try { await call("set_local_only", { on: e.target.checked }); toast(e.target.checked ? "Local only: nothing leaves this machine or network" : "Local only is off"); } catch (err) { toast(err.message, true); }
    refresh();
  };
  $("#autostart").onchange = async (e) => { try { await call("set_autostart", { enabled: e.target.checked }); } catch (err) { toast(err.message, true); } refresh(); };
}

// A plugboard://add-provider link: the form opens filled in; Save is the user's to press.
function fillFromLink(link) {
  if (firstRun) { firstRun = { applied_and_closed: true }; $("#first-run").hidden = true; }
  document.querySelector('.tab[data-tab="providers"]').click();
  edit("");
  $("#f-preset").value = link.preset;
  applyPreset(link.preset, false);
  if (link.name) $("#f-name").value = link.name;
  if (link.base_url) $("#f-base-url").value = link.base_url;
  if (link.default_model) $("#f-default-model").value = link.default_model;
  if (link.wire_api) $("#f-wire-api").value = link.wire_api;
  $("#form-title").textContent = "New provider from a link: check it, paste the key, then Save";
  $("#f-api-key").focus();
}

// Sharing providers: the file holds no key; importing asks for each key again.
async function exportProviders() {
  try { toast(`Written: ${await call("export_providers")} (no keys inside)`); } catch (e) { toast(e.message, true); }
}

async function importProviders(file) {
  try {
    const report = await call("import_providers", { text: await file.text() });
    await refresh();
    const renamed = report.renamed.map(([from, to]) => `${from} → ${to}`).join(", ");
    const keys = report.need_keys.map(providerName).join(", ");
    toast(`Imported ${report.added.length} provider(s) and ${report.routes} route(s)${renamed ? ` (renamed: ${renamed})` : ""}${keys ? `. Paste the key of ${keys}` : ""}`);
    if (report.need_keys.length) { edit(report.need_keys[0]); $("#f-api-key").focus(); }
  } catch (e) { toast(e.message, true); }
}

function wireFirstRun() {
  $("#fr-preset").onchange = () => { firstRunPreset(); renderFirstRun(); };
  $("#fr-key").oninput = renderFirstRun;
  $("#fr-test").onclick = firstRunTest;
  $("#fr-save").onclick = firstRunSave;
  $("#fr-apply").onclick = firstRunApply;
  $("#fr-check").onclick = firstRunCheck;
  $("#fr-skip").onclick = () => {
    const finished = firstRun?.applied;
    sessionStorage.setItem("skip-first-run", "1");
    firstRun = { applied_and_closed: true };
    $("#first-run").hidden = true;
    document.querySelector('.tab[data-tab="providers"]').click();
    if (!finished) edit("");
  };
}

// Esc and Ctrl+W put the window away (Plugboard stays in the tray).
document.addEventListener("keydown", (e) => {
  if ($("#confirm").open) return;
  if (e.key === "Escape" || ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "w")) {
    e.preventDefault();
    call("hide_window").catch(() => {});
  }
});

wire();
wireFirstRun();
$("#export-providers").onclick = exportProviders;
$("#import-file").onchange = (e) => { const f = e.target.files[0]; e.target.value = ""; if (f) importProviders(f); };
// The app pushes every change (a request finished, a key arrived, a setting saved); only
// the header is redrawn then, so that nothing being edited is lost.
// What the tray has to say: a failed action, or the Codex change to review (applied only on
// the user's click here).
async function takeNotices() {
  let notices = [];
  try { notices = await call("take_notices"); } catch { return; }
  for (const n of notices) {
    if (n.kind === "error") toast(n.text, true);
    if (n.kind === "add_provider") fillFromLink(n.text);
    if (n.kind === "codex_review") {
      document.querySelector('.tab[data-tab="codex"]')?.click();
      await codex("codex_preview");
      toast("Review the change to Codex's config, then press Apply");
    }
  }
}
listen("notice", takeNotices);
listen("state-changed", async () => {
  if (!state) return;
  try {
    const next = await call("get_state");
    const settingsChanged = JSON.stringify(next.snapshot.settings) !== JSON.stringify(state.snapshot.settings);
    state = next;
    if (settingsChanged) { renderProviders(); renderRoutes(); renderSettings(); }
    renderHeader();
    renderCodex();
    // A finished request changes the state: the Requests tab, when open, follows.
    if (!$("#tab-requests").hidden) renderRequestLog();
  } catch { /* the next change redraws */ }
});
refresh().then(takeNotices).catch((e) => toast(e.message, true));
