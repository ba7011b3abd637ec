#!/usr/bin/env bash
# MLOps end to end, as a data scientist and an OT engineer work with it (issue 7):
#   1. weft model train: a candidate from twin scenarios, evaluated on held-out runs against the
#      vibration-threshold baseline, validated against examples/constraints.yaml, registered;
#   2. a deliberately non-physical candidate (trained so that risk FALLS as vibration rises) is
#      registered but refused by validation, with the violated constraint named;
#   3. through weft-core's API: one role's approval is not enough for production; approvals by a
#      data_scientist and an ot_engineer are; the non-physical candidate is refused promotion
#      with the constraint named; a viewer may not promote;
#   4. rollback returns production to the previous version;
#   5. a tampered artifact is refused (weft model verify, and the artifact route);
#   6. every promotion is in the audit log, whose hash chain verifies.
# usage: mlops_process_test.sh WEFT WEFT-CORE; run from the source tree's root.
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
weft="$(realpath "$1")"
core="$(realpath "$2")"
tmp=$(mktemp -d)
trap 'kill $core_pid $broker_pid 2>/dev/null; sleep 0.2; kill -9 $core_pid $broker_pid 2>/dev/null; rm -rf "$tmp"' EXIT
core_pid= broker_pid=
state="$tmp/state"

spec() {  # spec NAME MONOTONE-DIRECTION: a small spec (16 runs), enough to train and evaluate
  cat <<YAML
name: $1
asset_type: motor
output: failure_risk
task: failure_within_horizon
horizon: 48h
window: 32
features:
  - {signal: vibration_rms, stats: [last, mean, max, slope]}
  - {signal: bearing_temp_de, stats: [last, mean, slope]}
  - {signal: winding_temp, stats: [last]}
  - {signal: current, stats: [mean]}
monotone: {vibration_rms: $2, bearing_temp_de: increasing}
scenarios:
  twin: {model: motor, params: {wear_rate: 1.2e-6}, vary: {vibration_baseline: [0.9, 1.6]}}
  runs: 24
  seed: 7
  duration: 10d
  row_every: 10m
  fault_fraction: 0.7
  severity: [0.6, 1.0]
  fault_start: [0, 2d]
  load: [0.4, 1.0]
  ambient_temp: [10, 35]
  sensor_drift: {fraction: 0.3, signal: vibration_rms, rate: [0.5, 2.0]}
holdout: {fraction: 0.4, seed: 1}
xgboost: {rounds: 60, max_depth: 4, eta: 0.15, subsample: 0.8}
threshold: 0.5
YAML
}

# --- 1. train a physical candidate, twice (versions 1 and 2) ---------------------------------
spec bearing_risk increasing >"$tmp/good.yaml"
"$weft" model train "$tmp/good.yaml" --state "$state" >"$tmp/t1.out" 2>"$tmp/t1.err"
check "weft model train registers version 1 and exits 0" grep -q "registered bearing_risk version 1" "$tmp/t1.out"
check "it reports the model and the baseline on held-out runs" \
  bash -c "grep -q '^  model' '$tmp/t1.out' && grep -q '^  baseline' '$tmp/t1.out'"
check "its physics validation passed" grep -q "physics validation: passed" "$tmp/t1.out"
"$weft" model train "$tmp/good.yaml" --state "$state" --json >"$tmp/t2.json" 2>"$tmp/t2.err"
check "a second run registers version 2" grep -q '"version": "2"' "$tmp/t2.json"
f1=$(python3 -c "import json,sys; d=json.load(open('$tmp/t2.json'))['metrics']; print(d['model']['runs']['f1'], d['baseline']['runs']['f1'])" 2>/dev/null)
echo "     held-out F1, model vs vibration-threshold baseline: $f1"
check "the model's run-level F1 beats the baseline's" python3 -c "m,b=map(float,'$f1'.split()); assert m > b"
check "the lineage is recorded (twin model and version, spec sha256)" \
  bash -c "'$weft' model show bearing_risk 2 --state '$state' --json | grep -q 'sha256'"

# --- 2. a deliberately non-physical candidate -----------------------------------------------
spec bearing_risk decreasing >"$tmp/bad.yaml"
"$weft" model train "$tmp/bad.yaml" --state "$state" >"$tmp/t3.out" 2>"$tmp/t3.err"
code=$?
check "the non-physical candidate is registered (version 3) but exits 1" \
  bash -c "test $code -eq 1 && grep -q 'registered bearing_risk version 3' '$tmp/t3.out'"
check "its validation names the violated constraint" grep -q "^FAILED  risk_rises_with_vibration (monotonic)" "$tmp/t3.out"

# --- 3. promotion through the API ---------------------------------------------------------
bport=$(free_port)
mosquitto -p "$bport" >"$tmp/mosquitto.log" 2>&1 &
broker_pid=$!
wait_port "$bport"
port=$(free_port)
mkdir -p "$tmp/lake"
"$core" --lake "$tmp/lake" --state "$state" --broker "mqtt://127.0.0.1:$bport" \
  --http 127.0.0.1:0 --api-listen "127.0.0.1:$port" >"$tmp/core.out" 2>"$tmp/core.err" &
