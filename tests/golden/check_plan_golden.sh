#!/usr/bin/env bash
# Compares `weft plan examples/plant.yaml --json` with tests/golden/plan_example.json.
# Run from the repository root. WEFT_UPDATE_GOLDEN=1 rewrites the golden file instead.
set -euo pipefail
weft="$1"
golden=tests/golden/plan_example.json
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
# A fixed --as-of keeps sign-off expiry, and so the output, independent of today's date.
"$weft" plan examples/plant.yaml --json --as-of 2026-11-25 >"$actual"
if [[ "${WEFT_UPDATE_GOLDEN:-}" == 1 ]]; then
  cp "$actual" "$golden"
  echo "updated $golden"
  exit 0
fi
if ! diff -u "$golden" "$actual"; then
  echo "FAIL: weft plan output differs from $golden (WEFT_UPDATE_GOLDEN=1 to accept)" >&2
  exit 1
fi
echo "plan output matches $golden"
