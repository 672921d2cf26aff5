#!/usr/bin/env bash
# Deploy the dry-run stack on this machine, without Docker, and prove it works: check the
# configuration, migrate the database, start the mocks and the API in the background
# (scripts/start-all-services.sh), optionally the monitoring (scripts/start-monitoring.sh),
# then run scripts/smoke-test.sh against it. The stack is left running (stop it with
# scripts/stop-all-services.sh) unless --stop is given.
#
# Usage: scripts/deploy-dry-run.sh [development|staging|production] [--config FILE]
#                                  [--monitoring] [--no-smoke] [--stop] [--help]
#
#   scripts/deploy-dry-run.sh production
#   scripts/deploy-dry-run.sh production --config production.env --monitoring
#
#   TARGET        the environment rehearsed (default development). For production the
#                 configuration is checked as production will run it, live (dry run off, so
#                 CRM_BASE_URL, PLATFORM_API_KEY, a 32-character API_KEY … are required); the
#                 rehearsal itself then runs in dry run with ENVIRONMENT=staging, because
#                 production refuses the mock services.
#   --config FILE variables to use (KEY=VALUE lines, as .env); the environment still wins
#   --monitoring  also start Prometheus and Alertmanager (needs the Debian packages)
#   --no-smoke    skip the smoke test
#   --stop        stop the stack at the end (a rehearsal that leaves nothing running)
#
# Ports and paths: PORT, MOCK_CRM_PORT, MOCK_PLATFORM_PORT, HALCYTONE_DATA_DIR, LOG_DIR,
# DATABASE_URL (environment, --config FILE or .env; defaults in scripts/lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
here="$ROOT/scripts"
target=development config="" monitoring=0 smoke=1 stop=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    development | staging | production) target="$1" ;;
    --config) [ $# -ge 2 ] || usage_error "--config needs a file"; config="$2"; shift ;;
    --monitoring) monitoring=1 ;;
    --no-smoke) smoke=0 ;;
    --stop) stop=1 ;;
    -*) usage_error "unknown option: $1" ;;
    *) usage_error "unknown target: $1 (development, staging or production)" ;;
  esac
  shift
done
if [ -n "$config" ]; then
  [ -f "$config" ] || usage_error "$config: no such file"
  load_env_file "$config"
  source "$here/lib.sh" # again: ports and paths as the file sets them
fi
BIN="$(halcytone_bin)"
cd "$ROOT"

step() { echo; echo "== $*"; }
started=0
on_exit() {
  local rc=$?
  if [ "$started" = 1 ] && { [ "$stop" = 1 ] || [ "$rc" != 0 ]; }; then
    step "stopping the stack"
    if [ "$monitoring" = 1 ]; then "$here/start-monitoring.sh" stop || true; fi
    "$here/stop-all-services.sh" || true
  fi
  if [ "$rc" != 0 ]; then echo "deploy-dry-run: FAILED (logs under $LOG_DIR)" >&2; fi
}
trap on_exit EXIT

step "configuration ($target)"
if [ "$target" = production ]; then
  ENVIRONMENT=production DRY_RUN_MODE=false DRY_RUN=false USE_MOCK_SERVICES=false "$BIN" config check
  export ENVIRONMENT=staging
else
  export ENVIRONMENT="$target"
  DRY_RUN_MODE=true "$BIN" config check
fi

step "database migrations"
DATABASE_URL="$(database_url)" "$BIN" migrate

step "services"
started=1
"$here/start-all-services.sh"

if [ "$monitoring" = 1 ]; then
  step "monitoring"
  "$here/start-monitoring.sh"
fi

if [ "$smoke" = 1 ]; then
  step "smoke test"
  "$here/smoke-test.sh"
fi

step "deployed"
"$here/health-check.sh"
if [ "$stop" = 0 ]; then
  echo "the dry-run stack is running; stop it with scripts/stop-all-services.sh"
fi
