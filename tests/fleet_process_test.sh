#!/usr/bin/env bash
# Governance end to end (issue 9), with real processes: weft-core (API over TLS, the fleet CA, the
# manufacturer CA of `weft-sim factory`, the mTLS broker files it writes under <state>/broker/),
# mosquitto started from those files, and `weft-sim fleet` devices (ZtpClient + OtaAgent).
#   a. 1,000 simulated devices provision at once: each gets one certificate, none twice (the
#      report's 1,000 distinct serials and fingerprints = the core's device list, one
#      certificate per device); a second run on the same state asks for nothing new;
#   b. a factory identity from the same manufacturer CA but not on the allowlist is refused;
#   c. after `weft fleet revoke`, mosquitto refuses the revoked device's certificate (CRL +
#      ACL, SIGHUP) while a non-revoked device still publishes;
#   d. 200 other devices (hardware model edge-gw-3, site grenoble) over mqtts with a failing
#      health check on ~30% of them: firmware 1.1.0 certified through the governance board
#      (security_lead + ot_engineer), a campaign in waves pauses at its error threshold; the
#      rolled-back devices report the previous version (1.0.0) in the core's inventory; the
#      compliance SLA report (in scope, compliant, percent, status, overdue) matches what the
#      devices run.
# usage: fleet_process_test.sh WEFT WEFT-CORE WEFT-SIM; run from the source root.
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
weft="$(realpath "$1")"; core="$(realpath "$2")"; sim="$(realpath "$3")"
for tool in mosquitto mosquitto_pub curl python3 openssl; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool is not installed (scripts/setup.sh)"; exit 1; }
done
tmp=$(mktemp -d)
# Started as root, mosquitto drops to the `mosquitto` user: it must reach <state>/broker.
chmod 755 "$tmp"
# KEEP_TMP=1 keeps the run's directory (logs, state, reports) for a post-mortem.
trap 'kill $(jobs -p) 2>/dev/null; sleep 0.5; kill -9 $(jobs -p) 2>/dev/null; { wait; } 2>/dev/null
      if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi' EXIT
t_start=$SECONDS
state="$tmp/state" lake="$tmp/lake"
N=${FLEET_DEVICES:-1000} M=${OTA_DEVICES:-200} FAIL_RATE=0.3
die() {
  echo "FAIL $*"
  for f in core.err mosquitto.log fleet.err ota.err; do
    [[ -s "$tmp/$f" ]] && { echo "--- $f (tail)"; tail -15 "$tmp/$f"; }
  done
  exit 1
}
now() { date +%s.%N; }
wait_for() {  # wait_for SECONDS COMMAND...: polls every 0.2 s
  local end; end=$(awk "BEGIN{printf \"%.3f\", $(now) + $1}"); shift
  while awk "BEGIN{exit !($(now) < $end)}"; do "$@" && return 0; sleep 0.2; done
  return 1
}

# --- factory: two batches from one manufacturer CA, and a rogue identity -----------------------
"$sim" factory --out "$tmp/factory" --count "$N" --site lyon --hardware-model edge-gw-2 \
  >"$tmp/factory.out" 2>&1 || die "weft-sim factory: $(cat "$tmp/factory.out")"
mca="$tmp/factory/manufacturer-ca"
"$sim" factory --out "$tmp/ota-factory" --count "$M" --prefix ota- --serial-prefix OT- \
  --site grenoble --hardware-model edge-gw-3 --manufacturer-ca "$mca" >/dev/null 2>&1 ||
  die "weft-sim factory (OTA batch)"
"$sim" factory --out "$tmp/rogue" --count 1 --prefix rogue- --serial-prefix XX- \
  --manufacturer-ca "$mca" >/dev/null 2>&1 || die "weft-sim factory (rogue)"
check "weft-sim factory made $N identities and the allowlist" \
  test "$(($(wc -l <"$tmp/factory/allowlist.csv") - 1))" = "$N"
check "... with subject CN=serial, serialNumber, OU=hardware model, O=manufacturer" \
  bash -c "openssl x509 -in '$tmp/factory/SN-000042/factory.pem' -noout -subject -nameopt sep_multiline |
    tr -d ' ' | sort | tr '\n' ' ' | grep -q 'CN=SN-000042 O=WeftDevices OU=edge-gw-2 serialNumber=SN-000042'"

