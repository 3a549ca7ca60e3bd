#!/usr/bin/env bash
# Installs what is missing, builds and starts Plugboard: the tray app where there is a
# display, the headless proxy where there is none. Arguments go to `plugboard-proxy serve`
# (e.g. --upstream https://api.deepseek.com/v1 --preset deepseek --api-key-env DEEPSEEK_API_KEY)
# and force the headless proxy.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_rust
if [ $# -eq 0 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  ensure_desktop_build_deps
  log "building the Plugboard app"
  cargo build -j2 --release --locked -p plugboard
  exec "$CARGO_TARGET_DIR/release/plugboard"
fi

log "building plugboard-proxy (no display: headless proxy)"
cargo build -j2 --release --locked -p plugboard-proxy
bin="$CARGO_TARGET_DIR/release/plugboard-proxy"
if [ $# -eq 0 ]; then
  settings="${XDG_CONFIG_HOME:-$HOME/.config}/plugboard/settings.toml"
  if [ ! -f "$settings" ]; then
    log "no settings at $settings yet: serving a local Ollama (pass --upstream URL --preset NAME for another provider)"
    set -- --preset ollama
  fi
fi
exec "$bin" serve "$@"
