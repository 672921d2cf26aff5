#!/usr/bin/env bash
# Instrumentation overhead: GET /health throughput of `halcytone serve` with request metrics
# on (MONITORING_ENABLED=true, the default) and off, same binary, same machine, alternating
# runs so drift hits both. Prints requests/s of each run and the on/off ratio (target: the
# instrumented service keeps at least 75 % of the throughput).
#
#   scripts/metrics-overhead.sh                  # 2 rounds of 10 s, 50 connections
#   ROUNDS=3 DURATION=15s scripts/metrics-overhead.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN="$(halcytone_bin)"
ROUNDS="${ROUNDS:-2}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-50}"
THREADS="${THREADS:-2}"
PORT="${OVERHEAD_PORT:-18600}"
export MOCK_CRM_PORT="${OVERHEAD_CRM_PORT:-18601}" MOCK_PLATFORM_PORT="${OVERHEAD_PLATFORM_PORT:-18602}"
export HALCYTONE_DATA_DIR="$(mktemp -d)" LOG_DIR="$(mktemp -d)"
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
"$(dirname "$0")/start-mock-services.sh" >/dev/null
trap '"$(dirname "$0")/stop-mock-services.sh" >/dev/null' EXIT

one() {
  local monitoring="$1" dir pid rps
  dir="$(mktemp -d)"
  MONITORING_ENABLED="$monitoring" DRY_RUN_MODE=true RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warn \
    MOCK_CRM_BASE_URL="http://127.0.0.1:$MOCK_CRM_PORT" MOCK_PLATFORM_BASE_URL="http://127.0.0.1:$MOCK_PLATFORM_PORT" \
    DATABASE_URL="sqlite://$dir/h.db" "$BIN" serve --port "$PORT" --log-dir "$dir/logs" >"$dir/out" 2>&1 &
  pid=$!
  wait_healthy api "http://127.0.0.1:$PORT" 30
  wrk -t "$THREADS" -c "$CONNECTIONS" -d 2s "http://127.0.0.1:$PORT/health" >/dev/null   # warm-up
  rps="$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" "http://127.0.0.1:$PORT/health" | awk '/Requests\/sec/ {print $2}')"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$rps"
}

on_total=0; off_total=0
for ((r = 1; r <= ROUNDS; r++)); do
  on="$(one true)"; off="$(one false)"
  echo "round $r: metrics on ${on} req/s, metrics off ${off} req/s"
  on_total="$(awk -v a="$on_total" -v b="$on" 'BEGIN {print a + b}')"
  off_total="$(awk -v a="$off_total" -v b="$off" 'BEGIN {print a + b}')"
done
awk -v on="$on_total" -v off="$off_total" -v n="$ROUNDS" 'BEGIN {
  printf "GET /health, %d rounds: metrics on %.0f req/s, off %.0f req/s; on/off = %.1f%% (target >= 75%%)\n", n, on / n, off / n, 100 * on / off
  exit (on / off >= 0.75) ? 0 : 1
}'
