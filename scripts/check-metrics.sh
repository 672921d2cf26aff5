#!/usr/bin/env bash
# Scrape /metrics of the API and of both mocks and check that the metric families the alert
# rules and dashboards rely on are exported; print the dry-run flag and the egress counter;
# list Prometheus' targets when Prometheus runs. Exit 1 when a service does not answer or a
# family is missing.
#
# Usage: scripts/check-metrics.sh [--mocks-only] [--require-dry-run] [--help]
#
#   --mocks-only       do not scrape the API (a stack of mocks alone)
#   --require-dry-run  fail unless the API reports halcytone_dry_run_mode 1
#
# Addresses: API_URL (or PORT), CRM_URL / MOCK_CRM_PORT, PLATFORM_URL / MOCK_PLATFORM_PORT,
# PROMETHEUS_URL (defaults in scripts/lib.sh). Families: docs/monitoring-runbook.md.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
api=1 require_dry_run=0
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --mocks-only) api=0 ;;
    --require-dry-run) require_dry_run=1 ;;
    -*) usage_error "unknown option: $arg" ;;
    *) usage_error "unexpected argument: $arg" ;;
  esac
done
failed=0

# families NAME URL FAMILY... → checks every FAMILY has a `# TYPE` line in URL/metrics.
families() {
  local name="$1" url="$2" text missing=() f
  shift 2
  if ! text="$(curl -fsS --max-time 10 "$url/metrics" 2>/dev/null)"; then
    printf 'DOWN     %-14s %s/metrics did not answer\n' "$name" "$url"
    failed=1
    return 1
  fi
  for f in "$@"; do
    grep -q "^# TYPE $f " <<<"$text" || missing+=("$f")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    printf 'MISSING  %-14s %s\n' "$name" "${missing[*]}"
    failed=1
    return 1
  else
    printf 'OK       %-14s %s/metrics: %d families checked, %d series\n' "$name" "$url" "$#" "$(grep -vc '^#' <<<"$text")"
  fi
  METRICS_TEXT="$text"
}

if [ "$api" = 1 ]; then
  if families api "$API_URL" halcytone_build_info halcytone_dry_run_mode halcytone_egress_blocked_total \
    http_requests_total http_request_duration_seconds halcytone_jobs halcytone_job_queue_lag_seconds \
    halcytone_publish_total halcytone_content_generated_total halcytone_content_generation_errors_total \
    halcytone_circuit_breaker_state process_resident_memory_bytes; then
    dry="$(awk '$1 == "halcytone_dry_run_mode" { print $2 }' <<<"$METRICS_TEXT")"
    blocked="$(awk '$1 ~ /^halcytone_egress_blocked_total/ { n += $2 } END { print n + 0 }' <<<"$METRICS_TEXT")"
    echo "         halcytone_dry_run_mode ${dry:-?} (1 = dry run), halcytone_egress_blocked_total $blocked"
    if [ "$require_dry_run" = 1 ] && [ "$dry" != 1 ]; then
      echo "FAIL     dry run is off: publishing reaches the live CRM and Platform" >&2
      failed=1
    fi
  fi
fi
families mock-crm "$CRM_URL" mock_crm_up mock_crm_uptime_seconds mock_crm_simulated_errors_total mock_crm_faults_injected_total
families mock-platform "$PLATFORM_URL" mock_platform_up mock_platform_uptime_seconds mock_platform_simulated_errors_total mock_platform_faults_injected_total

if targets="$(curl -fsS --max-time 5 "$PROMETHEUS_URL/api/v1/targets" 2>/dev/null)"; then
  python3 -c '
import json, sys
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    print("TARGET   %-14s %-5s %s %s" % (t["labels"].get("job", "?"), t["health"], t["scrapeUrl"], t.get("lastError", "")))
' <<<"$targets"
else
  echo "SKIP     prometheus     $PROMETHEUS_URL does not answer (scripts/start-monitoring.sh starts it)"
fi
exit "$failed"
