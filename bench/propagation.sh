#!/usr/bin/env bash
# Propagation latency in cluster mode: two gateway instances on one real etcd; 200 http
# subscriptions are created one after the other through instance A, and each is timed from A's
# answer to the first request that B routes to it. Prints p50, p99 and max.
#
#   bench/propagation.sh
#
# The measurement is tests/blackbox/cluster_test.cpp's HundredsOfChangesPropagateInOrder (which,
# in the test suite, only checks that every change arrives, in order).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target blackbox_tests
build/tests/blackbox_tests --gtest_filter=ClusterTest.HundredsOfChangesPropagateInOrder | grep '^propagation'
