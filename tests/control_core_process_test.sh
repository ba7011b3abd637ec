#!/usr/bin/env bash
# Closed-loop control governance end to end (issue 8), with real processes: weft-core (API over
# TLS, tokens for principals with roles), mosquitto, weft-sim's HVAC PLC (--plc-watchdog 5 s,
# --speed 1) and weft-edge running one `control:` loop on lyon-hz-01 whose source is a tiny
# python3 model (its setpoint is whatever the file $tmp/setpoint says), with grant_key = the
# core's key fetched by `weft control grant-key --out`.
#   1. the loop starts in shadow: nothing is written at the PLC; shadow rows reach the lake;
#   2. `weft control mode ... autonomous` without approvals is refused naming the missing roles;
#      a data_scientist's and a viewer's approvals are refused; one ops_manager approval is not
#      enough; with an ot_engineer's (another principal) the grant is signed, sent
#      (control_grant), applied by the edge, and the PLC's remote_setpoint is written and read
#      back; the lake's `actions` table has the write, approved by both, mode autonomous;
#   3. supervised: a proposal (kind proposed, with proposal_id) reaches the lake, nothing is
#      written until `weft control approve-proposal`, then it is written;
#   4. `weft workorder close` -> a row in the lake's `work_orders`;
#   5. the audit log holds the governance events and its hash chain verifies.
# The PLC is read with a few lines of Modbus TCP in python3.
# usage: control_core_process_test.sh WEFT WEFT-CORE WEFT-SIM WEFT-EDGE; run from the source root.
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
weft="$(realpath "$1")"; core="$(realpath "$2")"; sim="$(realpath "$3")"; edge="$(realpath "$4")"
root="$(pwd)"
for tool in mosquitto curl python3 openssl; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool is not installed (scripts/setup.sh)"; exit 1; }
done
tmp=$(mktemp -d)
# KEEP_TMP=1 keeps the run's directory (logs, lake, state) for a post-mortem.
trap 'kill $(jobs -p) 2>/dev/null; sleep 0.5; kill -9 $(jobs -p) 2>/dev/null; { wait; } 2>/dev/null
      if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi' EXIT
t_start=$SECONDS
state="$tmp/state" lake="$tmp/lake"
EDGE=edge-ctl LOOP=hz1-temp PERIOD=4 WATCHDOG=5 AUTO_SP=22.5 SUP_SP=19.0
now() { date +%s.%N; }
# wait_for SECONDS COMMAND...: polls every 0.2 s; true when COMMAND succeeded in time.
wait_for() {
  local end; end=$(awk "BEGIN{printf \"%.3f\", $(now) + $1}"); shift
  while awk "BEGIN{exit !($(now) < $end)}"; do "$@" && return 0; sleep 0.2; done
  return 1
}
die() {
  echo "FAIL $*"
  for f in core.err edge.log sim.log; do [[ -s "$tmp/$f" ]] && { echo "--- $f (tail)"; tail -15 "$tmp/$f"; }; done
  exit 1
}

# --- broker and weft-core ----------------------------------------------------------------------
bport=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$bport" >"$tmp/m.conf"
mosquitto -c "$tmp/m.conf" >"$tmp/mosquitto.log" 2>&1 &
wait_port "$bport" || die "mosquitto did not start"
aport=$(free_port)
mkdir -p "$lake"
"$core" --lake "$lake" --state "$state" --broker "mqtt://127.0.0.1:$bport" --http 127.0.0.1:0 \
  --api-listen "127.0.0.1:$aport" --commit-interval 300ms >"$tmp/core.out" 2>"$tmp/core.err" &
