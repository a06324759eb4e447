#!/usr/bin/env bash
# Installs the Debian bookworm packages the gateway needs to build, run and be tested.
# Skips apt entirely when everything is already there, so repeated runs are fast.
#
#   scripts/install-deps.sh              everything: build, tests, benchmarks, fuzzers
#   scripts/install-deps.sh --dev        only what building and running event-gateway in dev mode needs
#                                        (scripts/dev.sh): no gRPC, protobuf, etcd or test libraries;
#                                        such a build is configured with -DEG_WITH_GRPC=OFF
#   scripts/install-deps.sh --build      what building the gateway with its modules and its Debian
#                                        package needs, without the tests (the Dockerfile's build stage)
#   scripts/install-deps.sh --with-node  everything, and Node.js and npm (for the Node SDK test)
#
# libisal-dev is for the spool's CRC-32 (CMakeLists.txt), libsystemd-dev for the header of sd_notify
# (the systemd unit's Type=notify), file for CPack's dependency scan of the Debian package
# (cmake/install.cmake). curl and python3 serve the README's quick start: its curl commands and the
# function of examples/hello.
# etcd-client (etcdctl) and openssl are for the tests: they inspect etcd and make TLS certificates.
# clang-14 and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes) build the fuzzers (fuzz/).
# python3-grpcio and python3-protobuf run the Python plugins (examples/plugins/python/) and the test plugin.
# prometheus scrapes a gateway in the metrics tests, and its promtool checks the exposition format.
# chromium runs the web console's test headless (tests/console/, driven by puppeteer-core from npm).
# mmdebstrap makes the minimal bookworm root that the package and image checks install into
# (tests/package/), and systemd's systemd-analyze verifies the unit.
set -euo pipefail

set_of=all
with_node=false
for argument in "$@"; do
  case "$argument" in
    --dev) set_of=dev ;;
    --build) set_of=build ;;
    --with-node) with_node=true ;;
    *) echo "install-deps.sh: unknown option '$argument' (--dev, --build, --with-node)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libcurl4-openssl-dev libssl-dev libspdlog-dev libsqlite3-dev libisal-dev libsystemd-dev
  curl python3
)
if [ "$set_of" != dev ]; then
  packages+=(libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc file)
fi
if [ "$set_of" = all ]; then
  packages+=(
    libgtest-dev libgmock-dev libbenchmark-dev
    etcd-server etcd-client openssl python3-grpcio python3-protobuf
    clang-14 libclang-rt-14-dev
    prometheus chromium
    mmdebstrap systemd
  )
fi
$with_node && packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
