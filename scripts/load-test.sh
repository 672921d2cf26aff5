#!/usr/bin/env bash
# Load test of the mock services with wrk (installed from Debian's packages when missing).
# Measures POST /api/v1/email/send on the mock CRM (every request captured in SQLite) and
# GET /health on both mocks. Mocks are started on private ports with a fresh data directory.
#
#   scripts/load-test.sh            # 50 connections, 15 s per scenario
#   CONNECTIONS=100 DURATION=30s scripts/load-test.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN="$(halcytone_bin)"
CONNECTIONS="${CONNECTIONS:-50}"
DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
export MOCK_CRM_PORT="${LOAD_CRM_PORT:-18501}" MOCK_PLATFORM_PORT="${LOAD_PLATFORM_PORT:-18502}"
export HALCYTONE_DATA_DIR="$(mktemp -d)" LOG_DIR="$(mktemp -d)"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

"$(dirname "$0")/start-mock-services.sh" >/dev/null
trap '"$(dirname "$0")/stop-mock-services.sh" >/dev/null' EXIT

lua="$(mktemp --suffix .lua)"
cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"subject":"Load test newsletter","html_content":"<p>Breathe in, breathe out.</p>","text_content":"Breathe in, breathe out.","campaign_id":"load-test","recipients":["reader@example.com"]}'
LUA

run() {
  local title="$1"; shift
  echo "== $title"
  wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" "$@" | grep -E "Requests/sec|Latency  |  50%|  99%|requests in|Non-2xx"
}

run "mock CRM POST /api/v1/email/send (captured)" -s "$lua" "http://127.0.0.1:$MOCK_CRM_PORT/api/v1/email/send"
run "mock CRM GET /health" "http://127.0.0.1:$MOCK_CRM_PORT/health"
run "mock Platform GET /health" "http://127.0.0.1:$MOCK_PLATFORM_PORT/health"
captured="$(http_get "http://127.0.0.1:$MOCK_CRM_PORT/api/v1/captures?limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2)"
echo "captures stored after the run (retention keeps the newest 10000): $captured"
