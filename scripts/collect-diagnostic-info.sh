#!/usr/bin/env bash
# Collect what support needs into one archive: versions, configuration check (secrets
# hidden), health and readiness of every service, metrics, recent jobs, the last log lines,
# processes and ports, disk and memory. Nothing secret is copied: .env is not included, and
# keys and passwords in the environment listing are masked.
#
# Usage: scripts/collect-diagnostic-info.sh [--out-dir DIR] [--help]
#
#   scripts/collect-diagnostic-info.sh            # writes diagnostics-<time>.tar.gz here
#   scripts/collect-diagnostic-info.sh --out-dir /tmp     # or OUT_DIR=/tmp
#
# Addresses: API_URL (or PORT), MOCK_CRM_PORT, MOCK_PLATFORM_PORT and the monitoring ports
# (defaults in scripts/lib.sh).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
out_dir="${OUT_DIR:-$PWD}"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --out-dir) [ $# -ge 2 ] || usage_error "--out-dir needs a directory"; out_dir="$2"; shift ;;
    -*) usage_error "unknown option: $1" ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done
KEY="$(api_key)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
work="$(mktemp -d)/diagnostics-$stamp"
mkdir -p "$work"

save() { # save FILE COMMAND...: run COMMAND, keep its output (and its failure) in FILE
  local file="$1"; shift
  { echo "\$ $*"; "$@" 2>&1; echo "(exit $?)"; } >"$work/$file"
}
fetch() { # fetch FILE URL [KEY]
  local file="$1" url="$2" auth=()
  if [ -n "${3:-}" ]; then auth=(-H "Authorization: Bearer $3"); fi
  { echo "GET $url"; curl -sS --max-time 10 -w '\n(HTTP %{http_code})\n' "${auth[@]}" "$url" 2>&1; } >"$work/$file"
}

BIN="$(halcytone_bin 2>/dev/null || echo halcytone)"
save versions.txt sh -c "'$BIN' --version; uname -a; cat /etc/os-release 2>/dev/null | head -3"
save configuration-check.txt sh -c "cd '$ROOT' && '$BIN' config check --connect"
save environment.txt sh -c "env | grep -E '^(DRY_RUN|USE_MOCK|MOCK_|CRM_|PLATFORM_|SERVICE_NAME|ENVIRONMENT|LOG_|LIVING_DOC|DATABASE_URL|CORS_|MAX_|REQUEST_TIMEOUT|RATE_LIMIT|JOB_|HOST|PORT|HALCYTONE_|OTEL_)' | sed -E 's/((KEY|SECRET|PASSWORD|TOKEN)[A-Z_]*=).*/\\1***/; s#(://[^:/@]+:)[^@]*@#\\1***@#' | sort"
for p in health health/detailed ready live startup; do fetch "api-${p//\//-}.json" "$API_URL/$p"; done
fetch api-metrics.txt "$API_URL/metrics"
fetch api-services.json "$API_URL/api/v1/services/status" "$KEY"
fetch api-database.json "$API_URL/api/v1/database/status" "$KEY"
fetch api-jobs.json "$API_URL/api/v2/jobs?limit=50" "$KEY"
fetch api-job-metrics.json "$API_URL/api/v2/metrics" "$KEY"
fetch mock-crm-health.json "$CRM_URL/health"
fetch mock-crm-metrics.txt "$CRM_URL/metrics"
fetch mock-crm-journal.json "$CRM_URL/api/v1/journal?limit=100"
fetch mock-platform-health.json "$PLATFORM_URL/health"
fetch mock-platform-metrics.txt "$PLATFORM_URL/metrics"
fetch mock-platform-journal.json "$PLATFORM_URL/api/v1/journal?limit=100"
for f in "$LOG_DIR"/*.log; do
  [ -f "$f" ] && tail -n 500 "$f" >"$work/log-$(basename "$f")"
done
save processes.txt sh -c "ps -eo pid,ppid,etime,rss,args | grep -E '[h]alcytone|[p]rometheus|[a]lertmanager' || true"
save ports.txt sh -c "(ss -ltnp 2>/dev/null || netstat -ltnp 2>/dev/null) | grep -E ':($API_PORT|$MOCK_CRM_PORT|$MOCK_PLATFORM_PORT|$PROMETHEUS_PORT|$ALERTMANAGER_PORT|$GRAFANA_PORT|$LOKI_PORT)\\b' || echo 'no listener on the configured ports'"
save disk.txt df -h "$ROOT"
save memory.txt sh -c "free -m 2>/dev/null || cat /proc/meminfo | head -5"
save data-dir.txt ls -la "$DATA_DIR"

out="$out_dir/diagnostics-$stamp.tar.gz"
tar -czf "$out" -C "$(dirname "$work")" "$(basename "$work")"
echo "wrote $out ($(du -h "$out" | cut -f1)); look inside with: tar -tzf $out"
