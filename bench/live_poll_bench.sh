#!/usr/bin/env bash
# live_poll_bench.sh [BUILD_DIR]: the CPU cost of the dashboard's live values (issue 11), with
# DuckDB doing the same poll on the same Delta table in the same run.
#   `weft demo --history-days 0 --no-fleet` runs (simulator, edge, core; the lake fills at about 1 commit/s).
#   After WARMUP s, weft-core's CPU time (utime + stime from /proc) is taken over three windows of
#   SECONDS each:
#     idle    nobody watches: the core ingests only;
#     1 live  one dashboard's stream (curl -N on /api/v1/live): the poll thread reads the lake
#             every second and the stream sends the changes;
#     4 live  four streams (one poll serves them all).
#   The live poll's cost = window CPU - idle CPU, per second of wall time. Then DuckDB
#   (tests/interop/live_poll_duckdb.mjs, one thread) polls the same table every second for
#   SECONDS: its process CPU per second. Printed: each figure and the ratio weft / DuckDB.
# Loopback only, a private broker on a free port, every wait bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
seconds=${SECONDS_PER_WINDOW:-30} warmup=${WARMUP:-20}
[[ -x $build/apps/weft ]] || { echo "build first: ninja -C $build" >&2; exit 2; }
[[ -d tests/interop/node_modules/@duckdb ]] || { echo "npm ci in tests/interop first (scripts/setup.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
demo=
trap '[[ -n "$demo" ]] && kill -INT "$demo" 2>/dev/null; kill $(jobs -p) 2>/dev/null || true; sleep 1; rm -rf "$tmp"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

"$build/apps/weft" demo --dir "$tmp/d" --history-days 0 --no-fleet --broker-port "$(free_port)" >"$tmp/demo.out" 2>"$tmp/demo.err" &
demo=$!
for _ in $(seq 600); do grep -q "Ctrl-C stops everything" "$tmp/demo.out" 2>/dev/null && break; sleep 0.1; done
api=$(grep -o 'API https://[0-9.:]*' "$tmp/demo.out" | awk '{print $2}')
[[ -n "$api" ]] || { echo "the demo did not start:"; cat "$tmp/demo.out" "$tmp/demo.err"; exit 1; }
core=$(pgrep -f -- "--state $tmp/d/core-state" | head -1)
token=$(cat "$tmp/d/core-state/admin.token")
ca="$tmp/d/core-state/tls/cert.pem"
sleep "$warmup"

window() {  # window STREAMS: weft-core's CPU seconds over $seconds with STREAMS live streams
  local pids=() t0 t1
  for ((k = 0; k < $1; ++k)); do
    curl -sN --cacert "$ca" -H "Authorization: Bearer $token" "$api/api/v1/live" >"$tmp/live$k.txt" &
    pids+=($!)
  done
  sleep 2  # the streams' first snapshot is not counted
  t0=$(ticks "$core"); sleep "$seconds"; t1=$(ticks "$core")
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 2
  awk "BEGIN{printf \"%.3f\", ($t1 - $t0) / $hz}"
}
idle=$(window 0)
one=$(window 1)
events=$(grep -c '^event:' "$tmp/live0.txt" || true)
four=$(window 4)
peer=$(cd tests/interop && node live_poll_duckdb.mjs "$tmp/d/lake/telemetry" "$seconds")
duck=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['cpu_seconds'])" "$peer")
pairs=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['pairs'])" "$peer")
awk -v s="$seconds" -v idle="$idle" -v one="$one" -v four="$four" -v duck="$duck" -v ev="$events" -v pairs="$pairs" 'BEGIN{
  w1 = (one - idle) / s * 1000; w4 = (four - idle) / s * 1000; d = duck / s * 1000;
  printf "weft-core CPU over %d s: idle %.2f s, 1 live stream %.2f s (%d events), 4 streams %.2f s\n", s, idle, one, ev, four;
  printf "live poll cost, weft-core: %.1f ms CPU per second with 1 stream, %.1f with 4\n", w1, w4;
  printf "live poll cost, DuckDB (same table, same poll, %d pairs): %.1f ms CPU per second\n", pairs, d;
  printf "ratio weft/DuckDB (1 stream): %.2f\n", (d > 0 ? w1 / d : 0);
}'
