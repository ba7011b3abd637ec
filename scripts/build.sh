#!/usr/bin/env bash
# build.sh [BUILD_DIR] [extra cmake args...]: configures (once) and builds Weft with Ninja.
# Warnings are errors. Default build dir: build/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
if [[ ! -f "$dir/build.ninja" ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON "$@"
fi
cmake --build "$dir" --parallel "$(nproc)"
