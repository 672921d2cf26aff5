#!/usr/bin/env bash
# Post an alert to Alertmanager's API (POST /api/v2/alerts), routed like the alert rules'
# alerts by its severity. Exit 1, saying so, when no Alertmanager answers.
#
# Usage: scripts/send-alert.sh [MESSAGE] [--severity critical|warning|info]
#                              [--name ALERTNAME] [--resolve] [--dry-run] [--help]
#
#   scripts/send-alert.sh "Service down: mock-crm"     # a warning named HalcytoneManualAlert
#   scripts/send-alert.sh --dry-run "test"             # print the JSON, send nothing
#
#   MESSAGE      the summary (default: "Test alert from scripts/send-alert.sh")
#   --severity   the severity label (default warning)
#   --name       the alertname label (default HalcytoneManualAlert)
#   --resolve    send the alert as resolved (endsAt now)
#   --dry-run    print the JSON that would be posted and exit 0
#
# Address: ALERTMANAGER_URL (or ALERTMANAGER_PORT; defaults in scripts/lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
message="" severity=warning name=HalcytoneManualAlert resolve=0 dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --severity)
      [ $# -ge 2 ] || usage_error "--severity needs a value"
      case "$2" in critical | warning | info) severity="$2" ;; *) usage_error "unknown severity: $2" ;; esac
      shift ;;
    --name)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "--name needs a value"; fi
      name="$2"
      shift ;;
    --resolve) resolve=1 ;;
    --dry-run) dry_run=1 ;;
    --) shift; message="$*"; break ;;
    -*) usage_error "unknown option: $1" ;;
    *) [ -z "$message" ] || usage_error "one message at most (quote it)"; message="$1" ;;
  esac
  shift
done
message="${message:-Test alert from scripts/send-alert.sh}"

body="$(python3 - "$name" "$severity" "$message" "$resolve" "$(hostname)" <<'PY'
import datetime, json, sys
name, severity, message, resolve, host = sys.argv[1:]
now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
alert = {
    "labels": {"alertname": name, "severity": severity, "service": "halcytone", "instance": host, "source": "send-alert.sh"},
    "annotations": {"summary": message, "description": f"{message} (sent by scripts/send-alert.sh on {host})"},
    "startsAt": now,
}
if resolve == "1":
    alert["endsAt"] = now
print(json.dumps([alert], indent=2))
PY
)"

if [ "$dry_run" = 1 ]; then
  echo "POST $ALERTMANAGER_URL/api/v2/alerts"
  echo "$body"
  exit 0
fi
code="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data "$body" "$ALERTMANAGER_URL/api/v2/alerts" 2>/dev/null)" || code=000
case "$code" in
  2??) echo "alert $name ($severity) sent to $ALERTMANAGER_URL: $message" ;;
  000)
    echo "no Alertmanager answered at $ALERTMANAGER_URL: the alert was not sent." >&2
    echo "Start one (scripts/start-monitoring.sh, or docker compose -f docker-compose.monitoring.yml up -d) or set ALERTMANAGER_URL." >&2
    exit 1 ;;
  *)
    echo "Alertmanager at $ALERTMANAGER_URL refused the alert (HTTP $code)" >&2
    exit 1 ;;
esac