core_pid=$!
wait_port "$aport" || die "weft-core's API did not start"
ca="$state/tls/cert.pem"
api="https://127.0.0.1:$aport"
admin=$(cat "$state/admin.token" 2>/dev/null)
apicall() {  # apicall METHOD PATH [BODY] with $tok
  curl -s --max-time 10 --cacert "$ca" -X "$1" -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$api$2"
}
mk_user() {  # mk_user ID ROLE -> prints a token for ID, granted ROLE on *
  tok=$admin
  apicall POST /api/v1/principals "{\"id\": \"$1\"}" >/dev/null
  apicall POST /api/v1/grants "{\"principal_id\": \"$1\", \"role\": \"$2\", \"scope\": \"*\"}" >/dev/null
  apicall POST "/api/v1/principals/$1/tokens" '{}' |
    python3 -c "import json,sys; print(json.load(sys.stdin)['token'])" 2>/dev/null
}
olga=$(mk_user olga ops_manager); otto=$(mk_user otto ot_engineer)
dana=$(mk_user dana data_scientist); vic=$(mk_user vic viewer)
check "principals with roles and their tokens were made" \
  test -n "$olga" -a -n "$otto" -a -n "$dana" -a -n "$vic"
# as TOKEN weft ARGS...: the CLI against the core's API, with TOKEN in $WEFT_TOKEN.
as() { local t="$1"; shift; WEFT_TOKEN="$t" "$weft" "$@" --api "$api" --ca "$ca"; }

as "$otto" control grant-key --out "$tmp/grant.pub.pem" >"$tmp/key.out" 2>&1
check "weft control grant-key --out fetches the core's grant public key" \
  grep -q "BEGIN PUBLIC KEY" "$tmp/grant.pub.pem"
check "... which is the core's own key file" \
  cmp -s "$tmp/grant.pub.pem" "$state/keys/control-grant.pub.pem"

# --- the PLC (weft-sim), read over Modbus TCP ----------------------------------------------
# lyon-hz-01 (base 0): holding 4 setpoint (effective, x0.1), 12 remote_setpoint (x0.1);
# input 14 control_mode, 15 plc_alarms.
plc() {  # -> "setpoint remote_setpoint control_mode alarms"
  local h i
  h=$(timeout 2 python3 "$(dirname "$0")/modbus_read.py" "$zone_port" 3 4 9 2>/dev/null) || return 1
  i=$(timeout 2 python3 "$(dirname "$0")/modbus_read.py" "$zone_port" 4 14 2 2>/dev/null) || return 1
  set -- $h
  echo "$(awk "BEGIN{printf \"%.1f\", $1/10}") $(awk "BEGIN{printf \"%.1f\", ${9}/10}") $i"
}
field() { plc | awk -v f="$1" '{print $f}'; }
plc_port=$(free_port 6)
"$sim" --plant "$root/examples/plant.yaml" --broker "mqtt://127.0.0.1:$bport" \
  --modbus-port "$plc_port" --speed 1 --duration 600 --seed 5 --plc-watchdog "$WATCHDOG" \
  --log-level info >/dev/null 2>"$tmp/sim.log" &
for _ in $(seq 100); do grep -q "PLC 10.20.0.50" "$tmp/sim.log" && break; sleep 0.1; done
# "PLC 10.20.0.50:502/1 (6 assets) on 127.0.0.1:P" (log) or "PLC 10.20.0.50:502/1 -> 127.0.0.1:P"
zone_port=$(grep -Eo 'PLC 10\.20\.0\.50[^ ]* (\([^)]*\) on|->) 127\.0\.0\.1:[0-9]+' "$tmp/sim.log" |
  grep -o '[0-9]*$' | head -1)
[[ -n "$zone_port" ]] || die "weft-sim serves no PLC 10.20.0.50"
wait_port "$zone_port" || die "the PLC's port $zone_port"
read -r sp0 rsp0 mode0 _ <<<"$(plc)"
echo "     PLC before: setpoint $sp0, remote_setpoint $rsp0, control_mode $mode0"
check "the PLC starts on its local schedule (control_mode 0)" test "$mode0" = 0

# --- weft-edge with one loop ---------------------------------------------------------------
echo "$AUTO_SP" >"$tmp/setpoint"
cat >"$tmp/model.py" <<PY
# The model: proposes the number in $tmp/setpoint, whatever the inputs.
import json, sys
for line in sys.stdin:
    json.loads(line)
    print(json.dumps({"setpoint": float(open("$tmp/setpoint").read())}), flush=True)
