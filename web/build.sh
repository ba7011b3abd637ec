#!/usr/bin/env bash
# Builds the dashboard with Vite into $WEFT_WEB_OUT (default ../build/web). Run by the CMake target
# weft_web. Downloads nothing: the packages come from `npm ci` (scripts/setup.sh). Without them it
# says so and builds nothing (the C++ build goes on; `weft demo` then runs without a dashboard).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x node_modules/.bin/vite ]]; then
  echo "web: node_modules missing: run scripts/setup.sh (npm ci in web/); the dashboard is not built" >&2
  exit 0
fi
exec node_modules/.bin/vite build --logLevel warn
