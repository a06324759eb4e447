#!/usr/bin/env bash
# Sync path measurement: wrk -> gateway http subscription (GET /bench) -> HTTP function, against wrk
# -> the same function directly, in one run, alternating rounds, reporting medians and the ratio.
# The function is nginx answering a fixed {"statusCode":200,"body":"ok"}, so it is never the
# bottleneck. Usage: bench/sync.sh [rounds] [seconds per round] (needs wrk and nginx: apt-get
# install wrk nginx-light). Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-5}
gateway=build/event-gateway
[ -x "$gateway" ] || { echo "build first: cmake -S . -B build -G Ninja && cmake --build build" >&2; exit 1; }

work=$(mktemp -d)
cleanup() { kill "$gateway_pid" 2>/dev/null || true; nginx -p "$work" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
function_port=$(free_port); config_port=$(free_port); events_port=$(free_port)

cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$function_port;
    keepalive_requests 1000000;
    location / { default_type application/json; return 200 '{"statusCode":200,"body":"ok"}'; }
  }
}
CONF
nginx -p "$work" -c nginx.conf

"$gateway" -dev -embed-data-dir "$work/gateway.eg" -listen-address 127.0.0.1 \
  -config-port "$config_port" -events-port "$events_port" -log-level warn > "$work/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$config_port/v1/status" >/dev/null && break; sleep 0.05; done
curl -sf -X POST "127.0.0.1:$config_port/v1/spaces/default/functions" \
  -d "{\"functionId\":\"bench\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$function_port/\"}}" >/dev/null
curl -sf -X POST "127.0.0.1:$config_port/v1/spaces/default/subscriptions" \
  -d '{"functionId":"bench","event":"http","method":"GET","path":"/bench"}' >/dev/null
[ "$(curl -s "127.0.0.1:$events_port/bench")" = "ok" ] || { echo "gateway does not route /bench" >&2; exit 1; }

# Prints "requests/s p99_ms" for one wrk run.
measure() {
  wrk -t1 -c50 -d"${seconds}s" --latency "$1" | awk '
    /Requests\/sec/ { rps = $2 }
    /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }; p99 = v }
    END { printf "%s %s\n", rps, p99 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: > "$work/direct"; : > "$work/gateway"
for round in $(seq "$rounds"); do
  measure "http://127.0.0.1:$function_port/bench" >> "$work/direct"
  measure "http://127.0.0.1:$events_port/bench" >> "$work/gateway"
done
direct_rps=$(cut -d' ' -f1 "$work/direct" | median); direct_p99=$(cut -d' ' -f2 "$work/direct" | median)
gateway_rps=$(cut -d' ' -f1 "$work/gateway" | median); gateway_p99=$(cut -d' ' -f2 "$work/gateway" | median)
echo "| target | requests/s (median of $rounds) | p99 ms |"
echo "|---|---|---|"
echo "| function directly | $direct_rps | $direct_p99 |"
echo "| through the gateway | $gateway_rps | $gateway_p99 |"
awk -v g="$gateway_rps" -v d="$direct_rps" -v gp="$gateway_p99" -v dp="$direct_p99" \
  'BEGIN { printf "gateway/direct: throughput %.2fx, p99 %.2fx\n", g / d, gp / dp }'
