// The Routes tab: model names (exact or glob) to providers, with fallbacks.
import { $, el, toast } from "../lib/dom.js";
import { call } from "../lib/backend.js";
import { store, refresh } from "../lib/store.js";

function routeRow(r = { model: "", provider: store.state.providers[0]?.id ?? "", upstream_model: "", fallbacks: [] }) {
  const providers = el("select", { className: "r-provider" }, ...store.state.providers.map((p) => el("option", { value: p.id, textContent: p.name })));
  providers.value = r.provider;
  // Fields this table does not edit ride along, so that saving keeps them.
  const row = el("tr", {},
    el("td", {},
      el("input", { className: "r-model", value: r.model, placeholder: "plan or gpt-5.2-*" }),
      ...(r.subagent ? [el("span", { className: "hint", textContent: " subagents only" })] : [])),
    el("td", {}, providers),
    el("td", {}, el("input", { className: "r-upstream", value: r.upstream_model ?? "", placeholder: "(provider's mapping)" })),
    el("td", {}, el("input", { className: "r-fallbacks", value: (r.fallbacks ?? []).join(", "), placeholder: "e.g. openrouter, local" })),
    el("td", {}, el("button", { className: "link", textContent: "Remove", onclick: (e) => { e.target.closest("tr").remove(); store.unsaved.add("routes"); } })),
  );
  row.dataset.kept = JSON.stringify({ subagent: !!r.subagent, context_window: r.context_window ?? null });
  return row;
}

export function renderRoutes() {
  // Routes being edited are not redrawn under the user's hands.
  if (store.unsaved.has("routes")) return;
  $("#routes tbody").replaceChildren(...store.state.snapshot.settings.route.map((r) => routeRow(r)));
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
  try {
    await call("set_routes", { routes });
    store.unsaved.delete("routes");
    await refresh();
    toast("Routes saved");
  } catch (e) { err.textContent = e.message; err.hidden = false; }
}

function planExecute() {
  const { providers } = store.state;
  if (providers.length < 1) { toast("Add providers first", true); return; }
  const first = providers[0].id, second = (providers[1] ?? providers[0]).id;
  $("#routes tbody").append(routeRow({ model: "plan", provider: first, upstream_model: "" }), routeRow({ model: "execute", provider: second, upstream_model: "" }));
  store.unsaved.add("routes");
  toast("Pick the providers and models, then Save: `codex -p plan` and `codex -p execute` follow after Apply to Codex");
}

export function wireRoutes() {
  $("#add-route").onclick = () => { $("#routes tbody").append(routeRow()); store.unsaved.add("routes"); };
  $("#plan-execute").onclick = planExecute;
  $("#save-routes").onclick = saveRoutes;
  $("#routes").addEventListener("input", () => store.unsaved.add("routes"));
}
