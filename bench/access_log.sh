#!/usr/bin/env bash
# What -access-log (docs/logging.md) costs: run.sh's sync and emit scenarios through the same gateway
# with the access log on and off, in alternated rounds, each run on a fresh gateway. The log goes to
# a file, as it would to a journal or a collector's pipe. Writes bench/results/access-log.md.
#
# Usage: bench/access_log.sh [rounds] [seconds per wrk run]     (defaults: 5 rounds of 5 s)
# Environment: BUILD_DIR (default build), CONNECTIONS for wrk (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
install_bench_tools wrk nginx

rounds=${1:-5}
seconds=${2:-5}
connections=${CONNECTIONS:-50}
build_dir=${BUILD_DIR:-build}

configure_build "$build_dir"
cmake --build "$build_dir" --target event-gateway >/dev/null
binary="$build_dir/event-gateway"

make_work_dir
function_port=$(free_port); counting_port=$(free_port)
start_function "$work" "$function_port" "$counting_port"
write_emit_script "$work/emit.lua"

for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  targets=(on off)
  [ $((round % 2)) -eq 0 ] && targets=(off on)
  for scenario in sync emit; do
    for target in "${targets[@]}"; do
      flags=()
      # -log-level info: the access log's lines are info lines.
      [ "$target" = on ] && flags=(-access-log -log-level info -log-format json)
      run_scenario "$binary" "$scenario" "${flags[@]}" >>"$work/$scenario-$target"
    done
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
report=bench/results/access-log.md
{
  echo "# Access log benchmark (bench/access_log.sh)"
  echo
  echo "- commit: \`$(git rev-parse --short HEAD)\`, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "- wrk: 1 thread, $connections connections, $seconds s per run, $rounds alternated rounds, medians; a fresh gateway per run, its log (JSON) to a file"
  echo
  echo "| scenario | access log | requests/s | p99 ms | gateway CPU µs per request |"
  echo "|---|---|---|---|---|"
  for scenario in sync emit; do
    for target in off on; do
      echo "| $scenario | $target | $(column_median "$scenario-$target" 1) | $(column_median "$scenario-$target" 2) | $(column_median "$scenario-$target" 6) |"
    done
  done
  echo
  echo "| on / off (of the medians) | requests/s | gateway CPU per request |"
  echo "|---|---|---|"
  for scenario in sync emit; do
    echo "| $scenario | $(ratio "$(column_median "$scenario-on" 1)" "$(column_median "$scenario-off" 1)")× | $(ratio "$(column_median "$scenario-on" 6)" "$(column_median "$scenario-off" 6)")× |"
  done
} >"$report"
cat "$report"
