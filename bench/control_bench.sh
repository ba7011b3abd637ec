#!/usr/bin/env bash
# control_bench.sh [BUILD_DIR]: issue 8's acceptance target, measured.
#   The HVAC optimiser (hvac_comfort) in autonomous mode, one ControlLoop per Lyon HVAC zone over
#   Modbus TCP to weft-sim's simulated PLCs, against the PLCs' own fixed schedule (21/18 degC) over
#   the same simulated week, same seed; plus a "peer" run (the schedule one degree lower).
#   Target: >= 10% less heat pump energy, comfort ([20, 24] degC) >= 95% of occupied minutes.
#   Seeds: SEEDS (default 1,2,3), each reported; DAYS (default 7).
# Exit status: 1 when the safety invariant broke (a remote setpoint outside [16, 23] or a step
# above max_step seen at the PLC) or a run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
bench="$build/bench/control_bench"
[[ -x "$bench" ]] || { echo "build first: ninja -C $build control_bench ($bench not found)" >&2; exit 2; }
exec timeout "${TIMEOUT_S:-1800}" "$bench" --plant examples/plant.yaml --seeds "${SEEDS:-1,2,3}" \
  --days "${DAYS:-7}" --zones "${ZONES:-lyon-hz-}"
