#!/usr/bin/env bash
# Rehearse a whole send: start the mocks (unless they are already up), publish the sample
# living document in dry run, and check that the CRM and Platform captured the newsletter,
# the web post and every social post. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN="$(halcytone_bin)"
DOC="${1:-$ROOT/samples/living-document.md}"
CRM="http://127.0.0.1:$MOCK_CRM_PORT"
PLATFORM="http://127.0.0.1:$MOCK_PLATFORM_PORT"
started=0

cleanup() {
  if [ "$started" = 1 ]; then "$(dirname "$0")/stop-mock-services.sh" >/dev/null || true; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

if http_get "$CRM/health" >/dev/null 2>&1 && http_get "$PLATFORM/health" >/dev/null 2>&1; then
  echo "using the mock services already running"
else
  # Private data directory so the check starts from empty captures.
  export HALCYTONE_DATA_DIR="${HALCYTONE_DATA_DIR:-$(mktemp -d)}"
  "$(dirname "$0")/start-mock-services.sh"
  started=1
fi

before_email="$(http_get "$CRM/api/v1/captures?kind=email" | grep -o '"total":[0-9]*' | cut -d: -f2)"
before_web="$(http_get "$PLATFORM/api/v1/captures?kind=content" | grep -o '"total":[0-9]*' | cut -d: -f2)"
before_social="$(http_get "$PLATFORM/api/v1/captures?kind=social" | grep -o '"total":[0-9]*' | cut -d: -f2)"

echo "publishing $DOC in dry run"
DRY_RUN_MODE=true \
MOCK_CRM_BASE_URL="$CRM" MOCK_PLATFORM_BASE_URL="$PLATFORM" \
HALCYTONE_NOW="${HALCYTONE_NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}" \
  "$BIN" publish "$DOC" --dry-run || fail "publish reported failures"

after_email="$(http_get "$CRM/api/v1/captures?kind=email" | grep -o '"total":[0-9]*' | cut -d: -f2)"
after_web="$(http_get "$PLATFORM/api/v1/captures?kind=content" | grep -o '"total":[0-9]*' | cut -d: -f2)"
after_social="$(http_get "$PLATFORM/api/v1/captures?kind=social" | grep -o '"total":[0-9]*' | cut -d: -f2)"

[ "$after_email" -gt "$before_email" ] || fail "the mock CRM captured no newsletter"
[ "$after_web" -gt "$before_web" ] || fail "the mock Platform captured no web post"
[ $((after_social - before_social)) -ge 4 ] || fail "expected 4 social posts, the mock Platform captured $((after_social - before_social))"
http_get "$CRM/api/v1/journal?limit=500" | grep -q '"status":200' || fail "the CRM journal shows no successful request"

echo "dry run OK: $((after_email - before_email)) newsletter batch(es), $((after_web - before_web)) web post(s), $((after_social - before_social)) social post(s) captured"
