#!/usr/bin/env bash
# sim_bench.sh [BUILD_DIR]: weft-sim's performance targets, each next to its reference, in one run.
#   1. real time: CPU used by the example plant (400+ signals at 1 Hz and faster) at --speed 1,
#      publishing to a real mosquitto; target < 5% of one core.
#   2. accelerated generation to a file (--speed 0 --record); target >= 5 M samples/s per core.
#      Reference: how long dd takes to write the same bytes (the disk's own limit).
#   3. publishing to mosquitto at the broker's limit: weft-sim's messages/s against mosquitto_pub's
#      (same broker, same run), end to end through a mosquitto_sub and ingest only; the ratio is
#      weft-sim / mosquitto_pub.
# Steps 2 and 3 run each side RUNS times (default 3; the two sides alternate in step 3) and report
# every figure and the median: the machine is shared, single runs are noisy.
# Loopback only; every step bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
sim="$build/apps/weft-sim"
[[ -x "$sim" ]] || { echo "build first: $sim not found" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)))
chmod 777 "$tmp"
cat >"$tmp/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 0
max_queued_messages 0
CONF
mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
broker_pid=$!
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
broker="mqtt://127.0.0.1:$port"
cpu_of() {  # cpu_of PID -> utime+stime in seconds
  awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"
}
runs=${RUNS:-3}
median() {  # median NUMBER... (the lower middle one for an even count)
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'
}

echo "== 1. real time, example plant, publishing to mosquitto (target < 5% of one core)"
secs=${REALTIME_SECONDS:-30}
"$sim" --plant examples/plant.yaml --broker "$broker" --speed 1 --duration "$secs" \
  --log-level warn &
pid=$!
sleep 2; c0=$(cpu_of $pid); t0=$(date +%s.%N)
sleep $((secs - 4)); c1=$(cpu_of $pid); t1=$(date +%s.%N)
wait $pid
rt=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.2f", 100*(c1-c0)/(t1-t0)}')
echo "weft-sim real time: ${rt}% of one core over $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"

echo "== 2. accelerated generation to a file (target >= 5,000,000 samples/s per core)"
gen_s=${GEN_SIM_SECONDS:-86400}
TIMEFORMAT='%R %U %S'
per_core=() walls=()
for run in $(seq "$runs"); do
  rm -f "$tmp/record.csv"
  { time "$sim" --plant examples/plant.yaml --speed 0 --duration "$gen_s" \
      --record "$tmp/record.csv" --log-level warn; } 2>"$tmp/gen.time"
  read -r real user sys <"$tmp/gen.time"
  rows=$(($(wc -l <"$tmp/record.csv") - 1))  # also reads the record into the page cache for dd
  bytes=$(stat -c %s "$tmp/record.csv")
  awk -v n="$rows" -v b="$bytes" -v r="$real" -v u="$user" -v s="$sys" -v k="$run" 'BEGIN{
    printf "run %d: weft-sim: %d samples (%d bytes) in %.2f s wall, %.2f s CPU (%.2f user + %.2f sys): %.0f samples/s wall, %.0f samples/s per core\n", k, n, b, r, u+s, u, s, n/r, n/(u+s) }'
  per_core+=("$(awk -v n="$rows" -v u="$user" -v s="$sys" 'BEGIN{printf "%.0f", n/(u+s)}')")
  walls+=("$real")
done
{ time dd if="$tmp/record.csv" of="$tmp/copy.csv" bs=1M conv=fsync status=none; } 2>"$tmp/dd.time"
read -r dd_real dd_user dd_sys <"$tmp/dd.time"
rm -f "$tmp/copy.csv" "$tmp/record.csv"
awk -v n="$rows" -v r="$(median "${walls[@]}")" -v d="$dd_real" -v c="$(median "${per_core[@]}")" -v k="$runs" 'BEGIN{
  printf "dd writing the same bytes (fsync): %.2f s wall = %.0f samples/s equivalent (the disk limit); median weft-sim wall / dd wall = %.2f\n", d, n/d, r/d;
  printf "median of %d: %.0f samples/s per core = %.2f x the 5,000,000 target\n", k, c, c/5e6 }'
