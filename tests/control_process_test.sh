#!/usr/bin/env bash
# Closed-loop control end to end (issue 8's safe behaviours): weft-sim's Modbus PLC (HVAC zone
# program, --plc-watchdog 3 s), weft-edge running one loop on lyon-hz-01 with an external model
# process (python3), and a mosquitto broker for commands and the uplink.
#   1. without a grant the loop is in shadow: nothing is written;
#   2. with a signed autonomous grant (control_grant) the remote setpoint is written and read back;
#   3. hand_mode on the PLC: no more writes from the next period;
#   4. kill -9 of the model (which then cannot restart): the safe setpoint within model_timeout;
#   5. comm_loss: the edge records comms_lost then comms_restored; the PLC is found on its
#      schedule with the watchdog alarm (it answers nobody meanwhile, so the moment it switched
#      cannot be read; the simulator's watchdog switches at plc_watchdog by construction);
#   6. kill -9 of weft-edge: the PLC returns to its schedule within plc_watchdog.
# The measured times are printed. The PLC is read with a few lines of Modbus TCP in python3.
# usage: control_process_test.sh WEFT_SIM WEFT_EDGE
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
sim="$(realpath "$1")"; edge="$(realpath "$2")"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; sleep 0.3; kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(free_port); plc_port=$(free_port 6)
WATCHDOG=3 PERIOD=2 MODEL_TIMEOUT=6 SAFE=17.0 PROPOSED=22.5
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$tmp/m.conf"
mosquitto -c "$tmp/m.conf" >"$tmp/mosquitto.log" 2>&1 &
wait_port "$port" || { echo "FAIL broker did not start"; exit 1; }

# --- the PLC, read over Modbus TCP ----------------------------------------------------------
# lyon-hz-01 (base 0): holding 4 setpoint (x0.1), 12 remote_setpoint (x0.1), 13 heartbeat;
# input 14 control_mode, 15 plc_alarms.
plc() {  # -> "setpoint remote_setpoint control_mode alarms", or "" when it does not answer
  local h i
  h=$(timeout 2 python3 "$(dirname "$0")/modbus_read.py" "$zone_port" 3 4 9 2>/dev/null) || return 1
  i=$(timeout 2 python3 "$(dirname "$0")/modbus_read.py" "$zone_port" 4 14 2 2>/dev/null) || return 1
  set -- $h
  echo "$(awk "BEGIN{printf \"%.1f\", $1/10}") $(awk "BEGIN{printf \"%.1f\", ${9}/10}") $i"
}
field() { plc | awk -v f="$1" '{print $f}'; }
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.2f\", $(now) - $1}"; }
# wait_for SECONDS COMMAND...: polls every 0.1 s; true when COMMAND succeeded in time.
wait_for() {
  local end; end=$(awk "BEGIN{printf \"%.3f\", $(now) + $1}"); shift
  while awk "BEGIN{exit !($(now) < $end)}"; do "$@" && return 0; sleep 0.1; done
  return 1
}

# --- the simulator ---------------------------------------------------------------------------
"$sim" --plant examples/plant.yaml --broker "mqtt://127.0.0.1:$port" --modbus-port "$plc_port" \
  --speed 1 --duration 300 --seed 3 --plc-watchdog "$WATCHDOG" --log-level info \
  >/dev/null 2>"$tmp/sim.log" &
sim_pid=$!
for _ in $(seq 100); do grep -q "PLC 10.20.0.50" "$tmp/sim.log" && break; sleep 0.1; done
zone_port=$(grep -o 'PLC 10.20.0.50[^)]*) on 127.0.0.1:[0-9]*' "$tmp/sim.log" | grep -o '[0-9]*$')
[ -n "$zone_port" ] || { echo "FAIL weft-sim serves no PLC 10.20.0.50:"; cat "$tmp/sim.log"; exit 1; }
wait_port "$zone_port" || { echo "FAIL PLC port"; exit 1; }
read -r sp0 rsp0 mode0 alarms0 <<<"$(plc)"
schedule=$sp0
echo "     PLC before: setpoint $sp0 remote $rsp0 mode $mode0 alarms $alarms0 (schedule $schedule)"
check "the PLC starts on its local schedule" test "$mode0" = 0

