#!/usr/bin/env bash
# Installs what is missing, builds, and starts Plugboard's proxy. Arguments go to
# `plugboard-proxy serve` (e.g. --upstream https://api.deepseek.com/v1 --preset deepseek
# --api-key-env DEEPSEEK_API_KEY). Without arguments it uses the settings file, or a local
# Ollama when there is none yet.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_rust
log "building plugboard-proxy"
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
