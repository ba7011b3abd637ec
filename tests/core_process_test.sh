#!/usr/bin/env bash
# weft-core end to end (issue 6's acceptance): weft-sim -> broker -> weft-edge (ack: core) ->
# broker -> weft-core -> Delta lake, checked against an independent subscriber.
#   phase 1, one worker: `weft uplink tail` (a persistent session started before the edge) keeps
#     every distinct batch the edge sent; weft-core is killed with kill -9 while ingesting and
#     restarted on the same lake; after the drain the lake's telemetry, aggregates, events and
#     predictions must equal, as multisets, the tail's records: nothing lost, nothing twice.
#     DuckDB (through node, tests/interop) reads the Parquet files the Delta log references and
#     must count the same rows. Garbage and a batch on another edge's topic are refused, counted
#     and kept, and the core keeps running.
#   phase 2, two workers (--worker 0/2, 1/2) and two edges whose ids hash to different workers,
#     on one lake: again lake == tail, no duplicates, each worker committed its own edge's batches.
# usage: core_process_test.sh WEFT_SIM WEFT_EDGE WEFT_CORE WEFT
# Environment: CORE_RUN_S (seconds before and after the kill, default 20), CORE_RUN2_S (phase 2,
# default 15), SIM_SPEED (default 2).
set -uo pipefail
source "$(dirname "$0")/process_lib.sh"  # check, free_port, wait_port
sim="$(realpath "$1")"; edge="$(realpath "$2")"; core="$(realpath "$3")"; weft="$(realpath "$4")"
root="$(pwd)"
interop="$root/tests/interop"
run_s=${CORE_RUN_S:-20}
run2_s=${CORE_RUN2_S:-15}
speed=${SIM_SPEED:-2}
for tool in mosquitto mosquitto_pub mosquitto_sub curl python3 node; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool is not installed (scripts/setup.sh)"; exit 1; }
done
tmp=$(mktemp -d)
chmod 777 "$tmp"
# KEEP_TMP=1 keeps the run's directory (logs, lakes, CSVs) for a post-mortem.
trap 'kill $(jobs -p) 2>/dev/null; sleep 0.3; kill -9 $(jobs -p) 2>/dev/null
      if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi' EXIT
