#!/usr/bin/env bash
# Start the dry-run stack in the background: the mock CRM, the mock Platform and the API
# (`halcytone serve --dry-run`, with its job worker), each with a PID file and a log under
# LOG_DIR (crm-mock, platform-mock, api .pid/.log; the API's JSON log is LOG_DIR/app.log),
# then wait until all three are healthy. A service already running is left as it is.
#
# Usage: scripts/start-all-services.sh [--help]
#
# Ports: PORT (the API), MOCK_CRM_PORT, MOCK_PLATFORM_PORT. Database: DATABASE_URL (default
# halcytone.db in HALCYTONE_DATA_DIR). Living document: LIVING_DOC_ID when configured, else
# samples/living-document.md. API key: API_KEY when configured, else the one in
# HALCYTONE_DATA_DIR/api-key.txt (created on first start). Every value comes from the
# environment or .env; defaults in scripts/lib.sh.
# Stop with scripts/stop-all-services.sh, which stops only what this script started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
only_help "$@"
BIN="$(halcytone_bin)"
cd "$ROOT"
mkdir -p "$LOG_DIR" "$DATA_DIR"

"$ROOT/scripts/start-mock-services.sh"

pidfile="$LOG_DIR/api.pid" pid=""
if pid="$(pid_alive "$pidfile")"; then
  echo "api already running (pid $pid)"
else
  key="$(api_key)"
  if [ -z "$key" ]; then
    key="hk_local_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
    (umask 077 && printf '%s\n' "$key" >"$DATA_DIR/api-key.txt")
    echo "created an admin API key in $DATA_DIR/api-key.txt"
  fi
  # Only what this script decides is set here; everything else comes from the environment and .env.
  vars=(API_KEY="$key" DATABASE_URL="$(database_url)" PORT="$API_PORT" LOG_DIR="$LOG_DIR"
    MOCK_CRM_BASE_URL="$CRM_URL" MOCK_PLATFORM_BASE_URL="$PLATFORM_URL")
  if [ -z "$(config_value LIVING_DOC_ID)" ] && [ -z "$(config_value LIVING_DOC_TYPE)" ]; then
    vars+=(LIVING_DOC_TYPE=file LIVING_DOC_ID="$ROOT/samples/living-document.md")
  fi
  env "${vars[@]}" "$BIN" serve --dry-run >>"$LOG_DIR/api.log" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  echo "started api on port $API_PORT (pid $pid, log $LOG_DIR/api.log)"
fi
if ! wait_healthy api "$API_URL" 30 "$pid"; then
  tail -n 20 "$LOG_DIR/api.log" >&2
  exit 1
fi
echo "all services healthy: API $API_URL, mock CRM $CRM_URL, mock Platform $PLATFORM_URL"
