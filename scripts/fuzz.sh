#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ (clang 14, ASan + UBSan, in build-fuzz/) and runs each
# for a bounded time from its committed seed corpus, fuzz/corpus/<harness>/. Fails on any crash,
# leak, timeout, memory blow-up or sanitizer report; the input that caused it is kept in
# build-fuzz/artifacts/ (fuzz/README.md says how it becomes a unit test).
#
#   scripts/fuzz.sh                  # every harness, FUZZ_SECONDS (default 20) each
#   scripts/fuzz.sh path_tree sigv4  # some of them
#
# A harness is one process on one core, so FUZZ_JOBS of them (default: one per core) run at once;
# each still fuzzes for FUZZ_SECONDS of its own. New inputs found go to build-fuzz/corpus/<harness>/,
# never into the committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
build_dir=build-fuzz

# Unity builds (cmake/unity_build.cmake), as scripts/test.sh's: less CPU for a build from scratch.
# Release is what EG_FUZZ's flags are for (-O1 and line tables, CMakeLists.txt); the harnesses bring
# their own sanitizers (fuzz/CMakeLists.txt), so the gateway's EG_SANITIZE stays off.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Release -DEG_FUZZ=ON \
  -DEG_SANITIZE=OFF -DEG_UNITY_BUILD=ON >/dev/null
cmake --build "$build_dir" --target fuzzers -j2

if [ $# -gt 0 ]; then
  harnesses=("$@")
else
  harnesses=()
  for program in "$build_dir"/fuzz/*_fuzzer; do
    name=$(basename "$program")
    harnesses+=("${name%_fuzzer}")
  done
fi

# Leaks count as failures (ASan's LeakSanitizer); UBSan stops at the first report (the build
# makes every check fatal) and prints where.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for harness in "${harnesses[@]}"; do
  [ -x "$build_dir/fuzz/${harness}_fuzzer" ] || { echo "fuzz.sh: no harness $build_dir/fuzz/${harness}_fuzzer" >&2; exit 2; }
  [ -d "fuzz/corpus/$harness" ] || { echo "fuzz.sh: harness $harness has no seed corpus fuzz/corpus/$harness/" >&2; exit 2; }
done

# Runs one harness; its output goes to build-fuzz/<harness>.log, its exit status to <harness>.status.
fuzz_one() {
  local harness=$1
  local found="$build_dir/corpus/$harness"
  mkdir -p "$found" "$build_dir/artifacts"
  # -timeout: one input taking longer is a hang; -rss_limit_mb: one blowing up memory is a bug too.
  local status=0
  "$build_dir/fuzz/${harness}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build_dir/artifacts/$harness-" "$found" "fuzz/corpus/$harness" >"$build_dir/$harness.log" 2>&1 || status=$?
  echo "$status" >"$build_dir/$harness.status"
}

running=0
for harness in "${harnesses[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  echo "== fuzzing $harness for ${seconds}s"
  rm -f "$build_dir/$harness.status"
  fuzz_one "$harness" &
  running=$((running + 1))
done
wait

failed=()
for harness in "${harnesses[@]}"; do
  if [ "$(cat "$build_dir/$harness.status" 2>/dev/null)" != 0 ]; then
    failed+=("$harness")
    echo "fuzz.sh: $harness failed; its output, from $build_dir/$harness.log:" >&2
    tail -n 60 "$build_dir/$harness.log" >&2
  else
    echo "$harness: $(grep -E '^stat::number_of_executed_units|^Done' "$build_dir/$harness.log" | tr '\n' ' ')"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#harnesses[@]} harnesses, no failure"