t_start=$SECONDS
# metric PORT NAME: a sample's value (NAME with its labels, exactly as printed), as an integer.
metric() {
  curl -s --max-time 5 "127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {printf "%d\n", $2}'
}
# metric_sum PORT PREFIX: the sum of every sample whose name (labels included) starts with PREFIX.
metric_sum() {
  curl -s --max-time 5 "127.0.0.1:$1/metrics" |
    awk -v m="$2" 'index($1, m) == 1 {s += $2; n++} END {if (n) printf "%d\n", s}'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
declare -A pid port
logs_of_failure=()
dump_logs() {
  local f
  for f in $(printf '%s\n' "${logs_of_failure[@]}" | sort -u); do
    [[ -s "$f" ]] || continue
    echo "--- $f (tail)"; tail -15 "$f"
  done
}
die() { echo "FAIL $*"; dump_logs; exit 1; }

# start_broker DIR PORT: mosquitto with persistence (QoS 1 sessions survive restarts).
start_broker() {
  local dir="$1" p="$2"
  mkdir -p "$dir/db"; chmod 777 "$dir" "$dir/db"
  cat >"$dir/mosquitto.conf" <<CONF
listener $p 127.0.0.1
allow_anonymous true
persistence true
persistence_location $dir/db/
max_queued_messages 0
max_inflight_messages 0
CONF
  mosquitto -c "$dir/mosquitto.conf" >"$dir/broker.log" 2>&1 &
  pid[broker]=$!
  logs_of_failure+=("$dir/broker.log")
  wait_port "$p" || die "mosquitto did not start on $p"
}
# start_core NAME DIR BROKER_PORT WORKER: weft-core on DIR/lake; sets pid[NAME] and port[NAME].
start_core() {
  local name="$1" dir="$2" bp="$3" worker="$4" h
  : >"$dir/$name.out"
  "$core" --lake "$dir/lake" --broker "mqtt://127.0.0.1:$bp" --http 127.0.0.1:0 \
    --commit-interval 500ms --worker "$worker" >"$dir/$name.out" 2>>"$dir/$name.log" &
  pid[$name]=$!
  logs_of_failure+=("$dir/$name.log")
  for _ in $(seq 150); do grep -q "http=" "$dir/$name.out" 2>/dev/null && break; sleep 0.1; done
  h=$(grep -o 'http=127.0.0.1:[0-9]*' "$dir/$name.out" | cut -d: -f2)
  port[$name]=$h
  [[ -n "$h" ]] && grep -q "^weft-core worker ${worker} lake=$dir/lake http=" "$dir/$name.out"
}
# write_edge_yaml FILE ID SCOPE BROKER_PORT PLC_PORT BUFFER
write_edge_yaml() {
  local file="$1" id="$2" scope="$3" bp="$4" plc="$5" buffer="$6" endpoints i=0 a
  endpoints=$(for a in 10.20.0.31 10.20.0.32 10.20.0.33 10.20.0.50 10.40.0.31 10.40.0.50; do
    printf '"%s:502": "127.0.0.1:%d", ' "$a" $((plc + i)); i=$((i + 1)); done)
  cat >"$file" <<YAML
weft_edge: 1
id: $id
plant: $root/examples/plant.yaml
scope: [$scope]
broker: {url: "mqtt://127.0.0.1:$bp"}
sources:
  modbus: {timeout: 300ms, endpoints: {${endpoints%, }}}
uplink:
  ack: core
  dir: $buffer
  batch: {max_samples: 2000, max_interval: 500ms}
http: {listen: "127.0.0.1:0"}
pipeline:
  defaults: {max_interval: 60s, priority: normal}
  asset_types:
    motor:
      signals:
        vibration_rms: {deadband: 1%, window: 10s, stats: [mean, max, std], route: raw+aggregate}
        winding_temp: {deadband: 0.1}
    hvac_zone:
      priority: low
YAML
}
# start_edge NAME DIR: weft-edge on DIR/NAME.yaml; sets pid[NAME] and port[NAME].
start_edge() {
  local name="$1" dir="$2" h
  : >"$dir/$name.out"
  "$edge" --config "$dir/$name.yaml" >"$dir/$name.out" 2>>"$dir/$name.log" &
  pid[$name]=$!
  logs_of_failure+=("$dir/$name.log")
  for _ in $(seq 150); do grep -q "http=" "$dir/$name.out" 2>/dev/null && break; sleep 0.1; done
  h=$(grep -o 'http=127.0.0.1:[0-9]*' "$dir/$name.out" | cut -d: -f2)
  port[$name]=$h
  [[ -n "$h" ]]
}
# start_sim DIR BROKER_PORT PLC_PORT
start_sim() {
  "$sim" --plant "$root/examples/plant.yaml" --broker "mqtt://127.0.0.1:$2" --modbus-port "$3" \
    --speed "$speed" --seed 7 --log-level warn >/dev/null 2>"$1/sim.log" &
  pid[sim]=$!
  logs_of_failure+=("$1/sim.log")
}
# start_tail DIR BROKER_PORT CLIENT_ID: the ground truth of what the edges sent.
start_tail() {
  "$weft" uplink tail --broker "mqtt://127.0.0.1:$2" --client-id "$3" --topic weft/v1/uplink \
    --out "$1/tail.csv" 2>"$1/tail.log" &
  pid[tail]=$!
  logs_of_failure+=("$1/tail.log")
}
# stop NAME: SIGTERM, wait, and the exit code as the result.
stop() {
  local code
  kill -TERM "${pid[$1]}" 2>/dev/null
  for _ in $(seq 300); do kill -0 "${pid[$1]}" 2>/dev/null || break; sleep 0.1; done
  wait "${pid[$1]}"; code=$?
  return $code
}
# drain EDGE...: waits (at most 90 s) until every edge's buffer is empty (all committed by the
# core, as ack: core keeps a batch until then), twice 1 s apart.
drain() {
  local e b empty_rounds=0 total
  for _ in $(seq 180); do
    total=0
    for e in "$@"; do
      b=$(metric_sum "${port[$e]}" weft_edge_buffer_batches)
      total=$((total + ${b:-1}))
    done
    if ((total == 0)); then
      empty_rounds=$((empty_rounds + 1)); ((empty_rounds >= 2)) && return 0; sleep 1
    else
      empty_rounds=0; sleep 0.5
    fi
  done
  return 1
}
# settle CORE...: waits until the cores' committed batch counters have not moved for 3 s.
settle() {
  local prev="" cur c stable=0
  for _ in $(seq 60); do
    cur=""
    for c in "$@"; do cur+="$(metric "${port[$c]}" weft_core_ingest_batches_committed_total),"; done
    if [[ "$cur" == "$prev" ]]; then stable=$((stable + 1)); ((stable >= 6)) && return 0
    else stable=0; fi
    prev=$cur
    sleep 0.5
  done
  return 1
}
lake_ok() { "$weft" lake "$@" 2>>"$tmp/lake_cli.err"; }

# compare DIR: the lake under DIR/lake against DIR/tail.csv. Prints one line of numbers and
# exits 1 on any difference (the first ones described).
cat >"$tmp/compare.py" <<'PY'
import collections, csv, datetime, sys

d = sys.argv[1]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

def ts_us(s):  # lake scan: 2026-11-01T00:00:00.000001Z
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return (t - EPOCH) // datetime.timedelta(microseconds=1)

def val(s):  # both sides print the shortest round-trip form; compare as floats anyway
    if s == "":
        return "null"
    f = float(s)
    return "nan" if f != f else repr(f)

def read(name):
    with open(f"{d}/{name}", newline="") as f:
        return list(csv.DictReader(f))

tail = read("tail.csv")
want = {"telemetry": collections.Counter(), "aggregates": collections.Counter(),
        "events": collections.Counter(), "predictions": collections.Counter()}
batches = set()
for r in tail:
    batches.add((r["edge"], r["priority"], r["seq"]))
    k = r["kind"]
    base = (r["edge"], r["priority"], int(r["seq"]), r["asset"], r["signal"], int(r["ts_us"]),
            val(r["value"]))
    if k == "sample":
        want["telemetry"][base] += 1
    elif k == "aggregate":
        want["aggregates"][base] += 1
    elif k == "event" and r["signal"] == "prediction":
        want["predictions"][base[:4] + (int(r["ts_us"]), val(r["value"]))] += 1
    elif k == "event":
        want["events"][base] += 1
    else:
        sys.exit(f"tail.csv: unknown kind {k!r}")

cols = {"telemetry": ("signal", "ts", "value"), "aggregates": ("signal", "start_ts", "mean"),
        "events": ("kind", "ts", "value"), "predictions": (None, "ts", "value")}
bad = 0
out = []
lake_batches = set()
for table, (sig, ts, v) in cols.items():
    got = collections.Counter()
    for r in read(f"{table}.csv"):
        lake_batches.add((r["edge"], r["stream"], r["seq"]))
        key = (r["edge"], r["stream"], int(r["seq"]), r["asset"])
        if sig:
            key += (r[sig],)
        got[key + (ts_us(r[ts]), val(r[v]))] += 1
    w = want[table]
    missing = w - got
    extra = got - w
    # A (edge, stream, seq, asset, signal, ts) present more than once in the lake beyond what
    # the edge sent is a duplicate.
    dup_lake = sum(n - 1 for n in collections.Counter(k[:6] for k in got.elements()).values() if n > 1)
    dup_tail = sum(n - 1 for n in collections.Counter(k[:6] for k in w.elements()).values() if n > 1)
    n_got, n_want = sum(got.values()), sum(w.values())
    out.append(f"{table} lake={n_got} tail={n_want} missing={sum(missing.values())} "
               f"extra={sum(extra.values())} duplicate_keys={dup_lake - dup_tail}")
    if missing or extra or dup_lake > dup_tail:
        bad += 1
        for k in list(missing)[:5]:
            print(f"  {table}: missing from the lake: {k} x{missing[k]}", file=sys.stderr)
        for k in list(extra)[:5]:
            print(f"  {table}: in the lake but not sent (or twice): {k} x{extra[k]}", file=sys.stderr)
print("; ".join(out) + f"; batches tail={len(batches)}")
with open(f"{d}/numbers", "w") as f:
    n = {t: sum(c.values()) for t, c in want.items()}
    f.write(f"{n['telemetry']} {n['aggregates']} {n['events']} {n['predictions']} {len(batches)}\n")
sys.exit(1 if bad else 0)
PY

# duckdb DIR TABLE: DuckDB's count of the rows of the Delta table (files from the log's add
# actions less its removes, version 0 up) and of distinct (edge, stream, seq, asset, signal, ts).
cat >"$tmp/duckdb_count.mjs" <<'JS'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
const [interop, table] = process.argv.slice(2)
const require = createRequire(interop + '/package.json')
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href)
const log = table + '/_delta_log'
const commits = readdirSync(log).filter(f => /^\d{20}\.json$/.test(f)).sort()
if (commits.length === 0 || commits[0] !== '00000000000000000000.json') {
  console.error(`${log}: the log does not start at version 0`); process.exit(2)
}
const files = new Set()
commits.forEach((c, i) => {
  if (c !== String(i).padStart(20, '0') + '.json') { console.error(`${log}: gap before ${c}`); process.exit(2) }
  for (const line of readFileSync(`${log}/${c}`, 'utf8').split('\n')) {
    if (!line.trim()) continue
    const a = JSON.parse(line)
    if (a.add) files.add(decodeURIComponent(a.add.path))
    if (a.remove) files.delete(decodeURIComponent(a.remove.path))
  }
})
const parquet = [...files].map(p => `'${(table + '/' + p).replaceAll("'", "''")}'`)
const db = await DuckDBInstance.create(':memory:', { threads: '1' })
const c = await db.connect()
let rows = 0n, distinct = 0n
if (parquet.length > 0) {
  const r = await c.runAndReadAll(`SELECT count(*), count(DISTINCT (edge, stream, seq, asset, signal, ts))
      FROM read_parquet([${parquet.join(',')}], hive_partitioning = false)`)
  ;[rows, distinct] = r.getRows()[0]
}
console.log(`${rows} ${distinct} ${files.size} ${commits.length}`)
JS

