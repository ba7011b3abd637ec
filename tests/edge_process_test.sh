#!/usr/bin/env bash
# weft-edge against real processes (issue 5's acceptance): weft-sim publishes the example plant
# (Sparkplug B, JSON, Modbus PLCs) to a site broker; weft-edge reads it and sends batches to an
# uplink broker, where `weft uplink tail` (a persistent QoS 1 session) writes every record.
#   1. samples arrive with their context (site, line, asset type, unit, protocol);
#   2. the uplink broker is stopped for OUTAGE_S (60 s) then restarted: no sample lost;
#   3. weft-edge is killed with kill -9 and restarted: nothing it had stored is lost; only
#      samples inside the crash window (not yet stored when it died, or sent while it was down)
#      may be missing;
#   4. /metrics and /health answer; bad config is refused with its place.
# The loss check compares with the simulator's --record (the ground truth).
# usage: edge_process_test.sh WEFT_SIM WEFT_EDGE WEFT
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
sim="$(realpath "$1")"; edge="$(realpath "$2")"; weft="$(realpath "$3")"
outage=${OUTAGE_S:-60}
tmp=$(mktemp -d)
chmod 777 "$tmp"
trap 'kill $(jobs -p) 2>/dev/null; sleep 0.3; kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
site_port=$(free_port); up_port=$(free_port); plc_port=$(free_port 6)
mkdir -p "$tmp/up-db"; chmod 777 "$tmp/up-db"
cat >"$tmp/site.conf" <<CONF
listener $site_port 127.0.0.1
allow_anonymous true
persistence false
CONF
cat >"$tmp/up.conf" <<CONF
listener $up_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $tmp/up-db/
max_queued_messages 0
max_inflight_messages 0
CONF
mosquitto -c "$tmp/site.conf" >"$tmp/site.log" 2>&1 &
mosquitto -c "$tmp/up.conf" >"$tmp/up.log" 2>&1 &
up_pid=$!
wait_port "$site_port" && wait_port "$up_port" || { echo "FAIL brokers did not start"; exit 1; }

# The uplink's consumer: a persistent session, so batches published while it reconnects wait.
"$weft" uplink tail --broker "mqtt://127.0.0.1:$up_port" --client-id loss-check \
  --out "$tmp/up.csv" 2>"$tmp/tail.log" &
tail_pid=$!
sleep 1

# --- bad configuration is refused with its place ---------------------------------------------
printf 'weft_edge: 1\nid: e1\nplant: %s\nbroker: {url: "mqtt://127.0.0.1:%s"}\nuplink: {fsync: sometimes}\n' \
  "$(pwd)/examples/plant.yaml" "$site_port" >"$tmp/bad.yaml"
"$edge" --config "$tmp/bad.yaml" >/dev/null 2>"$tmp/bad.err"; code=$?
check "bad edge.yaml exits 2" test "$code" -eq 2
check "bad edge.yaml names file:line and the field" grep -q "bad.yaml:5.*fsync" "$tmp/bad.err"

# --- the run ---------------------------------------------------------------------------------
# The simulator serves the plant's 6 Modbus devices on consecutive ports from $plc_port.
write_edge_config() {
  local endpoints
  endpoints=$(i=0; for a in 10.20.0.31 10.20.0.32 10.20.0.33 10.20.0.50 10.40.0.31 10.40.0.50; do
    printf '"%s:502": "127.0.0.1:%d", ' "$a" $((plc_port + i)); i=$((i + 1)); done)
  cat >"$tmp/edge.yaml" <<YAML
weft_edge: 1
id: edge-test
plant: $(pwd)/examples/plant.yaml
broker: {url: "mqtt://127.0.0.1:$site_port"}
sources:
  modbus: {timeout: 300ms, endpoints: {${endpoints%, }}}
uplink:
  broker: {url: "mqtt://127.0.0.1:$up_port"}
  ack: broker   # no core in this test: the broker's PUBACK removes a batch
  dir: $tmp/buffer
  batch: {max_samples: 2000, max_interval: 500ms}
http: {listen: "127.0.0.1:0"}
YAML
}
start_edge() {
  : >"$tmp/edge.out"
  "$edge" --config "$tmp/edge.yaml" >"$tmp/edge.out" 2>>"$tmp/edge.log" &
  edge_pid=$!
  for _ in $(seq 100); do grep -q "http=" "$tmp/edge.out" 2>/dev/null && break; sleep 0.1; done
  http_port=$(grep -o 'http=127.0.0.1:[0-9]*' "$tmp/edge.out" | cut -d: -f2)
}
metric() { curl -s --max-time 5 "127.0.0.1:$http_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
sim_seconds=$((outage + 40))
# The edge must listen before the simulator publishes (the record is the ground truth), and the
# PLC ports are only known to be free once the simulator has bound them: another test running in
# parallel may take one between free_port and the bind. So: edge, then simulator; if the
# simulator could not bind, both start again on new ports (nothing was published yet).
for attempt in 1 2 3; do
  write_edge_config
  start_edge
  "$sim" --plant examples/plant.yaml --broker "mqtt://127.0.0.1:$site_port" --modbus-port "$plc_port" \
    --speed 1 --duration "$sim_seconds" --seed 7 --record "$tmp/record.csv" --log-level warn \
    >/dev/null 2>"$tmp/sim.log" &
  sim_pid=$!
  sleep 2
  kill -0 "$sim_pid" 2>/dev/null && break
  grep -q "Address already in use" "$tmp/sim.log" || break
  echo "note: PLC port range $plc_port taken meanwhile (attempt $attempt); new ports"
  kill -TERM "$edge_pid"; wait "$edge_pid" 2>/dev/null
  rm -rf "$tmp/buffer"; plc_port=$(free_port 6)
done
check "weft-edge starts and prints its http port" test -n "$http_port"
sleep 6
# A simulator that could not start would make every later check fail for the wrong reason: say so.
kill -0 "$sim_pid" 2>/dev/null || { echo "FAIL weft-sim exited early:"; cat "$tmp/sim.log"; exit 1; }
check "/health answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$http_port/health")" = 200
check "/metrics counts samples in" test "$(metric weft_edge_samples_in_total)" -gt 0 2>/dev/null