PY
cat >"$tmp/edge.yaml" <<YAML
weft_edge: 1
id: $EDGE
plant: $root/examples/plant.yaml
scope: [lyon-hz-01]
broker: {url: "mqtt://127.0.0.1:$bport"}
sources:
  modbus: {timeout: 300ms, endpoints: {"10.20.0.50:502": "127.0.0.1:$zone_port"}}
uplink: {ack: broker, dir: $tmp/buffer, batch: {max_interval: 300ms}}
http: {listen: "127.0.0.1:0"}
control:
  grant_key: $tmp/grant.pub.pem
  grants_dir: $tmp/grants
  loops:
    - id: $LOOP
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
      model_timeout: 60s
      envelope: {min: 16, max: 23, max_step: 10, max_rate: 10/s, safe: 18,
                 readback_tolerance: 0.05,
                 interlocks: [{name: overheating, expr: zone_temp, above: 35, then: safe}]}
YAML
"$edge" --config "$tmp/edge.yaml" >"$tmp/edge.out" 2>"$tmp/edge.log" &
for _ in $(seq 100); do grep -q "http=" "$tmp/edge.out" 2>/dev/null && break; sleep 0.1; done
eport=$(grep -o 'http=127.0.0.1:[0-9]*' "$tmp/edge.out" | cut -d: -f2)
[[ -n "$eport" ]] || die "weft-edge did not start"
metric() { curl -s --max-time 2 "127.0.0.1:$eport/metrics" | awk -v m="$1" '$1 ~ "^"m"[{]" {print $2}'; }

# actions [WHERE]: the lake's `actions` rows (JSON lines), optionally filtered.
actions() {
  "$weft" lake scan "$lake/actions" --format jsonl ${1:+--where "$1"} 2>>"$tmp/lake.err"
}
# has_action PYTHON-CONDITION-ON-r: true when some row of `actions` satisfies it.
has_action() {
  actions | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
sys.exit(0 if any($1 for r in rows) else 1)"
}

# --- 1. shadow ---------------------------------------------------------------------------------
check "the loop starts in shadow: shadow rows reach the lake's actions table" \
  wait_for $((PERIOD * 2 + 8)) has_action "r['kind'] == 'shadow' and r['loop'] == '$LOOP' and r['edge'] == '$EDGE'"
check "shadow: the mode gauge is 0 and nothing was written" \
  test "$(metric weft_edge_control_mode)/$(metric weft_edge_control_writes_total)" = "0/0"
read -r sp rsp mode _ <<<"$(plc)"
check "shadow: no write at the PLC (remote_setpoint $rsp, control_mode $mode)" \
  test "$rsp/$mode" = "$rsp0/0"

# --- 2. governance: two roles, two principals --------------------------------------------------
ctl() { local t="$1" out="$2"; shift 2; as "$t" control "$@" >"$tmp/$out" 2>&1; }
ctl "$otto" mode0.out mode "$LOOP" --edge "$EDGE" --mode autonomous
check "autonomous without approvals is refused" test $? -ne 0
check "... naming both missing roles" \
  bash -c "grep -q 'ops_manager' '$tmp/mode0.out' && grep -q 'ot_engineer' '$tmp/mode0.out'"
echo "     $(head -c 300 "$tmp/mode0.out")"
ctl "$dana" ds.out approve "$LOOP" --edge "$EDGE" --mode autonomous
check "a data_scientist's approval is refused" test $? -ne 0
ctl "$vic" viewer.out approve "$LOOP" --edge "$EDGE" --mode autonomous --role ops_manager
check "a viewer's approval is refused (even claiming ops_manager)" test $? -ne 0
ctl "$olga" olga.out approve "$LOOP" --edge "$EDGE" --mode autonomous
check "the ops_manager approves" test $? -eq 0
echo "     $(cat "$tmp/olga.out")"
ctl "$otto" mode1.out mode "$LOOP" --edge "$EDGE" --mode autonomous
check "one ops_manager approval only: still refused" test $? -ne 0
check "... naming the missing ot_engineer approval" grep -q "missing: an ot_engineer approval" "$tmp/mode1.out"
ctl "$olga" olga2.out approve "$LOOP" --edge "$EDGE" --mode autonomous --role ot_engineer
check "the ops_manager may not approve again as ot_engineer" test $? -ne 0
ctl "$otto" otto.out approve "$LOOP" --edge "$EDGE" --mode autonomous
check "the ot_engineer (another principal) approves" test $? -eq 0
t0=$(now)
ctl "$otto" mode2.out mode "$LOOP" --edge "$EDGE" --mode autonomous
check "with both approvals the autonomous grant is issued" test $? -eq 0
echo "     $(cat "$tmp/mode2.out")"
granted() { grep -q "grant for autonomous applied" "$tmp/edge.log"; }
check "the edge receives control_grant and applies it" wait_for 5 granted
check "... and keeps it in grants_dir" test -s "$tmp/grants/$LOOP.json"
written() { [[ "$(field 2)" == "$AUTO_SP" && "$(field 1)" == "$AUTO_SP" && "$(field 3)" == 1 ]]; }
if wait_for $((PERIOD + 6)) written; then
  echo "     grant -> remote_setpoint $AUTO_SP written and applied by the PLC after $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}") s: $(plc)"
  check "autonomous: the PLC's remote_setpoint is written, read back, and the PLC is remote" true
