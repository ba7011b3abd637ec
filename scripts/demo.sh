#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run Weft's main job: `weft demo`
# (mosquitto if none runs, weft-sim, weft-edge and weft-core on the example plant; Ctrl-C stops
# everything). Arguments go to `weft demo`, e.g. --duration 60 or --dir /tmp/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
exec ./build/apps/weft demo "$@"