core_pid=$!
wait_port "$port"
check "weft-core serves the API" wait_port "$port"
ca="$state/tls/cert.pem"
admin=$(cat "$state/admin.token" 2>/dev/null)
api() {  # api METHOD PATH [BODY] with $tok
  curl -s --max-time 10 --cacert "$ca" -X "$1" -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "https://127.0.0.1:$port$2"
}
mk_user() {  # mk_user ID ROLE -> prints a token for ID, granted ROLE on *
  tok=$admin
  api POST /api/v1/principals "{\"id\": \"$1\"}" >/dev/null
  api POST /api/v1/grants "{\"principal_id\": \"$1\", \"role\": \"$2\", \"scope\": \"*\"}" >/dev/null
  api POST "/api/v1/principals/$1/tokens" '{}' | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])"
}
ds=$(mk_user dana data_scientist); ot=$(mk_user otto ot_engineer); viewer=$(mk_user vic viewer)
check "principals and tokens were made" test -n "$ds" -a -n "$ot" -a -n "$viewer"
m() { WEFT_TOKEN="$1" "$weft" model "${@:2}" --api "https://127.0.0.1:$port" --ca "$ca"; }

m "$ds" approve bearing_risk 1 --role data_scientist >"$tmp/a1.out" 2>&1
check "the data scientist approves version 1" test $? -eq 0
m "$ot" promote bearing_risk 1 production >"$tmp/p0.out" 2>&1
check "one role's approval is not enough for production" test $? -ne 0
check "and the refusal names the missing role" grep -q "ot_engineer" "$tmp/p0.out"
m "$ot" approve bearing_risk 1 --role ot_engineer >/dev/null 2>&1
m "$ot" promote bearing_risk 1 production >"$tmp/p1.out" 2>&1
check "with both approvals, version 1 is promoted to production" test $? -eq 0
m "$ds" approve bearing_risk 2 --role data_scientist >/dev/null 2>&1
m "$ot" approve bearing_risk 2 --role ot_engineer >/dev/null 2>&1
m "$viewer" promote bearing_risk 2 production >"$tmp/pv.out" 2>&1
check "a viewer may not promote" test $? -ne 0
m "$ot" promote bearing_risk 2 production >/dev/null 2>&1
check "version 2 is promoted" bash -c "'$weft' model show bearing_risk --state '$state' | grep -q 'production'"
m "$ds" approve bearing_risk 3 --role data_scientist >/dev/null 2>&1
m "$ot" approve bearing_risk 3 --role ot_engineer >/dev/null 2>&1
m "$ot" promote bearing_risk 3 production >"$tmp/p3.out" 2>&1
check "the non-physical version 3 is refused promotion, approvals or not" test $? -ne 0
check "the refusal names risk_rises_with_vibration" grep -q "risk_rises_with_vibration" "$tmp/p3.out"

# --- 4. rollback ----------------------------------------------------------------------------
m "$ot" rollback bearing_risk production >"$tmp/rb.out" 2>&1
check "rollback succeeds" test $? -eq 0
tok=$ot
check "production points at version 1 again" \
  bash -c "$(declare -f api); tok='$ot' ca='$ca' port=$port api GET /api/v1/models/bearing_risk | python3 -c \"import json,sys; d=json.load(sys.stdin); assert d['aliases']['production'] == '1', d\""

# --- 5. tampering ---------------------------------------------------------------------------
art=$(find "$state/artifacts" -type f | head -1)
check "artifacts are content-addressed by sha256" bash -c "test \"\$(sha256sum '$art' | cut -c1-64)\" = \"\$(basename '$art')\""
"$weft" model verify bearing_risk 1 --state "$state" >/dev/null 2>&1
check "weft model verify passes on an intact artifact" test $? -eq 0
for a in $(find "$state/artifacts" -type f); do chmod u+w "$a"; printf 'X' | dd of="$a" bs=1 seek=100 conv=notrunc 2>/dev/null; done
"$weft" model verify bearing_risk 1 --state "$state" >"$tmp/v.out" 2>&1
check "a tampered artifact is refused by weft model verify" test $? -ne 0
tok=$ot
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $ot" \
  "https://127.0.0.1:$port/api/v1/models/bearing_risk/versions/1/artifact")
check "and by the API's artifact route (HTTP $code)" test "$code" -ge 500

# --- 6. audit -------------------------------------------------------------------------------
kill $core_pid; wait $core_pid 2>/dev/null; core_pid=
check "promotions and rollbacks are audited" \
  bash -c "grep -rq 'model.promote' '$state/audit' && grep -rq 'model.rollback' '$state/audit'"
"$weft" audit verify "$state/audit" >/dev/null 2>&1
check "the audit log's hash chain verifies" test $? -eq 0

if ((failures > 0)); then tail -n 20 "$tmp"/*.out "$tmp"/*.err 2>/dev/null | head -120; fi
echo "$failures failure(s)"
exit $((failures > 0))
