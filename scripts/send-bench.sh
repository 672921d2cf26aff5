#!/usr/bin/env bash
# Send benchmark (issue 18): one newsletter to N imported recipients over SMTP into the mock
# capture, with the delivery rate, every process's peak RSS and CPU, the capture's distinct and
# repeated deliveries and, with several replicas, the batches each ran. Builds the release
# binary first unless HALCYTONE_BIN is set. Every argument goes to scripts/send-bench.py:
#
#   scripts/send-bench.sh --recipients 1000000
#   scripts/send-bench.sh --recipients 100000 --replicas 2 \
#       --database postgres://postgres@127.0.0.1:5432/test
#   scripts/send-bench.sh --recipients 20000 --connections 16 --check
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${HALCYTONE_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet -p halcytone --bin halcytone)
  export HALCYTONE_BIN="$ROOT/target/release/halcytone"
fi
exec python3 "$ROOT/scripts/send-bench.py" "$@"
