#!/usr/bin/env bash
# Where plugboard-proxy's time goes (not part of CI; perf needs root or
# kernel.perf_event_paranoid <= 1): perf samples the release proxy while plugboard-bench
# drives it, once one stream at a time (the upstream answering at once: the sequential
# check's situation) and once 64 streams at a model's pace; each profile is drawn with
# inferno into docs/profiles/ and printed as a table of where the samples fell.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_rust
ensure_profiler

log "building release binaries"
cargo build -j2 --release --locked -p plugboard-proxy -p plugboard-bench
rel="$CARGO_TARGET_DIR/release"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# profile NAME SECONDS TITLE -- plugboard-bench arguments: samples the proxy for SECONDS once
# the bench's direct row (which runs first) has finished, that is, during Plugboard's row.
profile() {
  local name="$1" secs="$2" title="$3"
  shift 4
  "$rel/plugboard-bench" --plugboard-bin "$rel/plugboard-proxy" --interleaved-rounds 0 "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  local bench=$!
  until grep -q " direct " "$work/$name.err" 2>/dev/null; do
    kill -0 "$bench" 2>/dev/null || { cat "$work/$name.err" >&2; return 1; }
    sleep 0.2
  done
  local pid
  pid="$(pgrep -P "$bench" -f "plugboard-proxy serve" | head -1)"
  log "$name: sampling plugboard-proxy ($pid) for ${secs}s"
  perf record -q -F 999 -g -p "$pid" -o "$work/$name.data" -- sleep "$secs" 2>/dev/null
  wait "$bench"
  perf script -i "$work/$name.data" 2>/dev/null | inferno-collapse-perf --all >"$work/$name.folded"
  inferno-flamegraph --title "$title" <"$work/$name.folded" >"docs/profiles/$name.svg"
  echo "## $title (docs/profiles/$name.svg)"
  python3 scripts/profile-breakdown.py "$work/$name.folded"
  echo
}

profile sequential-1-stream 5 "plugboard-proxy, one stream at a time, upstream answering at once" -- \
  --concurrency 1 --sizes small --requests 12000 --warmup 20
profile paced-64-streams 15 "plugboard-proxy, 64 streams at a model's pace" -- \
  --concurrency 64 --sizes small --first-delay-ms 200 --chunk-delay-ms 10 --requests 4096 --warmup 64