# 2. The uplink broker goes away for $outage s (SIGTERM: it saves the tail's session to disk).
outage_start_us=$(($(date +%s%N) / 1000))
kill "$up_pid"; wait "$up_pid" 2>/dev/null
sleep "$outage"
buffered=$(metric weft_edge_buffer_bytes)
check "during the outage the edge buffers on disk (${buffered:-?} bytes)" test "${buffered:-0}" -gt 0
mosquitto -c "$tmp/up.conf" >>"$tmp/up.log" 2>&1 &
up_pid=$!
wait_port "$up_port"
outage_end_us=$(($(date +%s%N) / 1000))
sleep 6

# 3. kill -9 the edge, restart it on the same buffer.
kill_us=$(($(date +%s%N) / 1000))
kill -9 "$edge_pid"; wait "$edge_pid" 2>/dev/null
sleep 2
start_edge
restart_us=$(($(date +%s%N) / 1000))
check "weft-edge restarts on its buffer after kill -9" test -n "$http_port"
wait "$sim_pid"
# Drain: the buffer empties, then a clean stop stores the open batches and sends them.
for _ in $(seq 300); do b=$(metric weft_edge_buffer_bytes); [[ "${b:-1}" == 0 ]] && break; sleep 0.2; done
kill -TERM "$edge_pid"; wait "$edge_pid"; code=$?
check "weft-edge stops cleanly on SIGTERM" test "$code" -eq 0
start_edge   # sends what the clean stop stored, then stops again
for _ in $(seq 300); do b=$(metric weft_edge_buffer_bytes); [[ "${b:-1}" == 0 ]] && break; sleep 0.2; done
kill -TERM "$edge_pid"; wait "$edge_pid"
sleep 3
kill -TERM "$tail_pid"; wait "$tail_pid"

# --- checks against the record ----------------------------------------------------------------
rows=$(($(wc -l <"$tmp/up.csv") - 1))
check "records arrived at the uplink ($rows)" test "$rows" -gt 1000
check "samples carry their context" grep -q '^edge-test,[a-z]*,[0-9]*,sample,lyon,l1-machining,l1-sp-01,cnc_spindle,vibration_rms,mm/s,sparkplug_b,' "$tmp/up.csv"
check "JSON samples arrive with their context" grep -q ',sample,brno,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,mqtt_json,' "$tmp/up.csv"
check "Modbus samples arrive with their context" grep -q ',sample,lyon,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,modbus_tcp,' "$tmp/up.csv"
# Every Sparkplug/JSON sample the simulator sent must have arrived, except inside the crash
# window [kill - 1.5 s (the open batch, max_interval 500 ms, plus the send), restart + 3 s].
awk -F, -v k0=$((kill_us - 1500000)) -v k1=$((restart_us + 3000000)) \
    -v o0="$outage_start_us" -v o1="$outage_end_us" -v outage_s="$outage" '
  FNR == NR {  # up.csv
    if ($4 == "sample" && ($11 == "sparkplug_b" || $11 == "mqtt_json")) {
      got[$7 "," $9 "," $12] = $13; proto[$7 "," $9] = 1
    }
    next
  }
  FNR == 1 { next }  # record.csv header: ts_us,asset,signal,value,sent
  $5 == 1 && (($2 "," $3) in proto) {
    key = $2 "," $3 "," $1
    if ($1 >= k0 && $1 <= k1) { window++; if (key in got) window_got++; next }
    want++
    if ($1 >= o0 && $1 <= o1) outage_want++
    if (!(key in got)) { missing++; if (missing <= 5) print "missing: " key > "/dev/stderr"; next }
    if ($1 >= o0 && $1 <= o1) outage_got++
    if (got[key] != $4) { wrong++; if (wrong <= 5) print "value differs: " key " " got[key] " vs " $4 > "/dev/stderr" }
  }
  END {
    printf "sparkplug+json samples sent: %d outside the crash window (%d during the broker outage), %d inside it (%d arrived)\n", want, outage_want, window, window_got
    printf "missing: %d, wrong value: %d\n", missing, wrong
    exit !(want > 5000 && outage_want > 100 * outage_s && missing == 0 && wrong == 0)
  }' "$tmp/up.csv" "$tmp/record.csv" >"$tmp/loss.txt" 2>"$tmp/loss.err"
code=$?
cat "$tmp/loss.txt"; head -5 "$tmp/loss.err"
check "no sample lost across a ${outage} s uplink outage and a kill -9 (outside the crash window)" test "$code" -eq 0
check "weft-edge never crashed (no sanitizer or abort in its log)" bash -c "! grep -qiE 'AddressSanitizer|runtime error|terminate called|Aborted' '$tmp/edge.log'"
grep -E "weft uplink tail:" "$tmp/tail.log" | tail -1
if ((failures > 0)); then
  echo "--- edge log (tail)"; tail -20 "$tmp/edge.log"
  echo "$failures check(s) failed"; exit 1
fi
echo "all edge process checks passed"
