#!/bin/sh
# Runs a command with a throw-away etcd on free loopback ports, its address in EG_ETCD_ENDPOINTS
# (what the store suite's etcd backend reads), then stops etcd and deletes its data:
#
#   tests/unit/etcd/with_etcd.sh ctest --test-dir build --output-on-failure
#
# ETCD (default: etcd on PATH, else /usr/bin/etcd) names the binary. Exits with the command's status.
set -eu

etcd_binary=${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}
[ -x "$etcd_binary" ] || { echo "with_etcd.sh: no etcd binary (apt-get install etcd-server)" >&2; exit 2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

data_dir=$(mktemp -d "${TMPDIR:-/tmp}/eg-etcd-XXXXXX")
client_port=$(free_port)
peer_port=$(free_port)
while [ "$peer_port" = "$client_port" ]; do peer_port=$(free_port); done

"$etcd_binary" --name with-etcd --data-dir "$data_dir/data" \
  --listen-client-urls "http://127.0.0.1:$client_port" --advertise-client-urls "http://127.0.0.1:$client_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "with-etcd=http://127.0.0.1:$peer_port" >"$data_dir/etcd.log" 2>&1 &
etcd_pid=$!
cleanup() {
  kill "$etcd_pid" 2>/dev/null || true
  wait "$etcd_pid" 2>/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT INT TERM

# Serving once /health answers (etcd serves HTTP and gRPC on the client port).
tries=0
until curl -fsS "http://127.0.0.1:$client_port/health" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 200 ] || ! kill -0 "$etcd_pid" 2>/dev/null; then
    echo "with_etcd.sh: etcd did not start:" >&2
    cat "$data_dir/etcd.log" >&2
    exit 2
  fi
  sleep 0.05
done

export EG_ETCD_ENDPOINTS="127.0.0.1:$client_port"
echo "with_etcd.sh: etcd serving on $EG_ETCD_ENDPOINTS" >&2
status=0
"$@" || status=$?
exit "$status"
