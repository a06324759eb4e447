#!/usr/bin/env bash
# One command from a fresh clone to a passing test suite: checks the layering of src/ (a second, before
# anything is installed or built), installs the Debian packages, then builds
# and runs every unit and black-box test twice, in Release and under AddressSanitizer +
# UndefinedBehaviorSanitizer, runs the Node suites, and runs each libFuzzer harness for a bounded
# time (scripts/fuzz.sh). A throw-away etcd on a free loopback port serves the etcd store tests.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Layers: no folder of src/ includes one above it (docs/architecture.md) =="
scripts/check-layers.sh

scripts/install-deps.sh

# Unity builds (cmake/unity_build.cmake): a build from scratch, as here, takes about a third less CPU.
run_suite() {
  local build_dir=$1; shift
  cmake -S . -B "$build_dir" -G Ninja -DEG_UNITY_BUILD=ON "$@"
  cmake --build "$build_dir"
  tests/unit/etcd/with_etcd.sh ctest --test-dir "$build_dir" --output-on-failure --timeout 300 -j2
}

echo "== Release build and tests =="
run_suite build -DCMAKE_BUILD_TYPE=Release

echo "== Node SDK compatibility (the original @serverless/event-gateway-sdk, unchanged) =="
command -v node >/dev/null && command -v npm >/dev/null || scripts/install-deps.sh --with-node
npm ci --prefix tests/sdk --no-audit --no-fund
EG_BINARY="$PWD/build/event-gateway" node --test tests/sdk/sdk_compat.test.js

echo "== AWS providers against local stand-ins (kinesalite; Lambda and Firehose verifying SigV4) =="
npm ci --prefix tests/aws --no-audit --no-fund --omit=optional  # kinesalite keeps its streams in memory: no leveldown
EG_BINARY="$PWD/build/event-gateway" node --test tests/aws/

# On its own rather than beside another stage: the build and every fuzzer are CPU-bound, and the
# Node suites, the only stage that mostly waits, take seconds.
# 10 s each from the committed corpora, one harness per core at a time: a regression check within
# CI's time; long runs are local (FUZZ_SECONDS=600 scripts/fuzz.sh <harness>).
echo "== Fuzzing: each libFuzzer harness for 10 s, one per core at a time (fuzz/README.md) =="
FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz.sh

# Without the benchmarks: no test runs them, and the Release build above already keeps them compiling.
# -g1 rather than Debug's -g: line tables only, which is all a sanitizer report needs to name file and
# line of every frame, for about 15% less compile time than full debug information.
echo "== ASan + UBSan build and tests =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DEG_SANITIZE=ON -DEG_BUILD_BENCH=OFF
