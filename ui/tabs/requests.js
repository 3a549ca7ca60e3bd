// The Requests tab: every attempt as a row (following new ones as they finish), filters, and
// one row opened as a readable detail.
import { $, el, toast } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, providerName } from "../lib/store.js";
import { money, count, exact, duration, shortWhen, requestOutcome, requestDetail } from "../lib/format.js";

export async function renderRequestLog() {
  const filter = { status: $("#log-status").value || null, provider: $("#log-provider").value || null, model: $("#log-model").value.trim() || null };
  let rows;
  try { rows = await call("request_log", { limit: 200, filter }); } catch (e) { toast(e.message, true); return; }
  const provSel = $("#log-provider");
  const chosen = provSel.value;
  provSel.replaceChildren(el("option", { value: "", textContent: "all" }), ...store.state.providers.map((p) => el("option", { value: p.id, textContent: p.name })));
  provSel.value = chosen;
  $("#request-log tbody").replaceChildren(...rows.map((r) => {
    const show = () => showRequest(r);
    const provider = `${providerName(r.provider)} (${r.upstream_model})${r.attempt > 1 ? ` · attempt ${r.attempt}` : ""}`;
    const tr = el("tr", { tabIndex: 0, onclick: show, onkeydown: (e) => { if (e.key === "Enter") show(); } },
      el("td", { className: "when", textContent: shortWhen(r.ts_ms), title: new Date(r.ts_ms).toLocaleString() }),
      el("td", {}, el("span", { className: "line", textContent: r.model, title: r.model })),
      // Where the request went, cut to its column (the whole of it is on hover and in the
      // detail); a provider on this machine or network is marked in words, not with something
      // that looks like a button.
      el("td", {}, el("span", { className: "line", textContent: provider, title: provider }), ...(r.local ? [el("span", { className: "line local-mark", textContent: "stayed local", title: "The provider was on this machine or the local network" })] : [])),
      el("td", { className: r.answered ? "outcome" : "outcome bad", textContent: requestOutcome(r), title: r.error_class ? `${r.status}: ${r.error_class}` : r.status }),
      el("td", { className: "num", textContent: `${count(r.input_tokens)} / ${count(r.output_tokens)}`, title: `${exact(r.input_tokens)} in, ${exact(r.output_tokens)} out` }),
      el("td", { className: "num", textContent: duration(r.first_event_ms) }),
      el("td", { className: "num", textContent: duration(r.total_ms) }),
      r.priced ? el("td", { className: "num", textContent: money(r.cost_usd) }) : el("td", { className: "num muted", textContent: "unpriced", title: `No price known for ${r.upstream_model}: add one under [prices] in the settings file` }),
    );
    tr.dataset.provider = r.provider;
    return tr;
  }));
}

function showRequest(r) {
  const d = $("#log-detail");
  d.hidden = false;
  d.replaceChildren(...requestDetail(r, providerName).flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]));
  d.scrollIntoView({ block: "nearest" });
}

export function wireRequests() {
  for (const id of ["#log-status", "#log-provider", "#log-model"]) $(id).onchange = renderRequestLog;
  $("#log-refresh").onclick = renderRequestLog;
}
