#!/usr/bin/env bash
# Stop the mock services started by start-mock-services.sh (SIGTERM, then wait).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
for name in crm-mock platform-mock; do
  pidfile="$LOG_DIR/$name.pid"
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "stopped $name (pid $pid)"
    else
      echo "$name was not running"
    fi
    rm -f "$pidfile"
  else
    echo "$name: no pid file"
  fi
done