# --- weft-core and the broker it configures ----------------------------------------------------
aport=$(free_port) bport=$(free_port)
mkdir -p "$lake"
"$core" --lake "$lake" --state "$state" --http 127.0.0.1:0 --api-listen "127.0.0.1:$aport" \
  --manufacturer-ca "$mca/ca.pem" --broker-listen "127.0.0.1:$bport" \
  --broker "mqtts://127.0.0.1:$bport" --provision-rate 5000 --commit-interval 300ms \
  --log-level warn >"$tmp/core.out" 2>"$tmp/core.err" &
# The core writes <state>/broker/ first, then connects to the broker it describes.
wait_for 15 test -s "$state/broker/mosquitto.conf" || die "weft-core wrote no broker config"
mosquitto -c "$state/broker/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
wait_port "$bport" || die "mosquitto (weft's configuration) did not start"
wait_port "$aport" || die "weft-core's API did not start"
check "mosquitto runs weft's mTLS configuration (require_certificate, identity, CRL, ACL)" \
  bash -c "grep -q 'require_certificate true' '$state/broker/mosquitto.conf' &&
    grep -q 'use_identity_as_username true' '$state/broker/mosquitto.conf' &&
    grep -q '^crlfile' '$state/broker/mosquitto.conf' && grep -q '^acl_file' '$state/broker/mosquitto.conf'"
ca="$state/tls/cert.pem"
api="https://127.0.0.1:$aport"
wait_for 10 test -s "$state/admin.token" || die "no admin token"
admin=$(cat "$state/admin.token")

# api.py [--token T] METHOD PATH [BODY|@FILE]: one call, prints the body, exit 1 on HTTP >= 400.
# api.py --batch FILE: JSON lines {"method","path","body"} over one connection; prints statuses.
cat >"$tmp/api.py" <<'PY'
import http.client, json, os, ssl, sys
args = sys.argv[1:]
token = os.environ.get("TOK", "")
ctx = ssl.create_default_context(cafile=os.environ["CA"])
ctx.check_hostname = False
host, port = os.environ["API"].rsplit("/", 1)[1].split(":")
conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
def call(method, path, body=None, raw=None, ctype="application/json"):
    headers = {"Authorization": "Bearer " + token} if token else {}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = ctype
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    return r.status, r.read().decode(errors="replace")
if args[0] == "--batch":
    bad = 0
    for line in open(args[1]):
        c = json.loads(line)
        st, text = call(c["method"], c["path"], c.get("body"))
        if st >= 400:
            bad += 1
            print(st, text, file=sys.stderr)
    sys.exit(1 if bad else 0)
method, path = args[0], args[1]
body = raw = None
ctype = "application/json"
if len(args) > 2:
    if args[2].startswith("@"):
        raw = open(args[2][1:], "rb").read(); ctype = "application/octet-stream"
    else:
        body = json.loads(args[2])
st, text = call(method, path, body, raw, ctype)
print(text)
sys.exit(0 if st < 400 else 1)
PY
apicall() { TOK="${tok:-$admin}" CA="$ca" API="$api" python3 "$tmp/api.py" "$@"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
mk_user() {  # mk_user ID ROLE -> prints a token for ID, granted ROLE on *
  tok=$admin apicall POST /api/v1/principals "{\"id\": \"$1\"}" >/dev/null
  tok=$admin apicall POST /api/v1/grants "{\"principal_id\": \"$1\", \"role\": \"$2\", \"scope\": \"*\"}" >/dev/null
  tok=$admin apicall POST "/api/v1/principals/$1/tokens" '{}' | jq_ "d['token']" 2>/dev/null
}
as() { local t="$1"; shift; WEFT_TOKEN="$t" "$weft" "$@" --api "$api" --ca "$ca"; }

# The hardware models are certified; both batches go on the allowlist (one connection).
for hw in edge-gw-2 edge-gw-3; do
  apicall POST /api/v1/ota/hardware "{\"name\": \"$hw\", \"certified\": true}" >/dev/null ||
    die "certifying hardware model $hw"
done
python3 - "$tmp/factory/allowlist.csv" "$tmp/ota-factory/allowlist.csv" >"$tmp/allow.jsonl" <<'PY'
import csv, json, sys
for f in sys.argv[1:]:
    for r in csv.DictReader(open(f)):
        print(json.dumps({"method": "POST", "path": "/api/v1/fleet/allowlist", "body": r}))
PY
t0=$(now)
apicall --batch "$tmp/allow.jsonl" 2>"$tmp/allow.err" || die "allowlist: $(head -3 "$tmp/allow.err")"
echo "     allowlist: $((N + M)) serials in $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}") s"

