#!/usr/bin/env bash
# What the metrics (issue 16, docs/metrics.md) cost the request path: run.sh's sync (GET /bench, an
# http subscription to the nginx function) and emit (a 1 KiB custom event, one subscriber) scenarios
# through the current tree and through the gateway from before the metrics (BASELINE_COMMIT, default
# c064c3a), in alternated rounds, each run on a fresh gateway. Writes bench/results/metrics.md.
#
# Usage: bench/metrics.sh [rounds] [seconds per wrk run]     (defaults: 5 rounds of 5 s)
# Environment: BUILD_DIR (default build), CONNECTIONS for wrk (default 50), BASELINE_COMMIT,
# BASELINE_DIR (its worktree and build, kept between runs; default /tmp/eg-baseline-<commit>).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
install_bench_tools wrk nginx

rounds=${1:-5}
seconds=${2:-5}
connections=${CONNECTIONS:-50}
build_dir=${BUILD_DIR:-build}
baseline_commit=$(git rev-parse --verify "${BASELINE_COMMIT:-c064c3a}^{commit}")
baseline_dir=${BASELINE_DIR:-/tmp/eg-baseline-${baseline_commit:0:7}}

echo "building the current tree in $build_dir" >&2
configure_build "$build_dir"
cmake --build "$build_dir" --target event-gateway >/dev/null
current="$build_dir/event-gateway"
build_baseline "$baseline_commit" "$baseline_dir"

make_work_dir
function_port=$(free_port); counting_port=$(free_port)
start_function "$work" "$function_port" "$counting_port"
write_emit_script "$work/emit.lua"

for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  targets=(current baseline)
  [ $((round % 2)) -eq 0 ] && targets=(baseline current)
  for scenario in sync emit; do
    for target in "${targets[@]}"; do
      binary=$current
      [ "$target" = baseline ] && binary=$baseline
      run_scenario "$binary" "$scenario" >>"$work/$scenario-$target"
    done
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
round_ratios() {  # FILE_A FILE_B COLUMN: each round's ratio
  paste -d' ' <(cut -d' ' -f"$3" "$work/$1") <(cut -d' ' -f"$3" "$work/$2") |
    awk '{ printf "%s%.2f", (NR == 1 ? "" : ", "), $1 / $2 }'
}
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t ? "met" : "**missed**") }'; }

report=bench/results/metrics.md
{
  echo "# Metrics benchmark (bench/metrics.sh)"
  echo
  echo "- commit: \`$(git rev-parse --short HEAD)\`, $(date -u '+%Y-%m-%d %H:%M UTC'); baseline \`${baseline_commit:0:7}\` (before the metrics)"
  echo "- machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "- wrk: 1 thread, $connections connections, $seconds s per run, $rounds alternated rounds, medians; a fresh gateway per run"
  echo
  echo "| scenario | target | requests/s | p99 ms | non-2xx | gateway CPU µs per request |"
  echo "|---|---|---|---|---|---|"
  for scenario in sync emit; do
    for target in current baseline; do
      echo "| $scenario | $target | $(column_median "$scenario-$target" 1) | $(column_median "$scenario-$target" 2) | $(column_median "$scenario-$target" 4) | $(column_median "$scenario-$target" 6) |"
    done
  done
  echo
  echo "| ratio, current / baseline (of the medians) | value | each round | target |"
  echo "|---|---|---|---|"
  for scenario in sync emit; do
    value=$(ratio "$(column_median "$scenario-current" 1)" "$(column_median "$scenario-baseline" 1)")
    echo "| $scenario requests/s | ${value}× | $(round_ratios "$scenario-current" "$scenario-baseline" 1) | ≥ 0.97: $(verdict "$value" 0.97) |"
    value=$(ratio "$(column_median "$scenario-current" 6)" "$(column_median "$scenario-baseline" 6)")
    echo "| $scenario gateway CPU per request | ${value}× | $(round_ratios "$scenario-current" "$scenario-baseline" 6) | |"
  done
} >"$report"
cat "$report"
