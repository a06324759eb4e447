#!/usr/bin/env bash
# What a plugin costs the request path (issue 15: "the sync http path with one sync no-op plugin on
# gateway.event.received, against no plugin"): the same binary in six set-ups, alternated round by
# round in one run, each on a fresh gateway:
#   none            no plugin (the baseline);
#   sync            bench/noop_plugin, sync on gateway.event.received: every request waits for its
#                   answer, on the plugin's ReactStream (many calls per message);
#   sync-react      the same plugin without ReactStream (NOOP_PLUGIN_REACT_STREAM=0): a React call each;
#   async-received  bench/noop_plugin, async on gateway.event.received: one event per request, never
#                   waited for, on the plugin's Notify streams;
#   async           async on gateway.event.received and the three gateway.function.* events: three
#                   events per request, on Notify streams;
#   async-react     the same without Notify (NOOP_PLUGIN_NOTIFY_STREAM=0): a React call per event.
# The scenario is run.sh's sync one: wrk → http subscription GET /bench → the nginx function, with
# $CONNECTIONS connections, then over 1 connection: the latency a plugin call adds, without queueing,
# which is the p99 the target is read on. At $CONNECTIONS connections wrk keeps the gateway saturated,
# so its p99 is mostly the wait in the queue, the throughput restated (Little's law); it is reported
# too. (A fixed request rate below saturation would be the better measure: h2load --rps was tried,
# but it sends each connection's requests in bursts, which put the p50 without a plugin at 0.7-2.7 ms.)
# Writes bench/results/plugins.md (and prints it). See the "Plugins" section of bench/README.md.
#
# Then none and async-received alone, in $ASYNC_ROUNDS pairs, for the async target (see below).
#
# Usage: bench/plugins.sh [rounds] [seconds per wrk run]     (defaults: 5 rounds of 5 s)
# Environment: BUILD_DIR (default build), CONNECTIONS for wrk (default 50), ASYNC_ROUNDS (default 31).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
rounds=${1:-5}
seconds=${2:-5}
build_dir=${BUILD_DIR:-build}
connections=${CONNECTIONS:-50}
async_rounds=${ASYNC_ROUNDS:-31}  # odd, so that a median is one round's figure
threads=$(nproc)

install_bench_tools wrk nginx
configure_build "$build_dir" -DEG_BUILD_BENCH=ON -DEG_WITH_GRPC=ON  # noop_plugin and the plugin module
cmake --build "$build_dir" --target event-gateway noop_plugin >/dev/null
gateway="$build_dir/event-gateway"
plugin=$(realpath "$build_dir/noop_plugin")

make_work_dir

function_port=$(free_port); counting_port=$(free_port)
start_function "$work" "$function_port" "$counting_port"

# What the plugin answers Subscriptions with, per set-up, and how many React calls a request makes.
async_events=gateway.event.received:async,gateway.function.invoking:async,gateway.function.invoked:async,gateway.function.invocationFailed:async
declare -A subscriptions=([sync]=gateway.event.received:sync [sync-react]=gateway.event.received:sync
  [async-received]=gateway.event.received:async [async]=$async_events [async-react]=$async_events)
declare -A streams=([sync-react]=0 [async-react]=0)
declare -A calls_per_request=([none]=0 [sync]=1 [sync-react]=1 [async-received]=1 [async]=3 [async-react]=3)  # async: received, invoking, invoked


