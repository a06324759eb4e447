#!/usr/bin/env bash
# What API keys cost the Events API (issue 14: "key checks on the Configuration API cost nothing
# measurable on the Events API"): the same binary in three set-ups, alternated round by round in one
# run, each on a fresh gateway:
#   open         no keys (the baseline);
#   config-keys  -config-api-keys: the Events API is untouched, the Configuration API checks keys;
#   events-keys  -events-api-keys: invoke and emit send a key, which the gateway hashes and checks, and
#                an http subscription with requireApiKey is called with one.
# Writes bench/results/access.md (and prints it). See the "Access" section of bench/README.md.
#
# Usage: bench/access.sh [rounds] [seconds per wrk run]     (defaults: 5 rounds of 5 s)
# Environment: BUILD_DIR (default build), CONNECTIONS for wrk (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
rounds=${1:-5}
seconds=${2:-5}
build_dir=${BUILD_DIR:-build}
connections=${CONNECTIONS:-50}
threads=$(nproc)

install_bench_tools wrk nginx
configure_build "$build_dir"
cmake --build "$build_dir" --target event-gateway >/dev/null
gateway="$build_dir/event-gateway"

make_work_dir

function_port=$(free_port); counting_port=$(free_port)
start_function "$work" "$function_port" "$counting_port"

key=bench-key-0123456789abcdef
printf '%s\n' "$key" | "$gateway" -hash-key >"$work/keys"

# With -config-api-keys the bench configures the gateway with its key.
config() {
  curl -sf -X POST "127.0.0.1:$config_port/v1/spaces/default/$1" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $key" -d "$2" >/dev/null
}

write_emit_script "$work/emit.lua"
cat >"$work/invoke.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"hello":"world"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Event"] = "invoke"
wrk.headers["Function-ID"] = "bench"
LUA
auth=(-H "Authorization: Bearer $key")

# start_gateway SETUP: a fresh gateway with SETUP's flags, configured for the scenarios.
start_gateway() {
  local flags=()
  case $1 in
    config-keys) flags=(-config-api-keys "$work/keys") ;;
    events-keys) flags=(-events-api-keys "$work/keys") ;;
  esac
  config_port=$(free_port); events_port=$(free_port)
  rm -rf "$work/gateway.eg"
  "$gateway" -dev -embed-data-dir "$work/gateway.eg" -listen-address 127.0.0.1 -config-port "$config_port" \
    -events-port "$events_port" -log-level warn "${flags[@]}" >>"$work/gateway.log" 2>&1 &
  gateway_pid=$!
  wait_for_gateway
  register_bench_function "$function_port"
  config subscriptions '{"functionId":"bench","event":"http","method":"GET","path":"/keyed","requireApiKey":true}'
  config functions "{\"functionId\":\"counter\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$counting_port/c\"}}"
  config subscriptions '{"functionId":"counter","event":"bench.emit","path":"/one"}'
  wait_until_routed
}

# The scenarios of one set-up; events-keys sends the key where it is needed (and on /keyed).
run_setup() {
  local setup=$1 key_args=()
  [ "$setup" = events-keys ] && key_args=("${auth[@]}")
  start_gateway "$setup"
  measure "http://127.0.0.1:$events_port/bench" >>"$work/sync-$setup"
  measure "http://127.0.0.1:$events_port/" -s "$work/invoke.lua" "${key_args[@]}" >>"$work/invoke-$setup"
  measure "http://127.0.0.1:$events_port/one" -s "$work/emit.lua" "${key_args[@]}" >>"$work/emit-$setup"
  if [ "$setup" = events-keys ]; then
    measure "http://127.0.0.1:$events_port/keyed" "${auth[@]}" >>"$work/keyed-$setup"
  fi
  stop_gateway
}

setups=(open config-keys events-keys)
: >"$work/machine-load"
for round in $(seq "$rounds"); do
  for setup in "${setups[@]}"; do
    echo "round $round of $rounds: $setup" >&2
    uptime >>"$work/machine-load"
    run_setup "$setup"
  done
done
for file in "$work"/*-*keys "$work"/*-open; do  # every request answered 2xx: no key was refused
  awk '$4 != 0 { bad = 1 } END { exit bad }' "$file" || { echo "non-2xx answers in $(basename "$file")" >&2; exit 1; }
done

ratio() { awk -v a="$(column_median "$1" "$3")" -v b="$(column_median "$2" "$3")" 'BEGIN { printf "%.2f", a / b }'; }
each_round() {  # each round's ratio of column N: each_round A B N
  paste -d' ' "$work/$1" "$work/$2" | awk -v n="$3" -v w="$(head -1 "$work/$1" | wc -w)" \
    '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $n / $(n + w) }'
}
report() {
  echo "# Access benchmark (bench/access.sh)"
  echo
  echo "- commit: \`$(git rev-parse --short HEAD)\`, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $threads cores, $(uptime | sed 's/.*load average: /load /')"
  echo "- wrk: 1 thread, $connections connections, $seconds s per run, $rounds alternated rounds, medians; a fresh gateway per set-up and round"
  echo
  echo "| scenario | set-up | requests/s | p99 ms | non-2xx |"
  echo "|---|---|---|---|---|"
  for scenario in sync invoke emit keyed; do
    for setup in "${setups[@]}"; do
      [ -f "$work/$scenario-$setup" ] || continue
      echo "| $scenario | $setup | $(column_median "$scenario-$setup" 1) | $(column_median "$scenario-$setup" 2) | $(column_median "$scenario-$setup" 4) |"
    done
  done
  echo
  echo "| ratio (of the medians) | requests/s | each round | p99 |"
  echo "|---|---|---|---|"
  for scenario in sync invoke emit; do
    for setup in config-keys events-keys; do
      echo "| $scenario, $setup / open | $(ratio "$scenario-$setup" "$scenario-open" 1)× | $(each_round "$scenario-$setup" "$scenario-open" 1) | $(ratio "$scenario-$setup" "$scenario-open" 2)× |"
    done
  done
  echo "| keyed http (requireApiKey, events-keys) / sync open | $(ratio keyed-events-keys sync-open 1)× | $(each_round keyed-events-keys sync-open 1) | $(ratio keyed-events-keys sync-open 2)× |"
  echo
  echo "Load during the run (uptime): $(sed 's/.*load average: //' "$work/machine-load" | paste -sd';' | sed 's/;/; /g')"
}
mkdir -p bench/results
report | tee bench/results/access.md
