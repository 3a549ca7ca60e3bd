// The Usage tab: totals, Chart.js charts per day and provider, and sessions.
import { $, el, toast } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, providerName, refresh } from "../lib/store.js";
import { money, count, exact, moneyTick, byDayAndProvider, shortSession } from "../lib/format.js";

const charts = {};

function chart(id, config) {
  charts[id]?.destroy();
  charts[id] = new window.Chart($(`#${id}`), config);
}

export async function renderUsage() {
  const days = Number($("#usage-days").value);
  let u;
  try { u = await call("usage_overview", { days }); } catch (e) { $("#usage-summary").textContent = e.message; return; }
  const s = u.summary;
  const card = (label, value, cls = "") => el("div", { className: `card ${cls}` }, el("b", { textContent: value }), label);
  $("#usage-summary").replaceChildren(
    card("requests", exact(s.requests)),
    card("failed", exact(s.failed)),
    card("input tokens", `${count(s.input_tokens)} (${count(s.cached_tokens)} cached)`),
    card("output tokens", count(s.output_tokens)),
    card("cost", money(s.cost_usd)),
    card(`saved versus ${s.compare_model}`, `${money(s.saved_usd)} of ${money(s.cost_if_compare_usd)}`, "saved"),
  );
  $("#usage-summary").title = `${exact(s.input_tokens)} input (${exact(s.cached_tokens)} cached), ${exact(s.output_tokens)} output tokens`;
  // Charts tall enough to read, legends small and below.
  const readable = { responsive: true, animation: false, aspectRatio: 1.8, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } };
  const stacked = (tick) => ({ ...readable, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { callback: tick } } } });
  chart("chart-tokens", { type: "bar", data: byDayAndProvider(u.daily, (r) => r.input_tokens + r.output_tokens, providerName), options: stacked(count) });
  chart("chart-cost", { type: "bar", data: byDayAndProvider(u.daily, (r) => r.cost_usd, providerName), options: stacked(moneyTick) });
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
      el("td", { className: "mono", textContent: shortSession(s.session), title: s.session }),
      el("td", { textContent: new Date(s.last_ts_ms).toLocaleString() }),
      el("td", {}, ...split.map((t) => el("div", { textContent: t }))),
      el("td", { textContent: money(s.cost_usd) }),
      el("td", { textContent: planner }),
      el("td", { className: s.saved_usd > 0 ? "saved" : "", textContent: money(s.saved_usd) }),
    );
  }));
}

async function saveUsageSettings() {
  try {
    await call("set_usage_settings", { compareModel: $("#compare-model").value.trim() || "gpt-5.5", retentionDays: Number($("#retention-days").value) || 90 });
    store.unsaved.delete("usage");
    await refresh();
    renderUsage();
    toast("Saved");
  } catch (e) { toast(e.message, true); }
}

export function wireUsage() {
  $("#usage-days").onchange = renderUsage;
  $("#save-usage-settings").onclick = saveUsageSettings;
}