# start_gateway SETUP: a fresh gateway, with the plugin for sync and async, configured for the sync
# scenario; sets plugin_pid (empty for none) and warm_up (the requests it sent before wrk's).
start_gateway() {
  local setup=$1 flags=()
  [ "$setup" = none ] || flags=(-plugin "$plugin")
  config_port=$(free_port); events_port=$(free_port)
  rm -rf "$work/gateway.eg" "$work/calls"
  NOOP_PLUGIN_SUBSCRIPTIONS=${subscriptions[$setup]:-} NOOP_PLUGIN_NOTIFY_STREAM=${streams[$setup]:-1} \
    NOOP_PLUGIN_REACT_STREAM=${streams[$setup]:-1} \
    NOOP_PLUGIN_COUNT_FILE="$work/calls" \
    "$gateway" -dev -embed-data-dir "$work/gateway.eg" -listen-address 127.0.0.1 -config-port "$config_port" \
    -events-port "$events_port" -log-level warn "${flags[@]}" >>"$work/gateway-$setup.log" 2>&1 &
  gateway_pid=$!
  wait_for_gateway  # the gateway answers once its plugins have answered Subscriptions
  plugin_pid=$(pgrep -P "$gateway_pid" || true)
  [ "$setup" = none ] || [ -n "$plugin_pid" ] || { echo "the plugin is not running" >&2; exit 1; }
  register_bench_function "$function_port"
  wait_until_routed
}

# stop_gateway (common.sh): SIGTERM; the gateway stops its plugin, which writes its count of calls.

# run_saturated SETUP FILE: SETUP on a fresh gateway serving wrk's $connections connections; appends
# "requests/s p99_ms requests non2xx socket_errors gateway_cpu_µs_per_request
# plugin_cpu_µs_per_request react_calls asked_for" to $work/FILE, where asked_for is the React calls
# its requests asked for (warm-up included; wrk does not count the up to $connections requests in
# flight when it stops).
run_saturated() {
  local setup=$1 file=$2 gateway_before plugin_before result gateway_cpu plugin_cpu=0 calls=0
  start_gateway "$setup"
  gateway_before=$(cpu_ticks "$gateway_pid")
  [ -n "$plugin_pid" ] && plugin_before=$(cpu_ticks "$plugin_pid")
  [ -n "$plugin_pid" ] && [ ! -f "$work/plugin-threads" ] && ls "/proc/$plugin_pid/task" | wc -l >"$work/plugin-threads"
  result=$(measure "http://127.0.0.1:$events_port/bench")
  gateway_cpu=$(($(cpu_ticks "$gateway_pid") - gateway_before))
  [ -n "$plugin_pid" ] && plugin_cpu=$(($(cpu_ticks "$plugin_pid") - plugin_before))
  ls "/proc/$gateway_pid/task" | wc -l >"$work/gateway-threads-$setup"
  stop_gateway
  [ "$setup" = none ] || calls=$(cat "$work/calls")
  echo "$result $gateway_cpu $plugin_cpu $calls $warm_up" | awk -v hz="$clock_ticks" -v per="${calls_per_request[$setup]}" \
    '{ printf "%s %s %s %s %s %.1f %.1f %d %d\n", $1, $2, $3, $4, $5, $6 / hz * 1e6 / $3, $7 / hz * 1e6 / $3, $8, ($3 + $9) * per }' \
    >>"$work/$file"
}

# run_setup SETUP: one round of SETUP, on two fresh gateways: saturated (to $work/sync-SETUP), then
# serving 1 connection, one request at a time, which appends measure's line to $work/latency-SETUP:
# with $connections the p99 is mostly the wait in the gateway's queues, which grows as the throughput
# falls; with one it is what a plugin call adds to a request's own time.
run_setup() {
  local setup=$1
  run_saturated "$setup" "sync-$setup"
  start_gateway "$setup"
  connections=1 measure "http://127.0.0.1:$events_port/bench" >>"$work/latency-$setup"
  stop_gateway
}

