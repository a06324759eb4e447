#!/usr/bin/env bash
# What at-least-once delivery (issue 13) costs: emit with the durable spool against the gateway from
# before the spool (in-memory delivery queue, no retries) and against nginx proxy_pass of the same
# 1 KiB POST, in alternated rounds of the same run; then a kill -9 with many pending deliveries and a
# restart on the same data directory. Writes bench/results/delivery.md (and prints it). See the
# "Delivery" section of bench/README.md.
#
# Usage: bench/delivery.sh [rounds] [seconds per wrk run]     (defaults: 3 rounds of 5 s; 0 rounds: the
# restart only)
# Environment: BUILD_DIR (default build), CONNECTIONS for wrk (default 50), BASELINE_COMMIT (default
# 00fe713), BASELINE_DIR (its worktree and build, kept between runs; default
# /tmp/eg-baseline-<commit>), RESTART_EVENTS (pending deliveries at the kill -9, default 1000000;
# 0 skips the restart).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
rounds=${1:-3}
seconds=${2:-5}
build_dir=${BUILD_DIR:-build}
connections=${CONNECTIONS:-50}
baseline_commit=$(git rev-parse --verify "${BASELINE_COMMIT:-00fe713}^{commit}")
baseline_dir=${BASELINE_DIR:-/tmp/eg-baseline-${baseline_commit:0:7}}
restart_events=${RESTART_EVENTS:-1000000}
backlog=2000000                    # -workers-backlog: large enough never to refuse here
spool_max_bytes=$((4 << 30))       # -spool-max-bytes: 1M pending 1 KiB events take about 1.2 GB
threads=$(nproc)

install_bench_tools wrk nginx

# ---- the two gateways -----------------------------------------------------------------------------
echo "building the current tree in $build_dir" >&2
configure_build "$build_dir"
cmake --build "$build_dir" --target event-gateway >/dev/null
current="$build_dir/event-gateway"

build_baseline "$baseline_commit" "$baseline_dir"

work=$(mktemp -d)
gateway_pid=""
listener_pid=""
sampler_pid=""
cleanup() {
  for pid in "$sampler_pid" "$gateway_pid" "$listener_pid"; do
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  for conf in function proxy restart-function; do nginx -p "$work" -c "$conf.conf" -s stop 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the function (bench/common.sh) and the reference proxy, as in bench/run.sh -------------------
function_port=$(free_port); counting_port=$(free_port); proxy_port=$(free_port)
start_function "$work" "$function_port" "$counting_port"
start_proxy "$work" "$function_port" "  server { listen 127.0.0.1:$proxy_port; $proxy_location }"
write_emit_script "$work/emit.lua"

# start_gateway VARIANT [flags...]: durable (the current tree, default durability), fsync (the
# current tree with -spool-fsync) or memory (the baseline), on fresh ports and a fresh data
# directory ($run_dir), with the emit subscriptions of bench/run.sh: /one to counter1, /ten to
# counter1..10, each counterN calling the counting function.
start_gateway() {
  local variant=$1; shift
  local binary=$current flags=(-spool-max-bytes "$spool_max_bytes")
  case $variant in
    fsync) flags+=(-spool-fsync) ;;
    memory) binary=$baseline; flags=() ;;
  esac
  run_dir=$(mktemp -d "$work/$variant.XXXXXX")
  config_port=$(free_port); events_port=$(free_port)
  "$binary" -dev -embed-data-dir "$run_dir/gateway.eg" -listen-address 127.0.0.1 -config-port "$config_port" \
    -events-port "$events_port" -log-level warn -workers-backlog "$backlog" "${flags[@]}" "$@" \
    >"$run_dir/gateway.log" 2>&1 &
  gateway_pid=$!
  wait_for_gateway
}
subscribe_counters() {
  for i in $(seq 10); do
    config functions "{\"functionId\":\"counter$i\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$counting_port/c$i\"}}"
    config subscriptions "{\"functionId\":\"counter$i\",\"event\":\"bench.emit\",\"path\":\"/ten\"}"
  done
  config subscriptions '{"functionId":"counter1","event":"bench.emit","path":"/one"}'
}
stop_gateway() {
  kill "$gateway_pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$gateway_pid" 2>/dev/null || true
  wait "$gateway_pid" 2>/dev/null || true
  gateway_pid=""
  rm -rf "$run_dir"
}

