#!/usr/bin/env bash
# Installs the Debian bookworm packages the gateway needs to build, run and be tested.
# Skips apt entirely when everything is already there, so repeated runs are fast.
# etcd-client (etcdctl) and openssl are for the tests: they inspect etcd and make TLS certificates.
# clang-14 and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes) build the fuzzers (fuzz/).
# python3-grpcio and python3-protobuf run the Python plugins (examples/plugins/python/) and the test plugin.
# prometheus scrapes a gateway in the metrics tests, and its promtool checks the exposition format.
# --with-node also installs Node.js and npm (for the Node SDK compatibility test).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libcurl4-openssl-dev libssl-dev libspdlog-dev libsqlite3-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev libbenchmark-dev
  etcd-server etcd-client openssl curl python3 python3-grpcio python3-protobuf
  clang-14 libclang-rt-14-dev
  prometheus
)
[ "${1:-}" = "--with-node" ] && packages+=(nodejs npm)

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
