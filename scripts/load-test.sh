#!/usr/bin/env bash
# Load test with wrk (installed from Debian's packages when missing), load generator and
# services sharing this machine. Two parts, each on private ports with fresh data:
#  api   — `halcytone up`: start-to-healthy time and idle RSS, then POST
#          /api/v2/generate-content with preview_only (cached, and uncached with
#          Cache-Control: no-cache) and GET /health;
#  mocks — the mock CRM's POST /api/v1/email/send (every request captured in SQLite) and
#          GET /health on both mocks.
#
# Usage: scripts/load-test.sh [api|mocks|all] [--help]
#
#   scripts/load-test.sh              # both parts, 50 connections, 15 s per scenario
#   scripts/load-test.sh api          # one part
#   CONNECTIONS=100 DURATION=30s scripts/load-test.sh
#
# Private ports: LOAD_API_PORT (default 18500, its mocks on +10 and +11), LOAD_CRM_PORT
# (18501) and LOAD_PLATFORM_PORT (18502) for the mocks part.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PART=all
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    api | mocks | all) PART="$arg" ;;
    -*) usage_error "unknown option: $arg" ;;
    *) usage_error "unknown part: $arg (api, mocks or all)" ;;
  esac
done
BIN="$(halcytone_bin)"
CONNECTIONS="${CONNECTIONS:-50}"
DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
export MOCK_CRM_PORT="${LOAD_CRM_PORT:-18501}" MOCK_PLATFORM_PORT="${LOAD_PLATFORM_PORT:-18502}"
API_PORT="${LOAD_API_PORT:-18500}"
export HALCYTONE_DATA_DIR="$(mktemp -d)" LOG_DIR="$(mktemp -d)"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

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

api_part() {
  local dir pid start ms rss preview
  dir="$(mktemp -d)"
  start="$(date +%s%N)"
  "$BIN" up --port "$API_PORT" --crm-port $((API_PORT + 10)) --platform-port $((API_PORT + 11)) \
    --data-dir "$dir/data" --log-dir "$dir/logs" >"$dir/up.out" 2>"$dir/up.err" &
  pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$API_PORT/health" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then cat "$dir/up.err" >&2; return 1; fi
    sleep 0.01
  done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 1
  rss="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  echo "== halcytone up: start to healthy ${ms} ms (includes process start); idle RSS $((rss / 1024)) MB"
  preview="$(mktemp --suffix .lua)"
  cat >"$preview" <<'LUA'
wrk.method = "POST"
wrk.body = '{"preview_only":true}'
LUA
  run "API POST /api/v2/generate-content preview_only (cached by document hash and options)" -s "$preview" "http://127.0.0.1:$API_PORT/api/v2/generate-content"
  run "API POST /api/v2/generate-content preview_only, uncached (Cache-Control: no-cache)" -s "$preview" -H "Cache-Control: no-cache" "http://127.0.0.1:$API_PORT/api/v2/generate-content"
  run "API GET /health" "http://127.0.0.1:$API_PORT/health"
  rss="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  echo "RSS after the load: $((rss / 1024)) MB"
  kill -TERM "$pid"; wait "$pid" || true
}

mocks_part() {
"$(dirname "$0")/start-mock-services.sh" >/dev/null
trap '"$(dirname "$0")/stop-mock-services.sh" >/dev/null' EXIT

run "mock CRM POST /api/v1/email/send (captured)" -s "$lua" "http://127.0.0.1:$MOCK_CRM_PORT/api/v1/email/send"
run "mock CRM GET /health" "http://127.0.0.1:$MOCK_CRM_PORT/health"
run "mock Platform GET /health" "http://127.0.0.1:$MOCK_PLATFORM_PORT/health"
captured="$(http_get "http://127.0.0.1:$MOCK_CRM_PORT/api/v1/captures?limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2)"
echo "captures stored after the run (retention keeps the newest 10000): $captured"
}

case "$PART" in
  api) api_part ;;
  mocks) mocks_part ;;
  all) api_part; mocks_part ;;
esac
