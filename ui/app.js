// Plugboard's settings window: plain ES modules (no build step) over Tauri commands
// (src-tauri/src/commands.rs). Each tab is a module under tabs/; wording and formatting are
// pure functions in lib/format.js, tested under node (ui/tests/).
import { $, toast, ask } from "./lib/dom.js";
import { call, listen } from "./lib/backend.js";
import { store, onRefresh, refresh } from "./lib/store.js";
import { renderHeader, wireHeader } from "./tabs/header.js";
import { renderProviders, wireProviders, fillFromLink } from "./tabs/providers.js";
import { renderFirstRun, wireFirstRun, closeFirstRun } from "./tabs/first_run.js";
import { renderRoutes, wireRoutes } from "./tabs/routes.js";
import { renderCodex, wireCodex, codex } from "./tabs/codex.js";
import { renderUsage, wireUsage } from "./tabs/usage.js";
import { renderRequestLog, wireRequests } from "./tabs/requests.js";
import { renderSettings, wireSettings } from "./tabs/settings.js";

onRefresh(renderFirstRun);
onRefresh(renderHeader);
onRefresh(renderProviders);
onRefresh(renderRoutes);
onRefresh(renderCodex);
onRefresh(renderSettings);

const openTab = (name) => document.querySelector(`.tab[data-tab="${name}"]`).click();

function wireTabs() {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.onclick = () => {
      closeFirstRun();
      document.querySelectorAll(".tab").forEach((t) => { t.classList.toggle("active", t === tab); t.setAttribute("aria-selected", String(t === tab)); });
      document.querySelectorAll(".tab-page").forEach((p) => (p.hidden = p.id !== `tab-${tab.dataset.tab}`));
      // Each page opens at its top, not where another page was scrolled to.
      $("main").scrollTo(0, 0);
      if (tab.dataset.tab === "usage") renderUsage();
      if (tab.dataset.tab === "requests") renderRequestLog();
    };
  }
}

// What Esc would drop, in words.
const UNSAVED = { provider: "the provider form", routes: "the routes", "first-run": "the key you typed", port: "the port" };

// Esc and Ctrl+W put the window away (Plugboard stays in the tray), asking first when an
// edit is not saved.
document.addEventListener("keydown", async (e) => {
  if ($("#confirm").open) return;
  if (!(e.key === "Escape" || ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "w"))) return;
  e.preventDefault();
  if (store.unsaved.size) {
    const what = [...store.unsaved].map((k) => UNSAVED[k] ?? k).join(" and ");
    if (await ask(`Close the window? Your changes to ${what} are not saved yet.`, "Close without saving") !== "ok") return;
    store.unsaved.clear();
  }
  call("hide_window").catch(() => {});
});

// What the tray has to say: a failed action, a link to open, or the Codex change to review
// (applied only on the user's click here).
async function takeNotices() {
  let notices = [];
  try { notices = await call("take_notices"); } catch { return; }
  for (const n of notices) {
    if (n.kind === "error") toast(n.text, true);
    if (n.kind === "add_provider") { closeFirstRun(); openTab("providers"); fillFromLink(n.text); }
    if (n.kind === "codex_review") {
      openTab("codex");
      await codex("codex_preview");
      toast("Review the change to Codex's config, then press Apply");
    }
  }
}

wireTabs();
wireHeader();
wireProviders();
wireFirstRun();
wireRoutes();
wireCodex();
wireUsage();
wireRequests();
wireSettings();

listen("notice", takeNotices);
// The app pushes every change (a request finished, a key arrived, a setting saved); what is
// being edited is not redrawn, so that nothing typed is lost.
listen("state-changed", async () => {
  if (!store.state) return;
  try {
    const next = await call("get_state");
    const settingsChanged = JSON.stringify(next.snapshot.settings) !== JSON.stringify(store.state.snapshot.settings);
    store.state = next;
    if (settingsChanged) { renderProviders(); renderRoutes(); renderSettings(); }
    renderHeader();
    renderCodex();
    // A finished request changes the state: the Requests tab, when open, follows.
    if (!$("#tab-requests").hidden) renderRequestLog();
  } catch { /* the next change redraws */ }
});
refresh().then(takeNotices).catch((e) => toast(e.message, true));