# compare_phase DIR LABEL: scans the four tables and compares them with the tail.
compare_phase() {
  local d="$1" label="$2" t code
  for t in telemetry aggregates events predictions; do
    case $t in
      telemetry) cols=edge,stream,seq,asset,signal,ts,value ;;
      aggregates) cols=edge,stream,seq,asset,signal,start_ts,mean ;;
      events) cols=edge,stream,seq,asset,kind,ts,value ;;
      predictions) cols=edge,stream,seq,asset,ts,value ;;
    esac
    lake_ok scan "$d/lake/$t" --columns "$cols" >"$d/$t.csv" || {
      echo "FAIL weft lake scan $t: $(tail -3 "$tmp/lake_cli.err")"; failures=$((failures + 1)); }
  done
  python3 "$tmp/compare.py" "$d" >"$d/compare.txt" 2>"$d/compare.err"; code=$?
  sed "s/^/$label: /" "$d/compare.txt"; head -12 "$d/compare.err"
  check "$label: lake == what the edge sent (tail), as multisets, for all four tables" test "$code" -eq 0
}

# ============================ phase 1: one worker, kill -9 ====================================
p1="$tmp/p1"; mkdir -p "$p1"; chmod 777 "$p1"
bp=$(free_port) || die "no free port"
start_broker "$p1/broker" "$bp"
start_tail "$p1" "$bp" truth-1
sleep 1
kill -0 "${pid[tail]}" 2>/dev/null || die "weft uplink tail exited early: $(cat "$p1/tail.log")"