deliveries() { wc -l <"$work/deliveries.log" 2>/dev/null || echo 0; }
wait_for_deliveries() {  # COUNT: until the counting function has logged COUNT lines, for at most a minute
  for _ in $(seq 600); do [ "$(deliveries)" -ge "$1" ] && return 0; sleep 0.1; done
  return 1
}

# wait_for_routes PATH SUBSCRIBERS: until three events in a row, each on a new connection (so on
# either Events API thread), reached every subscriber: on a loaded machine the threads may take
# longer than run.sh's half second to route from the snapshot with the new subscriptions.
wait_for_routes() {
  local path=$1 subscribers=$2 before in_a_row=0
  for _ in $(seq 60); do
    before=$(deliveries)
    curl -sf -X POST "127.0.0.1:$events_port$path" -H 'Event: bench.emit' -H 'Content-Type: application/json' \
      -d '{"warm":"up"}' >/dev/null || true
    for _ in $(seq 20); do [ "$(deliveries)" -ge $((before + subscribers)) ] && break; sleep 0.1; done
    sleep 0.2  # nginx's log flush: the count is exact now
    if [ $(($(deliveries) - before)) -eq "$subscribers" ]; then
      in_a_row=$((in_a_row + 1))
      [ "$in_a_row" -ge 3 ] && return 0
    else
      in_a_row=0
    fi
  done
  return 1
}

# The reference proxy's processes, for cpu_ticks (common.sh).
nginx_proxy_pids() { echo "$(cat "$work/proxy.pid")" $(pgrep -P "$(cat "$work/proxy.pid")"); }

# Prints "accepted/s p99_ms delivered/s accepted×subscribers delivered non2xx cpu_µs_per_event" for
# one emit run (bench/run.sh's emit_round, with the p99, the refusals, and the gateway's CPU time per
# accepted event, its deliveries included): path subscribers
emit_round() {
  local path=$1 subscribers=$2 before start result accepted expected delivered elapsed cpu_before cpu
  before=$(deliveries)
  cpu_before=$(cpu_ticks "$gateway_pid")
  start=$(date +%s.%N)
  result=$(measure "http://127.0.0.1:$events_port$path" -s "$work/emit.lua" --timeout 30s)
  accepted=$(($(echo "$result" | cut -d' ' -f3) - $(echo "$result" | cut -d' ' -f4)))
  expected=$((accepted * subscribers))
  wait_for_deliveries $((before + expected)) || true
  sleep 0.3  # nginx flushes its log every 100 ms: anything beyond `expected` would show now
  delivered=$(($(deliveries) - before))
  elapsed=$(awk -v now="$(date +%s.%N)" -v start="$start" 'BEGIN { print now - start - 0.3 }')
  cpu=$(($(cpu_ticks "$gateway_pid") - cpu_before))
  echo "$accepted $delivered $elapsed $(echo "$result" | cut -d' ' -f2,4) $cpu" |
    awk -v s="$seconds" -v n="$subscribers" -v hz="$clock_ticks" \
    '{ printf "%.0f %s %.0f %d %d %d %.1f\n", $1 / s, $4, $2 / $3, $1 * n, $2, $5, $6 / hz * 1e6 / $1 }'
}
# The same for nginx proxy_pass: "requests/s p99_ms requests non2xx cpu_µs_per_request" (its workers)
proxy_round() {
  local path=$1 cpu_before result
  cpu_before=$(cpu_ticks $(nginx_proxy_pids))
  result=$(measure "http://127.0.0.1:$proxy_port$path" -s "$work/emit.lua")
  echo "$result $(($(cpu_ticks $(nginx_proxy_pids)) - cpu_before))" |
    awk -v hz="$clock_ticks" '{ printf "%s %s %s %s %.1f\n", $1, $2, $3, $4, $5 / hz * 1e6 / $3 }'
}

