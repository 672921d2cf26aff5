#!/usr/bin/env bash
# Prometheus and Alertmanager against the local Halcytone services, without Docker.
# Uses the Debian packages' binaries (`apt-get install prometheus prometheus-alertmanager
# prometheus-node-exporter`) with deploy/monitoring/prometheus/prometheus.local.yml (its
# targets rewritten to the configured ports: API_URL or PORT, MOCK_CRM_PORT,
# MOCK_PLATFORM_PORT) and deploy/monitoring/alertmanager/alertmanager.yml.
#
# Usage: scripts/start-monitoring.sh [start|stop|restart] [--help]
#
#   scripts/start-monitoring.sh          # start (INSTALL=1 installs the packages when missing)
#   scripts/start-monitoring.sh stop
#   scripts/start-monitoring.sh restart
#
# Listens on PROMETHEUS_PORT, ALERTMANAGER_PORT and NODE_EXPORTER_PORT (defaults in
# scripts/lib.sh). Data goes under HALCYTONE_DATA_DIR/monitoring, logs under LOG_DIR.
# Grafana and Loki are not packaged by Debian; use docker-compose.monitoring.yml where Docker
# runs, or point an existing Grafana at PROMETHEUS_URL and import deploy/monitoring/grafana/dashboards/*.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
action=start
[ $# -le 1 ] || usage_error "one action at most"
case "${1:-start}" in
  -h | --help) usage; exit 0 ;;
  start | stop | restart) action="${1:-start}" ;;
  -*) usage_error "unknown option: $1" ;;
  *) usage_error "unknown action: $1 (start, stop or restart)" ;;
esac
cd "$ROOT"
mkdir -p "$LOG_DIR" "$DATA_DIR/monitoring"
PIDS="$DATA_DIR/monitoring/pids"

stop_monitoring() {
  local pid args
  if [ -f "$PIDS" ]; then
    while read -r pid; do
      args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
      # Only the processes this script started (a PID reused since is left alone).
      if [[ "$args" =~ prometheus|alertmanager|node.exporter ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
    done <"$PIDS"
    rm -f "$PIDS"
    echo "monitoring stopped"
  else
    echo "monitoring was not started by this script (no $PIDS)"
  fi
}

case "$action" in
  stop) stop_monitoring; exit 0 ;;
  restart) stop_monitoring; sleep 1 ;;
esac

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

config="$DATA_DIR/monitoring/prometheus.yml"
if [ -n "${PROMETHEUS_CONFIG:-}" ]; then config="$PROMETHEUS_CONFIG"; else prometheus_local_config "$config"; fi
: >"$PIDS"
"$prom" --config.file="$config" \
  --storage.tsdb.path="$DATA_DIR/monitoring/prometheus" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$LOG_DIR/prometheus.log" 2>&1 &
echo $! >>"$PIDS"
if [ -n "$am" ]; then
  "$am" --config.file=deploy/monitoring/alertmanager/alertmanager.yml \
    --storage.path="$DATA_DIR/monitoring/alertmanager" \
    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address= >"$LOG_DIR/alertmanager.log" 2>&1 &
  echo $! >>"$PIDS"
else
  echo "alertmanager not installed: alerts are evaluated by Prometheus but not routed" >&2
fi
ne="$(command -v prometheus-node-exporter || command -v node_exporter || true)"
if [ -n "$ne" ]; then
  "$ne" --web.listen-address="127.0.0.1:$NODE_EXPORTER_PORT" >"$LOG_DIR/node-exporter.log" 2>&1 &
  echo $! >>"$PIDS"
else
  echo "node-exporter not installed (apt-get install prometheus-node-exporter): host CPU and memory alerts stay silent" >&2
fi
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "$PROMETHEUS_URL/-/ready" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "$PROMETHEUS_URL/-/ready" || { echo "prometheus did not start; see $LOG_DIR/prometheus.log" >&2; exit 1; }
echo "Prometheus   $PROMETHEUS_URL  (targets: /targets, alerts: /alerts)"
[ -n "$am" ] && echo "Alertmanager $ALERTMANAGER_URL"
echo "stop with: scripts/start-monitoring.sh stop"