setups=(none sync sync-react async-received async async-react)
: >"$work/machine-load"
for round in $(seq "$rounds"); do
  for k in "${!setups[@]}"; do
    # Each round starts with another set-up, so none always runs first (or right after another).
    setup=${setups[$(((round - 1 + k) % ${#setups[@]}))]}
    echo "round $round of $rounds: $setup" >&2
    uptime >>"$work/machine-load"
    run_setup "$setup"
  done
done

# The async target, >= 0.95x, is a 5% difference: about what the throughput of one run moves on a
# shared machine, so the rounds above cannot tell 0.93x from 0.97x. A focused phase measures none and
# async-received alone, back to back, $async_rounds times (each pair in the other order than the
# last), for a tighter estimate: the target is read on its ratio of medians.
for round in $(seq "$async_rounds"); do
  pair=(none async-received)
  ((round % 2)) || pair=(async-received none)
  for setup in "${pair[@]}"; do
    echo "async round $round of $async_rounds: $setup" >&2
    run_saturated "$setup" "focus-$setup"
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v limit="$3" 'BEGIN { ok = op == ">=" ? v >= limit : v <= limit; print ok ? "met" : "**missed**" }'; }
# The same ratio (or difference, with -) in each round: the set-up's file, the baseline's file, column
round_ratios() { paste -d' ' <(cut -d' ' -f"$3" "$work/$1") <(cut -d' ' -f"$3" "$work/$2") | awk '{ printf "%s%.2f", (NR == 1 ? "" : ", "), $1 / $2 }'; }
round_differences() { paste -d' ' <(cut -d' ' -f"$3" "$work/$1") <(cut -d' ' -f"$3" "$work/$2") | awk '{ printf "%s%.2f", (NR == 1 ? "" : ", "), $1 - $2 }'; }
mean_ms() { awk -v rps="$1" 'BEGIN { printf "%.3f", 1000 / rps }'; }
setup_name() {
  case $1 in
    none) echo "none (no plugin)" ;;
    sync) echo "sync (noop_plugin, sync on gateway.event.received, ReactStream)" ;;
    sync-react) echo "sync-react (the same, without ReactStream: a React call each)" ;;
    async-received) echo "async-received (noop_plugin, async on gateway.event.received, Notify streams)" ;;
    async) echo "async (noop_plugin, async on gateway.event.received and gateway.function.*, Notify streams)" ;;
    async-react) echo "async-react (the same, without Notify: a React call per event)" ;;
  esac
}
report() {
  local rps_sync rps_async p99_added p99_added_alone
  rps_sync=$(ratio "$(column_median sync-sync 1)" "$(column_median sync-none 1)")
  rps_async=$(ratio "$(column_median sync-async-received 1)" "$(column_median sync-none 1)")
  p99_added=$(awk -v a="$(column_median sync-sync 2)" -v b="$(column_median sync-none 2)" 'BEGIN { printf "%.2f", a - b }')
  p99_added_alone=$(awk -v a="$(column_median latency-sync 2)" -v b="$(column_median latency-none 2)" 'BEGIN { printf "%.2f", a - b }')
  echo "# Plugins benchmark (bench/plugins.sh)"
  echo
  echo "- commit: \`$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench/noop_plugin.cpp CMakeLists.txt || echo ' (modified)')\`, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $threads cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr), gRPC $(pkg-config --modversion grpc++ 2>/dev/null || echo '?')"
  echo "- load during the run (uptime): $(awk -F'load average: ' '{print $2}' "$work/machine-load" | paste -sd';' | sed 's/;/; /g')"
  echo "- wrk: 1 thread, $connections connections, $seconds s per run, $rounds alternated rounds, medians; a fresh gateway per set-up and round ($threads Events API threads; $(cat "$work/gateway-threads-none") threads in all without a plugin, $(cat "$work/gateway-threads-sync") with one); the plugin: $(cat "$work/plugin-threads") threads (one serves every call on a completion queue; the rest are gRPC's own)"
  echo "- scenario: run.sh's sync, wrk → gateway http subscription \`GET /bench\` → the nginx function"
  echo
  echo "| set-up | requests/s | p99 ms | non-2xx | gateway CPU µs per request | plugin CPU µs per request |"
  echo "|---|---|---|---|---|---|"
  for setup in "${setups[@]}"; do
    echo "| $(setup_name "$setup") | $(column_median "sync-$setup" 1) | $(column_median "sync-$setup" 2) | $(column_median "sync-$setup" 4) | $(column_median "sync-$setup" 6) | $(column_median "sync-$setup" 7) |"
  done
  echo
  echo "The same requests over 1 connection, one at a time, on another fresh gateway (no queueing: what a"
  echo "plugin call adds to a request; the mean latency is 1 / requests/s):"
  echo
  echo "| set-up | requests/s | mean ms | p99 ms | non-2xx |"
  echo "|---|---|---|---|---|"
  for setup in "${setups[@]}"; do
    echo "| $setup | $(column_median "latency-$setup" 1) | $(mean_ms "$(column_median "latency-$setup" 1)") | $(column_median "latency-$setup" 2) | $(column_median "latency-$setup" 4) |"
  done
  echo
  echo "| ratio (of the medians) | value | each round | target |"
  echo "|---|---|---|---|"
  echo "| sync / none requests/s | ${rps_sync}× | $(round_ratios sync-sync sync-none 1) | ≥ 0.6: $(verdict "$rps_sync" ">=" 0.6) |"
  echo "| sync / none p99 | $(ratio "$(column_median sync-sync 2)" "$(column_median sync-none 2)")× | $(round_ratios sync-sync sync-none 2) | |"
  echo "| sync − none p99 at saturation ($connections connections: the queue's wait) | $p99_added ms | $(round_differences sync-sync sync-none 2) ms | |"
  echo "| sync − none p99, 1 connection (p99 added) | $p99_added_alone ms | $(round_differences latency-sync latency-none 2) ms | ≤ 1 ms: $(verdict "$p99_added_alone" "<=" 1) |"
  echo "| sync-react / none requests/s | $(ratio "$(column_median sync-sync-react 1)" "$(column_median sync-none 1)")× | $(round_ratios sync-sync-react sync-none 1) | |"
  echo "| async-received / none requests/s | ${rps_async}× | $(round_ratios sync-async-received sync-none 1) | $( ((async_rounds > 0)) && echo "read below" || echo "≥ 0.95: $(verdict "$rps_async" ">=" 0.95)") |"
  echo "| async / none requests/s | $(ratio "$(column_median sync-async 1)" "$(column_median sync-none 1)")× | $(round_ratios sync-async sync-none 1) | |"
  echo "| async / none p99 | $(ratio "$(column_median sync-async 2)" "$(column_median sync-none 2)")× | $(round_ratios sync-async sync-none 2) | |"
  echo "| async-react / none requests/s | $(ratio "$(column_median sync-async-react 1)" "$(column_median sync-none 1)")× | $(round_ratios sync-async-react sync-none 1) | |"
  for setup in sync sync-react async-received async async-react; do
    echo "| 1 connection: $setup − none mean latency | $(awk -v a="$(column_median "latency-$setup" 1)" -v b="$(column_median latency-none 1)" 'BEGIN { printf "%.3f", 1000 / a - 1000 / b }') ms | $(paste -d' ' "$work/latency-$setup" "$work/latency-none" | awk -v w="$(head -1 "$work/latency-none" | wc -w)" '{ printf "%s%.3f", (NR > 1 ? ", " : ""), 1000 / $1 - 1000 / $(1 + w) }') ms | |"
  done
  echo "| 1 connection: async-received − none p99 | $(awk -v a="$(column_median latency-async-received 2)" -v b="$(column_median latency-none 2)" 'BEGIN { printf "%.2f", a - b }') ms | $(round_differences latency-async-received latency-none 2) ms | |"
  for setup in sync sync-react async-received; do
    echo "| $setup / none gateway CPU per request | $(ratio "$(column_median "sync-$setup" 6)" "$(column_median sync-none 6)")× | $(round_ratios "sync-$setup" sync-none 6) | |"
  done
  echo "| async / none gateway CPU per request | $(ratio "$(column_median sync-async 6)" "$(column_median sync-none 6)")× | $(round_ratios sync-async sync-none 6) | |"
  echo "| async-react / none gateway CPU per request | $(ratio "$(column_median sync-async-react 6)" "$(column_median sync-none 6)")× | $(round_ratios sync-async-react sync-none 6) | |"
  echo
  echo "System events the plugin got (React calls, and calls and events on streams), of those the"
  echo "requests asked for (1 per request for sync and async-received; 3 for async: gateway.event.received,"
  echo "gateway.function.invoking, gateway.function.invoked), each round. The gateway drops an async event"
  echo "that finds 4096 events of its plugin queued or in flight on that Events API thread (and counts and"
  echo "logs it):"
  echo
  echo "| set-up | answered / asked for, each round | answered, of all rounds |"
  echo "|---|---|---|"
  for setup in sync sync-react async-received async async-react; do
    echo "| $setup | $(awk '{ printf "%s%d / %d", (NR == 1 ? "" : ", "), $8, $9 }' "$work/sync-$setup") | $(awk '{ a += $8; t += $9 } END { printf "%.1f%%", 100 * a / t }' "$work/sync-$setup") |"
  done
  if ((async_rounds > 0)); then report_async_target; fi
}

