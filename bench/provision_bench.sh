#!/usr/bin/env bash
# provision_bench.sh [BUILD_DIR]: issue 9's provisioning benchmark, as a ratio measured in one run.
#   1. weft-core's endpoint: `weft-sim fleet` provisions N factory identities (weft-sim factory)
#      with C devices at a time over HTTPS (ZtpClient: a fresh P-256 key, CSR, proof of
#      possession, TLS handshake, the core's checks, signing, SQLite commit, the broker's CRL/ACL
#      rewrite). Rate = certificates / wall time of the whole fleet run.
#   2. openssl on the same CSRs: each device's CSR again (its key from step 1, subject CN=<id>;
#      made before the clock starts), signed with the core's own fleet CA (<state>/fleet/ca.*)
#      by `openssl x509 -req -CA -CAkey` (one process per certificate, as a shell CA does),
#      sequentially and C at a time (xargs -P).
#   Printed: certificates/s of each and the ratios core / openssl. ROUNDS (default 1) repeats
#   step 1 with fresh identities (median). N (default 1000), C (default 64). Loopback only, a
#   private core and broker on free ports, every wait bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
n=${N:-1000} c=${C:-64} rounds=${ROUNDS:-1}
for b in weft-core weft-sim; do
  [[ -x $build/apps/$b ]] || { echo "build first: ninja -C $build $b" >&2; exit 2; }
