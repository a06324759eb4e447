#!/usr/bin/env bash
# One command from a fresh clone to a passing test suite: installs the Debian packages, then builds
# and runs every unit and black-box test twice, in Release and under AddressSanitizer +
# UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

run_suite() {
  local build_dir=$1; shift
  cmake -S . -B "$build_dir" -G Ninja "$@"
  cmake --build "$build_dir"
  ctest --test-dir "$build_dir" --output-on-failure --timeout 300 -j2
}

echo "== Release build and tests =="
run_suite build -DCMAKE_BUILD_TYPE=Release
echo "== ASan + UBSan build and tests =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEG_SANITIZE=ON
