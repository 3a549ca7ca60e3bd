// What the pages share: the app's state as get_state returned it last, what is being edited,
// and the one way to read the state again and redraw (each page registers its drawing).
import { call } from "./backend.js";

export const store = {
  state: null,       // what get_state returned last
  editing: null,     // id of the provider in the form, "" for a new one
  firstRun: null,    // null: the guide is not shown; otherwise which of its steps are done
  checking: false,   // a Codex check is under way: an older report must not replace its progress
  unsaved: new Set(), // forms with edits not saved yet ("provider", "routes", ...)
};

export const providerName = (id) => store.state?.providers.find((p) => p.id === id)?.name ?? id;

const drawings = [];
export const onRefresh = (draw) => drawings.push(draw);

export async function refresh() {
  store.state = await call("get_state");
  for (const draw of drawings) draw();
}