start_core core "$p1" "$bp" 0/1; check "weft-core starts and prints 'weft-core worker 0/1 lake=... http=...'" test $? -eq 0
[[ -n "${port[core]}" ]] || die "weft-core did not start"
check "weft-core /health answers 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:${port[core]}/health")" = 200
check "the four lake tables exist" bash -c "for t in telemetry aggregates events predictions; do \
  test -f '$p1/lake/'\$t/_delta_log/00000000000000000000.json || exit 1; done"

plc=$(free_port 6) || die "no free PLC ports"
start_sim "$p1" "$bp" "$plc"
write_edge_yaml "$p1/edge.yaml" edge-solo "lyon, brno" "$bp" "$plc" "$p1/buffer"
# A real batch of this edge, to publish it later on another edge's topic.
timeout 30 mosquitto_sub -h 127.0.0.1 -p "$bp" -t 'weft/v1/uplink/edge-solo/+' -C 1 -N \
  >"$p1/real.batch" 2>/dev/null &
start_edge edge "$p1" || die "weft-edge did not start"
sleep 3
kill -0 "${pid[sim]}" 2>/dev/null || die "weft-sim exited early"
sleep $((run_s - 3))

committed_before=$(metric "${port[core]}" weft_core_ingest_batches_committed_total)
rows_before=$(metric "${port[core]}" 'weft_core_lake_rows_total{table="telemetry"}')
check "weft-core is ingesting before the kill (${committed_before:-?} batches, ${rows_before:-?} rows)" \
  test "${committed_before:-0}" -gt 10
