#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite: formatting, lints, unit, golden,
# property and end-to-end tests (the real Codex CLI and the openai Python SDK included).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_rust
ensure_codex
ensure_python_sdk

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy -j2 --workspace --all-targets --locked -- -D warnings
log "cargo test"
cargo test -j2 --workspace --locked
log "all tests passed"