# ---- emit: durable, fsync, in-memory and nginx, alternated; a fresh gateway and directory per run ----
: >"$work/machine-load"
targets=(durable fsync memory nginx)
for round in $(seq "$rounds"); do
  uptime >>"$work/machine-load"
  for n in 1 10; do
    path=/one; [ "$n" = 10 ] && path=/ten
    # Each round starts with another target, so none always runs first (or right after another).
    for k in $(seq 0 3); do
      target=${targets[$(((round - 1 + k) % 4))]}
      echo "round $round of $rounds, $n subscriber(s): $target" >&2
      if [ "$target" = nginx ]; then
        proxy_round "$path" >>"$work/nginx-$n"
        continue
      fi
      start_gateway "$target"
      subscribe_counters
      wait_for_routes "$path" "$n" || { echo "$target does not deliver on $path to $n subscribers" >&2; tail "$run_dir/gateway.log" >&2; exit 1; }
      emit_round "$path" "$n" >>"$work/$target-$n"
      stop_gateway
    done
  done
done

# ---- restart with many pending deliveries -----------------------------------------------------------
# The subscription's function accepts connections (the kernel does, into a listen backlog) and never
# answers, with -function-timeout an hour: the gateway holds its 2 × -delivery-max-per-function
# attempts open and every other delivery waits unattempted, costing no CPU. (A closed port would fail
# every delivery at once and schedule its retry up to -delivery-initial-backoff-ms later, with full
# jitter: the restart would then wait for the backoff, not for the spool.) Then kill -9, the counting
# nginx takes the port, and the gateway restarts on the same data directory.
restart_report() {
  local slow_port listener_ready accepted=0 total_requests=0 emit_seconds=0 left chunk result t0 t1 rate
  slow_port=$(free_port)
  python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096); print("ready", flush=True); time.sleep(1e9)' \
    "$slow_port" >"$work/listener.out" &
  listener_pid=$!
  for _ in $(seq 100); do grep -q ready "$work/listener.out" 2>/dev/null && break; sleep 0.05; done
  start_gateway durable -function-timeout 3600000
  local restart_dir=$run_dir
  config functions "{\"functionId\":\"slow\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$slow_port/\"}}"
  config subscriptions '{"functionId":"slow","event":"bench.emit","path":"/pending"}'
  # A subscription created after it, to the counting function: once both threads route this one,
  # they route /pending too (a snapshot holds every change before its own).
  config functions "{\"functionId\":\"probe\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$counting_port/probe\"}}"
  config subscriptions '{"functionId":"probe","event":"bench.emit","path":"/probe"}'
  wait_for_routes /probe 1 || { echo "the gateway does not route /probe" >&2; exit 1; }
  # wrk runs until restart_events are accepted: each run stops after the responses still missing
  # (its Lua script stops the thread), with a duration from the rate so far.
  rate=20000
  uptime >>"$work/machine-load"
  while [ "$accepted" -lt "$restart_events" ]; do
    left=$((restart_events - accepted))
    { cat "$work/emit.lua"; echo "local left, seen = $left, 0"
      echo 'function response() seen = seen + 1; if seen >= left then wrk.thread:stop() end end'; } >"$work/pending.lua"
    chunk=$(awk -v l="$left" -v r="$rate" 'BEGIN { d = l / r * 1.2 + 1; if (d > 60) d = 60; printf "%d", d }')
    t0=$(date +%s.%N)
    result=$(seconds=$chunk measure "http://127.0.0.1:$events_port/pending" -s "$work/pending.lua" --timeout 30s)
    t1=$(date +%s.%N)
    read -r _ p99 requests non2xx <<<"$result"
    accepted=$((accepted + requests - non2xx)); total_requests=$((total_requests + requests))
    emit_seconds=$(awk -v a="$emit_seconds" -v t0="$t0" -v t1="$t1" 'BEGIN { print a + t1 - t0 }')
    rate=$(awk -v a="$accepted" -v s="$emit_seconds" 'BEGIN { r = a / s; printf "%d", r < 100 ? 100 : r }')
    echo "$p99" >>"$work/pending-p99"
    echo "emitted $accepted of $restart_events ($non2xx refused in the last run)" >&2
  done
  local rss_before spool_bytes
  rss_before=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$gateway_pid/status")
  spool_bytes=$(du -sb "$restart_dir/gateway.eg/spool" | cut -f1)
  kill -9 "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true; gateway_pid=""
  kill "$listener_pid"; wait "$listener_pid" 2>/dev/null || true; listener_pid=""

  # The function, now answering: the counting nginx on the port of the subscription, logging the
  # time of each call (ms resolution) so the first and the last delivery can be timed.
  cat >"$work/restart-function.conf" <<CONF
