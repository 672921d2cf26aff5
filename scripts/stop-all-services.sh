#!/usr/bin/env bash
# Stop what scripts/start-all-services.sh started: the API, then both mocks, by their PID
# files in LOG_DIR (api.pid, crm-mock.pid, platform-mock.pid). SIGTERM, then SIGKILL after
# 10 s. Processes found any other way are never touched: other halcytone processes on this
# machine (a `halcytone up`, a test run, another checkout) keep running.
#
# Usage: scripts/stop-all-services.sh [--help]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
only_help "$@"
stop_pidfile api
"$ROOT/scripts/stop-mock-services.sh"
