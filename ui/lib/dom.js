// The page's small helpers: find, build, tell, ask.

export const $ = (sel) => document.querySelector(sel);

export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

let toastTimer = null;
export function toast(text, isError = false) {
  const t = $("#toast");
  t.textContent = text;
  t.style.background = isError ? "var(--bad)" : "";
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), isError ? 7000 : 3000);
}

// An in-app question (never the browser's own dialog): resolves "ok", "alt" or null.
export function ask(text, okLabel = "OK", altLabel = null) {
  const d = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  $("#confirm-alt").hidden = !altLabel;
  $("#confirm-alt").textContent = altLabel ?? "";
  return new Promise((resolve) => {
    const done = (answer) => { d.close(); resolve(answer); };
    $("#confirm-ok").onclick = () => done("ok");
    $("#confirm-alt").onclick = () => done("alt");
    $("#confirm-cancel").onclick = () => done(null);
    d.oncancel = (e) => { e.preventDefault(); done(null); };
    d.showModal();
    $("#confirm-ok").focus();
  });
}

// A result line under a button: ✓ or ✗ and a sentence, kept in view.
export function showResult(out, ok, text) {
  out.hidden = false;
  out.className = `result ${ok ? "ok" : "bad"}`;
  out.textContent = `${ok ? "✓" : "✗"} ${text}`;
  out.scrollIntoView({ block: "nearest" });
}