# --- a. 1,000 devices provision at once ---------------------------------------------------------
fleet() { "$sim" fleet --core "$api" --core-ca "$ca" "$@"; }
t0=$(now)
fleet --factory "$tmp/factory" --state "$tmp/devs" --report "$tmp/prov.json" \
  >"$tmp/fleet.out" 2>"$tmp/fleet.err"
rc=$?
echo "     $(head -1 "$tmp/fleet.out") (wall $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}") s)"
check "all $N devices provisioned at once (exit 0)" test "$rc" = 0
apicall GET /api/v1/fleet/devices >"$tmp/devices.json" || die "GET /api/v1/fleet/devices"
# one_cert.jsonl: GET each device to count its certificates.
python3 -c "
import json
for d in json.load(open('$tmp/devices.json'))['devices']:
    print(json.dumps({'method': 'GET', 'path': '/api/v1/fleet/devices/' + d['id']}))" >"$tmp/show.jsonl"
python3 - "$tmp/prov.json" "$tmp/devices.json" "$tmp/factory/allowlist.csv" "$N" >"$tmp/a.out" <<'PY'
import csv, json, sys
rep, core, allow, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], int(sys.argv[4])
devs = rep["devices"]
ok = [d for d in devs if d["error"] is None]
serials = {d["cert_serial"] for d in ok}
fps = {d["fingerprint"] for d in ok}
expected = {r["serial"]: r["device_id"] for r in csv.DictReader(open(allow))}
ids_ok = all(expected.get(d["serial"]) == d["id"] for d in ok)
cdev = {d["id"]: d for d in core["devices"]}
same = all(d["id"] in cdev and cdev[d["id"]]["certificate"] == d["cert_serial"] for d in ok)
print("provisioned", len(ok), "distinct_serials", len(serials), "distinct_fingerprints", len(fps),
      "ids_match", ids_ok, "core_devices", len(cdev), "core_matches", same,
      "core_distinct", len({d["certificate"] for d in core["devices"]}),
      "max_attempts", max((d["attempts"] for d in devs), default=0),
      "p99_s", sorted(d["seconds"] for d in devs)[int(0.99 * (len(devs) - 1))] if devs else 0)
PY
read -r _ prov _ dserials _ dfps _ ids_ok _ cdevs _ cmatch _ cdistinct _ maxatt _ p99 <"$tmp/a.out"
echo "     $(cat "$tmp/a.out")"
check "a: the report has $N devices provisioned" test "$prov" = "$N"
check "a: $N distinct certificate serials and $N distinct fingerprints" \
  test "$dserials:$dfps" = "$N:$N"
check "a: each device got the device id its serial is allowlisted for" test "$ids_ok" = True
check "a: the core lists $N devices, each with the certificate the device holds" \
  test "$cdevs:$cmatch:$cdistinct" = "$N:True:$N"
python3 - "$tmp/show.jsonl" >"$tmp/certs.out" <<PY
import http.client, json, ssl, sys
ctx = ssl.create_default_context(cafile="$ca"); ctx.check_hostname = False
c = http.client.HTTPSConnection("127.0.0.1", $aport, context=ctx, timeout=30)
counts = {}
for line in open(sys.argv[1]):
    p = json.loads(line)["path"]
    c.request("GET", p, headers={"Authorization": "Bearer $admin"})
    d = json.loads(c.getresponse().read())
    counts[len(d.get("certificates", []))] = counts.get(len(d.get("certificates", [])), 0) + 1
print(json.dumps(counts))
PY
check "a: every device has exactly one certificate at the core ($(cat "$tmp/certs.out"))" \
  test "$(cat "$tmp/certs.out")" = "{\"1\": $N}"
# Again on the same state: every device keeps its identity, the core issues nothing.
fleet --factory "$tmp/factory" --state "$tmp/devs" --devices 50 --report "$tmp/prov2.json" \
  >/dev/null 2>&1
check "a: a second run keeps the 50 identities (same certificate serials)" python3 -c "
import json
a = {d['serial']: d['cert_serial'] for d in json.load(open('$tmp/prov.json'))['devices']}
b = json.load(open('$tmp/prov2.json'))['devices']
assert len(b) == 50 and all(d['error'] is None and a[d['serial']] == d['cert_serial'] for d in b)"

