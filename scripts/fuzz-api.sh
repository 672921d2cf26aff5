#!/usr/bin/env bash
# Schema-driven fuzzing of the API with schemathesis: starts `halcytone up` on free ports
# with a fresh data directory, runs every check (`--checks all`) against its
# /openapi.json with the settings in tests/fuzz/schemathesis.toml, and stops the stack.
#
#   scripts/fuzz-api.sh                     # 25 examples per operation, a fixed seed
#   FUZZ_EXAMPLES=200 FUZZ_SEED=random scripts/fuzz-api.sh
#
# Needs schemathesis (`pip install schemathesis`). Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"

command -v st >/dev/null 2>&1 || { echo "schemathesis is not installed: pip install schemathesis" >&2; exit 2; }
BIN="$(halcytone_bin)"
dir="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"; crm="$(free_port)"; platform="$(free_port)"
"$BIN" up --port "$port" --crm-port "$crm" --platform-port "$platform" --smtp-port 0 \
  --data-dir "$dir/data" --log-dir "$dir/logs" >"$dir/up.out" 2>"$dir/up.err" &
pid=$!
api="http://127.0.0.1:$port"
wait_healthy "halcytone up" "$api" 60 || { cat "$dir/up.err" >&2; exit 1; }
key="$(cat "$dir/data/api-key.txt")"

seed_args=()
if [ "${FUZZ_SEED:-1}" != random ]; then seed_args=(--seed "${FUZZ_SEED:-1}"); fi
echo "fuzzing $api/openapi.json (${FUZZ_EXAMPLES:-25} examples per operation)"
st --no-color --config-file "$root/tests/fuzz/schemathesis.toml" run "$api/openapi.json" \
  --checks all \
  -H "Authorization: Bearer $key" \
  --max-examples "${FUZZ_EXAMPLES:-25}" \
  --workers "${FUZZ_WORKERS:-1}" \
  "${seed_args[@]}"
