#!/usr/bin/env bash
# core_bench.sh [BUILD_DIR]: weft-core's ingest targets (issue 6), each next to peers measured in
# the same run, reported as ratios.
#   1. Throughput: core_ingest_bench publishes pre-built edge batches (the example plant's 431
#      signals, 5,000 samples a batch, EDGES edges) as fast as the broker takes them; weft-core
#      ingests them into Delta. Rate = samples / (first publish .. the last batch committed).
#      Peers on the same stream: mosquitto_sub draining it (the broker's delivery rate), and the
#      lake writer alone (decode + rows + LakeTable::Append, no MQTT) on the same batches.
#      Target: >= 1,000,000 samples/s into Delta.
#   2. Latency: the same load paced at RATE samples/s (default 1,000,000), sample timestamps =
#      their scheduled send time; weft-core reports sample -> readable-in-the-lake p50/p99
#      (weft_core_ingest_latency_p99_ms). Target: p99 < 5 s.
# RUNS (default 3) runs of step 1, medians reported. Loopback only, private broker on a free
# port, every wait bounded. Other work on the machine makes figures noisy: hence the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
edges=${EDGES:-4}
batches=${BATCHES:-100}   # per edge
samples=5000
rate=${RATE:-1000000}
runs=${RUNS:-3}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
for b in weft-core; do
  [[ -x $build/apps/$b ]] || { echo "build first: ninja -C $build $b core_ingest_bench" >&2; exit 2; }
done
gen="$build/bench/core_ingest_bench"
[[ -x $gen ]] || { echo "build first: ninja -C $build core_ingest_bench" >&2; exit 2; }

median() { sort -g | awk '{a[NR]=$1} END{if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
field() { grep -oE "(^| )$1=[^ ]*" | head -1 | cut -d= -f2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
metric() { curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

# A fresh broker for every measurement: weft-core keeps a persistent session, so a broker that
# outlived a run would hand the next core the batches published in between.
start_broker() {  # -> port, broker, broker_pid
  port=$(free_port)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n' \
    "$port" >"$tmp/m.conf"
  mosquitto -c "$tmp/m.conf" >"$tmp/mosquitto.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  broker="mqtt://127.0.0.1:$port"
}
stop_broker() { kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null || true; }
total=$((edges * batches))
total_samples=$((total * samples))

start_core() {  # start_core LAKE -> core_pid, core_http
  "$build/apps/weft-core" --lake "$1" --broker "$broker" --http 127.0.0.1:0 \
    --commit-interval "${COMMIT_INTERVAL:-1s}" --log-level warn >"$tmp/core.out" 2>"$tmp/core.log" &
  core_pid=$!
  for _ in $(seq 100); do grep -q "http=" "$tmp/core.out" 2>/dev/null && break; sleep 0.1; done
  core_http=$(grep -o 'http=127.0.0.1:[0-9]*' "$tmp/core.out" | cut -d: -f2)
  [[ -n $core_http ]] || { echo "weft-core did not start:"; cat "$tmp/core.log"; exit 1; }
}
stop_core() { kill "$core_pid" 2>/dev/null; wait "$core_pid" 2>/dev/null || true; }
wait_committed() {  # wait_committed N -> prints the time the count reached N
  local n=0
  for _ in $(seq 6000); do
    n=$(metric "$core_http" weft_core_ingest_batches_committed_total); n=${n%.*}
    [[ ${n:-0} -ge $1 ]] && { now; return 0; }
    sleep 0.05
  done
  echo "timeout: $n of $1 batches committed" >&2; return 1
}

echo "== 1. throughput: $edges edges x $batches batches x $samples samples = $total_samples samples"
: >"$tmp/results"
for run in $(seq "$runs"); do
  # weft-core end to end.
  start_broker
  rm -rf "$tmp/lake"; start_core "$tmp/lake"
  t0=$(now)
  "$gen" publish --broker "$broker" --edges "$edges" --batches "$batches" --samples "$samples" \
    --rate 0 >"$tmp/pub.out"
  pub_start_us=$(field start_us <"$tmp/pub.out")
  t_end=$(wait_committed "$total")
  core_s=$(awk -v a="$pub_start_us" -v b="$t_end" 'BEGIN{printf "%.3f", b - a / 1e6}')
  core_cpu=$(awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$core_pid/stat")
  rows=$(metric "$core_http" 'weft_core_lake_rows_total{table="telemetry"}')
  stop_core
  stop_broker
  # mosquitto_sub draining the same stream.
  start_broker
  timeout 300 mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t 'weft/v1/uplink/#' -C "$total" \
    >/dev/null &
  sub_pid=$!
  sleep 0.5
  "$gen" publish --broker "$broker" --edges "$edges" --batches "$batches" --samples "$samples" \
    --rate 0 >"$tmp/pub2.out"
  pub2_start_us=$(field start_us <"$tmp/pub2.out")
  wait "$sub_pid"
  sub_s=$(awk -v a="$pub2_start_us" -v b="$(now)" 'BEGIN{printf "%.3f", b - a / 1e6}')
  stop_broker
  # The lake writer alone.
  rm -rf "$tmp/lake2"
  "$gen" lake-writer --lake "$tmp/lake2" --edges "$edges" --batches "$batches" \
    --samples "$samples" >"$tmp/lw.out"
  lw=$(field lake_writer_msps <"$tmp/lw.out")
  core_msps=$(awk -v n="$total_samples" -v s="$core_s" 'BEGIN{printf "%.3f", n / s / 1e6}')
  sub_msps=$(awk -v n="$total_samples" -v s="$sub_s" 'BEGIN{printf "%.3f", n / s / 1e6}')
  line="RESULT core_msps=$core_msps rows=${rows%.*} core_cpu_s=$core_cpu sub_msps=$sub_msps lake_writer_msps=$lw"
  line="$line core_to_sub=$(awk -v a="$core_msps" -v b="$sub_msps" 'BEGIN{printf "%.3f", a / b}')"
  line="$line core_to_lake_writer=$(awk -v a="$core_msps" -v b="$lw" 'BEGIN{printf "%.3f", a / b}')"
  echo "$line" | tee -a "$tmp/results" | sed "s/^/run $run: /"
done
m() { grep -oE "$1=[^ ]*" "$tmp/results" | cut -d= -f2 | median; }
echo "weft-core end to end median: $(m core_msps) M samples/s into Delta (target >= 1.0)"
echo "mosquitto_sub draining the same stream: $(m sub_msps) M samples/s; ratio core / mosquitto_sub = $(m core_to_sub)"
echo "lake writer alone (decode + rows + Append, one thread): $(m lake_writer_msps) M samples/s; ratio core / lake writer = $(m core_to_lake_writer)"

echo "== 2. latency: the same load paced at $rate samples/s"
start_broker
rm -rf "$tmp/lake"; start_core "$tmp/lake"
"$gen" publish --broker "$broker" --edges "$edges" --batches "$batches" --samples "$samples" \
  --rate "$rate" >"$tmp/pub.out"
sed 's/^/publisher: /' "$tmp/pub.out"
wait_committed "$total" >/dev/null
echo "sample -> readable in the lake: p50 $(metric "$core_http" weft_core_ingest_latency_p50_ms) ms, p99 $(metric "$core_http" weft_core_ingest_latency_p99_ms) ms (target p99 < 5000 ms)"
stop_core
stop_broker
