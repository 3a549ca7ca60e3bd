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

async function call(cmd, args) {
  try {
    return await invoke(cmd, args);
  } catch (e) {
    throw new Error(typeof e === "string" ? e : e?.message ?? String(e));
  }
}

async function refresh() {
  state = await call("get_state");
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
      badges.append(el("span", { className: "badge key", textContent: p.key_mask ? `key ${p.key_mask}` : p.needs_key ? "no key" : "local, no key needed" }));
      const buttons = el(
        "div",
        { className: "buttons" },
        el("button", { className: "make-active secondary", textContent: "Make active", disabled: p.active, onclick: (e) => { e.stopPropagation(); activate(p.id); } }),
        el("button", { className: "duplicate link", textContent: "Duplicate", onclick: (e) => { e.stopPropagation(); duplicate(p.id); } }),
        el("button", { className: "delete link", textContent: "Delete", onclick: (e) => { e.stopPropagation(); remove(p.id); } }),
      );
      const li = el("li", { className: "provider" + (editing === p.id ? " selected" : ""), onclick: () => edit(p.id) }, el("div", { className: "name", textContent: p.name }), el("div", { className: "url", textContent: p.base_url }), badges, buttons);
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
    toast(`Saved ${id}`);
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

async function activate(id) {
  try { await call("set_active", { id }); await refresh(); toast(`Codex now runs on ${id} (next request)`); } catch (e) { toast(e.message, true); }
}

async function duplicate(id) {
  try { const n = await call("duplicate_provider", { id }); await refresh(); edit(n); } catch (e) { toast(e.message, true); }
}

async function remove(id) {
  if (!confirm(`Delete provider ${id} and its stored key?`)) return;
  try { await call("delete_provider", { id }); if (editing === id) editing = null; await refresh(); } catch (e) { toast(e.message, true); }
}

async function withSavedProvider(action) {
  if (!editing) { toast("Save the provider first", true); return; }
  return action(editing);
}

async function fetchModels() {
  await withSavedProvider(async (id) => {
    try {
      const models = await call("list_models", { id });
      $("#model-options").replaceChildren(...models.map((m) => el("option", { value: m })));
      toast(`${models.length} models: pick one in Default model`);
    } catch (e) { toast(e.message, true); }
  });
}

async function testConnection() {
  await withSavedProvider(async (id) => {
    const out = $("#test-result");
    out.hidden = false;
    out.textContent = "Testing…";
    try {
      const r = await call("test_connection", { id, model: $("#f-default-model").value.trim() || null });
      out.textContent = r.ok
        ? `OK: ${r.model_tried} answered in ${r.latency_ms} ms. ${r.models.length} models listed.`
        : `Failed${r.model_tried ? ` (${r.model_tried})` : ""}: ${r.error}`;
    } catch (e) { out.textContent = e.message; }
  });
}

function routeRow(r = { model: "", provider: state.providers[0]?.id ?? "", upstream_model: "", fallbacks: [] }) {
  const providers = el("select", { className: "r-provider" }, ...state.providers.map((p) => el("option", { value: p.id, textContent: p.name })));
  providers.value = r.provider;
  return el("tr", {},
    el("td", {}, el("input", { className: "r-model", value: r.model, placeholder: "plan or gpt-5.2-*" })),
    el("td", {}, providers),
    el("td", {}, el("input", { className: "r-upstream", value: r.upstream_model ?? "", placeholder: "(provider's mapping)" })),
    el("td", {}, el("input", { className: "r-fallbacks", value: (r.fallbacks ?? []).join(", "), placeholder: "e.g. openrouter, local" })),
    el("td", {}, el("button", { className: "link", textContent: "Remove", onclick: (e) => e.target.closest("tr").remove() })),
  );
}

function renderRoutes() {
  $("#routes tbody").replaceChildren(...state.snapshot.settings.route.map(routeRow));
}

async function saveRoutes() {
  const routes = [...document.querySelectorAll("#routes tbody tr")].map((tr) => ({
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
    label: p,
    data: days.map((day) => { const r = daily.find((d) => d.day === day && d.provider === p); return r ? value(r) : 0; }),
  }));
  return { labels: days, datasets };
}

const money = (v) => `$${v.toFixed(v < 1 ? 4 : 2)}`;

async function renderUsage() {
  const days = Number($("#usage-days").value);
  let u;
  try { u = await call("usage_overview", { days }); } catch (e) { $("#usage-summary").textContent = e.message; return; }
  const s = u.summary;
  const card = (label, value, cls = "") => el("div", { className: `card ${cls}` }, el("b", { textContent: value }), label);
  $("#usage-summary").replaceChildren(
    card("requests", `${s.requests}`),
    card("failed", `${s.failed}`),
    card("input tokens", `${s.input_tokens.toLocaleString()} (${s.cached_tokens.toLocaleString()} cached)`),
    card("output tokens", `${s.output_tokens.toLocaleString()}`),
    card("cost", money(s.cost_usd)),
    card(`saved versus ${s.compare_model}`, `${money(s.saved_usd)} of ${money(s.cost_if_compare_usd)}`, "saved"),
  );
  const stacked = { responsive: true, animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };
  chart("chart-tokens", { type: "bar", data: byDayAndProvider(u.daily, (r) => r.input_tokens + r.output_tokens), options: stacked });
  chart("chart-cost", { type: "bar", data: byDayAndProvider(u.daily, (r) => r.cost_usd), options: stacked });
  chart("chart-latency", {
    type: "bar",
    data: {
      labels: u.latency.map((l) => l.provider),
      datasets: [
        { label: "p50", data: u.latency.map((l) => l.first_event_p50_ms) },
        { label: "p95", data: u.latency.map((l) => l.first_event_p95_ms) },
        { label: "p99", data: u.latency.map((l) => l.first_event_p99_ms) },
      ],
    },
    options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } },
  });
}

