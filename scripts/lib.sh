# Shared helpers for Halcytone's scripts. Source it; do not run it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_DIR="${LOG_DIR:-$ROOT/logs}"
DATA_DIR="${HALCYTONE_DATA_DIR:-$ROOT/data}"
MOCK_CRM_PORT="${MOCK_CRM_PORT:-8001}"
MOCK_PLATFORM_PORT="${MOCK_PLATFORM_PORT:-8002}"

# The halcytone binary: $HALCYTONE_BIN, else a built release, else a built debug binary.
halcytone_bin() {
  if [ -n "${HALCYTONE_BIN:-}" ]; then echo "$HALCYTONE_BIN"; return; fi
  for candidate in "$ROOT/target/release/halcytone" "$ROOT/target/debug/halcytone"; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  if command -v halcytone >/dev/null 2>&1; then command -v halcytone; return; fi
  echo "halcytone binary not found: run 'cargo build --release' or set HALCYTONE_BIN" >&2
  return 1
}

# http_get URL → prints the body; fails when the service does not answer 2xx.
http_get() {
  curl -fsS --max-time 5 "$1"
}

# wait_healthy NAME URL [SECONDS]
wait_healthy() {
  local name="$1" url="$2" limit="${3:-30}" i
  for ((i = 0; i < limit * 10; i++)); do
    if http_get "$url/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$name did not become healthy at $url within ${limit}s" >&2
  return 1
}