# --- b. an unknown serial is refused ------------------------------------------------------------
fleet --factory "$tmp/rogue" --state "$tmp/rogue-state" --max-attempts 1 \
  --report "$tmp/rogue.json" >/dev/null 2>"$tmp/rogue.err"
rc=$?
check "b: a factory identity that is not on the allowlist is refused (exit 1)" test "$rc" = 1
check "b: ... with the core's reason (unknown serial), no identity written" python3 -c "
import json, os
d = json.load(open('$tmp/rogue.json'))['devices'][0]
assert d['error'] and 'XX-000001' in d['error'] and not d['cert_serial'], d
assert 'allowlist' in d['error'] or 'unknown' in d['error'], d['error']
assert not os.path.exists('$tmp/rogue-state/XX-000001/identity/identity.json')"
check "b: the core lists no such device" bash -c \
  "! TOK=$admin CA=$ca API=$api python3 $tmp/api.py GET /api/v1/fleet/devices | grep -q XX-000001"

# --- c. a revoked device is refused by mosquitto ----------------------------------------------
pub() {  # pub SERIAL DEVICE: one QoS 1 message as that device, with its certificate
  local d="$tmp/devs/$1/identity" f  # identity.json names the current generation's files
  f=$(python3 -c "import json; i=json.load(open('$d/identity.json'))
print(' '.join('$d/' + i[k] for k in ('ca_file', 'cert_file', 'key_file')))") || return 1
  set -- "$@" $f
  timeout 10 mosquitto_pub -h 127.0.0.1 -p "$bport" --cafile "$3" --cert "$4" --key "$5" \
    -i "$2-probe" -q 1 -t "weft/v1/edge/$2/probe" -m hello 2>>"$tmp/pub.err"
}
REV_SERIAL=SN-000$((N - 1)) REV=dev-0$((N - 1)) OK_SERIAL=SN-000$((N - 2)) OK=dev-0$((N - 2))
[[ $N == 1000 ]] || { REV_SERIAL=SN-000003 REV=dev-0003 OK_SERIAL=SN-000004 OK=dev-0004; }
check "c: $REV publishes with its certificate before the revocation" pub "$REV_SERIAL" "$REV"
as "$admin" fleet revoke "$REV" --reason "stolen from the test bench" >"$tmp/revoke.out" 2>&1
check "c: weft fleet revoke $REV" \
  bash -c "TOK=$admin CA=$ca API=$api python3 $tmp/api.py GET /api/v1/fleet/devices/$REV |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"revoked\"]'"
rev_cert=$(python3 -c "import json; print([d for d in json.load(open('$tmp/prov.json'))['devices']
  if d['id'] == '$REV'][0]['cert_serial'].lstrip('0'))")
crl_has() {  # the broker's CRL lists $rev_cert
  openssl crl -in "$state/broker/crl.pem" -noout -text | grep -A0 'Serial Number' |
    sed 's/.*: *//' | tr 'A-F' 'a-f' | sed 's/^0*//' | grep -qx "$rev_cert"
}
check "c: the broker's CRL lists its certificate" crl_has
refused() { ! pub "$REV_SERIAL" "$REV"; }
check "c: mosquitto refuses $REV's certificate after the revocation" wait_for 10 refused
check "c: $OK (not revoked) still publishes" pub "$OK_SERIAL" "$OK"
echo "     revoke: $(tr '\n' ' ' <"$tmp/revoke.out" | cut -c1-160)"

# --- d. a campaign over $M devices with injected failures ---------------------------------------
# Not through fleet(): $! must be weft-sim itself, not a subshell, for the kill below.
"$sim" fleet --core "$api" --core-ca "$ca" --factory "$tmp/ota-factory" --state "$tmp/ota-devs" \
  --mqtt --fail-health "$FAIL_RATE" --seed 7 --firmware 1.0.0 --report "$tmp/ota.json" >"$tmp/ota.out" 2>"$tmp/ota.err" &
fleet_pid=$!
wait_for 60 grep -q "^connected" "$tmp/ota.out" || die "the OTA fleet did not connect"
echo "     $(tr '\n' ' ' <"$tmp/ota.out")"
check "d: $M devices provisioned and connected over mqtts with their device certificates" \
  grep -q "^connected $M/$M " "$tmp/ota.out"
