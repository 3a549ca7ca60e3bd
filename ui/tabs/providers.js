// The Providers tab: the list of cards, the form (from a preset, with the key), Test
// connection, the model list, the Codex check with its fixes, sharing providers.
import { $, el, toast, ask, showResult } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, providerName, refresh } from "../lib/store.js";
import { plural, mapToText, textToMap, freeId, describeTest, keyBadge, placeholders, checkHeadline } from "../lib/format.js";

export function renderProviders() {
  const { state, editing } = store;
  const list = $("#provider-list");
  list.replaceChildren(
    ...state.providers.map((p) => {
      const badges = el("div", { className: "badges" });
      if (p.active) badges.append(el("span", { className: "badge active", textContent: "active" }));
      badges.append(el("span", { className: "badge", textContent: p.wire_api === "responses" ? "pass-through" : "chat" }));
      badges.append(el("span", { className: "badge key", textContent: keyBadge(p) }));
      if (p.check) {
        const c = p.check;
        const when = new Date(c.checked_at * 1000).toLocaleString();
        badges.append(el("span", {
          className: `badge codex ${c.passed ? "check-ok" : "check-bad"}${c.stale ? " stale" : ""}`,
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
      }, el("div", { className: "name", textContent: p.name, title: p.name }), el("div", { className: "url", textContent: p.base_url, title: p.base_url }), badges, buttons);
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
  sel.append(...store.state.presets.map((p) => el("option", { value: p.id, textContent: p.name })));
}

// The fields' greyed-out examples follow the preset (the Custom preset's are not DeepSeek's).
function showPlaceholders(p) {
  const ph = placeholders(p);
  $("#f-id").placeholder = ph.id;
  $("#f-name").placeholder = ph.name;
  $("#f-base-url").placeholder = ph.base_url;
  $("#f-default-model").placeholder = ph.default_model;
  $("#f-model-map").placeholder = ph.model_map;
}

function applyPreset(id, keepId) {
  const p = store.state.presets.find((x) => x.id === id);
  if (!p) return;
  if (!keepId) $("#f-id").value = freeId(p.id, store.state.providers.map((x) => x.id));
  $("#f-name").value = p.name;
  $("#f-base-url").value = p.base_url;
  $("#f-wire-api").value = p.wire_api;
  $("#f-default-model").value = p.default_model ?? "";
  $("#f-model-map").value = p.default_model && p.wire_api === "chat" ? `gpt-* = ${p.default_model}` : "";
  $("#key-hint").textContent = p.needs_key ? "kept in the OS keyring, never in files" : "a local server needs no key";
  showPlaceholders(p);
}

export function edit(id) {
  fillPresets();
  store.editing = id;
  store.unsaved.delete("provider");
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
    const p = store.state.providers.find((x) => x.id === id);
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
    const preset = store.state.presets.find((x) => x.id === (p.preset ?? "custom"));
    if (preset) showPlaceholders(preset);
  }
  $("#codex-check").disabled = id === "";
  $("#check-result").hidden = true;
  if (id !== "") call("last_codex_check", { id }).then((r) => { if (r && store.editing === id && !store.checking) showCheck(r); }).catch(() => {});
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
    original_id: store.editing || null,
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
    store.editing = id;
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
  const p = store.state.providers.find((x) => x.id === id);
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
  try {
    await call("delete_provider", { id });
    if (store.editing === id) { store.editing = null; store.unsaved.delete("provider"); }
    await refresh();
  } catch (e) { toast(e.message, true); }
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
        el("button", { type: "button", id: "use-passthrough", className: "secondary", textContent: "Use pass-through", onclick: () => { $("#f-wire-api").value = "responses"; store.unsaved.add("provider"); toast("Pass-through chosen: Save to keep it"); } }));
    }
  } catch (e) { showResult(out, false, e.message); }
}

// The Codex check: one line per step, a failed step's fix as a button that saves the
// switch and checks again.
const MARKS = { passed: "✓", failed: "✗", warning: "!", skipped: "–", info: "i" };

export function showCheck(r) {
  const box = $("#check-result");
  box.hidden = false;
  const failed = r.steps.some((s) => s.status === "failed");
  $("#check-title").textContent = `${checkHeadline(r)} · ${r.model} · ${new Date(r.checked_at * 1000).toLocaleString()}`;
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
  const id = store.editing;
  if (!id) return;
  const button = $("#codex-check");
  const box = $("#check-result");
  button.disabled = true;
  store.checking = true;
  box.hidden = false;
  $("#check-title").textContent = "Checking with Codex tools… (a few short requests; a slow model can take a minute)";
  $("#check-title").className = "";
  $("#check-steps").replaceChildren();
  try {
    const r = await call("codex_check", { id, model: $("#f-default-model").value.trim() || null });
    if (store.editing === id) showCheck(r);
    await refresh();
  } catch (e) {
    $("#check-title").textContent = `✗ ${e.message}`;
    $("#check-title").className = "bad";
  } finally { store.checking = false; button.disabled = store.editing === ""; }
}

async function applyFix(id, fix) {
  try {
    await call("apply_check_fix", { id, fix });
    toast(`${fix.label}: saved`);
    await refresh();
    if (store.editing === id) { edit(id); await runCheck(); }
  } catch (e) { toast(e.message, true); }
}

// A plugboard://add-provider link: the form opens filled in; Save is the user's to press.
export function fillFromLink(link) {
  edit("");
  $("#f-preset").value = link.preset;
  applyPreset(link.preset, false);
  if (link.name) $("#f-name").value = link.name;
  if (link.base_url) $("#f-base-url").value = link.base_url;
  if (link.default_model) $("#f-default-model").value = link.default_model;
  if (link.wire_api) $("#f-wire-api").value = link.wire_api;
  store.unsaved.add("provider");
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

export function wireProviders() {
  $("#add-provider").onclick = () => edit("");
  $("#cancel-edit").onclick = () => { store.editing = null; store.unsaved.delete("provider"); renderProviders(); };
  $("#f-preset").onchange = (e) => applyPreset(e.target.value, false);
  $("#provider-form").onsubmit = saveProvider;
  // Typing in the form is an edit not saved yet: Esc asks before dropping it.
  $("#provider-form").addEventListener("input", () => store.unsaved.add("provider"));
  $("#fetch-models").onclick = fetchModels;
  $("#test-connection").onclick = testConnection;
  $("#codex-check").onclick = runCheck;
  $("#export-providers").onclick = exportProviders;
  $("#import-file").onchange = (e) => { const f = e.target.files[0]; e.target.value = ""; if (f) importProviders(f); };
}
