#!/usr/bin/env bash
# mlops_bench.sh [BUILD_DIR]: the acceptance figures of issue 7, each next to its reference in the
# same run.
#   1. Predictive maintenance on simulated bearing-wear runs not used for training
#      (examples/models/bearing_risk.yaml: 64 runs of 21 days, 30% held out by run): the model's
#      run-level precision, recall, F1 and median lead time against the threshold-on-vibration
#      baseline (threshold chosen on the training runs to maximise its F1), scored identically;
#      wall time of `weft model train` (dataset, training, evaluation, physics sweep, registration).
#   2. A deliberately non-physical candidate (the same spec with risk forced to FALL as vibration
#      rises): refused, with the violated constraint named.
#   3. Monitoring: injected drift, actuator saturation, cooling loss and out-of-envelope ambient,
#      windows to detection against the stated bound, and the false-alarm rate on healthy runs
#      (monitoring_acceptance_test prints the table).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
weft="$build/apps/weft"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== 1. bearing-wear runs, model vs vibration threshold (held-out runs)"
start=$(date +%s.%N)
"$weft" model train examples/models/bearing_risk.yaml --state "$tmp/state" --json >"$tmp/good.json"
end=$(date +%s.%N)
python3 - "$tmp/good.json" "$start" "$end" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); m = d["metrics"]
print(f"{'':10} {'threshold':>22} {'precision':>9} {'recall':>6} {'F1':>5} {'median lead':>11} {'p10 lead':>8} {'false alarms':>12}")
for k in ("model", "baseline"):
    s = m[k]; r = s["runs"]
    print(f"{k:10} {s['score'] + ' >= ' + format(s['threshold'], '.3g'):>22} {r['precision']:9.2f} {r['recall']:6.2f} {r['f1']:5.2f} {r['median_lead_h']:9.1f} h {r['p10_lead_h']:6.1f} h {r['false_alarms']:12d}")
fm, fb = m["model"]["runs"]["f1"], m["baseline"]["runs"]["f1"]
print(f"F1 model / baseline = {fm / fb if fb else float('inf'):.2f}; test runs {m.get('test_runs')}, "
      f"train runs {m.get('train_runs')}; physics validation {'passed' if d['validation']['passed'] else 'FAILED'}; "
      f"weft model train took {float(sys.argv[3]) - float(sys.argv[2]):.1f} s")
PY

echo "== 2. a non-physical candidate"
sed 's/monotone: {vibration_rms: increasing/monotone: {vibration_rms: decreasing/' \
  examples/models/bearing_risk.yaml >"$tmp/bad.yaml"
grep -q "vibration_rms: decreasing" "$tmp/bad.yaml"
set +e
"$weft" model train "$tmp/bad.yaml" --state "$tmp/state" >"$tmp/bad.out"
code=$?
set -e
echo "exit $code (1 = registered, refused by validation)"
grep -E "^FAILED|REFUSED|can not be promoted" "$tmp/bad.out"

echo "== 3. monitoring: windows to detection and false alarms"
"$build/src/mlops/monitoring/monitoring_acceptance_test" | sed -n '/scenario/,/lake:/p'
