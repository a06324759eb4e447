#!/usr/bin/env bash
# One command from a fresh clone to a passing test suite: checks the layering of src/ (a second, before
# anything is installed or built), installs the Debian packages, then builds
# and runs every unit and black-box test twice, in Release and under AddressSanitizer +
# UndefinedBehaviorSanitizer (built while the stages that mostly wait run), runs the Node suites and the example plugins' checks, installs the
# Debian package and plays the container image's runtime stage in a minimal root, and runs each
# libFuzzer harness for a bounded
# time (scripts/fuzz.sh). A throw-away etcd on a free loopback port serves the etcd store tests.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Layers: no folder of src/ includes one above it (docs/architecture.md) =="
scripts/check-layers.sh

# Node.js and npm (for the Node suites) with the rest, in one apt run, when they are not on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  scripts/install-deps.sh
else
  scripts/install-deps.sh --with-node
fi

# The Node suites' packages are fetched while the Release build compiles: npm mostly waits on the
# registry. Its output is shown with the Node suites.
npm_log=$(mktemp)
trap 'rm -f "$npm_log"' EXIT
(
  npm ci --prefix tests/sdk --no-audit --no-fund
  npm ci --prefix tests/aws --no-audit --no-fund --omit=optional  # kinesalite keeps its streams in memory: no leveldown
  npm ci --prefix examples/plugins/node --no-audit --no-fund
  npm ci --prefix tests/openapi --no-audit --no-fund
  npm ci --prefix tests/console --no-audit --no-fund  # puppeteer-core only: it drives Debian's chromium
) >"$npm_log" 2>&1 &
npm_ci=$!

# Every option the suite relies on is set here, whatever an earlier command (scripts/dev.sh: no tests,
# no benchmarks, no gRPC modules) left in the build folder's cache; a ctest that finds no tests fails
# rather than passing on nothing.
# Unity builds (cmake/unity_build.cmake): a build from scratch, as here, takes about a third less CPU.
build_suite() {
  local build_dir=$1; shift
  cmake -S . -B "$build_dir" -G Ninja -DEG_BUILD_TESTS=ON -DEG_WITH_GRPC=ON -DEG_FUZZ=OFF -DEG_UNITY_BUILD=ON "$@"
  cmake --build "$build_dir"
}
run_tests() {
  tests/unit/etcd/with_etcd.sh ctest --test-dir "$1" --output-on-failure --no-tests=error --timeout 300 -j2
}

echo "== Release build and tests =="
build_suite build -DCMAKE_BUILD_TYPE=Release -DEG_SANITIZE=OFF -DEG_BUILD_BENCH=ON
npm_status=0
wait "$npm_ci" || npm_status=$?
run_tests build

# The sanitizer build compiles (niced, in the background) while the stages that mostly wait run: the
# Node suites and the package check spend their time in the gateway's answers, npm and apt. Without
# the benchmarks: no test runs them, and the Release build above keeps them compiling. -g1 rather
# than Debug's -g: line tables only, which is all a sanitizer report needs to name file and line of
# every frame, for about 15% less compile time than full debug information.
sanitize_log=$(mktemp)
trap 'rm -f "$npm_log" "$sanitize_log"' EXIT
(
  renice -n 10 -p "$BASHPID" >/dev/null
  build_suite build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DEG_SANITIZE=ON -DEG_BUILD_BENCH=OFF
) >"$sanitize_log" 2>&1 &
sanitize_build=$!

echo "== Node SDK compatibility (the original @serverless/event-gateway-sdk, unchanged) =="
cat "$npm_log"
[ "$npm_status" -eq 0 ] || { echo "test.sh: npm ci failed (status $npm_status)" >&2; exit 1; }
EG_BINARY="$PWD/build/event-gateway" node --test tests/sdk/sdk_compat.test.js

echo "== AWS providers against local stand-ins (kinesalite; Lambda and Firehose verifying SigV4) =="
EG_BINARY="$PWD/build/event-gateway" node --test tests/aws/

echo "== OpenAPI: both APIs' answers against docs/openapi/, which the gateway serves as they are =="
EG_BINARY="$PWD/build/event-gateway" node --test tests/openapi/

echo "== The web console in headless Chromium (its screenshot: tests/console/artifacts/console.png) =="
EG_BINARY="$PWD/build/event-gateway" node --test tests/console/

echo "== Example plugins: by themselves (Python, Node), and the Node ones under the real gateway =="
tests/plugins/check_examples.sh
EG_BINARY="$PWD/build/event-gateway" node --test tests/plugins/node_plugins.test.js

# The package CPack makes of the Release build, installed, run as its systemd unit says and purged in
# a minimal bookworm root, then the Dockerfile's runtime stage played on the same root: no container
# engine runs on CI machines (docs/install.md#checks). Needs root, for mmdebstrap, chroot and mount
# namespaces; the root, its mounts and its processes go when it ends. About a minute.
echo "== Debian package and container image, in a minimal bookworm root (tests/package/) =="
deb=$(cd build && cpack -G DEB | sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p')
[ -n "$deb" ] || { echo "test.sh: cpack made no .deb" >&2; exit 1; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo timeout 600 python3 tests/package/run_checks.py "$deb"

echo "== ASan + UBSan build (started after the Release tests) =="
sanitize_status=0
wait "$sanitize_build" || sanitize_status=$?
tail -n 5 "$sanitize_log"
[ "$sanitize_status" -eq 0 ] || { cat "$sanitize_log"; echo "test.sh: the sanitizer build failed" >&2; exit 1; }

# After the sanitizer build, not beside it: both are CPU-bound.
# 10 s each from the committed corpora, one harness per core at a time: a regression check within
# CI's time; long runs are local (FUZZ_SECONDS=600 scripts/fuzz.sh <harness>).
echo "== Fuzzing: each libFuzzer harness for 10 s, one per core at a time (fuzz/README.md) =="
FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz.sh

echo "== ASan + UBSan tests =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_tests build-sanitize