async function renderRequestLog() {
  const filter = { status: $("#log-status").value || null, provider: $("#log-provider").value || null, model: $("#log-model").value.trim() || null };
  let rows;
  try { rows = await call("request_log", { limit: 200, filter }); } catch (e) { toast(e.message, true); return; }
  const provSel = $("#log-provider");
  const chosen = provSel.value;
  provSel.replaceChildren(el("option", { value: "", textContent: "all" }), ...state.providers.map((p) => el("option", { value: p.id, textContent: p.id })));
  provSel.value = chosen;
  const ms = (v) => (v == null ? "–" : `${v.toFixed(1)} ms`);
  $("#request-log tbody").replaceChildren(...rows.map((r) => {
    const ok = ["completed", "incomplete", "passed_through"].includes(r.status);
    const tr = el("tr", { onclick: () => { const d = $("#log-detail"); d.hidden = false; d.textContent = JSON.stringify(r, null, 2); } },
      el("td", { textContent: new Date(r.ts_ms).toLocaleString() }),
      el("td", { textContent: r.model }),
      el("td", { textContent: `${r.provider} (${r.upstream_model})${r.attempt > 1 ? ` · attempt ${r.attempt}` : ""}` }),
      el("td", { className: ok ? "" : "bad", textContent: r.error_class ? `${r.status}: ${r.error_class}` : r.status }),
      el("td", { textContent: `${r.input_tokens} / ${r.output_tokens}` }),
      el("td", { textContent: ms(r.first_event_ms) }),
      el("td", { textContent: ms(r.total_ms) }),
      el("td", { textContent: money(r.cost_usd) }),
    );
    tr.dataset.provider = r.provider;
    return tr;
  }));
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
      document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
      document.querySelectorAll(".tab-page").forEach((p) => (p.hidden = p.id !== `tab-${tab.dataset.tab}`));
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
  $("#proxy-toggle").onclick = async () => { await call(state.snapshot.status.state === "running" ? "proxy_stop" : "proxy_start"); refresh(); };
  $("#add-route").onclick = () => $("#routes tbody").append(routeRow());
  $("#plan-execute").onclick = planExecute;
  $("#save-routes").onclick = saveRoutes;
  $("#codex-preview").onclick = () => codex("codex_preview");
  $("#codex-apply").onclick = () => codex("codex_apply");
  $("#codex-detach").onclick = () => codex("codex_detach");
  $("#save-port").onclick = savePort;
  $("#usage-days").onchange = renderUsage;
  $("#save-usage-settings").onclick = saveUsageSettings;
  for (const id of ["#log-status", "#log-provider"]) $(id).onchange = renderRequestLog;
  $("#log-model").onchange = renderRequestLog;
  $("#log-refresh").onclick = renderRequestLog;
  $("#autostart").onchange = async (e) => { try { await call("set_autostart", { enabled: e.target.checked }); } catch (err) { toast(err.message, true); } refresh(); };
}

wire();
// The app pushes every change (a request finished, a key arrived, a setting saved); only
// the header is redrawn then, so that nothing being edited is lost.
// The tray's Apply to Codex: the change is shown here and applied only on the user's click.
listen("codex-review", async () => {
  document.querySelector('.tab[data-tab="codex"]')?.click();
  await codex("codex_preview");
  toast("Review the change to Codex's config, then press Apply");
});
// A tray action that failed says why here.
listen("tray-error", (e) => toast(String(e.payload), true));
listen("state-changed", async () => {
  if (!state) return;
  try {
    const next = await call("get_state");
    const settingsChanged = JSON.stringify(next.snapshot.settings) !== JSON.stringify(state.snapshot.settings);
    state = next;
    if (settingsChanged) { renderProviders(); renderRoutes(); renderSettings(); }
    renderHeader();
    renderCodex();
  } catch { /* the next change redraws */ }
});
refresh().catch((e) => toast(e.message, true));
