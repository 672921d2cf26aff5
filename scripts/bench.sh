#!/usr/bin/env bash
# HTTP throughput benchmark (issue 22): /health, the preview (cached and uncached) and the mock
# CRM's capture against a bare axum handler built from this repository, with wrk, interleaved
# rounds and one table of req/s, p50, p99 and the ratios. Builds the release binary and the
# yardstick first unless HALCYTONE_BIN and BENCH_HELLO_BIN are set. Every argument goes to
# scripts/bench.py:
#
#   scripts/bench.sh                          # 3 rounds of 10 s, wrk -t2 -c50
#   scripts/bench.sh --rounds 1 --duration 3s --only health,hello
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is not installed; install it with \`apt-get install wrk\` (Debian/Ubuntu) or \`brew install wrk\` (macOS), then run this again" >&2
  exit 2
fi
if [ -z "${HALCYTONE_BIN:-}" ] || [ -z "${BENCH_HELLO_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet -p halcytone --bin halcytone --example bench-hello)
  export HALCYTONE_BIN="${HALCYTONE_BIN:-$ROOT/target/release/halcytone}"
  export BENCH_HELLO_BIN="${BENCH_HELLO_BIN:-$ROOT/target/release/examples/bench-hello}"
fi
exec python3 "$ROOT/scripts/bench.py" "$@"
