#!/usr/bin/env bash
# For cron: check the services once (scripts/health-check.sh), append one line to
# LOG_DIR/health-check.log, and when a service is down send an alert through Alertmanager
# (scripts/send-alert.sh) and exit 1. A failed alert is logged too; the exit stays 1.
#
# Usage: scripts/health-check-cron.sh [--mocks-only] [--no-alert] [--help]
#
#   */5 * * * * /path/to/halcytone/scripts/health-check-cron.sh
#
#   --mocks-only   the API is not required
#   --no-alert     only log, send nothing
#
# Addresses as for scripts/health-check.sh; Alertmanager: ALERTMANAGER_URL.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
check_args=() alert=1
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --mocks-only) check_args+=(--mocks-only) ;;
    --no-alert) alert=0 ;;
    -*) usage_error "unknown option: $arg" ;;
    *) usage_error "unexpected argument: $arg" ;;
  esac
done
mkdir -p "$LOG_DIR"
log="$LOG_DIR/health-check.log"
stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

if down="$("$ROOT/scripts/health-check.sh" --quiet "${check_args[@]}")"; then
  echo "$stamp ok: every service answers" >>"$log"
  exit 0
fi
summary="$(awk '{ printf "%s%s (%s)", (NR > 1 ? ", " : ""), $1, $3 }' <<<"$down")"
echo "$stamp DOWN: $summary" >>"$log"
echo "DOWN: $summary" >&2
if [ "$alert" = 1 ]; then
  if ! "$ROOT/scripts/send-alert.sh" --severity critical --name HalcytoneHealthCheckFailed \
    "Service down: $summary" >>"$log" 2>&1; then
    echo "$stamp alert not sent (see the lines above)" >>"$log"
  fi
fi
exit 1
