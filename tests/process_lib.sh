# Helpers shared by the cross-process test scripts (sourced, not run).
#   failures=0; check NAME COMMAND...   -> "ok   NAME" or "FAIL NAME" (and counts the failure)
#   free_port [N]                        -> the first of N consecutive loopback ports nobody
#                                           listens on, below the ephemeral range (32768+)
#   wait_port PORT                       -> waits up to 10 s for something to listen there
failures=0
check() {
  local name="$1"; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
free_port() {
  local p i n=${1:-1} busy
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000)); busy=0
    for ((i = 0; i < n; i++)); do
      (echo >/dev/tcp/127.0.0.1/$((p + i))) 2>/dev/null && { busy=1; break; }
    done
    ((busy == 0)) && { echo $p; return; }
  done
  return 1
}
wait_port() {
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