sleep "0.$((RANDOM % 10))"  # anywhere in the commit cycle
kill -9 "${pid[core]}"; wait "${pid[core]}" 2>/dev/null
sleep 5
check "the edge keeps its batches while the core is down" \
  test "$(metric_sum "${port[edge]}" weft_edge_buffer_batches)" -gt 0
start_core core "$p1" "$bp" 0/1; check "weft-core restarts on the same lake after kill -9" test $? -eq 0
[[ -n "${port[core]}" ]] || die "weft-core did not restart"
sleep "$run_s"

# Stop the simulator; the edge's buffer drains once the core has committed everything.
kill -TERM "${pid[sim]}"; wait "${pid[sim]}" 2>/dev/null
t0=$(now_ms)
drain edge; code=$?
check "the edge's buffer drains: every batch committed by the core ($(($(now_ms) - t0)) ms)" test "$code" -eq 0
settle core

# Bad input: garbage, and a real batch of edge-solo on edge e-x's topic.
rejected0=$(metric "${port[core]}" weft_core_ingest_rejected_total)
committed0=$(metric "${port[core]}" weft_core_ingest_batches_committed_total)
mosquitto_pub -h 127.0.0.1 -p "$bp" -q 1 -t weft/v1/uplink/e-x/normal -m garbage
if [[ -s "$p1/real.batch" ]]; then
  mosquitto_pub -h 127.0.0.1 -p "$bp" -q 1 -t weft/v1/uplink/e-x/normal -f "$p1/real.batch"
  want_rejected=2
else
  echo "FAIL could not capture a real batch of edge-solo"; failures=$((failures + 1)); want_rejected=1
fi
for _ in $(seq 50); do
  r=$(metric "${port[core]}" weft_core_ingest_rejected_total)
  (( ${r:-0} >= ${rejected0:-0} + want_rejected )) && break; sleep 0.1
done
check "garbage and a batch on another edge's topic are refused (rejected ${rejected0:-?} -> ${r:-?})" \
  test "${r:-0}" -eq $((${rejected0:-0} + want_rejected))
check "weft-core keeps running after bad input" kill -0 "${pid[core]}"
check "weft-core /health still 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:${port[core]}/health")" = 200
check "refused batches are kept in <lake>/../state/rejected" \
  test "$(find "$p1/state/rejected" -type f 2>/dev/null | wc -l)" -eq "$want_rejected"
check "refused batches committed nothing" \
  test "$(metric "${port[core]}" weft_core_ingest_batches_committed_total)" = "$committed0"
check "weft-core logs why it refused them" grep -q "published on the topic of edge 'e-x'" "$p1/core.log"

# Clean stops: the edge (it may send what it held), then the core once idle, then the tail.
stop edge; check "weft-edge stops cleanly" test $? -eq 0
sleep 2
settle core
duplicates1=$(metric "${port[core]}" weft_core_ingest_duplicates_total)
committed1=$(metric "${port[core]}" weft_core_ingest_batches_committed_total)
stop core; check "weft-core stops cleanly on SIGTERM" test $? -eq 0
stop tail
grep -E "weft uplink tail:" "$p1/tail.log" | tail -1

