#!/usr/bin/env bash
# The benchmark (not part of CI): Plugboard against a direct connection and against
# LiteLLM's proxy on the same mock upstream, then the translator's micro-benchmarks.
# Rewrites the table in BENCHMARKS.md. Arguments go to plugboard-bench, e.g.
#   scripts/bench.sh --concurrency 64 --requests 2000
# SOAK_SECS (default 600) sets the soak at 64 streams; SOAK_SECS=0 skips it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_rust
ensure_desktop_build_deps
ensure_packages xvfb xauth
ensure_litellm
ensure_packages valgrind
ensure_gateway_deps

log "building release binaries"
cargo build -j2 --release --locked -p plugboard-proxy -p plugboard-bench -p plugboard
rel="$CARGO_TARGET_DIR/release"

log "side-by-side run"
# Xvfb only for the tray app's idle figures.
run=("$rel/plugboard-bench" --plugboard-bin "$rel/plugboard-proxy" --litellm "$LITELLM_BIN" --app "$rel/plugboard" --write BENCHMARKS.md "$@")
if [ -n "${DISPLAY:-}" ]; then "${run[@]}"; else xvfb-run -a "${run[@]}"; fi

log "the same at a model's pace (first token after 200 ms, then one every 10 ms)"
"$rel/plugboard-bench" --plugboard-bin "$rel/plugboard-proxy" --litellm "$LITELLM_BIN" \
  --concurrency 64 --first-delay-ms 200 --chunk-delay-ms 10 --requests 2048 --warmup 64 \
  --write BENCHMARKS.md --section paced "$@"

if [ "${SOAK_SECS:-600}" -gt 0 ]; then
  log "soak: ${SOAK_SECS:-600}s at 64 streams, as fast as the machine allows"
  "$rel/plugboard-bench" --plugboard-bin "$rel/plugboard-proxy" --concurrency 64 --sizes small \
    --requests 400 --soak-secs "${SOAK_SECS:-600}" --write BENCHMARKS.md --section soak
fi

log "the tray app's memory: never opened, window open, after open and close"
# The window is opened by a second launch, which reaches the first over the D-Bus session.
tray=("$rel/plugboard-tray-memory" --app "$rel/plugboard" --write BENCHMARKS.md)
if [ -n "${DISPLAY:-}" ]; then dbus-run-session -- "${tray[@]}"; else xvfb-run -a dbus-run-session -- "${tray[@]}"; fi

log "a gateway: follow-up turns in memory against Redis-shared, CPU, one replica against two"
"$rel/plugboard-gateway-bench" --rounds 300 --concurrency 32 --seconds 5 --redis-server "$PLUGBOARD_REDIS_SERVER" --write BENCHMARKS.md

log "instructions and allocations per request, counted (callgrind), against their budgets"
"$rel/plugboard-counts" --requests 20 --write BENCHMARKS.md

log "a 20-turn Codex-like session: HTTP against WebSocket, and a hybrid session's cost"
"$rel/plugboard-session-bench" --turns 20 --write BENCHMARKS.md
"$rel/plugboard-session-bench" --turns 20 --first-delay-ms 200 | sed -n '1,9p'

log "translator micro-benchmarks"
cargo bench -j2 --locked -p plugboard-translate --bench translate -- --noplot
python3 scripts/criterion-report.py "$CARGO_TARGET_DIR/criterion" BENCHMARKS.md "$(git describe --always --dirty)"
