# shellcheck shell=bash disable=SC2034
# Shared helpers for Halcytone's scripts. Source it; do not run it. (SC2034: the variables
# below are read by the scripts that source this file.)
#
# Configuration is read as the binary reads it: a variable set in the environment wins, then
# the value in the repository's .env, then the default below. Every port and address the
# scripts use is defined here, once; relative paths are relative to the repository root.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# dotenv_unquote RAW → a .env value as the binary reads it: quotes removed, or a trailing
# " # comment" and spaces removed from an unquoted value.
dotenv_unquote() {
  local value="$1"
  if [[ "$value" =~ ^\"(.*)\"[[:space:]]*(#.*)?$ ]] || [[ "$value" =~ ^\'(.*)\'[[:space:]]*(#.*)?$ ]]; then
    value="${BASH_REMATCH[1]}"
  else
    value="${value%%[[:space:]]#*}"
    value="${value%"${value##*[![:space:]]}"}"
  fi
  printf '%s\n' "$value"
}

# dotenv_value FILE NAME → prints NAME's value in FILE (the first assignment wins, as when the
# binary loads .env); fails when FILE does not set NAME.
dotenv_value() {
  local file="$1" name="$2" line
  [ -f "$file" ] || return 1
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] &&
      [ "${BASH_REMATCH[2]}" = "$name" ]; then
      dotenv_unquote "${BASH_REMATCH[3]}"
      return 0
    fi
  done <"$file"
  return 1
}

# config_value NAME [DEFAULT] → NAME from the environment, else from .env, else DEFAULT.
# An empty value counts as unset.
config_value() {
  local name="$1" default="${2:-}" value
  if value="$(printenv "$name")" && [ -n "$value" ]; then
    printf '%s\n' "$value"
  elif value="$(dotenv_value "$ROOT/.env" "$name")" && [ -n "$value" ]; then
    printf '%s\n' "$value"
  else
    printf '%s\n' "$default"
  fi
}

# load_env_file FILE → exports the variables FILE sets (KEY=VALUE lines, as in .env), except
# those already in the environment, which win as they do over .env.
load_env_file() {
  local file="$1" line name
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
      name="${BASH_REMATCH[2]}"
      printenv "$name" >/dev/null || export "$name=$(dotenv_unquote "${BASH_REMATCH[3]}")"
    fi
  done <"$file"
}

# under_root PATH → PATH, made absolute against the repository root when relative.
under_root() {
  case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/${1#./}" ;; esac
}

LOG_DIR="$(under_root "$(config_value LOG_DIR logs)")"
DATA_DIR="$(under_root "$(config_value HALCYTONE_DATA_DIR data)")"
BACKUP_DIR="$(under_root "$(config_value BACKUP_DIR backups)")"

# Ports and addresses of the services (the defaults of the binary and of the seed documents).
API_PORT="$(config_value PORT 8000)"
MOCK_CRM_PORT="$(config_value MOCK_CRM_PORT 8001)"
MOCK_PLATFORM_PORT="$(config_value MOCK_PLATFORM_PORT 8002)"
PROMETHEUS_PORT="$(config_value PROMETHEUS_PORT 9090)"
ALERTMANAGER_PORT="$(config_value ALERTMANAGER_PORT 9093)"
GRAFANA_PORT="$(config_value GRAFANA_PORT 3000)"
LOKI_PORT="$(config_value LOKI_PORT 3100)"
NODE_EXPORTER_PORT="$(config_value NODE_EXPORTER_PORT 9100)"
API_URL="$(config_value API_URL "http://127.0.0.1:$API_PORT")"
CRM_URL="$(config_value CRM_URL "http://127.0.0.1:$MOCK_CRM_PORT")"
PLATFORM_URL="$(config_value PLATFORM_URL "http://127.0.0.1:$MOCK_PLATFORM_PORT")"
PROMETHEUS_URL="$(config_value PROMETHEUS_URL "http://127.0.0.1:$PROMETHEUS_PORT")"
ALERTMANAGER_URL="$(config_value ALERTMANAGER_URL "http://127.0.0.1:$ALERTMANAGER_PORT")"
GRAFANA_URL="$(config_value GRAFANA_URL "http://127.0.0.1:$GRAFANA_PORT")"
LOKI_URL="$(config_value LOKI_URL "http://127.0.0.1:$LOKI_PORT")"
API_URL="${API_URL%/}" CRM_URL="${CRM_URL%/}" PLATFORM_URL="${PLATFORM_URL%/}"

# database_url → DATABASE_URL, by default halcytone.db in the data directory (the binary's
# sqlite://data/halcytone.db when run from the repository root with the default data directory).
database_url() {
  config_value DATABASE_URL "sqlite://$DATA_DIR/halcytone.db"
}

# sqlite_path URL → the file a sqlite:// URL names (absolute, query removed); fails for others.
sqlite_path() {
  local path
  case "$1" in
    sqlite://*) path="${1#sqlite://}" ;;
    sqlite:*) path="${1#sqlite:}" ;;
    *) return 1 ;;
  esac
  path="${path%%\?*}"
  under_root "$path"
}

# api_key → API_KEY from the configuration, else the key `halcytone up` or
# start-all-services.sh wrote to the data directory; empty when there is none.
api_key() {
  local key
  key="$(config_value API_KEY)"
  if [ -z "$key" ] && [ -f "$DATA_DIR/api-key.txt" ]; then key="$(cat "$DATA_DIR/api-key.txt")"; fi
  printf '%s\n' "$key"
}

# The halcytone binary: $HALCYTONE_BIN, else a built release, else a built debug binary.
halcytone_bin() {
  if [ -n "${HALCYTONE_BIN:-}" ]; then echo "$HALCYTONE_BIN"; return; fi
  for candidate in "$ROOT/target/release/halcytone" "$ROOT/target/debug/halcytone"; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  if command -v halcytone >/dev/null 2>&1; then command -v halcytone; return; fi
  echo "halcytone binary not found: run 'cargo build --release' or set HALCYTONE_BIN" >&2
  return 1
}

# usage → the comment block at the top of the running script (after the shebang): its help.
usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# usage_error MESSAGE → the message and the usage on stderr, then exit 2.
usage_error() {
  echo "$(basename "$0"): $1" >&2
  usage >&2
  exit 2
}

# only_help "$@" → for scripts without arguments: --help prints the usage, anything else is an error.
only_help() {
  case "${1:-}" in
    "") ;;
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown option: $1" ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
}