# quartiles FILE COLUMN: "q1 median q3" of a column of $work/FILE.
quartiles() {
  cut -d' ' -f"$2" "$work/$1" | sort -g | awk '{ v[NR] = $1 }
    function at(p,  i, f) { i = 1 + p * (NR - 1); f = int(i); return v[f] + (i - f) * (v[f + 1] - v[f]) }
    END { printf "%.2f %.2f %.2f", at(0.25), at(0.5), at(0.75) }'
}
report_async_target() {
  local rps_async paired events
  rps_async=$(ratio "$(column_median focus-async-received 1)" "$(column_median focus-none 1)")
  paste -d' ' <(cut -d' ' -f1 "$work/focus-async-received") <(cut -d' ' -f1 "$work/focus-none") |
    awk '{ printf "%.4f\n", $1 / $2 }' >"$work/focus-ratios"
  read -r -a paired <<<"$(quartiles focus-ratios 1)"
  events=$(awk '{ a += $8; t += $9 } END { printf "%.1f%%", 100 * a / t }' "$work/focus-async-received")
  echo
  echo "The async target: none and async-received alone, $async_rounds pairs back to back, each pair in the"
  echo "other order than the last (the plugin got $events of the events asked for):"
  echo
  echo "| | none | async-received | async-received / none | target |"
  echo "|---|---|---|---|---|"
  echo "| requests/s: median | $(column_median focus-none 1) | $(column_median focus-async-received 1) | ${rps_async}× | ≥ 0.95: $(verdict "$rps_async" ">=" 0.95) |"
  echo "| requests/s: quartiles | $(quartiles focus-none 1 | awk '{ print $1 " – " $3 }') | $(quartiles focus-async-received 1 | awk '{ print $1 " – " $3 }') | | |"
  echo "| the pairs' ratios: median (quartiles) | | | ${paired[1]}× (${paired[0]} – ${paired[2]}) | |"
  echo "| gateway CPU µs per request: median | $(column_median focus-none 6) | $(column_median focus-async-received 6) | $(ratio "$(column_median focus-async-received 6)" "$(column_median focus-none 6)")× | |"
  echo "| plugin CPU µs per request: median | | $(column_median focus-async-received 7) | | |"
}
mkdir -p bench/results
report | tee bench/results/plugins.md

# A sync plugin that did not answer in time refuses its request with 503: the figures above show
# how many, and the run fails, as a refused request is not what a no-op plugin should cost.
for setup in "${setups[@]}"; do
  files=("$work/sync-$setup" "$work/latency-$setup")
  [ -f "$work/focus-$setup" ] && files+=("$work/focus-$setup")
  cat "${files[@]}" | awk '$4 != 0 || $5 != 0 { bad = 1 } END { exit bad }' || {
    cp "$work/gateway-$setup.log" "bench/results/plugins-gateway-$setup.log.tmp"
    echo "non-2xx answers or socket errors in $setup: see bench/results/plugins-gateway-$setup.log.tmp" >&2
    exit 1
  }
done
