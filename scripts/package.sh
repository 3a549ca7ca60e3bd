#!/usr/bin/env bash
# Builds the Debian package (release build, production mode): dist/plugboard_VERSION_ARCH.deb
# with the app, plugboard-proxy, the menu entry and the icons. Install it with
#   sudo apt install ./dist/plugboard_*.deb
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_rust
ensure_desktop_build_deps
ensure_cargo_deb
log "building plugboard-proxy (release)"
cargo build -j2 --locked --release -p plugboard-proxy
log "building the app and its package (release)"
"$CARGO_DEB" -p plugboard --locked -o "$ROOT/dist/"
ls -1 "$ROOT"/dist/plugboard_*.deb