worker_processes 1;
pid $work/restart-function.pid;
error_log $work/restart-function-error.log;
events { worker_connections 16384; }
http {
  log_format at '\$msec';
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$slow_port;
    access_log $work/restart-deliveries.log at buffer=64k flush=100ms;
    location / { default_type application/json; return 200 '{"statusCode":200,"body":"ok"}'; }
  }
}
CONF
  nginx -p "$work" -c restart-function.conf
  uptime >>"$work/machine-load"
  config_port=$(free_port); events_port=$(free_port)
  local exec_at ready_at resumed delivered=0 deadline
  exec_at=$(date +%s.%N)
  "$current" -dev -embed-data-dir "$restart_dir/gateway.eg" -listen-address 127.0.0.1 -config-port "$config_port" \
    -events-port "$events_port" -log-level info -workers-backlog "$backlog" -spool-max-bytes "$spool_max_bytes" \
    >"$restart_dir/restart.log" 2>&1 &
  gateway_pid=$!
  # VmRSS and VmHWM (MiB) every 0.5 s, with the time since exec, the deliveries so far and the
  # gateway's CPU time (s).
  ( while [ -r "/proc/$gateway_pid/status" ]; do
      awk -v t="$(date +%s.%N)" -v e="$exec_at" -v d="$(wc -l <"$work/restart-deliveries.log" 2>/dev/null || echo 0)" \
        -v c="$(cpu_ticks "$gateway_pid" 2>/dev/null)" -v hz="$clock_ticks" \
        '/VmRSS/ { r = $2 } /VmHWM/ { h = $2 } END { printf "%.1f %.0f %.0f %d %.1f\n", t - e, r / 1024, h / 1024, d, c / hz }' \
        "/proc/$gateway_pid/status" 2>/dev/null
      sleep 0.5
    done ) >"$work/rss" &
  sampler_pid=$!
  for _ in $(seq 6000); do curl -sf "127.0.0.1:$config_port/v1/status" >/dev/null && break; sleep 0.01; done
  ready_at=$(date +%s.%N)
  # Each Events API thread logs how many deliveries it resumed. Done when every accepted event and
  # every resumed delivery arrived (wrk may not have counted some that the gateway accepted).
  resumed_count() { { grep -o 'resuming [0-9]* deliveries' "$restart_dir/restart.log" || true; } | awk '{ n += $2 } END { print n + 0 }'; }
  deadline=$(($(date +%s) + 1800))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    delivered=$(wc -l <"$work/restart-deliveries.log" 2>/dev/null || echo 0)
    resumed=$(resumed_count)
    [ "$delivered" -ge "$accepted" ] && [ "$delivered" -ge "$resumed" ] &&
      [ "$(grep -c resuming "$restart_dir/restart.log")" -ge "$threads" ] && break
    sleep 0.5
  done
  sleep 1.5  # the sampler's last samples; nginx's log flush
  delivered=$(wc -l <"$work/restart-deliveries.log")
  resumed=$(resumed_count)
  grep -E 'resuming|spool' "$restart_dir/restart.log" | cut -c1-200 >"$work/restart-log-lines" || true
  local spool_after
  spool_after=$(du -sb "$restart_dir/gateway.eg/spool" | cut -f1)
  kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
  run_dir=$restart_dir
  stop_gateway

  local first last
  read -r first last < <(sort -g "$work/restart-deliveries.log" | awk 'NR == 1 { f = $1 } { l = $1 } END { print f, l }')
  {
    echo "## restart with $(printf "%'d" "$resumed") pending deliveries (kill -9, then the same data directory)"
    echo
    echo "One subscription on /pending to a function that accepted connections and never answered while"
    echo "$(printf "%'d" "$accepted") events were emitted (wrk: $(printf "%'d" "$total_requests") requests in $(printf "%.0f" "$emit_seconds") s,"
    echo "$(printf "%'d" "$((total_requests - accepted))") refused, p99 of its runs $(paste -sd, "$work/pending-p99" | sed 's/,/, /g') ms); then \`kill -9\` with"
    echo "$(awk -v b="$spool_bytes" 'BEGIN { printf "%.2f GB", b / 1e9 }') of spool on disk and an RSS of $rss_before MiB, the counting nginx on the function's port,"
    echo "and the gateway restarted on the same data directory."
    echo
    echo "| measure | value |"
    echo "|---|---|"
    echo "| events accepted before the kill (wrk's 2xx; the gateway may have accepted up to $connections more per wrk run) | $(printf "%'d" "$accepted") |"
    echo "| deliveries resumed (the gateway's log) | $(printf "%'d" "$resumed") |"
    echo "| exec → Configuration API answering | $(awk -v a="$ready_at" -v e="$exec_at" 'BEGIN { printf "%.2f s", a - e }') |"
    echo "| exec → first delivery at the function | $(awk -v a="$first" -v e="$exec_at" 'BEGIN { printf "%.2f s", a - e }') |"
    echo "| exec → last delivery at the function | $(awk -v a="$last" -v e="$exec_at" 'BEGIN { printf "%.1f s", a - e }') |"
    echo "| the gateway's CPU time until the first delivery, until the last (user + system, from the samples) | $(awk '$4 > 0 { print $5 " s"; exit }' "$work/rss"), $(awk '{ c = $5 } END { print c " s" }' "$work/rss") |"
    echo "| deliveries/s while draining (first to last) | $(awk -v n="$delivered" -v f="$first" -v l="$last" 'BEGIN { printf "%.0f", (n - 1) / (l - f) }') |"
    echo "| delivered (at least once) | $(printf "%'d" "$delivered"): every accepted event $([ "$delivered" -ge "$accepted" ] && [ "$delivered" -ge "$resumed" ] && echo "**yes**" || echo "**no**") |"
    echo "| VmRSS right after the replay (first sample with a delivery) | $(awk '$4 > 0 { print $2 " MiB"; exit }' "$work/rss") |"
    echo "| VmRSS peak while draining / at the end | $(awk '{ if ($2 > m) m = $2; l = $2 } END { print m " / " l " MiB" }' "$work/rss") |"
    echo "| VmHWM at the end | $(tail -1 "$work/rss" | awk '{ print $3 " MiB" }') |"
    echo "| spool on disk after the drain | $(awk -v b="$spool_after" 'BEGIN { printf "%.1f MB", b / 1e6 }') |"
    echo
    echo "VmRSS while draining (MiB, one sample in ten of every 0.5 s):"
    echo
    echo "| s since exec | VmRSS MiB | VmHWM MiB | delivered | CPU s |"
    echo "|---|---|---|---|---|"
    awk 'NR % 10 == 1 { printf "| %s | %s | %s | %d | %s |\n", $1, $2, $3, $4, $5 }' "$work/rss"
    echo
    echo "The restarted gateway's log about the spool:"
    echo
    echo '```'
    cat "$work/restart-log-lines"
    echo '```'
  } >"$work/restart.md"
}
[ "$restart_events" -gt 0 ] && restart_report

