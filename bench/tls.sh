#!/usr/bin/env bash
# TLS on the Events API against nginx terminating TLS in front of the same function, in one run with
# alternated rounds: sync over TLS on keep-alive connections, the handshake rate (a new connection,
# hence a full handshake, per request), and plain sync of the same binary and through nginx, with
# and without a new connection per request, so that what TLS costs each of them shows. Writes a Markdown report to bench/results/tls.md (and prints it).
# See bench/README.md.
#
# Usage: bench/tls.sh [rounds] [seconds per wrk run]     (defaults: 3 rounds of 5 s)
# Environment: BUILD_DIR (default build), CONNECTIONS for wrk (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
rounds=${1:-3}
seconds=${2:-5}
build_dir=${BUILD_DIR:-build}
connections=${CONNECTIONS:-50}

install_bench_tools wrk nginx openssl
configure_build "$build_dir"
cmake --build "$build_dir" --target event-gateway
gateway="$build_dir/event-gateway"
threads=$(nproc)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  for conf in function proxy; do nginx -p "$work" -c "$conf.conf" -s stop 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- one certificate for both servers: ECDSA P-256, what a modern deployment serves ---------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/server.key" \
  -out "$work/server.pem" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

function_port=$(free_port); counting_port=$(free_port)
nginx_tls_port=$(free_port); nginx_plain_port=$(free_port)
start_function "$work" "$function_port" "$counting_port"

# ---- nginx: TLS (the same protocols and ciphers as the gateway, docs/tls.md) and plain (bench/common.sh)
start_proxy "$work" "$function_port" "
  ssl_certificate $work/server.pem;
  ssl_certificate_key $work/server.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
  server { listen 127.0.0.1:$nginx_tls_port ssl; listen 127.0.0.1:$nginx_plain_port; $proxy_location }"

# ---- the gateway twice, the same binary: the Events API over TLS, and plain ---------------------------
# start_gateway NAME [flags...]: sets ${NAME}_events_port once its Configuration API answers.
start_gateway() {
  local name=$1; shift
  config_port=$(free_port)
  local events_port
  events_port=$(free_port)
  "$gateway" -dev -embed-data-dir "$work/$name.eg" -listen-address 127.0.0.1 -config-port "$config_port" \
    -events-port "$events_port" -log-level warn "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_for_gateway
  register_bench_function "$function_port"
  printf -v "${name}_events_port" '%s' "$events_port"
}
start_gateway tls -events-tls-cert "$work/server.pem" -events-tls-key "$work/server.key"
start_gateway plain
sleep 0.5  # every event thread routes from the new snapshot
[ "$(curl -sk "https://127.0.0.1:$tls_events_port/bench")" = "ok" ] || { echo "the TLS gateway does not route /bench" >&2; exit 1; }
[ "$(curl -sk "https://127.0.0.1:$nginx_tls_port/bench")" = '{"statusCode":200,"body":"ok"}' ] || { echo "nginx does not serve TLS" >&2; exit 1; }

close=(-H "Connection: close")
: >"$work/machine-load"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  uptime >>"$work/machine-load"
  measure "https://127.0.0.1:$tls_events_port/bench" >>"$work/tls-gateway"
  measure "https://127.0.0.1:$nginx_tls_port/bench" >>"$work/tls-nginx"
  measure "https://127.0.0.1:$tls_events_port/bench" "${close[@]}" >>"$work/handshake-gateway"
  measure "https://127.0.0.1:$nginx_tls_port/bench" "${close[@]}" >>"$work/handshake-nginx"
  measure "http://127.0.0.1:$plain_events_port/bench" >>"$work/plain-gateway"
  measure "http://127.0.0.1:$nginx_plain_port/bench" >>"$work/plain-nginx"
  measure "http://127.0.0.1:$plain_events_port/bench" "${close[@]}" >>"$work/connect-gateway"
  measure "http://127.0.0.1:$nginx_plain_port/bench" "${close[@]}" >>"$work/connect-nginx"
done

ratio() { awk -v a="$(column_median "$1" 1)" -v b="$(column_median "$2" 1)" 'BEGIN { printf "%.2f", a / b }'; }
row() {  # row SCENARIO FILE_PREFIX
  local nginx_rps nginx_p99 rps p99 errors target
  nginx_rps=$(column_median "$2-nginx" 1); nginx_p99=$(column_median "$2-nginx" 2)
  for target in nginx gateway; do
    rps=$(column_median "$2-$target" 1); p99=$(column_median "$2-$target" 2)
    errors=$(awk '{ s += $4 + $5 } END { print s + 0 }' "$work/$2-$target")
    awk -v s="$1" -v t="$target" -v r="$rps" -v p="$p99" -v nr="$nginx_rps" -v np="$nginx_p99" -v e="$errors" \
      'BEGIN { names["nginx"] = "nginx proxy_pass"; names["gateway"] = "event gateway";
               printf "| %s | %s | %.0f | %.2f | %.2fx | %.2fx | %d |\n", s, names[t], r, p, r / nr, p / np, e }'
  done
}
verdict() { awk -v v="$1" -v limit="$2" 'BEGIN { print (v >= limit ? "met" : "**missed**") }'; }

report=bench/results/tls.md
mkdir -p bench/results
{
  echo "# TLS benchmark results"
  echo
  echo "- commit: \`$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src CMakeLists.txt || echo ' (modified)')\`, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr), $(openssl version)"
  echo "- load during the run (uptime): $(awk -F'load average: ' '{print $2}' "$work/machine-load" | paste -sd';' | sed 's/;/; /g')"
  echo "- wrk: 1 thread, $connections connections, $seconds s per run, $rounds alternated rounds, medians; gateway: $threads Events API threads; nginx: $threads workers; both serve the same ECDSA P-256 certificate, TLS 1.2 and 1.3 with the same ciphers (wrk negotiates TLS 1.3)"
  echo
  echo "| scenario | target | requests/s | p99 ms | throughput vs nginx | p99 vs nginx | errors (all rounds) |"
  echo "|---|---|---|---|---|---|---|"
  row "sync over TLS, keep-alive" tls
  row "handshakes: a new TLS connection per request" handshake
  row "sync, plain HTTP" plain
  row "a new plain connection per request" connect
  echo
  echo "## targets and what TLS costs"
  echo
  echo "| | this run | verdict |"
  echo "|---|---|---|"
  tls_ratio=$(ratio tls-gateway tls-nginx)
  echo "| sync over TLS ≥ 0.8× nginx terminating TLS | ${tls_ratio}× | $(verdict "$tls_ratio" 0.8) |"
  echo "| handshake rate vs nginx's | $(ratio handshake-gateway handshake-nginx)× | (reported) |"
  echo "| a new plain connection per request vs nginx's | $(ratio connect-gateway connect-nginx)× | (reported) |"
  echo "| gateway: sync over TLS vs plain sync | $(ratio tls-gateway plain-gateway)× | (reported) |"
  echo "| nginx: sync over TLS vs plain | $(ratio tls-nginx plain-nginx)× | (reported) |"
} >"$report"
cat "$report"
