// The Codex tab: attach Plugboard to Codex's config (preview, apply, detach) and the
// plan-with-one, execute-with-another set-up.
import { $, toast } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, providerName, refresh } from "../lib/store.js";

export function renderCodex() {
  const { state } = store;
  $("#codex-home").textContent = state.codex_home;
  $("#codex-state").textContent = state.snapshot.codex_attached ? "Plugboard is attached" : "not attached";
  const exec = state.snapshot.settings.route.find((r) => r.subagent && r.model === "*");
  $("#hybrid-state").textContent = exec
    ? `Subagents run on ${providerName(exec.provider)} (${exec.upstream_model ?? "its mapping"}).`
    : "Not set up: every request goes where its model name routes it.";
}

const described = (p) => (p.diff || `${p.path} already has this configuration.`) + (p.catalog ? `\n\n${p.catalog}` : "");

async function codexHybrid() {
  const planner = $("#hybrid-planner").value.trim(), executor = $("#hybrid-executor").value.trim();
  if (!planner || !executor) { toast("Name the planner and the executor", true); return; }
  const out = $("#codex-diff");
  try {
    const p = await call("codex_hybrid", { planner, executor });
    out.hidden = false;
    out.textContent = described(p);
    toast(`${planner} plans; subagents run on ${executor}`);
    await refresh();
  } catch (e) { toast(e.message, true); }
}

export async function codex(cmd) {
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
      out.textContent = described(p);
      if (cmd === "codex_apply") toast(`Written: ${p.path} (a backup was kept)`);
    }
    await refresh();
  } catch (e) { toast(e.message, true); }
}

export function wireCodex() {
  $("#codex-preview").onclick = () => codex("codex_preview");
  $("#codex-apply").onclick = () => codex("codex_apply");
  $("#codex-detach").onclick = () => codex("codex_detach");
  $("#codex-hybrid").onclick = codexHybrid;
}