else
  check "autonomous: the PLC's remote_setpoint is written, read back, and the PLC is remote ($(plc))" false
fi
check "autonomous: mode gauge 2, no read-back mismatch" \
  test "$(metric weft_edge_control_mode)/$(metric weft_edge_control_readback_mismatches_total)" = "2/0"
check "actions: a write, mode autonomous, approved_by olga and otto, read back $AUTO_SP" \
  wait_for 8 has_action "r['kind'] == 'write' and r['mode'] == 'autonomous' and 'olga' in (r['approved_by'] or '') and 'otto' in (r['approved_by'] or '') and abs((r['after'] or 0) - $AUTO_SP) < 0.05"
check "actions: the mode_change shadow -> autonomous" \
  has_action "r['kind'] == 'mode_change' and 'autonomous' in (r['reason'] or '')"
actions "kind = 'write'" | head -1 | sed 's/^/     lake: /'

# --- 3. supervised: proposals wait for an approval ---------------------------------------------
ctl "$olga" s1.out approve "$LOOP" --edge "$EDGE" --mode supervised
ctl "$otto" s2.out approve "$LOOP" --edge "$EDGE" --mode supervised
ctl "$otto" s3.out mode "$LOOP" --edge "$EDGE" --mode supervised
check "supervised: granted with both approvals" test $? -eq 0
sup_granted() { grep -q "grant for supervised applied" "$tmp/edge.log"; }
check "supervised: the edge applies the grant" wait_for 5 sup_granted
echo "$SUP_SP" >"$tmp/setpoint"
t_sup=$(now)
# newest_proposal: the id of the newest `proposed` row asking for SUP_SP.
newest_proposal() {
  actions "kind = 'proposed'" | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
rows = [r for r in rows if r.get('proposal_id') and abs((r['requested'] or 0) - $SUP_SP) < 1e-6]
rows.sort(key=lambda r: r['ts'])
print(rows[-1]['proposal_id'] if rows else '')"
}
has_proposal() { [[ -n "$(newest_proposal)" ]]; }
check "supervised: a proposal of $SUP_SP (kind proposed, with proposal_id) reaches the lake" \
  wait_for $((PERIOD + 8)) has_proposal
sleep 1
w_before=$(metric weft_edge_control_writes_total)
read -r sp rsp mode _ <<<"$(plc)"
check "supervised: nothing written without approval (remote_setpoint $rsp, writes $w_before)" \
  test "$rsp" = "$AUTO_SP"
# The id is <loop>-<unix us>-<n>: approve one young enough to be approved within its period
# (the core relays it; the edge refuses expired ones), retrying with the next on a miss.
approved_ok=false attempt=0
for attempt in 1 2 3 4; do
  id=$(newest_proposal)
  age=$(awk -v id="$id" -v t="$(now)" 'BEGIN{n=split(id,p,"-"); printf "%.1f", t - p[n-1]/1e6}')
  if awk "BEGIN{exit !($age > $PERIOD - 1.5)}"; then sleep 1.5; id=$(newest_proposal); fi
  ctl "$olga" ap.out approve-proposal "$LOOP" "$id" --edge "$EDGE"
  ap_rc=$?
  sup_written() { [[ "$(field 2)" == "$SUP_SP" && "$(field 1)" == "$SUP_SP" ]]; }
  if ((ap_rc == 0)) && wait_for 4 sup_written; then approved_ok=true; break; fi
