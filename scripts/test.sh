#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing, build, and run every test.
#   1. the normal build (g++, warnings as errors): all unit, golden and process tests;
#   2. an ASan+UBSan build (clang) of every library and test, with the libFuzzer targets: all
#      tests again under the sanitizers, and each fuzz target for a bounded time.
# WEFT_FUZZ_SECONDS (default 30, to keep build and tests inside the CI budget) bounds each
# fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
start=$SECONDS

# Both trees are built without full debug information: it is most of the link and I/O time on
# the 2-core CI machine. The sanitizer tree keeps line tables, so its reports still name lines.
echo "== build (release, -Werror)"
bash scripts/build.sh build -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG"
echo "== tests"
ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc)"

echo "== build (clang, ASan+UBSan, fuzzers)"
export CC=clang CXX=clang++
bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DWEFT_SANITIZE=ON -DWEFT_FUZZ=ON \
  -DWEFT_BUILD_APPS=OFF -DWEFT_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only \
  -DCMAKE_C_FLAGS_DEBUG=-gline-tables-only -DWEFT_FUZZ_SECONDS="${WEFT_FUZZ_SECONDS:-30}"
echo "== all tests and fuzzers under ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
ctest --test-dir build-asan --output-on-failure --timeout 900 -j "$(nproc)"

echo "== all tests passed in $((SECONDS - start))s"
