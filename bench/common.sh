# What the bench scripts share; sourced by bench/run.sh, bench/delivery.sh, bench/access.sh,
# bench/plugins.sh, bench/metrics.sh, bench/instructions.sh and bench/tls.sh, not run.

# configure_build DIR [-DOPTION=VALUE...]: configures DIR as the Release build the benchmarks measure,
# setting every option they rely on, whatever an earlier command left in DIR's cache (scripts/dev.sh
# configures build/ without tests, benchmarks or gRPC; a sanitized or fuzzing build would measure
# nothing useful). A script that builds more than event-gateway passes the options that needs.
configure_build() {
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEG_SANITIZE=OFF -DEG_FUZZ=OFF "$@" >/dev/null
}

# install_bench_tools COMMAND...: installs from Debian whichever of the commands (wrk, nginx,
# valgrind, openssl) is missing, so that each benchmark runs on a fresh machine by itself.
install_bench_tools() {
  local tool missing=()
  declare -A package=([wrk]=wrk [nginx]=nginx-light [valgrind]=valgrind [openssl]=openssl)
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("${package[$tool]}"); done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_function WORK FUNCTION_PORT COUNTING_PORT: the function the scenarios call, nginx answering a
# fixed http response object, so it is never the bottleneck. FUNCTION_PORT answers without logging;
# COUNTING_PORT logs one line per call to WORK/deliveries.log, so the emit scenario can count the
# deliveries that arrived. Stop it with: nginx -p WORK -c function.conf -s stop
start_function() {
  local work=$1 function_port=$2 counting_port=$3
  cat >"$work/function.conf" <<CONF
worker_processes 1;
pid $work/function.pid;
error_log $work/function-error.log;
events { worker_connections 16384; }
http {
  access_log off;
  log_format count '.';
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$function_port;
    location / { default_type application/json; return 200 '{"statusCode":200,"body":"ok"}'; }
  }
  server {
    listen 127.0.0.1:$counting_port;
    access_log $work/deliveries.log count buffer=64k flush=100ms;
    location / { default_type application/json; return 200 '{"statusCode":200,"body":"ok"}'; }
  }
}
CONF
  nginx -p "$work" -c function.conf
}

# write_emit_script FILE: the wrk script of the emit scenarios, a POST of one 1 KiB JSON custom event
# (Event: bench.emit). bench/run.sh and bench/delivery.sh post the same event, so their figures compare.
write_emit_script() {
  python3 - "$1" <<'PY'
import json, sys
payload = json.dumps({"user": {"id": "u-0001", "name": "x" * 990}}, separators=(",", ":"))
assert 1000 <= len(payload) <= 1100
open(sys.argv[1], "w").write(
    'wrk.method = "POST"\nwrk.body = \'%s\'\nwrk.headers["Content-Type"] = "application/json"\n'
    'wrk.headers["Event"] = "bench.emit"\n' % payload)
PY
}

# make_work_dir: $work, a fresh directory, and an exit trap that stops $gateway_pid (when set) and the
# function (start_function), then removes $work.
make_work_dir() {
  work=$(mktemp -d)
  gateway_pid=""
  trap 'stop_bench_processes' EXIT
}
stop_bench_processes() {
  [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null || true
  nginx -p "$work" -c function.conf -s stop 2>/dev/null || true
  rm -rf "$work"
}

# stop_gateway: SIGTERM to $gateway_pid, then waits for it to exit.
stop_gateway() {
  kill "$gateway_pid"
  wait "$gateway_pid" 2>/dev/null || true
  gateway_pid=""
}

# wait_until_routed: until GET /bench on $events_port answers "ok" (at most 100 tries), then half a
# second more, so that every Events API thread routes from the new snapshot. Sets warm_up to the
# requests it sent.
wait_until_routed() {
  warm_up=0
  for _ in $(seq 100); do
    warm_up=$((warm_up + 1))
    [ "$(curl -s "127.0.0.1:$events_port/bench")" = "ok" ] && break
    sleep 0.05
  done
  sleep 0.5
}

# cpu_ticks PIDS...: the CPU time (user + system, in clock ticks, $clock_ticks a second) the processes
# used so far: on a shared machine the CPU a request costs moves less than the requests per second do.
cpu_ticks() { for pid in "$@"; do cat "/proc/$pid/stat"; done | awk '{ t += $14 + $15 } END { print t + 0 }'; }
clock_ticks=$(getconf CLK_TCK)

# wait_for_gateway: until the Configuration API on $config_port answers, for at most a minute (a
# gateway under valgrind starts slowly).
wait_for_gateway() {
  for _ in $(seq 600); do curl -sf "127.0.0.1:$config_port/v1/status" >/dev/null && return 0; sleep 0.1; done
  echo "the gateway did not start" >&2
  return 1
}

# config KIND JSON: creates a function or subscription in space default through $config_port.
config() {
  curl -sf -X POST "127.0.0.1:$config_port/v1/spaces/default/$1" -H 'Content-Type: application/json' -d "$2" >/dev/null
}

# register_bench_function FUNCTION_PORT: the function "bench" with the sync (GET /bench) and invoke
# subscriptions the scenarios call.
register_bench_function() {
  config functions "{\"functionId\":\"bench\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$1/\"}}"
  config subscriptions '{"functionId":"bench","event":"http","method":"GET","path":"/bench"}'
  config subscriptions '{"functionId":"bench","event":"invoke"}'
}

# start_proxy WORK FUNCTION_PORT SERVERS: the reference L7 proxy, nginx with as many workers as cores
# and upstream keep-alive to the function on FUNCTION_PORT (the upstream "function"). SERVERS is the
# configuration of its server blocks; their locations proxy_pass with $proxy_location. Stop it with:
# nginx -p WORK -c proxy.conf -s stop
proxy_location='location / { proxy_pass http://function; proxy_http_version 1.1; proxy_set_header Connection ""; }'
start_proxy() {
  local work=$1 function_port=$2 servers=$3
  cat >"$work/proxy.conf" <<CONF
worker_processes $(nproc);
pid $work/proxy.pid;
error_log $work/proxy-error.log;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 10000000;
  upstream function { server 127.0.0.1:$function_port; keepalive 256; keepalive_requests 10000000; }
$servers
}
CONF
  nginx -p "$work" -c proxy.conf
}