compare_phase "$p1" "phase 1"
read -r p1_rows p1_aggs p1_events p1_preds p1_batches <"$p1/numbers" 2>/dev/null
check "phase 1 moved real data (${p1_rows:-0} samples, ${p1_aggs:-0} aggregates, ${p1_events:-0} events)" \
  test "${p1_rows:-0}" -gt 5000 -a "${p1_aggs:-0}" -gt 0
check "no predictions without inference (${p1_preds:-?})" test "${p1_preds:-1}" -eq 0
check "weft lake count telemetry == the tail's samples" \
  test "$(lake_ok count "$p1/lake/telemetry")" = "${p1_rows:-x}"
if command -v node >/dev/null && [[ -d "$interop/node_modules/@duckdb/node-api" ]]; then
  read -r duck_rows duck_distinct duck_files duck_commits < <(node "$tmp/duckdb_count.mjs" \
    "$interop" "$p1/lake/telemetry" 2>"$p1/duckdb.err")
  all_files=$(find "$p1/lake/telemetry" -name '*.parquet' -not -path '*/_delta_log/*' | wc -l)
  echo "DuckDB: ${duck_rows:-?} rows (${duck_distinct:-?} distinct keys) in the ${duck_files:-?} files of ${duck_commits:-?} commits ($((all_files - ${duck_files:-0})) files on disk not in the log)"
  head -3 "$p1/duckdb.err"
  check "DuckDB reads the telemetry table's files and counts the same rows as weft" \
    test "${duck_rows:-x}" = "${p1_rows:-y}"
  check "DuckDB sees no duplicate (edge, stream, seq, asset, signal, ts)" \
    test "${duck_distinct:-x}" = "$(tail -n +2 "$p1/telemetry.csv" | cut -d, -f1-6 | sort -u | wc -l)"
else
  echo "FAIL node or tests/interop/node_modules missing (scripts/setup.sh installs them)"
  failures=$((failures + 1))
fi
kill -TERM "${pid[broker]}"; wait "${pid[broker]}" 2>/dev/null

# ============================ phase 2: two workers, two edges ===================================
p2="$tmp/p2"; mkdir -p "$p2"; chmod 777 "$p2"
# Two edges, one per site, whose ids are owned by different workers (FNV-1a 64 of the id,
# modulo 2, as ingestor.h says): edge-lyon, and the first of edge-brno, edge-brno-1, ... that
# hashes to the other worker.
read -r id_lyon id_brno w_lyon < <(python3 - <<'PY'
def fnv(s):
    h = 1469598103934665603
    for c in s.encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    return h
lyon = "edge-lyon"
brno = next(s for s in ["edge-brno"] + [f"edge-brno-{i}" for i in range(1, 100)]
            if fnv(s) % 2 != fnv(lyon) % 2)
print(lyon, brno, fnv(lyon) % 2)
PY
)
bp=$(free_port) || die "no free port"
start_broker "$p2/broker" "$bp"
start_tail "$p2" "$bp" truth-2
sleep 1
start_core core0 "$p2" "$bp" 0/2; check "worker 0/2 starts" test $? -eq 0
start_core core1 "$p2" "$bp" 1/2; check "worker 1/2 starts" test $? -eq 0
[[ -n "${port[core0]}" && -n "${port[core1]}" ]] || die "the core workers did not start"
plc=$(free_port 6) || die "no free PLC ports"
start_sim "$p2" "$bp" "$plc"
write_edge_yaml "$p2/edgeL.yaml" "$id_lyon" lyon "$bp" "$plc" "$p2/buffer-lyon"
write_edge_yaml "$p2/edgeB.yaml" "$id_brno" brno "$bp" "$plc" "$p2/buffer-brno"
start_edge edgeL "$p2" || die "weft-edge $id_lyon did not start"
start_edge edgeB "$p2" || die "weft-edge $id_brno did not start"
sleep "$run2_s"
kill -0 "${pid[sim]}" 2>/dev/null || die "weft-sim (phase 2) exited early"
kill -TERM "${pid[sim]}"; wait "${pid[sim]}" 2>/dev/null
drain edgeL edgeB; check "both edges' buffers drain" test $? -eq 0
stop edgeL; check "weft-edge $id_lyon stops cleanly" test $? -eq 0
stop edgeB; check "weft-edge $id_brno stops cleanly" test $? -eq 0
sleep 2
settle core0 core1
w0=$(metric "${port[core0]}" weft_core_ingest_batches_committed_total)
w1=$(metric "${port[core1]}" weft_core_ingest_batches_committed_total)
o0=$(metric "${port[core0]}" weft_core_ingest_other_shard_total)
o1=$(metric "${port[core1]}" weft_core_ingest_other_shard_total)
c0=$(metric "${port[core0]}" weft_core_ingest_conflicts_total)
c1=$(metric "${port[core1]}" weft_core_ingest_conflicts_total)
d0=$(metric "${port[core0]}" weft_core_ingest_duplicates_total)
d1=$(metric "${port[core1]}" weft_core_ingest_duplicates_total)
duplicates2=$((${d0:-0} + ${d1:-0}))
stop core0; check "worker 0/2 stops cleanly" test $? -eq 0
stop core1; check "worker 1/2 stops cleanly" test $? -eq 0
stop tail
grep -E "weft uplink tail:" "$p2/tail.log" | tail -1
echo "phase 2: $id_lyon -> worker $w_lyon, $id_brno -> worker $((1 - w_lyon)); worker 0 committed ${w0:-?} batches (skipped ${o0:-?} of the other's), worker 1 ${w1:-?} (skipped ${o1:-?})"
check "each worker committed batches and skipped the other's" \
  test "${w0:-0}" -gt 0 -a "${w1:-0}" -gt 0 -a "${o0:-0}" -gt 0 -a "${o1:-0}" -gt 0