done
for tool in openssl python3 mosquitto; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
tmp=$(mktemp -d)
chmod 755 "$tmp"  # mosquitto, started as root, runs as `mosquitto` and reads <state>/broker
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$tmp"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
rate() { awk "BEGIN{printf \"%.1f\", $1 / ($2)}"; }
median() { sort -g | awk '{a[NR]=$1} END{if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
sim="$build/apps/weft-sim"

echo "provision_bench: N=$n devices, C=$c at a time, $(nproc) cores"
"$sim" factory --out "$tmp/factory" --count "$((n * rounds))" >/dev/null
aport=$(free_port) bport=$(free_port)
state="$tmp/state"
mkdir -p "$tmp/lake"
"$build/apps/weft-core" --lake "$tmp/lake" --state "$state" --http 127.0.0.1:0 \
  --api-listen "127.0.0.1:$aport" --manufacturer-ca "$tmp/factory/manufacturer-ca/ca.pem" \
  --broker-listen "127.0.0.1:$bport" --broker "mqtts://127.0.0.1:$bport" \
  --provision-rate 1000000 --log-level warn >"$tmp/core.out" 2>"$tmp/core.err" &
for _ in $(seq 150); do [[ -s $state/broker/mosquitto.conf ]] && break; sleep 0.1; done
[[ -s $state/broker/mosquitto.conf ]] || { echo "weft-core wrote no broker config:"; cat "$tmp/core.err"; exit 1; }
mosquitto -c "$state/broker/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
for _ in $(seq 150); do (echo >/dev/tcp/127.0.0.1/$aport) 2>/dev/null && break; sleep 0.1; done
api="https://127.0.0.1:$aport" ca="$state/tls/cert.pem"
admin=$(cat "$state/admin.token")

# The allowlist over one connection (not measured).
python3 - "$tmp/factory/allowlist.csv" <<PY
import csv, http.client, json, ssl, sys
ctx = ssl.create_default_context(cafile="$ca"); ctx.check_hostname = False
conn = http.client.HTTPSConnection("127.0.0.1", $aport, context=ctx, timeout=30)
for r in csv.DictReader(open(sys.argv[1])):
    conn.request("POST", "/api/v1/fleet/allowlist", body=json.dumps(r),
                 headers={"Authorization": "Bearer $admin", "Content-Type": "application/json"})
    resp = conn.getresponse(); body = resp.read()
    if resp.status >= 300: sys.exit(f"allowlist {r['serial']}: HTTP {resp.status} {body[:200]}")
PY
python3 - <<PY
import http.client, json, ssl
ctx = ssl.create_default_context(cafile="$ca"); ctx.check_hostname = False
conn = http.client.HTTPSConnection("127.0.0.1", $aport, context=ctx, timeout=30)
conn.request("POST", "/api/v1/ota/hardware", body=json.dumps({"name": "edge-gw-2", "certified": True}),
             headers={"Authorization": "Bearer $admin", "Content-Type": "application/json"})
conn.getresponse().read()
PY

# --- 1. weft-core's endpoint ---------------------------------------------------------------------
core_rates=()
for r in $(seq "$rounds"); do
  # Round r takes identities [(r-1)n, rn): a factory directory of links to them.
  mkdir -p "$tmp/f$r"
  cp "$tmp/factory/allowlist.csv" "$tmp/f$r/"
  ls "$tmp/factory" | grep '^SN-' | sort | sed -n "$(((r - 1) * n + 1)),$((r * n))p" |
    while read -r s; do ln -s "$tmp/factory/$s" "$tmp/f$r/$s"; done
  t0=$(now)
  "$sim" fleet --core "$api" --core-ca "$ca" --factory "$tmp/f$r" --state "$tmp/devs" \
    --concurrency "$c" --report "$tmp/report$r.json" >"$tmp/fleet$r.out" 2>"$tmp/fleet$r.err" ||
    { echo "weft-sim fleet failed:"; tail -5 "$tmp/fleet$r.err"; exit 1; }
  wall=$(awk "BEGIN{print $(now) - $t0}")
  ok=$(python3 -c "import json; print(json.load(open('$tmp/report$r.json'))['provisioned'])")
  core_rates+=("$(rate "$ok" "$wall")")
  echo "  round $r: weft-core issued $ok certificates in $(printf %.2f "$wall") s: ${core_rates[-1]}/s" \
    "($(python3 -c "import json; r=json.load(open('$tmp/report$r.json')); s=sorted(d['seconds'] for d in r['devices']); print(f'per device p50 {s[len(s)//2]*1000:.0f} ms, p99 {s[int(.99*(len(s)-1))]*1000:.0f} ms, max attempts', max(d['attempts'] for d in r['devices']))"))"
done
core_rate=$(printf '%s\n' "${core_rates[@]}" | median)

# --- 2. openssl signing the same CSRs with the same CA -------------------------------------------
mkdir -p "$tmp/csr" "$tmp/out"
python3 -c "
import json
for d in json.load(open('$tmp/report1.json'))['devices']:
    i = '$tmp/devs/' + d['serial'] + '/identity/'
    print(d['serial'], d['id'], i + json.load(open(i + 'identity.json'))['key_file'])" >"$tmp/ids"
while read -r serial id key; do
  openssl req -new -key "$key" -subj "/CN=$id" -sha256 -out "$tmp/csr/$id.csr" 2>/dev/null ||
    { echo "openssl req failed for $serial ($key)"; exit 1; }
done <"$tmp/ids"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$tmp/ext.cnf"
fca="$state/fleet/ca.pem" fkey="$state/fleet/ca.key"
[[ -r $fca && -r $fkey ]] || { echo "the core's fleet CA is not at $state/fleet/ca.{pem,key}"; exit 1; }
sign() {  # sign ID: one certificate, random 128-bit serial, 30 days, as the core issues
  openssl x509 -req -in "$tmp/csr/$1.csr" -CA "$fca" -CAkey "$fkey" -set_serial "0x$(printf %08x%08x%08x%08x $SRANDOM $SRANDOM $SRANDOM $SRANDOM)" \
    -days 30 -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/out/$1.pem" 2>/dev/null
}
export -f sign; export tmp fca fkey
ids=$(cut -d' ' -f2 "$tmp/ids")
t0=$(now)
for id in $ids; do sign "$id"; done
seq_wall=$(awk "BEGIN{print $(now) - $t0}")
rm -f "$tmp/out"/*.pem
t0=$(now)
echo "$ids" | xargs -P "$c" -n 1 bash -c 'sign "$0"'
par_wall=$(awk "BEGIN{print $(now) - $t0}")
signed=$(ls "$tmp/out" | wc -l)
verify_ok=$(openssl verify -CAfile "$fca" "$tmp/out/$(head -1 <<<"$ids").pem" >/dev/null 2>&1 && echo yes || echo NO)
n1=$(wc -l <"$tmp/ids")
seq_rate=$(rate "$n1" "$seq_wall") par_rate=$(rate "$signed" "$par_wall")
echo "  openssl x509 -req, one process per CSR: $n1 in $(printf %.2f "$seq_wall") s: $seq_rate/s (sequential);" \
  "$signed in $(printf %.2f "$par_wall") s: $par_rate/s (xargs -P $c); certificates verify: $verify_ok"
echo
echo "weft-core endpoint: $core_rate certificates/s (median of $rounds, $c devices at a time, end to end over HTTPS)"
echo "openssl CA:         $seq_rate/s sequential, $par_rate/s with $c processes"
echo "ratio core/openssl: $(awk "BEGIN{printf \"%.2f\", $core_rate / $seq_rate}") (sequential)," \
  "$(awk "BEGIN{printf \"%.2f\", $core_rate / $par_rate}") (parallel)"
