#!/usr/bin/env bash
# Prometheus and Alertmanager against the local Halcytone services, without Docker.
# Uses the Debian packages' binaries (`apt-get install prometheus prometheus-alertmanager
# prometheus-node-exporter`)
# with deploy/monitoring/prometheus/prometheus.local.yml (scrapes 127.0.0.1:8000, :8001,
# :8002, loads the alert rules) and deploy/monitoring/alertmanager/alertmanager.yml.
# Data and logs go under data/monitoring and logs/. Stop with scripts/start-monitoring.sh stop.
#
#   scripts/start-monitoring.sh          # start (INSTALL=1 installs the packages when missing)
#   scripts/start-monitoring.sh stop
# Grafana and Loki are not packaged by Debian; use docker-compose.monitoring.yml where Docker
# runs, or point an existing Grafana at http://127.0.0.1:9090 and import deploy/monitoring/grafana/dashboards/*.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
mkdir -p "$LOG_DIR" "$DATA_DIR/monitoring"
PIDS="$DATA_DIR/monitoring/pids"

if [ "${1:-}" = "stop" ]; then
  if [ -f "$PIDS" ]; then
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$PIDS"
    rm -f "$PIDS"
  fi
  echo "monitoring stopped"
  exit 0
fi

prom="$(command -v prometheus || true)"
am="$(command -v prometheus-alertmanager || command -v alertmanager || true)"
if { [ -z "$prom" ] || [ -z "$am" ]; } && [ "${INSTALL:-0}" = 1 ]; then
  apt-get update -qq && apt-get install -y -qq prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null
  prom="$(command -v prometheus || true)"
  am="$(command -v prometheus-alertmanager || command -v alertmanager || true)"
fi
if [ -z "$prom" ]; then
  cat >&2 <<'MSG'
prometheus is not installed. Either:
  sudo apt-get install prometheus prometheus-alertmanager   (or run this script with INSTALL=1)
  docker compose -f docker-compose.monitoring.yml up -d     (where a Docker engine runs)
MSG
  exit 1
fi

: >"$PIDS"
"$prom" --config.file="${PROMETHEUS_CONFIG:-deploy/monitoring/prometheus/prometheus.local.yml}" \
  --storage.tsdb.path="$DATA_DIR/monitoring/prometheus" \
  --web.listen-address=127.0.0.1:9090 >"$LOG_DIR/prometheus.log" 2>&1 &
echo $! >>"$PIDS"
if [ -n "$am" ]; then
  "$am" --config.file=deploy/monitoring/alertmanager/alertmanager.yml \
    --storage.path="$DATA_DIR/monitoring/alertmanager" \
    --web.listen-address=127.0.0.1:9093 --cluster.listen-address= >"$LOG_DIR/alertmanager.log" 2>&1 &
  echo $! >>"$PIDS"
else
  echo "alertmanager not installed: alerts are evaluated by Prometheus but not routed" >&2
fi
ne="$(command -v prometheus-node-exporter || command -v node_exporter || true)"
if [ -n "$ne" ]; then
  "$ne" --web.listen-address=127.0.0.1:9100 >"$LOG_DIR/node-exporter.log" 2>&1 &
  echo $! >>"$PIDS"
else
  echo "node-exporter not installed (apt-get install prometheus-node-exporter): host CPU and memory alerts stay silent" >&2
fi
for i in $(seq 1 50); do
  curl -fsS -o /dev/null http://127.0.0.1:9090/-/ready 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null http://127.0.0.1:9090/-/ready || { echo "prometheus did not start; see $LOG_DIR/prometheus.log" >&2; exit 1; }
echo "Prometheus   http://127.0.0.1:9090  (targets: /targets, alerts: /alerts)"
[ -n "$am" ] && echo "Alertmanager http://127.0.0.1:9093"
echo "stop with: scripts/start-monitoring.sh stop"
