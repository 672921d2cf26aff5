#!/usr/bin/env bash
# Smoke test of a running Halcytone dry-run stack, end to end: health, readiness, metrics,
# a preview, a publish job through the API, and what the mocks captured.
#
# Usage: scripts/smoke-test.sh [--start] [--help]
#
#   scripts/smoke-test.sh           # against API_URL (default from PORT; key: API_KEY or data/api-key.txt)
#   scripts/smoke-test.sh --start   # starts `halcytone up` on private ports (SMOKE_PORT..+2) first, stops it after
#
# Exits non-zero at the first failed check, saying which.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start=0
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --start) start=1 ;;
    -*) usage_error "unknown option: $arg" ;;
    *) usage_error "unexpected argument: $arg" ;;
  esac
done
KEY="$(api_key)"
pid=""

cleanup() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

if [ "$start" = 1 ]; then
  BIN="$(halcytone_bin)"
  dir="$(mktemp -d)"
  port="${SMOKE_PORT:-18700}"
  "$BIN" up --port "$port" --crm-port $((port + 1)) --platform-port $((port + 2)) \
    --data-dir "$dir/data" --log-dir "$dir/logs" >"$dir/up.out" 2>"$dir/up.err" &
  pid=$!
  API_URL="http://127.0.0.1:$port" CRM_URL="http://127.0.0.1:$((port + 1))" PLATFORM_URL="http://127.0.0.1:$((port + 2))"
  wait_healthy "halcytone up" "$API_URL" 30 || { cat "$dir/up.err" >&2; exit 1; }
  KEY="$(cat "$dir/data/api-key.txt")"
fi

step=0
pass() { step=$((step + 1)); echo "ok $step - $1"; }
fail() { echo "not ok - $1" >&2; exit 1; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }

body="$(curl -fsS "$API_URL/health")" || fail "GET $API_URL/health did not answer 2xx"
status="$(echo "$body" | json_field '["status"]')"
[ "$status" = healthy ] || [ "$status" = degraded ] || fail "/health status is $status"
pass "API /health: $status"
curl -fsS -o /dev/null "$API_URL/ready" || fail "/ready is not ready"
pass "API /ready"
for m in "$CRM_URL" "$PLATFORM_URL"; do
  curl -fsS -o /dev/null "$m/health" || fail "mock $m/health did not answer"
  pass "mock $m/health"
done
metrics="$(curl -fsS "$API_URL/metrics")" || fail "/metrics did not answer"
echo "$metrics" | grep -q '^halcytone_dry_run_mode 1' || fail "halcytone_dry_run_mode is not 1: this is not a dry run; stop before anything is sent"
pass "dry run is on (halcytone_dry_run_mode 1)"
preview="$(curl -fsS -X POST "$API_URL/api/v2/generate-content" -d '{"preview_only":true}')" || fail "preview failed"
[ "$(echo "$preview" | json_field '["status"]')" = preview ] || fail "preview status is not preview"
[ "$(echo "$preview" | json_field '["social_posts"].__len__()')" -ge 1 ] || fail "preview has no social posts"
pass "preview generates every channel"
[ -n "$KEY" ] || fail "no API key: set API_KEY (or run with --start)"
job="$(curl -fsS -X POST "$API_URL/api/v2/content/sync" -H "Authorization: Bearer $KEY" \
  -d '{"channels":["email","website","social_twitter"]}')" || fail "content/sync was refused"
id="$(echo "$job" | json_field '["job_id"]')"
pass "job $id queued"
final=""
for _ in $(seq 1 100); do
  final="$(curl -fsS "$API_URL/api/v2/jobs/$id" -H "Authorization: Bearer $KEY" | json_field '["status"]')"
  case "$final" in completed|partial|failed|cancelled) break ;; esac
  sleep 0.2
done
[ "$final" = completed ] || fail "job $id ended $final"
pass "job $id completed"
for check in "$CRM_URL email" "$PLATFORM_URL content" "$PLATFORM_URL social"; do
  set -- $check
  n="$(curl -fsS "$1/api/v1/captures?kind=$2&limit=1" | json_field '["total"]')"
  [ "$n" -ge 1 ] || fail "mock $1 captured no $2"
  pass "mock captured $n $2 record(s)"
done
echo "smoke test passed ($step checks)"
