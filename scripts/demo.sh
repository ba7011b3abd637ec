#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run Weft's main job on the
# example plant. Until `weft demo` exists (simulator, edge, core, dashboard), the main job is
# `weft plan`, the value-chain report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
exec ./build/apps/weft plan examples/plant.yaml "$@"