echo "== 3. publishing to mosquitto at the broker's limit: weft-sim vs mosquitto_pub, same broker, same run"
# The peer publishes messages of the simulator's average size (Sparkplug DDATA ~100 bytes) on a
# topic of the same length, at QoS 0 (the QoS of Sparkplug DATA messages, ~92% of the simulator's
# traffic; its JSON messages are QoS 1).
#  a. end to end: a mosquitto_sub subscribed to everything must receive every message; the rate is
#     messages / (publisher start .. last message received). This is the broker's limit as
#     mosquitto's own tools see it.
#  b. ingest only, no subscriber: messages / publisher run time.
n=${PUB_MESSAGES:-300000}
pad=$(printf '%*s' 90 '' | tr ' ' 'x')
seq "$n" | sed "s/^/$pad/" | cut -c1-97 >"$tmp/lines"
peer_topic=spBv1.0/bench/DDATA/node-1/dev-1
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{printf "%.0f", n/(b-a)}'; }
wait_count() {  # wait_count FILE N: until FILE has N lines or 60 s pass; prints the count
  local i c=0
  for i in $(seq 3000); do
    c=$(wc -l <"$1"); ((c >= $2)) && break; sleep 0.02
  done
  echo "$c"
}
sim_run() {
  "$sim" --plant examples/plant.yaml --broker "$broker" --speed 0 --duration "${PUB_SIM_SECONDS:-3600}" \
    --log-level info 2>"$tmp/pub.log"
  grep -o 'published [0-9]* messages' "$tmp/pub.log" | awk '{s+=$2} END{print s+0}'
}
for mode in end-to-end ingest-only; do
  sub_pid=
  if [[ $mode == end-to-end ]]; then
    : >"$tmp/got"
    mosquitto_sub -h 127.0.0.1 -p "$port" -t '#' -q 0 -F '%t' >"$tmp/got" &
    sub_pid=$!
    sleep 0.5
  fi
  peer_rates=() sim_rates=()
  for run in $(seq "$runs"); do
    start=$(date +%s.%N)
    mosquitto_pub -h 127.0.0.1 -p "$port" -t "$peer_topic" -q 0 -l <"$tmp/lines"
    if [[ -n $sub_pid ]]; then got=$(wait_count "$tmp/got" "$n"); : >"$tmp/got"; else got=$n; fi
    end=$(date +%s.%N)
    peer_rate=$(rate "$got" "$start" "$end")
    start=$(date +%s.%N)
    msgs=$(sim_run)
    if [[ -n $sub_pid ]]; then got=$(wait_count "$tmp/got" "$msgs"); : >"$tmp/got"; else got=$msgs; fi
    end=$(date +%s.%N)
    sim_rate=$(rate "$got" "$start" "$end")
    echo "$mode run $run: mosquitto_pub $peer_rate msg/s ($n sent); weft-sim $sim_rate msg/s ($msgs sent, $got counted); ratio $(awk -v a="$sim_rate" -v b="$peer_rate" 'BEGIN{printf "%.2f", a/b}')"
    peer_rates+=("$peer_rate") sim_rates+=("$sim_rate")
  done
  [[ -n $sub_pid ]] && kill "$sub_pid"
  peer_med=$(median "${peer_rates[@]}") sim_med=$(median "${sim_rates[@]}")
  echo "$mode, median of $runs: mosquitto_pub $peer_med msg/s; weft-sim $sim_med msg/s; ratio weft-sim / mosquitto_pub = $(awk -v a="$sim_med" -v b="$peer_med" 'BEGIN{printf "%.2f", a/b}')"
done
kill $broker_pid
