// The app behind the window: Tauri commands (src-tauri/src/commands.rs) and the events it
// pushes. Errors arrive as sentences.
const { invoke } = window.__TAURI__.core;
export const { listen } = window.__TAURI__.event;

export async function call(cmd, args) {
  try {
    return await invoke(cmd, args);
  } catch (e) {
    throw new Error(typeof e === "string" ? e : e?.message ?? String(e));
  }
}