check "no two workers wrote the same stream (conflicts ${c0:-?}+${c1:-?})" test "${c0:-1}" -eq 0 -a "${c1:-1}" -eq 0
compare_phase "$p2" "phase 2"
read -r p2_rows p2_aggs p2_events p2_preds p2_batches <"$p2/numbers" 2>/dev/null
check "phase 2 moved both edges' data" bash -c "grep -q '^$id_lyon,' '$p2/tail.csv' && grep -q '^$id_brno,' '$p2/tail.csv'"
# Each worker committed exactly its own edge's batches.
lyon_batches=$(tail -n +2 "$p2/tail.csv" | grep "^$id_lyon," | cut -d, -f1-3 | sort -u | wc -l)
brno_batches=$(tail -n +2 "$p2/tail.csv" | grep "^$id_brno," | cut -d, -f1-3 | sort -u | wc -l)
if ((w_lyon == 0)); then wl=${w0:-0} wb=${w1:-0}; else wl=${w1:-0} wb=${w0:-0}; fi
check "the worker owning $id_lyon committed its $lyon_batches batches, the other $id_brno's $brno_batches" \
  test "$wl" -eq "$lyon_batches" -a "$wb" -eq "$brno_batches"
kill -TERM "${pid[broker]}"; wait "${pid[broker]}" 2>/dev/null

for f in "$p1"/*.log "$p2"/*.log; do
  if grep -qiE 'AddressSanitizer|runtime error|terminate called|Aborted' "$f"; then
    echo "FAIL crash in $f"; failures=$((failures + 1))
  fi
done
echo "summary: phase 1 (kill -9 after ${run_s}s): ${p1_rows:-?} telemetry rows, ${p1_aggs:-?} aggregates, ${p1_events:-?} events in ${p1_batches:-?} batches; core committed ${committed_before:-?} batches before the kill and ${committed1:-?} after its restart, refused ${duplicates1:-?} duplicates; phase 2 (2 workers): ${p2_rows:-?} rows in ${p2_batches:-?} batches, ${duplicates2:-?} duplicates refused; $((SECONDS - t_start)) s"
if ((failures > 0)); then
  dump_logs
  echo "$failures check(s) failed"; exit 1
fi
echo "all core process checks passed"
