#!/usr/bin/env bash
# `weft lake` as users and scripts run it: real processes, real files, DuckDB reading what Weft
# wrote, concurrent writers, kill -9 during commits.
set -uo pipefail
weft="$(realpath "$1")"
interop="$(pwd)/tests/interop"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
check() {  # check NAME COMMAND...
  local name="$1"; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
lake() { "$weft" lake "$@"; }
t="$tmp/telemetry"

# --- create, append (CSV and JSONL), scan, count ---------------------------------------------
lake create "$t" --schema "ts timestamp not null, asset string, value double, quality int" \
  --partition-by asset 2>"$tmp/err"; code=$?
check "create exits 0" test "$code" -eq 0
check "create wrote version 0" test -f "$t/_delta_log/00000000000000000000.json"
lake create "$t" --schema "ts timestamp" 2>"$tmp/err"; code=$?
check "create again exits 1" test "$code" -eq 1
check "create again says the table exists" grep -q "already exists" "$tmp/err"
lake create "$tmp/x" --schema "ts timestmp" 2>"$tmp/err"
check "bad schema names the type and a fix" grep -q "unknown type 'timestmp'; did you mean 'timestamp'" "$tmp/err"

cat >"$tmp/a.csv" <<'CSV'
ts,asset,value,quality
2026-11-01T00:00:00Z,m1,1.5,192
2026-11-01T00:00:01Z,m2,0.1,192
2026-11-02T00:00:00Z,m1,,0
CSV
lake append "$t" --from "$tmp/a.csv" 2>"$tmp/err"; code=$?
check "append CSV exits 0" test "$code" -eq 0
check "append CSV reports version 1" grep -q "appended 3 rows in 2 files as version 1" "$tmp/err"
cat >"$tmp/b.jsonl" <<'JSONL'
{"ts": "2026-11-02T12:00:00Z", "asset": "p1", "value": 1e300}
{"ts": "2026-11-03T00:00:00.000001Z", "asset": "m1", "value": -2.25, "quality": 192}
JSONL
lake append "$t" --from "$tmp/b.jsonl" 2>"$tmp/err"; code=$?
check "append JSONL exits 0" test "$code" -eq 0
check "count is 5" test "$(lake count "$t")" = 5
check "count at version 1 is 3" test "$(lake count "$t" --version 1)" = 3

lake scan "$t" --where "asset = 'm1'" >"$tmp/out" 2>"$tmp/err"; code=$?
check "scan exits 0" test "$code" -eq 0
sort "$tmp/out" >"$tmp/sorted"
cat >"$tmp/expect" <<'CSV'
2026-11-01T00:00:00.000000Z,m1,1.5,192
2026-11-02T00:00:00.000000Z,m1,,0
2026-11-03T00:00:00.000001Z,m1,-2.25,192
ts,asset,value,quality
CSV
check "scan --where prints the header and the rows (µs timestamps, null as empty)" \
  diff "$tmp/sorted" "$tmp/expect"
lake scan "$t" --columns value,ts --where "value > 1 and ts < '2026-11-02T12:00:00Z'" \
  >"$tmp/out"
check "scan --columns keeps the order asked" diff "$tmp/out" <(printf 'value,ts\n1.5,2026-11-01T00:00:00.000000Z\n')
lake scan "$t" --where "value >= 1e300" --format jsonl >"$tmp/out"
check "scan --format jsonl" grep -qx '{"ts":"2026-11-02T12:00:00.000000Z","asset":"p1","value":1e+300,"quality":null}' "$tmp/out"
lake scan "$t" --version 1 --columns asset >"$tmp/out"
check "scan --version 1 sees only version 1's rows" test "$(wc -l <"$tmp/out")" -eq 4
lake scan "$t" --where "asest = 'm1'" >"$tmp/out" 2>"$tmp/err"; code=$?
check "scan with a misspelt column exits 1 with a hint" \
  bash -c "test $code -eq 1 && grep -q \"did you mean 'asset'\" '$tmp/err'"
lake scan "$t" --as-of "2100-01-01T00:00:00Z" --columns asset >"$tmp/out"
check "scan --as-of a later time reads the latest version" test "$(wc -l <"$tmp/out")" -eq 6
lake scan "$t" --as-of "2000-01-01T00:00:00Z" >"$tmp/out" 2>"$tmp/err"; code=$?
check "scan --as-of before the table exits 1" test "$code" -eq 1

lake scan "$tmp/missing" >"$tmp/out" 2>"$tmp/err"; code=$?
check "scan of a missing table exits 1, says so and creates nothing" \
  bash -c "test $code -eq 1 && grep -q 'no Delta table at' '$tmp/err' && test ! -e '$tmp/missing'"

# --- bad input never appends anything ----------------------------------------------------------
printf 'ts,asset,value\n2026-11-01T00:00:00Z,m1,abc\n' >"$tmp/bad.csv"
lake append "$t" --from "$tmp/bad.csv" 2>"$tmp/err"; code=$?
check "bad CSV exits 1 naming file, line and column" \
  bash -c "test $code -eq 1 && grep -q \"bad.csv:2: column 'value': 'abc' is not a number\" '$tmp/err'"
check "bad CSV appended nothing" test "$(lake count "$t")" = 5

# --- idempotent appends (txn) -----------------------------------------------------------------
lake append "$t" --from "$tmp/a.csv" --app-id edge-1 --txn-version 7 2>"$tmp/err"
lake append "$t" --from "$tmp/a.csv" --app-id edge-1 --txn-version 7 2>"$tmp/err"; code=$?
check "a repeated txn version exits 0" test "$code" -eq 0
check "a repeated txn version appends nothing" grep -q "already committed" "$tmp/err"
check "count after the idempotent pair is 8" test "$(lake count "$t")" = 8

# --- history, checkpoint, optimize, vacuum -----------------------------------------------------
lake history "$t" >"$tmp/hist"
check "history has one line per commit" test "$(wc -l <"$tmp/hist")" -eq 4
check "history names the operations" grep -q '"operation":"CREATE TABLE"' "$tmp/hist"
lake checkpoint "$t" 2>"$tmp/err"; code=$?
check "checkpoint exits 0" test "$code" -eq 0
check "checkpoint file and _last_checkpoint written" \
  test -f "$t/_delta_log/00000000000000000003.checkpoint.parquet" -a -f "$t/_delta_log/_last_checkpoint"
lake optimize "$t" 2>"$tmp/err"; code=$?
check "optimize exits 0" test "$code" -eq 0
check "optimize compacted m1's files" grep -q "compacted" "$tmp/err"
check "count unchanged by optimize" test "$(lake count "$t")" = 8
lake scan "$t" --where "asset = 'm1'" | sort >"$tmp/after"
lake scan "$t" --version 3 --where "asset = 'm1'" | sort >"$tmp/before"
check "optimize keeps every row" diff "$tmp/before" "$tmp/after"
lake vacuum "$t" --retain-hours 0 >"$tmp/out" 2>"$tmp/err"; code=$?
check "vacuum exits 0 and deletes the compacted files" \
  bash -c "test $code -eq 0 && test \$(wc -l <'$tmp/out') -ge 2"
check "table still reads after vacuum" test "$(lake count "$t")" = 8

# --- DuckDB and hyparquet read every data file and the checkpoint -----------------------------
if command -v node >/dev/null; then
  files=0 bad=0
  for f in $(find "$t" -name '*.parquet'); do
    files=$((files + 1))
    if ! (cd "$interop" && node parquet_check.mjs "$f" >/dev/null 2>"$tmp/node.err"); then
      echo "FAIL independent readers on $f: $(head -3 "$tmp/node.err")"; bad=$((bad + 1))
    fi
  done
  failures=$((failures + bad))
  check "DuckDB and hyparquet read all $files Parquet files (data and checkpoint) alike" \
    test "$bad" -eq 0 -a "$files" -ge 3
  check "the checkpoint is among them" bash -c "find '$t/_delta_log' -name '*.checkpoint.parquet' | grep -q ."
else
  echo "FAIL node is not installed (scripts/setup.sh installs it)"; failures=$((failures + 1))
fi

# --- 4 processes x 50 commits at once -----------------------------------------------------------
c="$tmp/concurrent"
lake create "$c" --schema "writer string, n long" 2>/dev/null
for w in 1 2 3 4; do
  (
    for n in $(seq 1 50); do
      printf 'writer,n\nw%s,%s\n' "$w" "$n" >"$tmp/w$w.csv"
      lake append "$c" --from "$tmp/w$w.csv" 2>>"$tmp/w$w.err" || echo "append failed" >>"$tmp/w$w.err"
    done
  ) &
done
wait
check "no concurrent append failed" bash -c "! grep -q 'append failed' '$tmp'/w?.err"
check "200 rows after 4 x 50 concurrent appends" test "$(lake count "$c")" = 200
check "versions 0..200 all present" test -f "$c/_delta_log/00000000000000000200.json" -a \
  "$(ls "$c/_delta_log" | grep -c '\.json$')" -eq 201
lake scan "$c" | tail -n +2 | sort | uniq -d >"$tmp/dups"
check "every commit present exactly once" test ! -s "$tmp/dups"

# --- kill -9 during commits --------------------------------------------------------------------
k="$tmp/killed"
lake create "$k" --schema "n long" 2>/dev/null
printf 'n\n1\n' >"$tmp/one.csv"
for round in $(seq 1 15); do
  lake append "$k" --from "$tmp/one.csv" 2>/dev/null &
  pid=$!
  sleep "0.0$((RANDOM % 9 + 1))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
n=$(lake count "$k" 2>"$tmp/err"); code=$?
check "table readable after kill -9 during commits" test "$code" -eq 0
versions=$(ls "$k/_delta_log" | grep -c '\.json$')
check "rows = committed versions (no partial commit)" test "$n" -eq $((versions - 1))
bad_json=0
for f in "$k"/_delta_log/*.json; do
  node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n"))
             if (l) JSON.parse(l)' "$f" 2>/dev/null || bad_json=1
done
check "every commit file is complete JSON" test "$bad_json" -eq 0

# --- the same table on S3 (s3rver, a real S3 emulator process on loopback) ---------------------
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$tmp/s3"
node --openssl-legacy-provider "$interop/s3rver_main.mjs" --port "$port" --directory "$tmp/s3" \
  --bucket lake >"$tmp/s3rver.out" 2>&1 &
s3pid=$!
for _ in $(seq 100); do grep -q ready "$tmp/s3rver.out" && break; sleep 0.1; done
check "s3rver started" grep -q ready "$tmp/s3rver.out"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=S3RVER \
  AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
s3t=s3://lake/plant/telemetry
lake create "$s3t" --schema "ts timestamp not null, asset string, value double, quality int" \
  --partition-by asset 2>"$tmp/err"
check "create on S3" test $? -eq 0
lake append "$s3t" --from "$tmp/a.csv" 2>"$tmp/err" && lake append "$s3t" --from "$tmp/b.jsonl" 2>>"$tmp/err"
check "append CSV and JSONL to S3" test $? -eq 0
check "count on S3 is 5" test "$(lake count "$s3t")" = 5
lake scan "$s3t" --where "asset = 'm1'" | sort >"$tmp/s3sorted"
check "scan on S3 returns what the local table returns" diff "$tmp/s3sorted" "$tmp/expect"
check "the data files are objects in the bucket" \
  bash -c "find '$tmp/s3/lake/plant/telemetry' -name '*.parquet*' | grep -q ."
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
kill "$s3pid" 2>/dev/null; wait "$s3pid" 2>/dev/null

echo "$failures failures"
test "$failures" -eq 0
