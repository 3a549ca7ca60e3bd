#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite: formatting, lints, unit, golden,
# property and end-to-end tests: the real Codex CLI, the openai Python SDK, the Open Responses
# models and the AI SDK's Open Responses provider, the OS keyring
# (gnome-keyring in a private D-Bus session) and the desktop window under Xvfb.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_rust
ensure_desktop_build_deps
ensure_desktop_test_deps
ensure_codex
ensure_python_sdk
ensure_gateway_deps
ensure_js_clients
ensure_mcp_servers
ensure_llamacpp
ensure_cargo_fuzz
ensure_cargo_deb
# Instruction counts (bench/tests/counts.rs runs the counter once).
ensure_packages valgrind
# A thousand concurrent streams need a few thousand descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy -j2 --workspace --all-targets --locked -- -D warnings
log "the window's wording and formatting (node, en-US)"
(cd ui && LC_ALL=en_US.UTF-8 LANG=en_US.UTF-8 node --test tests/format.test.mjs | grep -E "^# (tests|pass|fail)|^not ok|^  (error|expected|actual)")
log "building the desktop app"
cargo build -j2 --locked -p plugboard -p plugboard-proxy
export PLUGBOARD_APP="$CARGO_TARGET_DIR/debug/plugboard"
# The package the install test puts on this machine: the same layout scripts/package.sh
# builds, around the debug binaries the other tests use (a release build would double the
# run's compile time).
log "building the Debian package (debug binaries)"
rm -rf "$CACHE/deb" && "$CARGO_DEB" -q -p plugboard --no-build --profile dev --fast -o "$CACHE/deb/" >/dev/null
PLUGBOARD_DEB="$(ls "$CACHE"/deb/plugboard_*.deb)"
export PLUGBOARD_DEB

log "cargo test (in a private D-Bus session with an unlocked keyring, under Xvfb)"
# The D-Bus session and the keyring live only as long as the test run, the keyring's files
# in a fresh folder: an existing login keyring with another password would stay locked and
# every write would wait on an unlock prompt nobody answers.
keyring_dir="$(mktemp -d)"
trap 'rm -rf "$keyring_dir"' EXIT
export KEYRING_DIR="$keyring_dir"
xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- bash -c '
  set -euo pipefail
  printf plugboard-tests | XDG_DATA_HOME="$KEYRING_DIR" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  cargo test -j2 --workspace --locked
' 2> >(grep -v -e "Failed to set fd limit" -e "org.a11y" -e "SpiRegistry" >&2)
run_fuzz "${FUZZ_SECS:-60}"
log "all tests passed"
