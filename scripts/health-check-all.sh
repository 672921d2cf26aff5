#!/usr/bin/env bash
# Check every Halcytone service: the API (health and readiness) and both mocks, then the
# monitoring stack when it runs (Prometheus, Alertmanager, Grafana, Loki). Exit 1 when a
# required service is down.
#
# Usage: scripts/health-check-all.sh [--help]
#
# The API is required unless REQUIRE_API=0 (for a stack of mocks alone, as `make mock-start`
# gives). Addresses: API_URL (or PORT), MOCK_CRM_PORT, MOCK_PLATFORM_PORT, PROMETHEUS_URL,
# ALERTMANAGER_URL, GRAFANA_URL, LOKI_URL (defaults in scripts/lib.sh).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
only_help "$@"
failed=0

check() {
  local name="$1" url="$2" required="$3" path="${4:-/health}" body
  if body="$(curl -fsS --max-time 5 "$url$path" 2>/dev/null)"; then
    echo "OK    $name  $url$path  $(echo "$body" | grep -o '"status":"[a-z]*"' | head -1)"
  elif [ "$required" = 1 ]; then
    echo "DOWN  $name  $url$path"
    failed=1
  else
    echo "SKIP  $name  $url$path (not running)"
  fi
}

check "api          " "$API_URL" "${REQUIRE_API:-1}"
check "api ready    " "$API_URL" "${REQUIRE_API:-1}" /ready
check "mock-crm     " "$CRM_URL" 1
check "mock-platform" "$PLATFORM_URL" 1
check "prometheus   " "$PROMETHEUS_URL" 0 /-/healthy
check "alertmanager " "$ALERTMANAGER_URL" 0 /-/healthy
check "grafana      " "$GRAFANA_URL" 0 /api/health
check "loki         " "$LOKI_URL" 0 /ready
exit "$failed"