# http_get URL → prints the body; fails when the service does not answer 2xx.
http_get() {
  curl -fsS --max-time 5 "$1"
}

# wait_healthy NAME URL [SECONDS] [PID] → waits for URL/health to answer 2xx; gives up at once
# when PID (the process serving it) has exited.
wait_healthy() {
  local name="$1" url="$2" limit="${3:-30}" pid="${4:-}" i
  for ((i = 0; i < limit * 10; i++)); do
    if http_get "$url/health" >/dev/null 2>&1; then return 0; fi
    if [ -n "$pid" ] && ! running "$pid"; then
      echo "$name exited before answering at $url" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$name did not become healthy at $url within ${limit}s" >&2
  return 1
}

# running PID → true while PID runs (a zombie, exited but not yet reaped, does not count).
running() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
  [ -n "$state" ] && [[ "$state" != Z* ]]
}

# pid_alive PIDFILE → the PID in PIDFILE when that process runs and is still a halcytone
# process (a PID reused by another program after a crash is not ours to stop).
pid_alive() {
  local pidfile="$1" pid args
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  running "$pid" || return 1
  args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
  [[ "$args" == *halcytone* ]] || return 1
  echo "$pid"
}

# stop_pidfile NAME → stops the process of $LOG_DIR/NAME.pid (SIGTERM, SIGKILL after 10 s)
# and removes the file. Only that PID is signalled, never a process found by its name.
stop_pidfile() {
  local name="$1" pidfile="$LOG_DIR/$1.pid" pid
  if [ ! -f "$pidfile" ]; then
    echo "$name: no pid file"
    return 0
  fi
  if pid="$(pid_alive "$pidfile")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do running "$pid" || break; sleep 0.05; done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    echo "stopped $name (pid $pid)"
  else
    echo "$name was not running"
  fi
  rm -f "$pidfile"
}

# host_port URL → the host:port part of an http(s) URL.
host_port() {
  local rest="${1#*://}"
  printf '%s\n' "${rest%%/*}"
}

# prometheus_local_config OUT → deploy/monitoring/prometheus/prometheus.local.yml with every
# target at the configured address (API, mocks, Prometheus, Alertmanager, node-exporter) and
# the alert rules named by absolute path, so OUT may live anywhere.
prometheus_local_config() {
  awk -v api="$(host_port "$API_URL")" -v crm="$(host_port "$CRM_URL")" \
    -v platform="$(host_port "$PLATFORM_URL")" -v prom="$(host_port "$PROMETHEUS_URL")" \
    -v am="$(host_port "$ALERTMANAGER_URL")" -v node="127.0.0.1:$NODE_EXPORTER_PORT" \
    -v rules="$ROOT/deploy/monitoring/prometheus/alerts.yml" '
    /^alerting:/ { section = "alerting" }
    /^scrape_configs:/ { section = "scrape" }
    /job_name:/ { job = $NF }
    /targets:/ {
      t = ""
      if (section == "alerting") t = am
      else if (job == "prometheus") t = prom
      else if (job == "halcytone") t = api
      else if (job == "mock-crm") t = crm
      else if (job == "mock-platform") t = platform
      else if (job == "node") t = node
      if (t != "") sub(/\[.*\]/, "[\"" t "\"]")
    }
    /^  - alerts\.yml/ { sub(/alerts\.yml/, rules) }
    { print }' "$ROOT/deploy/monitoring/prometheus/prometheus.local.yml" >"$1"
}

# pg_counts URL → "schema.table rows" for every table of the PostgreSQL database URL names.
pg_counts() {
  psql --no-psqlrc -qAtF ' ' --dbname="$1" -v ON_ERROR_STOP=1 -c "
    SELECT table_schema || '.' || table_name,
           (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text
    FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
    ORDER BY 1"
}
