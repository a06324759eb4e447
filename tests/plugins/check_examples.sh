#!/usr/bin/env bash
# Checks every example plugin and the scriptable test plugin with check_plugin.py, without the gateway:
# the Python stubs match the proto, each plugin refuses to run by hand, speaks the handshake over a
# unix socket and over TCP, answers Subscriptions and React as documented, and stops on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/../.."
check=tests/plugins/check_plugin.py
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

examples/plugins/python/generate.sh --check
[ -d examples/plugins/node/node_modules ] || npm ci --prefix examples/plugins/node --no-audit --no-fund

authorized=(--expect no-auth=veto:401 --expect wrong-token=veto:401 --expect bearer=ok --expect lowercase=ok)
for network in unix tcp; do
  export PLUGIN_NETWORK=$network
  $check examples/plugins/python/authorizer.py "${authorized[@]}"
  $check examples/plugins/node/authorizer.js "${authorized[@]}"
  AUDIT_LOG_FILE="$work/python-$network.jsonl" $check examples/plugins/python/audit_logger.py \
    --expect-lines "$work/python-$network.jsonl"
  AUDIT_LOG_FILE="$work/node-$network.jsonl" $check examples/plugins/node/audit-logger.js \
    --expect-lines "$work/node-$network.jsonl"
done
unset PLUGIN_NETWORK

PLUGIN_SUBSCRIPTIONS="gateway.event.received:sync,gateway.function.invoked:async" \
PLUGIN_VETO_ERROR="wrong token" PLUGIN_VETO_STATUS=403 PLUGIN_VETO_IF='"Bearer wrong-' \
PLUGIN_TRANSFORM_DATA='{"name":"Grace"}' PLUGIN_DELAY_MS=50 PLUGIN_RECORD_FILE="$work/record.jsonl" \
PLUGIN_STDERR_LINE="scriptable: starting" PLUGIN_STDOUT_LINE="scriptable: serving" \
  $check tests/plugins/scriptable_plugin.py --expect wrong-token=veto:403 \
    --expect 'bearer=data:{"name":"Grace"}' --expect 'invoked=data:{"name":"Grace"}' \
    --expect-lines "$work/record.jsonl"
PLUGIN_HANDSHAKE_LINE='1|1|{network}|{address}|grpc|' $check tests/plugins/scriptable_plugin.py
PLUGIN_IGNORE_SIGTERM=1 $check tests/plugins/scriptable_plugin.py --ignores-sigterm
if PLUGIN_HANDSHAKE_LINE='2|1|{network}|{address}|grpc' $check tests/plugins/scriptable_plugin.py >"$work/bad.txt"; then
  echo "check_plugin.py accepted core protocol version 2" >&2
  exit 1
fi
echo "== a broken handshake is refused: $(grep -m1 FAIL "$work/bad.txt")"
echo "All plugin checks passed."