# measure URL [wrk args...]: one wrk run of $seconds with $connections connections; prints
# "requests/s p99_ms requests non2xx socket_errors".
measure() {
  local url=$1; shift
  wrk -t1 -c"$connections" -d"${seconds}s" --latency "$@" "$url" | awk '
    /Requests\/sec/ { rps = $2 }
    /requests in/ { requests = $1 }
    /Non-2xx or 3xx responses/ { non2xx = $5 }
    /Socket errors/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }; p99 = v }
    END { printf "%s %s %s %d %d\n", rps, p99, requests, non2xx, errors }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# column_median FILE COLUMN: the median of a column of $work/FILE, one measure line per round.
column_median() { cut -d' ' -f"$2" "$work/$1" | median; }

# build_baseline COMMIT DIR: builds event-gateway at COMMIT in the worktree DIR (its build in
# DIR/build) and sets $baseline to the binary. The worktree is kept for the next run as long as it is
# at the same commit.
build_baseline() {
  local commit=$1 dir=$2
  if [ -e "$dir" ] && [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" != "$commit" ]; then
    if git worktree list --porcelain | grep -qx "worktree $dir"; then
      git worktree remove --force "$dir"
    else
      echo "$dir exists and is not a worktree of $commit: set BASELINE_DIR" >&2
      exit 1
    fi
  fi
  [ -e "$dir" ] || git worktree add --detach "$dir" "$commit" >&2
  echo "building the baseline ${commit:0:7} in $dir/build" >&2
  # Unity builds (cmake/unity_build.cmake) without tests: the quickest build from scratch.
  cmake -S "$dir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEG_UNITY_BUILD=ON -DEG_BUILD_TESTS=OFF \
    -DEG_BUILD_BENCH=OFF >/dev/null 2>&1
  cmake --build "$dir/build" --target event-gateway >/dev/null
  baseline="$dir/build/event-gateway"
}

# start_scenario_gateway BINARY [FLAGS...]: a gateway on fresh ports and data, with the bench
# function, its sync route and one subscriber of bench.emit on /one (the counting function on
# $counting_port). Needs $work and $function_port. Without FLAGS, -log-level warn.
start_scenario_gateway() {
  local binary=$1; shift
  local flags=("$@")
  [ ${#flags[@]} -gt 0 ] || flags=(-log-level warn)
  config_port=$(free_port); events_port=$(free_port)
  local data
  data=$(mktemp -d "$work/gateway.XXXXXX")
  "$binary" -dev -embed-data-dir "$data/eg" -listen-address 127.0.0.1 -config-port "$config_port" \
    -events-port "$events_port" "${flags[@]}" >"$data/gateway.log" 2>&1 &
  gateway_pid=$!
  wait_for_gateway
  register_bench_function "$function_port"
  config functions "{\"functionId\":\"counter\",\"type\":\"http\",\"provider\":{\"url\":\"http://127.0.0.1:$counting_port/\"}}"
  config subscriptions '{"functionId":"counter","event":"bench.emit","path":"/one"}'
  wait_until_routed
}

# run_scenario BINARY SCENARIO [FLAGS...]: one wrk run of sync (GET /bench) or emit (a 1 KiB custom
# event, $work/emit.lua) on a fresh gateway; prints measure's line and the gateway's CPU µs per
# request.
run_scenario() {
  local binary=$1 scenario=$2; shift 2
  start_scenario_gateway "$binary" "$@"
  local before after result
  before=$(cpu_ticks "$gateway_pid")
  case $scenario in
    sync) result=$(measure "http://127.0.0.1:$events_port/bench") ;;
    emit) result=$(measure "http://127.0.0.1:$events_port/one" -s "$work/emit.lua") ;;
  esac
  after=$(cpu_ticks "$gateway_pid")
  stop_gateway
  echo "$result $(awk -v t=$((after - before)) -v hz="$clock_ticks" -v r="$(echo "$result" | cut -d' ' -f3)" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / r }')"
}
