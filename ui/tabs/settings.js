// The Settings tab: the port, start at login, local only.
import { $, toast } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, refresh } from "../lib/store.js";

export function renderSettings() {
  const { snapshot } = store.state;
  // A field being typed in is not overwritten.
  const unlessTyping = (sel, value) => { if (document.activeElement !== $(sel)) $(sel).value = value; };
  unlessTyping("#port", snapshot.settings.listen.split(":").pop());
  $("#autostart").checked = snapshot.autostart;
  $("#local-only").checked = snapshot.settings.local_only;
  unlessTyping("#compare-model", snapshot.settings.compare_model);
  unlessTyping("#retention-days", snapshot.settings.usage_retention_days);
}

async function savePort() {
  const port = Number($("#port").value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) { toast("The port must be a number from 1 to 65535", true); return; }
  try {
    await call("set_port", { port });
    store.unsaved.delete("port");
    await refresh();
    toast(store.state.snapshot.codex_attached ? `Proxy now on port ${port}; Codex's config follows` : `Proxy now on port ${port}`);
  } catch (e) { toast(e.message, true); }
}

export function wireSettings() {
  $("#save-port").onclick = savePort;
  $("#port").addEventListener("input", () => store.unsaved.add("port"));
  $("#local-only").onchange = async (e) => {
    try { await call("set_local_only", { on: e.target.checked }); toast(e.target.checked ? "Local only: nothing leaves this machine or network" : "Local only is off"); } catch (err) { toast(err.message, true); }
    refresh();
  };
  $("#autostart").onchange = async (e) => { try { await call("set_autostart", { enabled: e.target.checked }); } catch (err) { toast(err.message, true); } refresh(); };
}
