#!/usr/bin/env bash
# sim_bench.sh [BUILD_DIR]: weft-sim's performance targets, each next to its reference, in one run.
#   1. real time: CPU used by the example plant (400+ signals at 1 Hz and faster) at --speed 1,
#      publishing to a real mosquitto; target < 5% of one core.
#   2. accelerated generation to a file (--speed 0 --record); target >= 5 M samples/s per core.
#      Reference: how long dd takes to write the same bytes (the disk's own limit).
#   3. publishing to mosquitto at the broker's limit: weft-sim's Sparkplug messages/s against
#      mosquitto_pub's own messages/s (QoS 1, same broker, same machine, same run); the ratio is
#      weft-sim / mosquitto_pub.
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
{ time "$sim" --plant examples/plant.yaml --speed 0 --duration "$gen_s" \
    --record "$tmp/record.csv" --log-level warn; } 2>"$tmp/gen.time"
read -r real user sys <"$tmp/gen.time"
rows=$(($(wc -l <"$tmp/record.csv") - 1))
bytes=$(stat -c %s "$tmp/record.csv")
{ time dd if="$tmp/record.csv" of="$tmp/copy.csv" bs=1M conv=fsync status=none; } 2>"$tmp/dd.time"
read -r dd_real dd_user dd_sys <"$tmp/dd.time"
rm -f "$tmp/copy.csv"
awk -v n="$rows" -v b="$bytes" -v r="$real" -v u="$user" -v s="$sys" -v d="$dd_real" 'BEGIN{
  printf "weft-sim: %d samples (%d bytes) in %.2f s wall, %.2f s CPU: %.0f samples/s wall, %.0f samples/s per core\n", n, b, r, u+s, n/r, n/(u+s);
  printf "dd writing the same bytes (fsync): %.2f s wall = %.0f samples/s equivalent (the disk limit); weft-sim wall / dd wall = %.2f\n", d, n/d, r/d }'
echo "== 3. publishing to mosquitto: weft-sim vs mosquitto_pub (QoS 1, same broker, acknowledged)"
n=${PUB_MESSAGES:-200000}
seq "$n" | sed 's/^/payload-of-about-sixty-bytes-like-a-small-sparkplug-ddata-/' >"$tmp/lines"
start=$(date +%s.%N)
mosquitto_pub -h 127.0.0.1 -p "$port" -t bench/x -q 1 -l <"$tmp/lines"
end=$(date +%s.%N)
peer_rate=$(awk -v n="$n" -v a="$start" -v b="$end" 'BEGIN{printf "%.0f", n/(b-a)}')
echo "mosquitto_pub: $n messages in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s = $peer_rate msg/s"
pub_s=${PUB_SIM_SECONDS:-3600}
start=$(date +%s.%N)
"$sim" --plant examples/plant.yaml --broker "$broker" --speed 0 --duration "$pub_s" \
  --log-level info 2>"$tmp/pub.log"
end=$(date +%s.%N)
msgs=$(grep -o 'published [0-9]* messages' "$tmp/pub.log" | awk '{s+=$2} END{print s+0}')
sim_rate=$(awk -v n="$msgs" -v a="$start" -v b="$end" 'BEGIN{printf "%.0f", n/(b-a)}')
echo "weft-sim: $msgs messages in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s = $sim_rate msg/s"
echo "ratio weft-sim / mosquitto_pub = $(awk -v a="$sim_rate" -v b="$peer_rate" 'BEGIN{printf "%.2f", a/b}')"
kill $broker_pid
