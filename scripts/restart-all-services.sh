#!/usr/bin/env bash
# Restart the dry-run stack: scripts/stop-all-services.sh, then scripts/start-all-services.sh
# (same configuration, same PID files and logs under LOG_DIR).
#
# Usage: scripts/restart-all-services.sh [--help]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
only_help "$@"
"$ROOT/scripts/stop-all-services.sh"
"$ROOT/scripts/start-all-services.sh"
