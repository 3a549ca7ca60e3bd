#!/usr/bin/env bash
# Fetches the settings window's vendored libraries from npm into ui/vendor/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent chart.js@4.5.1 >/dev/null && tar xzf chart.js-4.5.1.tgz)
cp "$tmp/package/dist/chart.umd.min.js" "$ROOT/ui/vendor/chart.umd.min.js"
log "ui/vendor/chart.umd.min.js updated"