inventory_has() {  # the core's OTA inventory knows N devices of edge-gw-3 on firmware 1.0.0
  apicall GET /api/v1/ota/devices 2>/dev/null | python3 -c "
import json, sys
d = [x for x in json.load(sys.stdin) if x['hardware_model'] == 'edge-gw-3' and
     x['versions'].get('firmware') == '1.0.0']
sys.exit(0 if len(d) >= $M else 1)"
}
check "d: the core's inventory has the $M devices' state (firmware 1.0.0)" wait_for 60 inventory_has
head -c 65536 /dev/urandom >"$tmp/fw-1.1.0.bin"
apicall POST "/api/v1/ota/artifacts?kind=firmware&name=edge-gw-3&version=1.1.0&hardware_models=edge-gw-3" \
  "@$tmp/fw-1.1.0.bin" >"$tmp/artifact.json" || die "artifact upload: $(cat "$tmp/artifact.json")"
sha=$(jq_ "d['sha256']" <"$tmp/artifact.json")
camp='{"name": "fw 1.1.0", "artifact": "'$sha'", "target": {"hardware_models": ["edge-gw-3"],
  "sites": ["grenoble"]}, "waves": ["5%", "50%", "100%"], "success_threshold": 0.8,
  "error_threshold": 0.2, "health_timeout_s": 10, "device_timeout_s": 60}'
apicall POST /api/v1/ota/campaigns "$camp" >"$tmp/camp.json" || die "campaign: $(cat "$tmp/camp.json")"
cid=$(jq_ "d['id']" <"$tmp/camp.json")
check "d: a campaign of an uncertified firmware does not start" \
  bash -c "! TOK=$admin CA=$ca API=$api python3 $tmp/api.py POST /api/v1/ota/campaigns/$cid/start '{}' >/dev/null"
# The release through the governance board: security_lead + ot_engineer, two principals.
sam=$(mk_user sam security_lead); otto=$(mk_user otto ot_engineer)
for who in "sam security_lead" "otto ot_engineer"; do
  set -- $who
  t=$([[ $1 == sam ]] && echo "$sam" || echo "$otto")
  tok=$t apicall POST /api/v1/governance/approvals "{\"decision\": \"firmware_release\",
    \"subject\": \"edge-gw-3/1.1.0\", \"role\": \"$2\", \"note\": \"fleet test\"}" >/dev/null ||
    echo "     (approval by $1 as $2 refused)"
done
check "d: firmware edge-gw-3/1.1.0 certified after the board's approvals" \
  apicall POST /api/v1/ota/firmware/edge-gw-3/1.1.0/certify '{}'
apicall POST "/api/v1/ota/campaigns/$cid/start" '{}' >"$tmp/start.json" ||
  die "campaign start: $(cat "$tmp/start.json")"
t_camp=$(now)
paused() { apicall GET "/api/v1/ota/campaigns/$cid" | jq_ "d['state']" | grep -qx paused; }
check "d: the campaign pauses by itself" wait_for 60 paused
echo "     campaign paused after $(awk "BEGIN{printf \"%.1f\", $(now) - $t_camp}") s:" \
  "$(apicall GET "/api/v1/ota/campaigns/$cid" | jq_ "d['state_reason']")"
sleep 1.5  # the devices' last statuses and states reach the core and the report
apicall GET "/api/v1/ota/campaigns/$cid?devices=true" >"$tmp/camp-show.json"
apicall GET /api/v1/ota/devices >"$tmp/inventory.json"
kill -TERM "$fleet_pid"; wait "$fleet_pid" 2>/dev/null
python3 - "$tmp/camp-show.json" "$tmp/inventory.json" "$tmp/ota.json" >"$tmp/d.out" <<'PY'
import json, sys
camp, inv, rep = (json.load(open(f)) for f in sys.argv[1:4])
inv = {d["device"]: d for d in inv}
rep = {d["id"]: d for d in rep["devices"]}
states = camp["device_states"]
w = camp["current_wave"]
failed_states = ("failed", "rolled_back", "timed_out")
def frac(wave, what):
    ds = [d for d in states if d["wave"] == wave]
    return sum(d["state"] in what for d in ds) / max(1, len(ds)), len(ds)
