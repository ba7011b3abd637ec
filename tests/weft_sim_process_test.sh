#!/usr/bin/env bash
# Runs the real weft-sim binary as a user or a script would: generation to files, fault labels,
# exit codes and messages for bad input.
set -uo pipefail
sim="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

cat >"$tmp/faults.yaml" <<'YAML'
faults:
  - {at: 10min, asset: l1-sp-05, kind: bearing_wear, severity: 1}
  - {at: 5min, asset: l1-cp-01, signal: flow, kind: sensor_stuck, duration: 2min}
YAML
"$sim" --plant examples/plant.yaml --speed 0 --duration 3600 --seed 3 --faults "$tmp/faults.yaml" \
  --record "$tmp/a.csv" --labels "$tmp/labels.csv" --log-level warn >"$tmp/out" 2>"$tmp/err"
code=$?
check "generation exits 0" test "$code" -eq 0
check "record has a header" test "$(head -1 "$tmp/a.csv")" = "ts_us,asset,signal,value,sent"
rows=$(($(wc -l <"$tmp/a.csv") - 1))
check "record holds an hour of the plant (>1.3 M samples, got $rows)" test "$rows" -gt 1300000
check "labels: the stuck sensor, with start and end" \
  grep -q '^l1-cp-01,flow,sensor_stuck,0.5,2026-01-01T00:05:00.000Z,2026-01-01T00:07:00.000Z,$' \
  "$tmp/labels.csv"
check "labels: the bearing fault, still open" \
  grep -q '^l1-sp-05,,bearing_wear,1,2026-01-01T00:10:00.000Z,,$' "$tmp/labels.csv"

"$sim" --plant examples/plant.yaml --speed 0 --duration 3600 --seed 3 --faults "$tmp/faults.yaml" \
  --record "$tmp/b.csv" --log-level warn 2>/dev/null
check "same seed, same record" cmp -s "$tmp/a.csv" "$tmp/b.csv"

printf 'faults:\n  - {at: 1h, asset: nope, kind: bearing_wear}\n' >"$tmp/bad.yaml"
"$sim" --plant examples/plant.yaml --speed 0 --duration 10 --faults "$tmp/bad.yaml" \
  >"$tmp/out" 2>"$tmp/err"
code=$?
check "bad fault schedule exits 1" test "$code" -eq 1
check "bad fault schedule names file, line and column" grep -q "bad.yaml:2:21: error" "$tmp/err"

"$sim" --plant "$tmp/missing.yaml" >"$tmp/out" 2>"$tmp/err"; code=$?
check "missing plant exits 2" test "$code" -eq 2
"$sim" --plant examples/plant.yaml --broker mqtt://127.0.0.1:1 --duration 1 >"$tmp/out" 2>"$tmp/err"
code=$?
check "unreachable broker exits 3" test "$code" -eq 3
check "unreachable broker is named" grep -q "127.0.0.1:1" "$tmp/err"
"$sim" --plant examples/plant.yaml --speed -1 >"$tmp/out" 2>"$tmp/err"; code=$?
check "negative speed exits 2" test "$code" -eq 2

echo "$failures failed"
exit $((failures > 0))
