#!/usr/bin/env bash
# `weft demo` as the README's first command runs it: mosquitto (started by the demo on a free
# port), weft-sim, weft-edge and weft-core on the example plant.
#   1. it first trains the demo's model and simulates the plant's history with its KPIs; with
#      --duration it stops by itself, exits 0 and reports rows in the lake, predictions of the
#      model the edge runs among them;
#   2. the lake is readable: weft lake count, weft query motor_health;
#   3. Ctrl-C (SIGINT) stops every process it started, in order, and exits 0.
# usage: weft_demo_process_test.sh WEFT   (weft-sim, weft-edge, weft-core next to it)
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
weft="$(realpath "$1")"
tmp=$(mktemp -d)
chmod 777 "$tmp"
trap 'pkill -f "$tmp/" 2>/dev/null; sleep 0.3; pkill -9 -f "$tmp/" 2>/dev/null; rm -rf "$tmp"' EXIT
left() {  # left DIR: processes whose command line names DIR (this script and greps aside)
  ps -eo args | grep -F -- "$1" | grep -vE "grep|weft_demo_process_test" || true
}

# --- 1. --duration ---------------------------------------------------------------------------
port=$(free_port)
timeout 240 "$weft" demo --dir "$tmp/d1" --duration 20 --broker-port "$port" >"$tmp/d1.out" 2>"$tmp/d1.err"
code=$?
check "weft demo --duration exits 0" test "$code" -eq 0
check "it says what runs where" grep -q "weft-core  http://127.0.0.1:" "$tmp/d1.out"
check "it simulated the plant's history first" grep -q "weft demo: history .* its KPIs, bearing_risk versions 1 and 2 .* monitoring on 14 motors" "$tmp/d1.out"
check "and its small device fleet" grep -q "fleet      26 devices" "$tmp/d1.out"
check "the KPI table holds the history's KPIs" test "$("$weft" lake count "$tmp/d1/lake/kpi" 2>/dev/null)" -gt 100
check "the edge ran the production model: predictions in the lake" \
  test "$(awk '$1 == "predictions:" {print $2}' "$tmp/d1.out")" -gt 0
check "it started mosquitto itself" grep -q "started by the demo" "$tmp/d1.out"
check "it mapped the simulator's Modbus PLCs" grep -q "6 Modbus PLCs" "$tmp/d1.out"
rows=$(awk '$1 == "telemetry:" {print $2}' "$tmp/d1.out")
check "the lake holds telemetry rows ($rows)" test "${rows:-0}" -gt 1000
events=$(awk '$1 == "events:" {print $2}' "$tmp/d1.out")
check "events are not flapping ($events events for $rows samples)" test "${events:-0}" -lt $((rows / 20 + 50))
count=$("$weft" lake count "$tmp/d1/lake/telemetry" 2>/dev/null)
check "weft lake count agrees ($count)" test "$count" = "$rows"
from=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ); to=$(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ)
"$weft" query motor_health --from "$from" --to "$to" --lake "$tmp/d1/lake" \
  --views examples/views.yaml >"$tmp/q.csv" 2>"$tmp/q.err"
check "weft query motor_health reads the demo's lake" test "$(wc -l <"$tmp/q.csv")" -gt 10
check "no process is left behind" test -z "$(left "$tmp/d1/")"
if ((failures > 0)); then tail -n 5 "$tmp/d1.err" "$tmp"/d1/logs/*.log; fi

# A first run stopped before its history was complete leaves a lake without history.done:
# seeding again would mix two histories, so the demo refuses and says what to do.
mkdir -p "$tmp/half/lake"
"$weft" demo --dir "$tmp/half" --duration 1 --broker-port "$(free_port)" >"$tmp/half.out" 2>"$tmp/half.err"
code=$?
check "an interrupted first run's directory is refused (exit $code) with what to do" \
  bash -c "test $code -eq 1 && grep -q 'use a new --dir, or --history-days 0' '$tmp/half.err'"

# --- 2. Ctrl-C ------------------------------------------------------------------------------
port=$(free_port)
"$weft" demo --dir "$tmp/d2" --broker-port "$port" --history-days 0 --no-fleet >"$tmp/d2.out" 2>"$tmp/d2.err" &
demo=$!
for _ in $(seq 600); do grep -q "Ctrl-C stops everything" "$tmp/d2.out" 2>/dev/null && break; sleep 0.1; done
check "weft demo without --duration runs until Ctrl-C" grep -q "Ctrl-C stops everything" "$tmp/d2.out"
sleep 3
kill -INT "$demo"
for _ in $(seq 300); do kill -0 "$demo" 2>/dev/null || break; sleep 0.1; done
check "SIGINT stops the demo within 30 s" bash -c "! kill -0 $demo 2>/dev/null"
wait "$demo"; code=$?
check "and it exits 0" test "$code" -eq 0
check "after stopping everything it started" test -z "$(left "$tmp/d2/")"

echo "$failures failure(s)"
exit $((failures > 0))
