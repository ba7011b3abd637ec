#!/usr/bin/env bash
# The dashboard in a browser (issue 11): `weft demo` (mosquitto, weft-sim, weft-edge, weft-core
# serving <build>/web), then tests/dashboard/dashboard_test.mjs drives Debian's Chromium headless
# with playwright-core: login, plant overview with values, a live value changing, the asset
# chart, every page of the navigation, and a viewer without action buttons refused an admin call.
# Screenshots of each page are kept in ARTIFACTS (the build tree's test-artifacts/dashboard).
# usage: dashboard_process_test.sh WEFT ARTIFACTS   (weft-sim, weft-edge, weft-core next to WEFT)
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
weft="$(realpath "$1")"
artifacts="$2"
here="$(cd "$(dirname "$0")" && pwd)"
web="$(dirname "$(dirname "$weft")")/web"
tmp=$(mktemp -d)
chmod 777 "$tmp"
demo=
cleanup() {
  [[ -n "$demo" ]] && kill -INT "$demo" 2>/dev/null && wait "$demo" 2>/dev/null
  pkill -f "$tmp/" 2>/dev/null; sleep 0.3; pkill -9 -f "$tmp/" 2>/dev/null; rm -rf "$tmp"
}
trap cleanup EXIT

# What the browser test needs (scripts/setup.sh installs all of it).
missing=()
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || missing+=("chromium (apt-get install chromium)")
command -v node >/dev/null || missing+=("node (apt-get install nodejs)")
[[ -d "$here/dashboard/node_modules/playwright-core" ]] || missing+=("playwright-core (npm ci in tests/dashboard)")
[[ -f "$web/index.html" ]] || missing+=("the dashboard's build $web (npm ci in web/, then the target weft_web)")
if ((${#missing[@]} > 0)); then
  echo "FAIL missing: ${missing[*]}; run scripts/setup.sh"
  echo "0 passed, 1 failed"
  exit 1
fi

port=$(free_port)
"$weft" demo --dir "$tmp/d" --duration 300 --broker-port "$port" >"$tmp/demo.out" 2>"$tmp/demo.err" &
demo=$!
# The demo first trains its model and simulates 28 days of history (about 40 s, more under load), then starts its fleet.
for _ in $(seq 1800); do grep -q "running for" "$tmp/demo.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'dashboard  https://[0-9.:]*/' "$tmp/demo.out" | awk '{print $2}')
check "weft demo serves the dashboard ($url)" test -n "$url"
check "and prints its link with the admin token" grep -q "dashboard  https://.*/#token=weft_" "$tmp/demo.out"
if [[ -z "$url" ]]; then
  cat "$tmp/demo.out" "$tmp/demo.err"; tail -n 20 "$tmp"/d/logs/weft-core.log
  echo "$failures failure(s)"; exit 1
fi
base="${url%/}"
curl -s -o /dev/null -w '%{http_code} %{content_type}' --cacert "$tmp/d/core-state/tls/cert.pem" \
  "$base/" >"$tmp/index.txt"
check "GET / is the dashboard's index.html ($(cat "$tmp/index.txt"))" grep -q "^200 text/html" "$tmp/index.txt"
code=$(curl -s -o "$tmp/traversal.txt" -w '%{http_code}' --path-as-is \
  --cacert "$tmp/d/core-state/tls/cert.pem" "$base/../../../../etc/passwd")
check "a path out of the web root is refused ($code)" bash -c "[[ $code != 200 ]] && ! grep -q root: '$tmp/traversal.txt'"
# Let the lake fill a little: the asset chart reads a view over the last 15 minutes.
sleep 8

rm -rf "$artifacts"; mkdir -p "$artifacts"
NODE_EXTRA_CA_CERTS="$tmp/d/core-state/tls/cert.pem" timeout 180 node "$here/dashboard/dashboard_test.mjs" \
  --base "$base" --admin-token-file "$tmp/d/core-state/admin.token" --artifacts "$artifacts" \
  2>&1 | tee "$tmp/browser.out"
code=${PIPESTATUS[0]}
check "the browser test passes (screenshots in $artifacts)" test "$code" -eq 0
shots=$(ls "$artifacts"/*.png 2>/dev/null | wc -l)
check "a screenshot of each page is kept ($shots)" test "$shots" -ge 9
if ((failures > 0)); then tail -n 20 "$tmp/demo.err" "$tmp"/d/logs/weft-core.log; fi

kill -INT "$demo"
for _ in $(seq 300); do kill -0 "$demo" 2>/dev/null || break; sleep 0.1; done
check "the demo stops on Ctrl-C" bash -c "! kill -0 $demo 2>/dev/null"
wait "$demo" 2>/dev/null
demo=
echo "$failures failure(s)"
exit $((failures > 0))
