// The header: the tray's state in a pill, Codex's base_url, Start/Stop, and warnings.
import { $, el } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, refresh } from "../lib/store.js";

export function renderHeader() {
  const { status, base_url, warnings } = store.state.snapshot;
  const pill = $("#status");
  // The tray's state: running, stopped, error (also a failed last request), setup, quitting.
  pill.className = `pill ${status.state === "quitting" ? "quitting" : store.state.snapshot.tray_state}`;
  // A failure is the news: the pill starts with it (the tray's whole line is on hover, and a
  // sentence too long for the header is cut there, not wrapped).
  const last = store.state.snapshot.last_request;
  pill.textContent = status.state === "running" && last && !last.ok && last.sentence ? `Last request failed: ${last.sentence}` : store.state.status_line;
  pill.title = store.state.status_line;
  $("#base-url-display").textContent = base_url;
  const toggle = $("#proxy-toggle");
  toggle.textContent = status.state === "running" ? "Stop proxy" : status.state === "quitting" ? "Quitting…" : "Start proxy";
  toggle.disabled = status.state === "quitting";
  const w = $("#warnings");
  w.hidden = warnings.length === 0;
  w.replaceChildren(...warnings.map((text) => el("div", {}, text)), el("button", { className: "secondary", id: "dismiss-warnings", textContent: "Dismiss", onclick: async () => { await call("dismiss_warnings"); refresh(); } }));
}

export function wireHeader() {
  $("#proxy-toggle").onclick = async () => {
    await call(store.state.snapshot.status.state === "running" ? "proxy_stop" : "proxy_start");
    refresh();
  };
}