f_now, n_now = frac(w, failed_states)
earlier_ok = all(frac(x, failed_states)[0] < camp["error_threshold"] for x in range(1, w))
later_untouched = all(d["state"] == "pending" for d in states if d["wave"] > w)
rolled = [d["device"] for d in states if d["state"] == "rolled_back"]
succeeded = [d["device"] for d in states if d["state"] == "succeeded"]
# Rolled back: the device was one with a failing health check, runs (and the core's inventory
# says) 1.0.0, and its last status says version 1.0.0 after target 1.1.0.
rb_ok = all(rep[d]["fail_health"] and rep[d]["running_firmware"] == "1.0.0" and
            inv[d]["versions"].get("firmware") == "1.0.0" and
            any(e.get("state") == "rolled_back" and e.get("version") == "1.0.0" for e in rep[d]["ota"])
            for d in rolled)
ok_ok = all(not rep[d]["fail_health"] and inv[d]["versions"].get("firmware") == "1.1.0"
            for d in succeeded)
sent = [d for d in states if d["state"] != "pending"]
healthy_sent_failed = [d["device"] for d in sent if not rep[d["device"]]["fail_health"] and
                       d["state"] != "succeeded" and d["state"] in failed_states]
print(camp["state"], w, f"{f_now:.3f}", n_now, camp["error_threshold"], earlier_ok,
      later_untouched, len(rolled), rb_ok, len(succeeded), ok_ok, len(healthy_sent_failed),
      sum(1 for d in rep.values() if d["running_firmware"] == "1.1.0"))
PY
read -r cstate cwave cfrac cn cthr earlier later nrolled rb_ok nsucc ok_ok bad_healthy n_new <"$tmp/d.out"
echo "     paused in wave $cwave: $cfrac of $cn failed (threshold $cthr); rolled back $nrolled," \
  "succeeded $nsucc"
check "d: paused in the wave whose failures reached the error threshold" \
  awk "BEGIN{exit !(\"$cstate\" == \"paused\" && $cfrac >= $cthr)}"
check "d: earlier waves stayed under the threshold; later waves got no command" \
  test "$earlier:$later" = "True:True"
check "d: some devices rolled back; each was an injected failure and reports 1.0.0 (inventory)" \
  test "$rb_ok" = True -a "$nrolled" -gt 0
check "d: the succeeded devices report 1.1.0; no healthy device failed" \
  test "$ok_ok:$bad_healthy" = "True:0"

# The SLA: 95% of edge-gw-3 on a certified firmware (>= 1.1.0) within 14 days of its release.
sla_check() {  # sla_check DAYS EXPECTED_STATUS
  apicall GET "/api/v1/ota/compliance?hardware_model=edge-gw-3&target=0.95&days=$1" >"$tmp/sla.json"
  python3 - "$tmp/sla.json" "$tmp/ota.json" "$2" "$M" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["reports"][0]
rep = json.load(open(sys.argv[2]))["devices"]
want_status, m = sys.argv[3], int(sys.argv[4])
on_new = sorted(d["id"] for d in rep if d["running_firmware"] == "1.1.0")
errors = []
def expect(name, got, want):
    if got != want: errors.append(f"{name}: got {got}, want {want}")
expect("release", r["release"], "1.1.0")
expect("devices", r["devices"], m)
expect("compliant", r["compliant"], len(on_new))
expect("percent", round(r["compliant_percent"], 6), round(100.0 * len(on_new) / m, 6))
expect("status", r["status"], want_status)
expect("devices timed", sorted(r["time_to_compliance_s"]["devices"]), on_new)
overdue = sorted(d["device"] for d in r["overdue"])
expect("overdue", overdue, [] if want_status == "at_risk" else
       sorted(d["id"] for d in rep if d["running_firmware"] != "1.1.0"))
print(f"     SLA window {r['window_days']} d: {r['compliant']}/{r['devices']} "
      f"({r['compliant_percent']:.1f}%) {r['status']}, overdue {len(r['overdue'])}, "
      f"p50 {r['time_to_compliance_s']['p50']} s", file=sys.stderr)
if errors: print("; ".join(errors), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}
check "d: the SLA report within 14 days: in scope, compliant, percent, at_risk, none overdue" \
  sla_check 14 at_risk
sleep 1
check "d: with a window already past: breached, the non-compliant devices overdue" \
  sla_check 0.00001 breached

echo "fleet process test: $failures failure(s) in $((SECONDS - t_start)) s"
((failures == 0))
