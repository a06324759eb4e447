#!/usr/bin/env bash
# Instructions the gateway executes per request (sync, invoke, emit), counted by callgrind: the same
# from run to run, where timings on a shared machine move by tens of percent. Use it to compare two
# commits' code paths; run.sh is where throughput is measured.
#
# Usage: bench/instructions.sh [requests per scenario, default 2000]
# Environment: BUILD_DIR (default build); BASELINE_COMMIT, to count a commit's gateway too, in the
# same run (its worktree and build in BASELINE_DIR, default /tmp/eg-baseline-<commit>). Needs
# valgrind and nginx (installed when missing). CONSOLE_WATCHER=1: a curl reads the live traffic
# stream of the space the scenarios use (docs/console.md) while they are counted, as a browser
# watching the console would.
set -euo pipefail
shopt -s inherit_errexit  # a gateway that does not start ends the count, not only its subshell
cd "$(dirname "$0")/.."
source bench/common.sh
requests=${1:-2000}
build_dir=${BUILD_DIR:-build}

install_bench_tools valgrind nginx
configure_build "$build_dir"
cmake --build "$build_dir" --target event-gateway >/dev/null
binaries=("$build_dir/event-gateway")
names=(current)
if [ -n "${BASELINE_COMMIT:-}" ]; then
  baseline_commit=$(git rev-parse --verify "$BASELINE_COMMIT^{commit}")
  build_baseline "$baseline_commit" "${BASELINE_DIR:-/tmp/eg-baseline-${baseline_commit:0:7}}"
  binaries+=("$baseline")
  names+=("${baseline_commit:0:7}")
fi

make_work_dir
function_port=$(free_port)
start_function "$work" "$function_port" "$(free_port)"

# Sends COUNT requests of one scenario over 4 keep-alive connections, as run.sh's wrk scripts do.
send() {
  python3 - "$events_port" "$1" "$2" <<'PY'
import http.client, json, sys, threading
port, scenario, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
event = json.dumps({"user": {"id": "u-0001", "name": "x" * 990}}, separators=(",", ":"))
requests = {
    "sync": ("GET", "/bench", None, {}),
    "invoke": ("POST", "/", '{"hello":"world"}', {"Content-Type": "application/json", "Event": "invoke", "Function-ID": "bench"}),
    "emit": ("POST", "/one", event, {"Content-Type": "application/json", "Event": "bench.emit"}),
}
def run(n):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(n):
        connection.request(*requests[scenario])
        response = connection.getresponse()
        response.read()
        assert response.status in (200, 202), response.status
threads = [threading.Thread(target=run, args=(count // 4,)) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
PY
}

# count_instructions BINARY: instructions per request of each scenario, "sync invoke emit", each
# counted by callgrind from a warm gateway on fresh ports and data.
count_instructions() {
  config_port=$(free_port); events_port=$(free_port)
  local data counts=()
  data=$(mktemp -d "$work/gateway.XXXXXX")
  valgrind --tool=callgrind --callgrind-out-file="$data/callgrind.out" \
    "$1" -dev -embed-data-dir "$data/gateway.eg" -listen-address 127.0.0.1 \
    -config-port "$config_port" -events-port "$events_port" -log-level warn >"$data/gateway.log" 2>&1 &
  gateway_pid=$!
  wait_for_gateway
  register_bench_function "$function_port"
  config subscriptions '{"functionId":"bench","event":"bench.emit","path":"/one"}'
  sleep 1  # every event thread routes from the new snapshot
  local watcher=""
  if [ "${CONSOLE_WATCHER:-0}" = 1 ]; then
    curl -sN "http://127.0.0.1:$config_port/v1/spaces/default/events/stream" >"$data/stream.txt" &
    watcher=$!
    sleep 1
  fi
  for scenario in sync invoke emit; do
    send "$scenario" 400  # warm up: connections, pools, caches
    sleep 1
    callgrind_control -z "$gateway_pid" >/dev/null 2>&1
    send "$scenario" "$requests"
    sleep 2  # emitted events are delivered after their 202
    callgrind_control -d "$gateway_pid" >/dev/null 2>&1
    sleep 1
    local dump total
    dump=$(ls -t "$data"/callgrind.out.* | head -1)
    total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    counts+=("$((total / requests))")
  done
  [ -z "$watcher" ] || kill "$watcher"
  stop_gateway
  echo "${counts[*]}"
}

results=()
for binary in "${binaries[@]}"; do results+=("$(count_instructions "$binary")"); done

if [ ${#binaries[@]} -eq 1 ]; then
  echo "| scenario | instructions per request |"
  echo "|---|---|"
else
  echo "| scenario | ${names[0]} | ${names[1]} | change |"
  echo "|---|---|---|---|"
fi
scenarios=(sync invoke emit)
for i in 0 1 2; do
  current=$(echo "${results[0]}" | cut -d' ' -f$((i + 1)))
  if [ ${#binaries[@]} -eq 1 ]; then
    echo "| ${scenarios[$i]} | $current |"
  else
    base=$(echo "${results[1]}" | cut -d' ' -f$((i + 1)))
    echo "| ${scenarios[$i]} | $current | $base | $(awk -v c="$current" -v b="$base" 'BEGIN { printf "%+.1f%%", (c - b) * 100 / b }') |"
  fi
done
