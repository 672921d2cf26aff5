#!/usr/bin/env bash
# Halcytone Live fan-out benchmark: 200 WebSocket clients join one session on a server
# started in-process (release build), then ROUNDS broadcasts go out through
# POST /ws/sessions/{id}/broadcast; for each round the time from the HTTP call to the last
# of the 200 clients receiving it is measured. Prints the median and the worst round.
#
#   scripts/ws-broadcast-bench.sh            # 50 rounds
#   ROUNDS=200 scripts/ws-broadcast-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-50}"
WS_BENCH_ROUNDS="$ROUNDS" cargo test --release -q -p halcytone-http --test api \
  live::a_broadcast_reaches_200_clients -- --exact --nocapture 2>&1 |
  grep -E "broadcast to|test result"
