#!/usr/bin/env bash
# edge_bench.sh [BUILD_DIR]: weft-edge's performance targets (issue 5), each next to a reference
# measured in the same run, reported as ratios.
#   1. pipeline (validate, deadband, window, enrich, encode): >= 5 M samples/s on one core.
#      Reference: memcpy of the same Sample structs + zstd level 1 (no processing).
#      build target edge_pipeline_bench; PIPE_RUNS runs (default 3), median reported.
#   2. MQTT ingest keeps up with the broker: SparkplugConnector (edge_mqtt_ingest_probe) >= 0.9x
#      of a mosquitto_sub consuming the same stream, side by side, while weft-sim publishes the
#      example plant at full speed. INGEST_RUNS runs (default 3), median reported.
#   3. weft-edge RSS < 30 MB with 5,000 signals (bench/gen_plant.py), weft-sim at --speed 1;
#      reference: mosquitto's own RSS. Skipped when BUILD_DIR/apps/weft-edge does not exist.
#      RSS_MOTORS (default 500, 10 signals each) scales the plant.
# STEPS="1 2 3" selects steps. Loopback only, private broker on a free port; every wait bounded.
# The machine may be shared: figures are noisy, which is why each step reports a ratio to a
# reference taken in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
steps=" ${STEPS:-1 2 3} "
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END{if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# field NAME <<< "a=1 NAME=2" -> 2; values NAME FILE: every NAME=value of FILE, one a line.
field() { grep -oE "(^| )$1=[^ ]*" | head -1 | cut -d= -f2; }
values() { grep -oE "(^| )$1=[^ ]*" "$2" | cut -d= -f2; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}
now() { date +%s.%N; }
cpu_of() { awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }  # utime+stime, s

# ---------------------------------------------------------------------------------------------
if [[ $steps == *" 1 "* ]]; then
  echo "== 1. pipeline hot path, one core (target >= 5,000,000 samples/s); reference: memcpy + zstd -1"
  bench="$build/bench/edge_pipeline_bench"
  if [[ ! -x $bench ]]; then
    echo "build first: ninja -C $build edge_pipeline_bench" >&2
    exit 2
  fi
  n=${PIPE_SAMPLES:-20000000}
  : >"$tmp/pipe.results"
  for i in $(seq "${PIPE_RUNS:-3}"); do
    timeout 600 "$bench" "$n" examples/plant.yaml >"$tmp/pipe.$i"
    grep RESULT "$tmp/pipe.$i" | tee -a "$tmp/pipe.results" | sed "s/^/run $i: /"
  done
  sed -n '1,/^floor/p' "$tmp/pipe.1" | sed 's/^/  (run 1) /'
  m() { values "$1" "$tmp/pipe.results" | median; }
  echo "pipeline median: $(m pipeline_msps) M samples/s per core; ratio to the 5 M/s target = $(m ratio_to_target)"
  echo "floor (memcpy + zstd -1) median: $(m floor_msps) M samples/s; ratio pipeline / floor = $(m ratio_to_floor)"
  echo "compressed: $(m bytes_per_sample) bytes per sample in (floor: $(m floor_bytes_per_sample) of 32 raw)"
  # The same on the 5,000-signal plant of step 3 (one run): the per-signal state no longer
  # fits in L1/L2.
  python3 bench/gen_plant.py --motors 500 >"$tmp/plant-5k.yaml"
  timeout 600 "$bench" "$n" "$tmp/plant-5k.yaml" | grep RESULT | sed 's/^/5,000-signal plant: /'
fi

# ---------------------------------------------------------------------------------------------
start_broker() {  # start_broker -> sets port, broker_pid, broker
  port=$(free_port)
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
  local i
  for i in $(seq 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  broker="mqtt://127.0.0.1:$port"
}
if [[ $steps == *" 2 "* || $steps == *" 3 "* ]]; then
  start_broker
fi

if [[ $steps == *" 2 "* ]]; then
  echo "== 2. MQTT ingest: SparkplugConnector (probe) vs mosquitto_sub, same broker, same stream (target >= 0.9)"
  sim="$build/apps/weft-sim"
  probe="$build/src/edge/connectors/mqtt/edge_mqtt_ingest_probe"
  for x in "$sim" "$probe"; do
    [[ -x $x ]] || { echo "build first: $x not found" >&2; exit 2; }
  done
  # Rates are messages / (publisher start .. last message received). mosquitto_sub stamps each
  # message (%U); the probe's last message is at the first message (taken as mosquitto_sub's
  # first: same broker, same fan-out) plus the probe's own "seconds" (first .. N-th message,
  # polled every ms). The time to the probe's exit (which adds its Stop()) is shown as a check.
  dur=${INGEST_SIM_SECONDS:-1200}
  sim_run() {  # sim_run LOG: publishes the example plant at full speed; prints Sparkplug messages
    timeout 300 "$sim" --plant examples/plant.yaml --broker "$broker" --speed 0 --duration "$dur" \
      --log-level info 2>"$1"
    grep -o 'published [0-9]* messages (Sparkplug' "$1" | awk '{s+=$2} END{print s+0}'
  }
  # Counts Sparkplug data lines ("<unix time> <topic>") from the stream, leaving out STATE (the
  # probe's own host state); prints "count last_time first_time".
  sub_count() {
    awk '$2 !~ /^spBv1.0\/STATE\// {if (!n) f=$1; n++; t=$1}
         END{printf "%d %s %s\n", n, (n ? t : 0), (n ? f : 0)}' "$1"
  }
  # Calibration: how many Sparkplug messages one run publishes (the probe must be given N).
  mosquitto_sub -h 127.0.0.1 -p "$port" -t 'spBv1.0/#' -q 0 -F '%U %t' >"$tmp/cal.sub" &
  cal_sub=$!
  sleep 0.5
  expected=$(sim_run "$tmp/cal.log")
  for _ in $(seq 300); do
    read -r got _ < <(sub_count "$tmp/cal.sub")
    ((got >= expected)) && break
    sleep 0.2
  done
  kill "$cal_sub"; wait "$cal_sub" 2>/dev/null || true
  echo "calibration: weft-sim --duration $dur publishes $expected Sparkplug messages; mosquitto_sub got $got"
  ((expected > 0)) || { echo "weft-sim published nothing; see $tmp/cal.log" >&2; cat "$tmp/cal.log" >&2; exit 1; }
  : >"$tmp/ingest.results"
  for i in $(seq "${INGEST_RUNS:-3}"); do
    sub_file="$tmp/run$i.sub"
    mosquitto_sub -h 127.0.0.1 -p "$port" -t 'spBv1.0/#' -q 0 -F '%U %t' >"$sub_file" &
    sub_pid=$!
    # The probe, and the time it returns (it exits as soon as it has counted N messages).
    ( TIMEFORMAT='%U %S'
      { time timeout 200 "$probe" "$broker" examples/plant.yaml "$expected" 150 \
          >"$tmp/run$i.probe" 2>"$tmp/run$i.probe.err" || true; } 2>"$tmp/run$i.probe.time"
      now >"$tmp/run$i.probe.end" ) &
    probe_wrap=$!
    sleep 1  # both subscribed; past the probe's 200 ms settling time
    start=$(now)
    published=$(sim_run "$tmp/run$i.log")
    # Wait (bounded) for both consumers to have everything.
    for _ in $(seq 300); do
      read -r got last < <(sub_count "$sub_file")
      ((got >= published)) && [[ -s "$tmp/run$i.probe.end" ]] && break
      sleep 0.2
    done
    wait "$probe_wrap" 2>/dev/null || true
    sub_cpu=$(cpu_of "$sub_pid")
    kill "$sub_pid"; wait "$sub_pid" 2>/dev/null || true
    probe_cpu=$(awk '{print $1 + $2}' "$tmp/run$i.probe.time")
    read -r got last first < <(sub_count "$sub_file")
    probe_line=$(cat "$tmp/run$i.probe")
    pm=$(field messages <<<"$probe_line"); pm=${pm:-0}
    ps_=$(field seconds <<<"$probe_line"); ps_=${ps_:-0}
    pend=$(cat "$tmp/run$i.probe.end")
    line=$(awk -v s="$start" -v pe="$pend" -v pm="$pm" -v ps="$ps_" -v g="$got" -v l="$last" \
      -v pub="$published" -v pc="$probe_cpu" -v sc="$sub_cpu" -v f="$first" 'BEGIN{
        pr = (f > s && ps > 0) ? pm / (f + ps - s) : 0; px = pm / (pe - s);
        sr = (l > s) ? g / (l - s) : 0;
        printf "published=%d probe_msgs=%d probe_rate=%.0f sub_msgs=%d sub_rate=%.0f ratio=%.3f probe_rate_to_exit=%.0f ratio_to_exit=%.3f\n",
          pub, pm, pr, g, sr, (sr > 0 ? pr / sr : 0), px, (sr > 0 ? px / sr : 0);
        printf "  CPU: probe %.2f s (%.1f us/msg), mosquitto_sub %.2f s (%.1f us/msg)\n",
          pc, (pm > 0 ? 1e6 * pc / pm : 0), sc, (g > 0 ? 1e6 * sc / g : 0) }')
    head -1 <<<"$line" | tee -a "$tmp/ingest.results" | sed "s/^/run $i: /"
    tail -n +2 <<<"$line"
    { grep -v 'subscribed on' "$tmp/run$i.probe.err" || true; } | sed 's/^/  probe: /' 
  done
  m() { values "$1" "$tmp/ingest.results" | median; }
  echo "ingest median: probe $(m probe_rate) msg/s, mosquitto_sub $(m sub_rate) msg/s (publisher start .. last message); ratio probe / mosquitto_sub = $(m ratio) (to the probe's exit: $(m ratio_to_exit))"
fi

# ---------------------------------------------------------------------------------------------
if [[ $steps == *" 3 "* ]]; then
  echo "== 3. weft-edge RSS with $((${RSS_MOTORS:-500} * 10)) Sparkplug signals (target < 30 MB at 5,000); reference: mosquitto's RSS"
  if [[ $steps == *" 2 "* ]]; then  # a fresh broker: step 2's traffic has grown the first one
    kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
    start_broker
  fi
  edge="$build/apps/weft-edge"
  sim="$build/apps/weft-sim"
  if [[ ! -x $edge ]]; then
    echo "weft-edge not built: RSS step skipped"
  else
    python3 bench/gen_plant.py --motors "${RSS_MOTORS:-500}" >"$tmp/plant-5k.yaml"
    if [[ -x $build/apps/weft ]]; then
      "$build/apps/weft" plan "$tmp/plant-5k.yaml" | sed -n 2p | sed 's/^/generated plant: /'
    fi
    http_port=$(free_port)
    cat >"$tmp/edge.yaml" <<YAML
weft_edge: 1
id: edge-bench
plant: plant-5k.yaml
broker:
  url: $broker
sources:
  sparkplug: {enabled: true}
  json: {enabled: false}
  modbus: {enabled: false}
uplink:
  dir: $tmp/buffer
  fsync: never
  ack: broker   # no core here
http: {listen: "127.0.0.1:$http_port"}
pipeline:   # as examples/edge.yaml: windows on the motors' vibration
  defaults: {max_interval: 60s, priority: normal}
  asset_types:
    motor:
      signals:
        vibration_rms: {deadband: 1%, window: 10s, stats: [mean, max, std], route: raw+aggregate}
        winding_temp: {deadband: 0.1}
YAML
    kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
    "$edge" --config "$tmp/edge.yaml" >"$tmp/edge.log" 2>&1 &
    edge_pid=$!
    sleep 2
    if ! kill -0 "$edge_pid" 2>/dev/null; then
      echo "weft-edge exited at start:"; tail -20 "$tmp/edge.log"
    else
      echo "weft-edge idle (connected, no data yet): VmRSS $(kb "$edge_pid" VmRSS) kB ($(kb "$edge_pid" RssAnon) kB anonymous, $(kb "$edge_pid" RssFile) kB file-backed)"
      secs=${RSS_SIM_SECONDS:-40}
      "$sim" --plant "$tmp/plant-5k.yaml" --broker "$broker" --speed 1 --duration "$secs" \
        --log-level warn >"$tmp/rss-sim.log" 2>&1 &
      sim_pid=$!
      sleep "${RSS_SAMPLE_AFTER:-30}"
      if kill -0 "$edge_pid" 2>/dev/null; then
        e_rss=$(kb "$edge_pid" VmRSS); e_hwm=$(kb "$edge_pid" VmHWM)
        b_rss=$(kb "$broker_pid" VmRSS); b_hwm=$(kb "$broker_pid" VmHWM)
        s_rss=$(kb "$sim_pid" VmRSS)
        metrics=$(curl -s --max-time 2 "http://127.0.0.1:$http_port/metrics" || true)
        echo "weft-edge after ${RSS_SAMPLE_AFTER:-30} s of data: VmRSS $e_rss kB ($(kb "$edge_pid" RssAnon) kB anonymous, $(kb "$edge_pid" RssFile) kB file-backed), VmHWM $e_hwm kB"
        echo "  target < 30 MB = 30720 kB: VmHWM / target = $(awk -v a="$e_hwm" 'BEGIN{printf "%.2f", a/30720}')"
        echo "mosquitto: VmRSS $b_rss kB, VmHWM $b_hwm kB; weft-edge RSS / mosquitto RSS = $(awk -v a="$e_rss" -v b="$b_rss" 'BEGIN{printf "%.2f", (b > 0 ? a/b : 0)}'); (weft-sim: VmRSS $s_rss kB)"
        if [[ -n $metrics ]]; then
          echo "weft-edge /metrics (samples and messages, to show it was ingesting):"
          grep -v '^#' <<<"$metrics" | grep -iE 'sample|message|batch' | head -12 | sed 's/^/  /'
        else
          echo "weft-edge /metrics did not answer on 127.0.0.1:$http_port"
        fi
      else
        echo "weft-edge died during the run:"; tail -20 "$tmp/edge.log"
      fi
      for _ in $(seq $((secs * 10 + 300))); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
      kill "$sim_pid" 2>/dev/null || true
      wait "$sim_pid" 2>/dev/null || true
    fi
    kill -TERM "$edge_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$edge_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$edge_pid" 2>/dev/null || true
    grep -iE 'error|warn' "$tmp/edge.log" | head -5 | sed 's/^/  weft-edge log: /' || true
  fi
fi
[[ -n ${broker_pid:-} ]] && kill "$broker_pid" 2>/dev/null
exit 0
