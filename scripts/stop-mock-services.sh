#!/usr/bin/env bash
# Stop the mock services started by scripts/start-mock-services.sh: only the PIDs in
# LOG_DIR/crm-mock.pid and LOG_DIR/platform-mock.pid (SIGTERM, then wait), never a process
# found by its name.
#
# Usage: scripts/stop-mock-services.sh [--help]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
only_help "$@"
for name in crm-mock platform-mock; do
  stop_pidfile "$name"
done
