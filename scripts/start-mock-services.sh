#!/usr/bin/env bash
# Start the mock CRM (8001) and mock Platform (8002) in the background, wait until both are
# healthy, and leave PIDs and logs under logs/ (logs/crm-mock.log, logs/platform-mock.log).
# Ports: MOCK_CRM_PORT, MOCK_PLATFORM_PORT. Captures: HALCYTONE_DATA_DIR (default ./data).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN="$(halcytone_bin)"
mkdir -p "$LOG_DIR" "$DATA_DIR"

start() {
  local service="$1" port="$2" name="$1-mock"
  local pidfile="$LOG_DIR/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$pidfile"))"
    return 0
  fi
  "$BIN" mock "$service" --port "$port" --data-dir "$DATA_DIR" >>"$LOG_DIR/$name.log" 2>&1 &
  echo $! >"$pidfile"
  echo "started $name on port $port (pid $!, log $LOG_DIR/$name.log)"
}

start crm "$MOCK_CRM_PORT"
start platform "$MOCK_PLATFORM_PORT"
wait_healthy "mock CRM" "http://127.0.0.1:$MOCK_CRM_PORT"
wait_healthy "mock Platform" "http://127.0.0.1:$MOCK_PLATFORM_PORT"
echo "mock services healthy: CRM http://localhost:$MOCK_CRM_PORT, Platform http://localhost:$MOCK_PLATFORM_PORT"
