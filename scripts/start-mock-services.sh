#!/usr/bin/env bash
# Start the mock CRM and the mock Platform in the background, wait until both are healthy,
# and leave PIDs and logs under LOG_DIR (crm-mock.pid|log, platform-mock.pid|log). A mock
# already running from an earlier start is left as it is.
#
# Usage: scripts/start-mock-services.sh [--help]
#
# Ports: MOCK_CRM_PORT, MOCK_PLATFORM_PORT (environment or .env; defaults in scripts/lib.sh).
# Captures: HALCYTONE_DATA_DIR (default ./data). Logs: LOG_DIR (default ./logs).
# Stop them with scripts/stop-mock-services.sh (or `make mock-stop`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
only_help "$@"
BIN="$(halcytone_bin)"
mkdir -p "$LOG_DIR" "$DATA_DIR"

start() {
  local service="$1" port="$2" name="$1-mock"
  local pidfile="$LOG_DIR/$name.pid" pid
  if pid="$(pid_alive "$pidfile")"; then
    echo "$name already running (pid $pid)"
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
