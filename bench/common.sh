# What the bench scripts share; sourced by bench/run.sh and bench/instructions.sh, not run.

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