# --- the model and the grant key -------------------------------------------------------------
cat >"$tmp/model.py" <<PY
import json, os, sys
open("$tmp/model.pid", "w").write(str(os.getpid()))
if os.path.exists("$tmp/broken"):
    sys.exit(3)
for line in sys.stdin:
    json.loads(line)
    print(json.dumps({"setpoint": $PROPOSED}), flush=True)
PY
openssl genpkey -algorithm ed25519 -out "$tmp/grant.pem" 2>/dev/null
openssl pkey -in "$tmp/grant.pem" -pubout -out "$tmp/grant.pub.pem"

cat >"$tmp/edge.yaml" <<YAML
weft_edge: 1
id: edge-ctl
plant: $(pwd)/examples/plant.yaml
scope: [lyon-hz-01]
broker: {url: "mqtt://127.0.0.1:$port"}
sources:
  modbus: {timeout: 300ms, endpoints: {"10.20.0.50:502": "127.0.0.1:$zone_port"}}
uplink: {ack: broker, dir: $tmp/buffer, batch: {max_interval: 500ms}}
http: {listen: "127.0.0.1:0"}
control:
  grant_key: $tmp/grant.pub.pem
  grants_dir: $tmp/grants
  loops:
    - id: hz1-temp
      asset: lyon-hz-01
      write: remote_setpoint
      heartbeat: heartbeat
      heartbeat_interval: 1s
      mode_signal: control_mode
      alarms: plc_alarms
      readback: setpoint
      read: [zone_temp, outdoor_temp]
      period: ${PERIOD}s
      mode: autonomous
      source:
        process: {command: [python3, $tmp/model.py], timeout: 1s}
      model_timeout: ${MODEL_TIMEOUT}s
      envelope: {min: 16, max: 23, max_step: 10, max_rate: 10/s, safe: $SAFE,
                 readback_tolerance: 0.05}
YAML
# A loop on an asset the plant does not have is refused at start, with its place.
sed 's/asset: lyon-hz-01/asset: lyon-hz-99/' "$tmp/edge.yaml" >"$tmp/bad.yaml"
"$edge" --config "$tmp/bad.yaml" >/dev/null 2>"$tmp/bad.err"; code=$?
check "a bad control: section exits 2" test "$code" -eq 2
check "... naming file:line and the field" grep -q "bad.yaml:[0-9]*:[0-9]*.*lyon-hz-99" "$tmp/bad.err"
"$edge" --config "$tmp/edge.yaml" >"$tmp/edge.out" 2>"$tmp/edge.log" &
edge_pid=$!
for _ in $(seq 100); do grep -q "http=" "$tmp/edge.out" 2>/dev/null && break; sleep 0.1; done
http_port=$(grep -o 'http=127.0.0.1:[0-9]*' "$tmp/edge.out" | cut -d: -f2)
[ -n "$http_port" ] || { echo "FAIL weft-edge did not start:"; cat "$tmp/edge.log"; exit 1; }
metric() { curl -s --max-time 2 "127.0.0.1:$http_port/metrics" | awk -v m="$1" '$1 ~ "^"m"[{]" {print $2}'; }

# --- 1. shadow: nothing written --------------------------------------------------------------
sleep $((PERIOD * 2 + 1))
check "shadow: mode gauge 0" test "$(metric weft_edge_control_mode)" = 0
check "shadow: no write" test "$(metric weft_edge_control_writes_total)" = 0
check "shadow: the remote setpoint is untouched" test "$(field 2)" = "$rsp0"
check "shadow: the PLC stays local" test "$(field 3)" = 0
check "shadow: proposals are recorded" grep -q "loop hz1-temp on lyon-hz-01" "$tmp/edge.log"

