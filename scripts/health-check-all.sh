#!/usr/bin/env bash
# Check every Halcytone service: the API (8000) and both mocks (8001, 8002), then the
# monitoring stack when it runs (Prometheus 9090, Alertmanager 9093, Grafana 3000, Loki 3100).
# Exit 1 when a required service is down. The API is required unless REQUIRE_API=0 (for a
# stack of mocks alone, as `make mock-start` gives).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
API_URL="${API_URL:-http://127.0.0.1:8000}"
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
check "mock-crm     " "http://127.0.0.1:$MOCK_CRM_PORT" 1
check "mock-platform" "http://127.0.0.1:$MOCK_PLATFORM_PORT" 1
check "prometheus   " "${PROMETHEUS_URL:-http://127.0.0.1:9090}" 0 /-/healthy
check "alertmanager " "${ALERTMANAGER_URL:-http://127.0.0.1:9093}" 0 /-/healthy
check "grafana      " "${GRAFANA_URL:-http://127.0.0.1:3000}" 0 /api/health
check "loki         " "${LOKI_URL:-http://127.0.0.1:3100}" 0 /ready
exit "$failed"