# ---- the report ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v limit="$3" 'BEGIN { ok = op == ">=" ? v >= limit : v <= limit; print ok ? "met" : "**missed**" }'; }
# The same ratio in each round: variant column, the baseline's file, column
round_ratios() { paste -d' ' <(cut -d' ' -f"$3" "$work/$1") <(cut -d' ' -f"$3" "$work/$2") | awk '{ printf "%s%.2f", (NR == 1 ? "" : ", "), $1 / $2 }'; }
report=bench/results/delivery.md
mkdir -p bench/results
{
  echo "# Delivery benchmark (bench/delivery.sh)"
  echo
  echo "- commit: \`$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src CMakeLists.txt || echo ' (modified)')\`, baseline \`${baseline_commit:0:7}\` (in-memory delivery queue, no retries), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(df -h "$work" | awk 'NR == 2 { print $1 }')"
  echo "- load during the run (uptime): $(awk -F'load average: ' '{print $2}' "$work/machine-load" | paste -sd';' | sed 's/;/; /g')"
  echo "- wrk: 1 thread, $connections connections, $seconds s per run, $rounds alternated rounds, medians; gateways: $threads Events API threads, -workers-backlog $backlog, -spool-max-bytes $spool_max_bytes, a fresh gateway and data directory per run; nginx proxy: $threads workers"
  for n in 1 10; do
    [ "$rounds" -gt 0 ] || break
    echo
    echo "## emit, $n subscriber(s) (POST 1 KiB JSON custom events)"
    echo
    echo "| gateway | accepted events/s | p99 ms | delivered calls/s | CPU µs per event | refused (429) | every accepted event delivered to every subscriber, each round |"
    echo "|---|---|---|---|---|---|---|"
    for target in durable fsync memory; do
      name="current, default durability"; [ "$target" = fsync ] && name="current, -spool-fsync"
      [ "$target" = memory ] && name="baseline, in memory"
      complete=$(awk -v c="$connections" -v n="$n" '{ if ($5 < $4 || $5 > $4 + c * n) bad++ } END { print bad ? "**no**" : "yes" }' "$work/$target-$n")
      detail=$(awk '{ printf "%s%d of %d", (NR == 1 ? "" : ", "), $5, $4 }' "$work/$target-$n")
      refused=$(awk '{ s += $6 } END { print s + 0 }' "$work/$target-$n")
      echo "| $name | $(column_median "$target-$n" 1) | $(column_median "$target-$n" 2) | $(column_median "$target-$n" 3) | $(column_median "$target-$n" 7) | $refused | $complete: $detail |"
    done
    echo "| nginx proxy_pass to the function (reference) | $(printf "%.0f" "$(column_median "nginx-$n" 1)") | $(column_median "nginx-$n" 2) | | $(column_median "nginx-$n" 5) | | |"
    echo
    echo "| ratio (of the medians) | value | each round | target |"
    echo "|---|---|---|---|"
    r=$(ratio "$(column_median "durable-$n" 1)" "$(column_median "memory-$n" 1)")
    echo "| durable / in-memory accepted events/s | ${r}× | $(round_ratios "durable-$n" "memory-$n" 1) | ≥ 0.8: $(verdict "$r" ">=" 0.8) |"
    r=$(ratio "$(column_median "durable-$n" 2)" "$(column_median "memory-$n" 2)")
    echo "| durable / in-memory p99 | ${r}× | $(round_ratios "durable-$n" "memory-$n" 2) | ≤ 2: $(verdict "$r" "<=" 2) |"
    echo "| durable / in-memory CPU per event | $(ratio "$(column_median "durable-$n" 7)" "$(column_median "memory-$n" 7)")× | $(round_ratios "durable-$n" "memory-$n" 7) | |"
    echo "| fsync / in-memory accepted events/s | $(ratio "$(column_median "fsync-$n" 1)" "$(column_median "memory-$n" 1)")× | $(round_ratios "fsync-$n" "memory-$n" 1) | |"
    echo "| fsync / in-memory p99 | $(ratio "$(column_median "fsync-$n" 2)" "$(column_median "memory-$n" 2)")× | $(round_ratios "fsync-$n" "memory-$n" 2) | |"
    for target in durable memory; do
      echo "| $target / nginx proxy_pass requests/s | $(ratio "$(column_median "$target-$n" 1)" "$(column_median "nginx-$n" 1)")× | $(round_ratios "$target-$n" "nginx-$n" 1) | |"
    done
  done
  if [ -f "$work/restart.md" ]; then echo; cat "$work/restart.md"; fi
} >"$report"
cat "$report"
