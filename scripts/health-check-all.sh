#!/usr/bin/env bash
# Check every Halcytone service: the API (8000) and both mocks (8001, 8002).
# Exit 1 when a required service is down. The API is required only when REQUIRE_API=1
# (until `halcytone up` exists, the dry-run stack is just the two mocks).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
API_URL="${API_URL:-http://127.0.0.1:8000}"
failed=0

check() {
  local name="$1" url="$2" required="$3" body
  if body="$(http_get "$url/health" 2>/dev/null)"; then
    echo "OK    $name  $url  $(echo "$body" | grep -o '"status":"[a-z]*"' | head -1)"
  elif [ "$required" = 1 ]; then
    echo "DOWN  $name  $url"
    failed=1
  else
    echo "SKIP  $name  $url (not running)"
  fi
}

check "api          " "$API_URL" "${REQUIRE_API:-0}"
check "mock-crm     " "http://127.0.0.1:$MOCK_CRM_PORT" 1
check "mock-platform" "http://127.0.0.1:$MOCK_PLATFORM_PORT" 1
exit "$failed"
