#!/usr/bin/env bash
# One command from a fresh clone to a running gateway in dev mode: installs the Debian packages,
# builds in Release and starts event-gateway with the embedded store (Events API :4000,
# Configuration API :4001). Extra arguments go to event-gateway.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEG_BUILD_TESTS=OFF
cmake --build build --target event-gateway
exec build/event-gateway -dev "$@"
