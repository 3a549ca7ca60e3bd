// The first run: the empty state walks from a preset to "Applied to Codex", in five steps
// that stay in view as they are done.
import { $, el, showResult } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, providerName, refresh } from "../lib/store.js";
import { describeTest } from "../lib/format.js";
import { edit, showCheck } from "./providers.js";

// The guide is put away for good (a tab was chosen, a link opened, or the user skipped it).
export function closeFirstRun() {
  if (store.firstRun) store.firstRun = { applied_and_closed: true };
  $("#first-run").hidden = true;
}

const openTab = (name) => document.querySelector(`.tab[data-tab="${name}"]`).click();

export function renderFirstRun() {
  const { state } = store;
  const empty = state.providers.length === 0;
  if (store.firstRun === null && empty && !sessionStorage.getItem("skip-first-run")) store.firstRun = { tested: false, saved: false, applied: false };
  const firstRun = store.firstRun;
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
  $("#fr-step-save").classList.toggle("done", !!firstRun.saved);
  $("#fr-check-row").hidden = !firstRun.saved;
  $("#fr-step-apply").classList.toggle("done", firstRun.applied);
  $("#fr-skip").textContent = firstRun.applied ? "Done: show my providers" : "Set up by hand instead";
}

function firstRunPreset() {
  const p = store.state.presets.find((x) => x.id === $("#fr-preset").value);
  $("#fr-base-url").value = p.base_url;
  $("#fr-key").disabled = !p.needs_key;
  $("#fr-key").hidden = !p.needs_key;
  $("#fr-no-key").hidden = p.needs_key;
  store.firstRun.tested = false;
}

function firstRunInput() {
  const { state, firstRun } = store;
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

// The last step stays in view once the one before it has said its piece.
const showApplyStep = () => $("#fr-step-apply").scrollIntoView({ block: "nearest" });

async function firstRunTest() {
  const out = $("#fr-test-result");
  out.hidden = false; out.className = "result"; out.textContent = "Testing…";
  try {
    const [ok, text] = describeTest(await call("test_connection", { input: firstRunInput() }));
    store.firstRun.tested = ok;
    showResult(out, ok, text);
  } catch (e) { store.firstRun.tested = false; showResult(out, false, e.message); }
  renderFirstRun();
}

async function firstRunSave() {
  try {
    const id = await call("save_provider", { input: firstRunInput() });
    store.firstRun.saved = id;
    await refresh();
    showResult($("#fr-save-result"), true, `${providerName(id)} saved and active: every request now goes there`);
  } catch (e) { showResult($("#fr-save-result"), false, e.message); }
  renderFirstRun();
  if (store.firstRun.saved) showApplyStep();
}

async function firstRunCheck() {
  const id = store.firstRun.saved;
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
        closeFirstRun();
        openTab("providers");
        edit(id);
        showCheck(r);
      } }));
    }
    await refresh();
  } catch (e) { showResult(out, false, e.message); }
  $("#fr-check").disabled = false;
  showApplyStep();
}

async function firstRunApply() {
  if (!store.firstRun.saved) { showResult($("#fr-apply-result"), false, "Save the provider first (step 4)"); return; }
  try {
    const p = await call("codex_apply", { makeDefault: true, model: "gpt-5.5" });
    store.firstRun.applied = true;
    showResult($("#fr-apply-result"), true, `Applied to Codex: ${p.path} now points at Plugboard. Run \`codex\` as usual.${p.catalog ? `\n${p.catalog}` : ""}`);
    await refresh();
  } catch (e) { showResult($("#fr-apply-result"), false, e.message); }
  renderFirstRun();
}

export function wireFirstRun() {
  $("#fr-preset").onchange = () => { firstRunPreset(); renderFirstRun(); };
  $("#fr-key").oninput = () => { store.unsaved.add("first-run"); renderFirstRun(); };
  $("#fr-test").onclick = firstRunTest;
  $("#fr-save").onclick = async () => { await firstRunSave(); if (store.firstRun.saved) store.unsaved.delete("first-run"); };
  $("#fr-apply").onclick = firstRunApply;
  $("#fr-check").onclick = firstRunCheck;
  $("#fr-skip").onclick = () => {
    const finished = store.firstRun?.applied;
    sessionStorage.setItem("skip-first-run", "1");
    store.unsaved.delete("first-run");
    closeFirstRun();
    store.firstRun = { applied_and_closed: true };
    openTab("providers");
    if (!finished) edit("");
  };
}
