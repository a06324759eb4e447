#!/usr/bin/env bash
# One command from a fresh clone to a running gateway in dev mode: installs the Debian packages dev
# mode needs (no gRPC, etcd or test libraries: scripts/install-deps.sh --dev), builds event-gateway
# in Release and starts it with the embedded store (Events API :4000, Configuration API :4001).
# Extra arguments go to event-gateway.
#
# Every option the build relies on is set, whatever an earlier command left in build/'s cache. This
# build has neither the etcd nor the plugin module (-DEG_WITH_GRPC=OFF): cluster mode and -plugin
# need a full build (scripts/test.sh, or the README's "Building by hand"), which configures build/
# back with gRPC.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --dev
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEG_WITH_GRPC=OFF -DEG_BUILD_TESTS=OFF \
  -DEG_BUILD_BENCH=OFF -DEG_SANITIZE=OFF -DEG_FUZZ=OFF
cmake --build build --target event-gateway
exec build/event-gateway -dev "$@"
