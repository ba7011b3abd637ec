#!/usr/bin/env bash
# Runs the real weft binary as a user or a script would and checks exit codes and streams.
set -uo pipefail
weft="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

"$weft" plan examples/plant.yaml >"$tmp/out" 2>"$tmp/err"; code=$?
check "example plan exits 0" test "$code" -eq 0
check "example plan prints the ranked table" grep -q '^rank ' "$tmp/out"
check "example plan prints the formula" grep -q '^score = 100 x' "$tmp/out"

"$weft" plan examples/plant.yaml --json >"$tmp/out" 2>"$tmp/err"; code=$?
check "--json exits 0" test "$code" -eq 0
check "--json prints JSON with ok=true" grep -q '"ok": true' "$tmp/out"

cat >"$tmp/bad.yaml" <<'YAML'
weft: 1
enterprise: {name: Bad}
economics: {currency: EUR, energy_price: 0.2 EUR/kWh, grid_carbon_factor: 0.4 kgCO2e/kWh,
            labour_rate: 60 EUR/h, downtime_cost: 1000 EUR/h}
sites:
  - id: s1
    areas:
      - id: a1
        lines:
          - id: l1
            assets:
              - {id: m1, type: moter}
              - {id: m1, type: pump, connection: {sparkplug: {group: g, node: n}}}
YAML
"$weft" plan "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"; code=$?
check "invalid plant exits 1" test "$code" -eq 1
check "invalid plant: unknown type named with line and column" \
  grep -q "bad.yaml:12:32: error: .*unknown asset type 'moter'" "$tmp/err"
check "invalid plant: the duplicate is reported in the same run" \
  grep -q "bad.yaml:13:22: error: .*duplicate asset id 'm1'" "$tmp/err"
check "invalid plant: nothing on stdout" test ! -s "$tmp/out"

"$weft" plan "$tmp/bad.yaml" --json >"$tmp/out" 2>"$tmp/err"; code=$?
check "invalid plant --json exits 1" test "$code" -eq 1
check "invalid plant --json lists diagnostics" grep -q '"kind": "unknown_asset_type"' "$tmp/out"

"$weft" plan "$tmp/does-not-exist.yaml" >"$tmp/out" 2>"$tmp/err"; code=$?
check "missing file exits 2" test "$code" -eq 2
check "missing file is named" grep -q "does-not-exist.yaml" "$tmp/err"

"$weft" plan examples/plant.yaml --as-of 2026-13-01 >"$tmp/out" 2>"$tmp/err"; code=$?
check "bad --as-of exits 2" test "$code" -eq 2

"$weft" frobnicate >"$tmp/out" 2>"$tmp/err"; code=$?
check "unknown command exits 2" test "$code" -eq 2

echo "$failures failed"
exit $((failures > 0))
