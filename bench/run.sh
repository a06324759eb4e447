#!/usr/bin/env bash
# The gateway's benchmarks in one command: installs what they need (wrk and nginx from Debian, Google
# Benchmark), builds in Release, runs every scenario on 127.0.0.1 against baselines measured in the
# same run, and writes a Markdown report to bench/results/latest.md (and prints it). See
# bench/README.md for what each scenario measures and why.
#
# Usage: bench/run.sh [rounds] [seconds per wrk run]     (defaults: 3 rounds of 5 s)
# Environment: BUILD_DIR (default build), CONNECTIONS for wrk (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
rounds=${1:-3}
seconds=${2:-5}
build_dir=${BUILD_DIR:-build}
connections=${CONNECTIONS:-50}

install_tools() {
  scripts/install-deps.sh
  install_bench_tools wrk nginx
}

build() {
  # blackbox_tests for the cluster scenario (etcd module included), and the micro-benchmarks.
  configure_build "$build_dir" -DEG_BUILD_TESTS=ON -DEG_BUILD_BENCH=ON -DEG_WITH_GRPC=ON
  cmake --build "$build_dir" --target event-gateway route_lookup_bench config_change_bench preload_store blackbox_tests
}

install_tools
build
gateway="$build_dir/event-gateway"
threads=$(nproc)
work=$(mktemp -d)
gateway_pid=""
cleanup() {
  [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null || true
  for conf in function proxy; do nginx -p "$work" -c "$conf.conf" -s stop 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

function_port=$(free_port); counting_port=$(free_port); proxy_port=$(free_port)
config_port=$(free_port); events_port=$(free_port)

# ---- the function (bench/common.sh) -------------------------------------------------------------
start_function "$work" "$function_port" "$counting_port"

# ---- the reference L7 proxy: nginx proxy_pass with upstream keep-alive (bench/common.sh) ------------
start_proxy "$work" "$function_port" "  server { listen 127.0.0.1:$proxy_port; $proxy_location }"

# ---- the gateway --------------------------------------------------------------------------------
"$gateway" -dev -embed-data-dir "$work/gateway.eg" -listen-address 127.0.0.1 -config-port "$config_port" \
  -events-port "$events_port" -log-level warn >"$work/gateway.log" 2>&1 &
gateway_pid=$!
wait_for_gateway
register_bench_function "$function_port"
for i in $(seq 10); do
  config functions "{\"functionId\":\"counter$i\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$counting_port/c$i\"}}"
  config subscriptions "{\"functionId\":\"counter$i\",\"event\":\"bench.emit\",\"path\":\"/ten\"}"
done
config subscriptions '{"functionId":"counter1","event":"bench.emit","path":"/one"}'
[ "$(curl -s "127.0.0.1:$events_port/bench")" = "ok" ] || { echo "the gateway does not route /bench" >&2; exit 1; }
sleep 0.5  # every event thread routes from the new snapshot

# ---- wrk request scripts ------------------------------------------------------------------------
cat > "$work/invoke.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"hello":"world"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Event"] = "invoke"
wrk.headers["Function-ID"] = "bench"
LUA
write_emit_script "$work/emit.lua"

# ---- sync and invoke: the function directly, through nginx, through the gateway, alternated ----------
: >"$work/machine-load"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds: sync and invoke" >&2
  uptime >>"$work/machine-load"
  measure "http://127.0.0.1:$function_port/bench" >>"$work/sync-direct"
  measure "http://127.0.0.1:$proxy_port/bench" >>"$work/sync-nginx"
  measure "http://127.0.0.1:$events_port/bench" >>"$work/sync-gateway"
  measure "http://127.0.0.1:$function_port/" -s "$work/invoke.lua" >>"$work/invoke-direct"
  measure "http://127.0.0.1:$proxy_port/" -s "$work/invoke.lua" >>"$work/invoke-nginx"
  measure "http://127.0.0.1:$events_port/" -s "$work/invoke.lua" >>"$work/invoke-gateway"
done

# ---- emit: accepted events/s, delivered calls/s, delivered == accepted ----------------------------
deliveries() { wc -l <"$work/deliveries.log" 2>/dev/null || echo 0; }
# Prints "accepted/s delivered/s accepted delivered" for one run: path subscribers
emit_round() {
  local path=$1 subscribers=$2 before start result accepted expected delivered elapsed
  before=$(deliveries)
  start=$(date +%s.%N)
  # A long timeout: a request wrk gave up on could still be accepted, and would then count as delivered
  # but not accepted.
  result=$(measure "http://127.0.0.1:$events_port$path" -s "$work/emit.lua" --timeout 30s)
  accepted=$(($(echo "$result" | cut -d' ' -f3) - $(echo "$result" | cut -d' ' -f4)))
  expected=$((accepted * subscribers))
  for _ in $(seq 600); do  # up to 60 s for the backlog to drain
    [ $(($(deliveries) - before)) -ge "$expected" ] && break
    sleep 0.1
  done
  sleep 0.3  # nginx flushes its log every 100 ms: anything beyond `expected` would show now
  delivered=$(($(deliveries) - before))
  elapsed=$(awk -v now="$(date +%s.%N)" -v start="$start" 'BEGIN { print now - start - 0.3 }')
  echo "$accepted $delivered $elapsed" | awk -v s="$seconds" -v n="$subscribers" \
    '{ printf "%.0f %.0f %d %d\n", $1 / s, $2 / $3, $1 * n, $2 }'
}
for round in $(seq "$rounds"); do
  echo "round $round of $rounds: emit" >&2
  uptime >>"$work/machine-load"
  emit_round /one 1 >>"$work/emit-1"
  emit_round /ten 10 >>"$work/emit-10"
done

# ---- routing scale: Google Benchmark -----------------------------------------------------------
echo "routing scale" >&2
"$build_dir/route_lookup_bench" --benchmark_format=csv --benchmark_min_time=0.2 2>/dev/null \
  | grep -E '^"?(static|param|wildcard)_lookup' >"$work/routing.csv"

# ---- configuration changes: Google Benchmark -------------------------------------------------------
echo "configuration changes" >&2
"$build_dir/config_change_bench" --benchmark_format=csv --benchmark_min_time=0.5 2>/dev/null \
  | grep -E '^"?(http_subscription_change|function_update)' >"$work/changes.csv"

# ---- resources: RSS and startup ----------------------------------------------------------------
echo "resources" >&2
kill "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true; gateway_pid=""
python3 bench/resources.py "$gateway" "$build_dir/preload_store" "$work/resources" "http://127.0.0.1:$function_port/" >"$work/resources.md"

# ---- cluster propagation: two gateway instances on one real etcd -----------------------------------
# The black-box test creates 200 http subscriptions through instance A, one after the other, and
# times each from A's answer until instance B routes it; it prints p50, p99 and max.
"$build_dir/tests/blackbox_tests" --gtest_filter=ClusterTest.HundredsOfChangesPropagateInOrder |
  grep '^propagation' >"$work/propagation"
propagation_ms() { grep -o "$1 [0-9.]* ms" "$work/propagation" | awk '{ print $2 }'; }

# ---- the targets of bench/README.md, judged from this run's figures -------------------------------
verdict() { awk -v v="$1" -v op="$2" -v limit="$3" 'BEGIN { ok = op == ">=" ? v >= limit : v <= limit; print ok ? "met" : "**missed**" }'; }
targets() {
  local ratio p99_ratio scenario kind ns
  echo "## targets"
  echo
  echo "| target | this run | verdict |"
  echo "|---|---|---|"
  for scenario in sync invoke; do
    ratio=$(awk -v g="$(column_median "$scenario-gateway" 1)" -v n="$(column_median "$scenario-nginx" 1)" 'BEGIN { printf "%.2f", g / n }')
    p99_ratio=$(awk -v g="$(column_median "$scenario-gateway" 2)" -v n="$(column_median "$scenario-nginx" 2)" 'BEGIN { printf "%.2f", g / n }')
    echo "| $scenario throughput ≥ 0.8× nginx | ${ratio}× | $(verdict "$ratio" ">=" 0.8) |"
    echo "| $scenario p99 ≤ 1.5× nginx | ${p99_ratio}× | $(verdict "$p99_ratio" "<=" 1.5) |"
  done
  local accepted complete
  accepted=$(column_median emit-1 1)
  complete=$(awk -v c="$connections" '{ if ($4 < $3 || $4 > $3 + c) bad++ } END { print bad ? 0 : 1 }' "$work/emit-1")
  echo "| emit, 1 subscriber: ≥ 50,000 accepted events/s | $accepted/s | $(verdict "$accepted" ">=" 50000) |"
  echo "| emit: every accepted event delivered | $([ "$complete" = 1 ] && echo yes || echo no) | $(verdict "$complete" ">=" 1) |"
  for kind in static param wildcard; do
    ns=$(tr -d '"' <"$work/routing.csv" | awk -F, -v name="${kind}_lookup/100000" '$1 == name { printf "%.0f", $4 }')
    echo "| $kind route lookup at 100k ≤ 200 ns | $ns ns | $(verdict "$ns" "<=" 200) |"
  done
  local change_us
  change_us=$(tr -d '"' <"$work/changes.csv" | awk -F, '$1 == "http_subscription_change/100000" { printf "%.0f", $3 }')
  echo "| one configuration change at 100k subscriptions ≤ 10,000 µs | $change_us µs | $(verdict "$change_us" "<=" 10000) |"
  read -r ready_ms idle_rss <"$work/resources/targets"
  echo "| idle RSS ≤ 15 MiB | $idle_rss MiB | $(verdict "$idle_rss" "<=" 15) |"
  echo "| ready ≤ 100 ms | $ready_ms ms | $(verdict "$ready_ms" "<=" 100) |"
  echo "| cluster propagation p99 ≤ 100 ms | $(propagation_ms p99) ms | $(verdict "$(propagation_ms p99)" "<=" 100) |"
}

# ---- the report ---------------------------------------------------------------------------------
report=bench/results/latest.md
mkdir -p bench/results
{
  echo "# Benchmark results"
  echo
  echo "- commit: \`$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src CMakeLists.txt || echo ' (modified)')\`, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
  echo "- load during the run (uptime): $(awk -F'load average: ' '{print $2}' "$work/machine-load" | paste -sd';' | sed 's/;/; /g')"
  echo "- wrk: 1 thread, $connections connections, $seconds s per run, $rounds alternated rounds, medians; gateway: $threads Events API threads; nginx proxy: $threads workers"
  echo
  echo "## sync (GET /bench, http subscription) and invoke (POST, Event: invoke)"
  echo
  echo "| scenario | target | requests/s | p99 ms | throughput vs nginx | p99 vs nginx |"
  echo "|---|---|---|---|---|---|"
  for scenario in sync invoke; do
    nginx_rps=$(column_median "$scenario-nginx" 1); nginx_p99=$(column_median "$scenario-nginx" 2)
    for target in direct nginx gateway; do
      rps=$(column_median "$scenario-$target" 1); p99=$(column_median "$scenario-$target" 2)
      awk -v s="$scenario" -v t="$target" -v r="$rps" -v p="$p99" -v nr="$nginx_rps" -v np="$nginx_p99" \
        'BEGIN { names["direct"] = "function directly (ceiling)"; names["nginx"] = "nginx proxy_pass"; names["gateway"] = "event gateway";
                 printf "| %s | %s | %.0f | %.2f | %.2fx | %.2fx |\n", s, names[t], r, p, r / nr, p / np }'
    done
  done
  echo
  echo "## emit (POST 1 KiB JSON custom events)"
  echo
  echo "| subscribers | accepted events/s | delivered calls/s | every accepted event delivered to every subscriber, each round (delivered of accepted × subscribers) |"
  echo "|---|---|---|---|"
  for n in 1 10; do
    # wrk stops with up to one request per connection in flight, which the gateway may still accept:
    # every accepted event must arrive, and at most those in flight on top.
    complete=$(awk -v c="$connections" -v n="$n" '{ if ($4 < $3 || $4 > $3 + c * n) bad++ } END { print bad ? "**no**" : "yes" }' "$work/emit-$n")
    rounds_detail=$(awk '{ printf "%s%d of %d", (NR == 1 ? "" : ", "), $4, $3 }' "$work/emit-$n")
    echo "| $n | $(column_median "emit-$n" 1) | $(column_median "emit-$n" 2) | $complete: $rounds_detail |"
  done
  echo
  echo "## routing scale (Google Benchmark, path tree lookup)"
  echo
  echo "| lookup | routes | ns per lookup |"
  echo "|---|---|---|"
  tr -d '"' <"$work/routing.csv" | awk -F, '{ split($1, name, "/"); sub(/_lookup/, "", name[1]); printf "| %s | %s | %.0f |\n", name[1], name[2], $4 }'
  echo
  echo "## configuration changes (Google Benchmark, one watch event applied and its snapshot built)"
  echo
  echo "| change | functions and http subscriptions (each) | µs per change |"
  echo "|---|---|---|"
  tr -d '"' <"$work/changes.csv" | awk -F, '{ split($1, name, "/"); gsub(/_/, " ", name[1]); printf "| %s | %s | %.0f |\n", name[1], name[2], $3 }'
  echo
  echo "## resources"
  echo
  cat "$work/resources.md"
  echo
  echo "## cluster propagation (two instances on one etcd, 200 changes)"
  echo
  echo "| from a write answered by instance A to routable on instance B | ms |"
  echo "|---|---|"
  for p in p50 p99 max; do echo "| $p | $(propagation_ms "$p") |"; done
  echo
  targets
} >"$report"
cat "$report"
