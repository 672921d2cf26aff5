#!/usr/bin/env bash
# Rehearse a whole send: start the mocks (unless they are already up), publish the sample
# living document in dry run, and check that the CRM and Platform captured the newsletter,
# the web post and every social post. Exits non-zero on any failure.
#
# Usage: scripts/validate-dry-run.sh [DOCUMENT] [--help]
#
# DOCUMENT defaults to samples/living-document.md. Mocks: MOCK_CRM_PORT, MOCK_PLATFORM_PORT;
# mocks it starts itself keep their captures in a fresh data directory (unless
# HALCYTONE_DATA_DIR is set) and are stopped at the end.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DOC="$ROOT/samples/living-document.md"
[ $# -le 1 ] || usage_error "one document at most"
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  -*) usage_error "unknown option: $1" ;;
  *) DOC="$1" ;;
esac
BIN="$(halcytone_bin)"
CRM="http://127.0.0.1:$MOCK_CRM_PORT"
PLATFORM="http://127.0.0.1:$MOCK_PLATFORM_PORT"
started=0

cleanup() {
  if [ "$started" = 1 ]; then "$ROOT/scripts/stop-mock-services.sh" >/dev/null || true; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

if http_get "$CRM/health" >/dev/null 2>&1 && http_get "$PLATFORM/health" >/dev/null 2>&1; then
  echo "using the mock services already running"
else
  # Private data directory so the check starts from empty captures.
  export HALCYTONE_DATA_DIR="${HALCYTONE_DATA_DIR:-$(mktemp -d)}"
  "$ROOT/scripts/start-mock-services.sh"
  started=1
fi

count() { http_get "$1/api/v1/captures?kind=$2&limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2; }
before="$(( $(count "$CRM" email) + $(count "$PLATFORM" content) + $(count "$PLATFORM" social) ))"

echo "publishing $DOC in dry run"
report="$(mktemp)"
DRY_RUN_MODE=true \
MOCK_CRM_BASE_URL="$CRM" MOCK_PLATFORM_BASE_URL="$PLATFORM" \
HALCYTONE_NOW="${HALCYTONE_NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}" \
  "$BIN" publish "$DOC" --dry-run --json >"$report" || fail "publish reported failures: $(cat "$report")"
after="$(( $(count "$CRM" email) + $(count "$PLATFORM" content) + $(count "$PLATFORM" social) ))"

# Every published target must be in a mock's captures under its idempotency key. A replay of
# content already published reuses its keys, so it finds the earlier captures (nothing is sent twice).
summary="$(python3 - "$report" "$CRM" "$PLATFORM" <<'PY'
import json, sys, urllib.request
report = json.load(open(sys.argv[1]))
crm, platform = sys.argv[2], sys.argv[3]
def keys(base, kind):
    with urllib.request.urlopen(f"{base}/api/v1/captures?kind={kind}&limit=1000") as r:
        return {c.get("idempotency_key") for c in json.load(r)["captures"]}
captured = {"email": keys(crm, "email"), "web": keys(platform, "content"), "social": keys(platform, "social")}
done = [t for t in report["targets"] if t["outcome"] == "succeeded"]
missing = [t["target"] for t in done if t["idempotency_key"] not in captured[t["channel"]]]
by = {c: sum(1 for t in done if t["channel"] == c) for c in ("email", "web", "social")}
if missing or by["email"] < 1 or by["web"] < 1 or by["social"] < 4:
    print("FAIL " + (f"not captured: {missing}" if missing else f"published targets: {by}"))
else:
    print(f"{by['email']} newsletter batch(es), {by['web']} web post(s), {by['social']} social post(s)")
PY
)"
case "$summary" in FAIL*) fail "${summary#FAIL }" ;; esac
http_get "$CRM/api/v1/journal?limit=500" | grep -q '"status":200' || fail "the CRM journal shows no successful request"

echo "dry run OK: $summary published and captured ($((after - before)) new capture(s); a replay adds none)"