# --- 2. the grant: autonomous, written and read back -----------------------------------------
python3 - "$tmp" <<'PY'
import datetime, json, sys
t = datetime.datetime.now(datetime.timezone.utc)
f = lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
g = {"weft_control_grant": 1, "edge": "edge-ctl", "loop": "hz1-temp", "mode": "autonomous",
     "approvals": [{"principal": "olga", "role": "ops_manager", "at": f(t)},
                   {"principal": "otto", "role": "ot_engineer", "at": f(t)}],
     "issued_at": f(t), "expires_at": f(t + datetime.timedelta(hours=1))}
open(sys.argv[1] + "/grant.txt", "w").write(json.dumps(g, separators=(",", ":")))
PY
sig=$(openssl pkeyutl -sign -inkey "$tmp/grant.pem" -rawin -in "$tmp/grant.txt" | base64 -w0)
python3 -c 'import json,sys; print(json.dumps({"grant": open(sys.argv[1]).read(), "signature": sys.argv[2]}))' \
  "$tmp/grant.txt" "$sig" >"$tmp/envelope.json"
mosquitto_sub -p "$port" -t weft/v1/edge/edge-ctl/reply -C 1 -W 15 >"$tmp/reply.json" &
sub_pid=$!
sleep 0.5
t0=$(now)
mosquitto_pub -p "$port" -q 1 -t weft/v1/edge/edge-ctl/cmd/control_grant -f "$tmp/envelope.json"
wait $sub_pid
check "control_grant is accepted" grep -q '"ok":true' "$tmp/reply.json"
check "the grant is kept in grants_dir" test -s "$tmp/grants/hz1-temp.json"
remote_applied() { [ "$(field 1)" = "$PROPOSED" ] && [ "$(field 3)" = 1 ]; }
check "autonomous: the remote setpoint is written and applied" wait_for $((PERIOD + 5)) remote_applied
echo "     grant -> setpoint $PROPOSED applied by the PLC after $(since "$t0") s"
check "autonomous: mode gauge 2" test "$(metric weft_edge_control_mode)" = 2
check "autonomous: read back without mismatch" test "$(metric weft_edge_control_readback_mismatches_total)" = 0

# --- 3. hand mode: no write from the next period ---------------------------------------------
HAND_S=8
mosquitto_pub -p "$port" -q 1 -t weft/sim/faults \
  -m "{\"asset\":\"lyon-hz-01\",\"kind\":\"hand_mode\",\"severity\":19.5,\"duration_s\":$HAND_S}"
t0=$(now)
hand_on() { [ "$(field 3)" = 2 ]; }
check "hand_mode: the PLC is in hand" wait_for 3 hand_on
sleep $((PERIOD + 1))  # the loop's next period reads it
w1=$(metric weft_edge_control_writes_total)
sleep $((PERIOD * 2))
w2=$(metric weft_edge_control_writes_total)
check "hand_mode: no write from the next period ($w1 -> $w2)" test "$w1" = "$w2"
check "hand_mode: the gauge says so" test "$(metric weft_edge_control_hand_mode)" = 1
check "hand_mode: the operator's setpoint applies" test "$(field 1)" = 19.5
hand_end() { [ "$(metric weft_edge_control_writes_total)" -gt "$w2" ]; }
check "after hand_mode writes resume" wait_for $((HAND_S + PERIOD + 3)) hand_end

# --- 4. the model killed: the safe setpoint within model_timeout -----------------------------
touch "$tmp/broken"
t0=$(now)
kill -9 "$(cat "$tmp/model.pid")"
safe_now() { [ "$(field 2)" = "$SAFE" ] && [ "$(field 1)" = "$SAFE" ]; }
if wait_for $((MODEL_TIMEOUT + PERIOD + 3)) safe_now; then
  took=$(since "$t0")
  echo "     model kill -9 -> safe setpoint $SAFE applied after $took s (model_timeout ${MODEL_TIMEOUT} s + period ${PERIOD} s)"
  check "model kill -9: safe within model_timeout + one period" \
    awk "BEGIN{exit !($took <= $MODEL_TIMEOUT + $PERIOD + 0.5)}"