done
echo "     approve-proposal $id (attempt $attempt): $(cat "$tmp/ap.out")"
check "supervised: after weft control approve-proposal it is written and read back ($(plc))" \
  $approved_ok
check "actions: approved by olga, then the write with its proposal_id" \
  wait_for 8 has_action "r['kind'] == 'write' and r['mode'] == 'supervised' and r['approved_by'] == 'olga' and r['proposal_id'] == '$id'"
# Every proposal but the newest (maybe still pending) has an outcome: approved or expired.
proposals_closed() {
  actions | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
proposed = sorted((r['ts'], r['proposal_id']) for r in rows if r['kind'] == 'proposed')
closed = {r['proposal_id'] for r in rows if r['kind'] in ('approved', 'expired')}
open_ = [p for _, p in proposed[:-1] if p not in closed]
sys.exit(0 if len(proposed) >= 2 and not open_ and any(r['kind'] == 'expired' for r in rows) else 1)"
}
check "actions: every other proposal was approved or expired, on record" \
  wait_for $((PERIOD + 8)) proposals_closed

# --- 4. work orders ----------------------------------------------------------------------------
at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
as "$otto" workorder close --asset lyon-hz-01 --at "$at" --outcome confirmed_fault --minutes 40 \
  --note "heat pump valve stuck" >"$tmp/wo.out" 2>&1
check "weft workorder close records the outcome" test $? -eq 0
echo "     $(cat "$tmp/wo.out")"
"$weft" lake scan "$lake/work_orders" --format jsonl >"$tmp/wo.jsonl" 2>>"$tmp/lake.err"
check "a row in work_orders: lyon-hz-01, confirmed_fault, 40 min, by otto" python3 -c "
import json, sys
rows = [json.loads(l) for l in open('$tmp/wo.jsonl') if l.strip()]
sys.exit(0 if any(r['asset'] == 'lyon-hz-01' and r['outcome'] == 'confirmed_fault' and
                  r['minutes'] == 40 and r['principal'] == 'otto' for r in rows) else 1)"
as "$vic" workorder close --asset lyon-hz-01 --at "$at" --outcome false_alarm --minutes 5 \
  >"$tmp/wo2.out" 2>&1
check "a viewer may not record a work order" test $? -ne 0

# --- 5. audit ----------------------------------------------------------------------------------
kill "$core_pid"; wait "$core_pid" 2>/dev/null
for ev in control.approve control.mode control.proposal.approve workorder.record; do
  check "the audit log holds $ev" grep -rq "\"$ev\"" "$state/audit"
done
# audited NAME PRINCIPAL ACTION DECISION: some audit record has them.
audited() {
  find "$state/audit" -type f -exec cat {} + 2>/dev/null | python3 -c "
import json, sys
for line in sys.stdin:
    try: r = json.loads(line)
    except ValueError: continue
    if (r.get('principal'), r.get('action'), r.get('decision')) == ('$1', '$2', '$3'): sys.exit(0)
sys.exit(1)"
}
check "the audit log has the refused mode change (otto control.mode error)" audited otto control.mode error
check "... the data_scientist's denied approval (dana control.approve deny)" audited dana control.approve deny
check "... both approvals and the grant (olga/otto control.approve, otto control.mode done)" \
  bash -c "$(declare -f audited); state='$state'; audited olga control.approve done && audited otto control.approve done && audited otto control.mode done"
"$weft" audit verify "$state/audit" >"$tmp/audit.out" 2>&1
check "the audit log's hash chain verifies" test $? -eq 0

echo "     wall time $((SECONDS - t_start)) s"
if ((failures > 0)); then
  for f in core.err edge.log sim.log lake.err; do
    [[ -s "$tmp/$f" ]] && { echo "--- $f (tail)"; tail -20 "$tmp/$f"; }
  done
fi
echo "$failures failure(s)"
exit $((failures > 0))
