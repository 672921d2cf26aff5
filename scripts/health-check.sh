#!/usr/bin/env bash
# One line per service: name, up or down, address, and what /health says (status, time).
# Exit 1 when a required service is down.
#
# Usage: scripts/health-check.sh [--quiet] [--mocks-only] [--monitoring] [--help]
#
#   --quiet        print only the services that are down
#   --mocks-only   the API is not required (a stack of mocks alone, as `make mock-start` gives)
#   --monitoring   also require Prometheus and Alertmanager (otherwise they are not checked)
#
# Addresses: API_URL (or PORT), CRM_URL / MOCK_CRM_PORT, PLATFORM_URL / MOCK_PLATFORM_PORT,
# PROMETHEUS_URL, ALERTMANAGER_URL (defaults in scripts/lib.sh). scripts/health-check-all.sh
# also checks readiness, Grafana and Loki.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
quiet=0 require_api=1 monitoring=0
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --quiet) quiet=1 ;;
    --mocks-only) require_api=0 ;;
    --monitoring) monitoring=1 ;;
    -*) usage_error "unknown option: $arg" ;;
    *) usage_error "unexpected argument: $arg" ;;
  esac
done
down=0
body="$(mktemp)"
trap 'rm -f "$body"' EXIT

check() { # check NAME URL PATH REQUIRED
  local name="$1" url="$2" path="$3" required="$4" out code time status
  out="$(curl -sS --max-time 5 -o "$body" -w '%{http_code} %{time_total}' "$url$path" 2>/dev/null)" || out="000 0"
  code="${out%% *}" time="${out##* }"
  status="$(grep -o '"status":"[a-z]*"' "$body" 2>/dev/null | head -1 | cut -d'"' -f4)"
  if [ "${code:0:1}" = 2 ]; then
    [ "$quiet" = 1 ] || printf '%-14s up    %-32s %s %s ms\n' "$name" "$url" "${status:-ok}" "$(awk -v t="$time" 'BEGIN { printf "%.0f", t * 1000 }')"
  elif [ "$required" = 1 ]; then
    printf '%-14s DOWN  %-32s %s\n' "$name" "$url" "$([ "$code" = 000 ] && echo 'no answer' || echo "HTTP $code")"
    down=1
  else
    [ "$quiet" = 1 ] || printf '%-14s off   %-32s (not required)\n' "$name" "$url"
  fi
}

check api "$API_URL" /health "$require_api"
check mock-crm "$CRM_URL" /health 1
check mock-platform "$PLATFORM_URL" /health 1
if [ "$monitoring" = 1 ]; then
  check prometheus "$PROMETHEUS_URL" /-/healthy 1
  check alertmanager "$ALERTMANAGER_URL" /-/healthy 1
fi
exit "$down"
