#!/usr/bin/env bash
# A fire drill for the monitoring: runs the API (serve, dry run) and both mocks as separate
# processes, a real Prometheus (Debian package) scraping them every 2 s with the real alert
# rules (MockCRMServiceDown's `for` shortened to 10 s), generates load, checks every target
# is up and every dashboard panel query returns data, then stops the mock CRM and waits for
# MockCRMServiceDown to fire in Prometheus' alerts API.
#
# Usage: scripts/monitoring-drill.sh [--help]
#
# Needs prometheus (apt-get install prometheus) and free ports: PORT (the API),
# MOCK_CRM_PORT, MOCK_PLATFORM_PORT, PROMETHEUS_PORT, NODE_EXPORTER_PORT (defaults in
# scripts/lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
only_help "$@"
cd "$ROOT"
BIN="$(halcytone_bin)"
command -v prometheus >/dev/null || { echo "install prometheus first: apt-get install prometheus" >&2; exit 1; }
work="$(mktemp -d)"
export HALCYTONE_DATA_DIR="$work/data" LOG_DIR="$work/logs" MOCK_CRM_PORT MOCK_PLATFORM_PORT
API_URL="http://127.0.0.1:$API_PORT" CRM_URL="http://127.0.0.1:$MOCK_CRM_PORT" PLATFORM_URL="http://127.0.0.1:$MOCK_PLATFORM_PORT"
PROMETHEUS_URL="http://127.0.0.1:$PROMETHEUS_PORT"
export PROMETHEUS_URL
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; "$ROOT/scripts/stop-mock-services.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$ROOT/scripts/start-mock-services.sh" >/dev/null
KEY="drill-$(date +%s)-0123456789abcdef"
LIVING_DOC_TYPE=file LIVING_DOC_ID=samples/living-document.md DRY_RUN_MODE=true API_KEY="$KEY" DATABASE_URL="sqlite://$work/h.db" \
  MOCK_CRM_BASE_URL="$CRM_URL" MOCK_PLATFORM_BASE_URL="$PLATFORM_URL" PORT="$API_PORT" "$BIN" serve >"$work/serve.out" 2>&1 &
pids+=($!)
wait_healthy api "$API_URL" 30

# The real rules and config, faster: 2 s scrapes and evaluations, MockCRMServiceDown after 10 s.
mkdir -p "$work/prom"
prometheus_local_config "$work/prom/local.yml"
sed 's/scrape_interval: 15s/scrape_interval: 2s/; s/scrape_timeout: 10s/scrape_timeout: 2s/; s/evaluation_interval: 15s/evaluation_interval: 2s/' \
  "$work/prom/local.yml" >"$work/prom/prometheus.yml"
python3 - "$work/prom/alerts.yml" <<'PY'
import sys, yaml
rules = yaml.safe_load(open("deploy/monitoring/prometheus/alerts.yml"))
for g in rules["groups"]:
    for r in g["rules"]:
        if r.get("alert") == "MockCRMServiceDown":
            r["for"] = "10s"
yaml.safe_dump(rules, open(sys.argv[1], "w"), sort_keys=False)
PY
prometheus --config.file="$work/prom/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$work/prometheus.log" 2>&1 &
pids+=($!)
if command -v prometheus-node-exporter >/dev/null; then
  prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_EXPORTER_PORT" >"$work/node.log" 2>&1 &
  pids+=($!)
fi
for _ in $(seq 1 50); do curl -fsS -o /dev/null "$PROMETHEUS_URL/-/ready" 2>/dev/null && break; sleep 0.2; done

echo "== load"
for i in $(seq 1 20); do
  curl -fsS -o /dev/null -X POST "$API_URL/api/v2/generate-content" -d '{"preview_only":true}'
  curl -fsS -o /dev/null -H "Cache-Control: no-cache" -X POST "$API_URL/api/v2/generate-content" -d '{"preview_only":true}'
done
curl -s -o /dev/null "$API_URL/api/v2/jobs"                       # 401: no key
curl -s -o /dev/null "$API_URL/no-such-route"                      # 404
API_KEY="$KEY" API_URL="$API_URL" CRM_URL="$CRM_URL" PLATFORM_URL="$PLATFORM_URL" "$ROOT/scripts/smoke-test.sh" >/dev/null
sleep 8

echo "== targets"
curl -fsS "$PROMETHEUS_URL/api/v1/targets" | python3 -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
for x in t: print(x["labels"]["job"].ljust(15), x["health"])
bad = [x for x in t if x["health"] != "up" and x["labels"]["job"] != "node"]
sys.exit(1 if bad else 0)'

echo "== dashboard panels"
python3 - <<'PY'
import glob, json, os, sys, urllib.parse, urllib.request
def exprs(v, out):
    if isinstance(v, dict):
        if isinstance(v.get("expr"), str): out.append(v["expr"])
        for x in v.values(): exprs(x, out)
    elif isinstance(v, list):
        for x in v: exprs(x, out)
total = empty = 0
for f in sorted(glob.glob("deploy/monitoring/grafana/dashboards/*.json")):
    found = []
    exprs(json.load(open(f)), found)
    for e in found:
        q = e.replace("$__rate_interval", "1m").replace("$__range", "5m").replace("$__interval", "30s")
        url = os.environ["PROMETHEUS_URL"] + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
        r = json.load(urllib.request.urlopen(url))
        total += 1
        if r["status"] != "success" or not r["data"]["result"]:
            empty += 1
            print(f"  no data: {f.split('/')[-1]}: {q}")
print(f"{total - empty} of {total} panel queries returned data")
PY

echo "== stop the mock CRM; wait for MockCRMServiceDown"
kill -TERM "$(cat "$LOG_DIR/crm-mock.pid")"
start=$(date +%s)
for _ in $(seq 1 60); do
  state="$(curl -fsS "$PROMETHEUS_URL/api/v1/alerts" | python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin)["data"]["alerts"] if x["labels"]["alertname"] == "MockCRMServiceDown"]
print(a[0]["state"] if a else "inactive")')"
  if [ "$state" = firing ]; then
    echo "MockCRMServiceDown firing $(( $(date +%s) - start )) s after the mock stopped"
    exit 0
  fi
  sleep 1
done
echo "MockCRMServiceDown did not fire within 60 s (last state: $state)" >&2
exit 1