else
  check "model kill -9: the safe setpoint is written" false
fi
check "model kill -9: model_failed is recorded" grep -q "model_failed" "$tmp/edge.log"
rm -f "$tmp/broken"  # the model may start again (after its backoff)

# --- 5. comms loss ---------------------------------------------------------------------------
LOSS_S=7
lost0=$(metric weft_edge_control_comms_lost_total)
mosquitto_pub -p "$port" -q 1 -t weft/sim/faults \
  -m "{\"asset\":\"lyon-hz-01\",\"kind\":\"comm_loss\",\"duration_s\":$LOSS_S}"
t0=$(now)
silent() { ! plc >/dev/null; }
check "comm_loss: the PLC stops answering" wait_for 3 silent
answers() { plc >/dev/null; }
wait_for $((LOSS_S + 3)) answers
echo "     PLC answers again after $(since "$t0") s: $(plc)"
restored() { grep -q "comms_restored" "$tmp/edge.log"; }
check "comm_loss: comms_restored recorded" wait_for $((PERIOD + 3)) restored
# The edge's first read after the loss (before any write) shows what the PLC did meanwhile.
state=$(grep -o 'comms_restored.*' "$tmp/edge.log" | tail -1)
echo "     edge: $state"
check "comm_loss: the PLC was back on its schedule (setpoint $schedule, mode 0)" \
  grep -q "setpoint=${schedule%.0} control_mode=0" <<<"$state"
check "comm_loss: its watchdog alarm (bit 4) was set" grep -Eq "plc_alarms=(4|5|6|7|12|13|14|15)\b" <<<"$state"
check "comm_loss: comms_lost recorded once" test "$(metric weft_edge_control_comms_lost_total)" = $((lost0 + 1))
check "comm_loss: in that order" test "$(grep -o 'comms_lost\|comms_restored' "$tmp/edge.log" | tail -2 | tr '\n' ' ')" = "comms_lost comms_restored "
remote_again() { [ "$(field 3)" = 1 ]; }
check "comm_loss: remote again after restoring" wait_for $((PERIOD + 3)) remote_again

# --- 6. weft-edge killed: the PLC returns to its schedule within plc_watchdog (+ scan) ---------
check "before the kill the PLC is remote" test "$(field 3)" = 1
model_up() { kill -0 "$(cat "$tmp/model.pid")" 2>/dev/null; }
wait_for 10 model_up
model_pid=$(cat "$tmp/model.pid")
t0=$(now)
kill -9 "$edge_pid"
{ wait "$edge_pid"; } 2>/dev/null  # reaped here, so bash does not report it
local_again() { [ "$(field 3)" = 0 ] && [ "$(field 1)" = "$schedule" ]; }
if wait_for $((WATCHDOG + 3)) local_again; then
  took=$(since "$t0")
  echo "     weft-edge kill -9 -> PLC back on its schedule ($schedule) after $took s (plc_watchdog ${WATCHDOG} s)"
  # The PLC scans once per simulator tick and this script polls it over Modbus: the stated bound
  # is plc_watchdog plus 1.5 s for the scan, the poll and a loaded 2-core CI machine.
  check "edge kill -9: schedule within plc_watchdog + 1.5 s" awk "BEGIN{exit !($took <= $WATCHDOG + 1.5)}"
else
  check "edge kill -9: the PLC returns to its schedule" false
fi
sleep 0.5
check "edge kill -9: the model process died with the edge" bash -c "! kill -0 $model_pid 2>/dev/null"

if ((failures > 0)); then
  echo "--- edge log (tail)"; tail -30 "$tmp/edge.log"; echo "--- sim log (tail)"; tail -10 "$tmp/sim.log"
fi
echo "$failures failure(s)"
exit $((failures > 0))
