#!/usr/bin/env bash
# lake_bench.sh [BUILD_DIR]: the lakehouse's performance targets, each next to DuckDB, in one run.
#   1. writing ROWS (default 10 million) narrow telemetry rows (ts, site, line, asset, signal,
#      value, quality, edge) to one zstd Parquet file, from memory, one thread:
#      Weft's writer vs DuckDB's COPY ... (FORMAT parquet, COMPRESSION zstd) with threads = 1.
#      Targets: throughput >= 1.0x DuckDB's, file size <= 1.05x.
#   2. a filtered scan (one asset, one day) of the same file: Weft's reader vs DuckDB's
#      read_parquet, one thread, best of REPEAT runs. Target: speed >= 0.8x DuckDB's.
#   3. a check that both files hold the same rows (DuckDB reads Weft's file).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
bench="$build/bench/lake_bench"
[[ -x "$bench" ]] || { echo "build first: $bench not found" >&2; exit 2; }
interop=tests/interop
[[ -d $interop/node_modules/@duckdb ]] || { echo "run scripts/setup.sh first (npm ci)" >&2; exit 2; }
rows=${ROWS:-10000000}
repeat=${REPEAT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { sed -n "s/.*\"$1\":\\([0-9.e+-]*\\).*/\\1/p" <<<"$2"; }

echo "== 1. write $rows rows, zstd, one thread"
weft=$("$bench" write "$rows" "$tmp/weft.parquet")
duck=$(cd "$interop" && node duckdb_bench.mjs write "$rows" "$tmp/duckdb.parquet")
ws=$(field seconds "$weft"); ds=$(field seconds "$duck")
wb=$(stat -c %s "$tmp/weft.parquet"); db=$(stat -c %s "$tmp/duckdb.parquet")
awk -v r="$rows" -v ws="$ws" -v ds="$ds" -v wb="$wb" -v db="$db" 'BEGIN{
  printf "weft:   %.3f s = %.2f M rows/s, %d bytes\n", ws, r/ws/1e6, wb
  printf "duckdb: %.3f s = %.2f M rows/s, %d bytes\n", ds, r/ds/1e6, db
  printf "throughput ratio weft/duckdb = %.2f (target >= 1.0); size ratio weft/duckdb = %.3f (target <= 1.05)\n", ds/ws, wb/db }'

echo "== 2. filtered scan: asset-7 on 2026-11-03 (UTC), best of $repeat"
from=2026-11-03T00:00:00Z; to=2026-11-04T00:00:00Z
weft=$("$bench" scan "$tmp/weft.parquet" asset-7 "$from" "$to" "$repeat")
duck=$(cd "$interop" && node duckdb_bench.mjs scan "$tmp/weft.parquet" asset-7 "$from" "$to" "$repeat")
echo "weft:   $weft"
echo "duckdb: $duck"
awk -v ws="$(field seconds "$weft")" -v ds="$(field seconds "$duck")" \
    -v wn="$(field rows "$weft")" -v dn="$(field rows "$duck")" 'BEGIN{
  if (wn != dn) { printf "MISMATCH: weft matched %d rows, duckdb %d\n", wn, dn; exit 1 }
  printf "scan speed ratio weft/duckdb = %.2f (target >= 0.8)\n", ds/ws }'

echo "== 3. same rows in both files (DuckDB reads both)"
cat >"$tmp/same.mjs" <<JS
import { DuckDBInstance } from '$PWD/$interop/node_modules/@duckdb/node-api/lib/index.js';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll("select count(*) from (select * from read_parquet('$tmp/weft.parquet') except all select * from read_parquet('$tmp/duckdb.parquet'))");
const n = Number(r.getRows()[0][0]);
console.log(n === 0 ? 'identical rows' : 'DIFFERENT: ' + n + ' rows of weft.parquet are not in duckdb.parquet');
process.exit(n === 0 ? 0 : 1);
JS
node "$tmp/same.mjs"
