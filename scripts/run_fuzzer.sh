#!/usr/bin/env bash
# run_fuzzer.sh FUZZER WORKDIR SECONDS [SEED_DIR...]
# Runs a libFuzzer binary for a bounded time on a fresh corpus seeded from the files in SEED_DIRs,
# with the dictionary $FUZZ_DICT when set. Exits non-zero on a crash,
# leak, timeout or sanitizer report; the reproducer is left in WORKDIR/crashes.
set -euo pipefail
fuzzer="$1"; work="$2"; seconds="$3"; shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/crashes"
for seeds in "$@"; do
  [[ -d "$seeds" ]] || continue
  find "$seeds" -maxdepth 1 -type f -exec cp {} "$work/corpus/" \;
done
dict=()
[[ -n "${FUZZ_DICT:-}" && -f "${FUZZ_DICT}" ]] && dict=(-dict="$FUZZ_DICT")
"$fuzzer" "$work/corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -artifact_prefix="$work/crashes/" -print_final_stats=1 2>"$work/log" \
  || { tail -n 60 "$work/log"; echo "FUZZ FAILURE: reproducer in $work/crashes" >&2; exit 1; }
grep -E "^stat::number_of_executed_units|^#.*DONE" "$work/log" || true
echo "fuzzer ran ${seconds}s without a crash"
