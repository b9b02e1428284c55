#!/usr/bin/env bash
# The HTTP API under load: wrk at 50 connections against kvd's
# GET /api/v1/storage?key=..., GET /health and POST /api/v1/storage, side by
# side with nginx serving a fixed string on the same machine (see
# bench/README.md).
#
#   bench/http.sh BUILD_DIR   BENCH_SECONDS=S  each run's duration, whole seconds (default 3)
#                             BENCH_SMOKE=1    1 s runs, 4 connections
#
# Installs wrk and nginx-light (apt-get) if they are missing. Starts one kvd
# (--http on a free loopback port, its data in the temp dir, --fsync always)
# and one nginx (its own configuration, pid file and logs in the temp dir, one
# worker, as kvd serves HTTP on one thread, on another free loopback port),
# and stops only those two. The temp dir is removed on exit, also on failure
# or Ctrl-C.
set -euo pipefail
export LC_ALL=C

# Settings for common.sh (arguments, binaries, temp dir, cleanup, header).
run_name="wrk run"
stop_timeout=30
tmp_prefix="kvd-http-bench"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

install_missing wrk nginx -- wrk nginx-light

connections=50
threads=2
duration=$(awk -v s="$seconds" 'BEGIN { d = int(s); if (d < s) d++; if (d < 1) d = 1; print d }')
if ((smoke)); then
  connections=4
  duration=1
fi

nginx_pid=
stop_nginx() {
  if [[ -n $nginx_pid ]]; then
    stop_pid "$nginx_pid" nginx "$stop_timeout" || true
    nginx_pid=
  fi
}
# common.sh's EXIT trap (cleanup) stops kvd and reports by the exit status,
# which it reads from $?; nginx is this script's own.
on_exit() {
  local rc=$?
  set +e
  stop_nginx
  (exit "$rc")
  cleanup
}
trap on_exit EXIT

# A free loopback port for nginx (kvd takes port 0 and logs the one it got).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# kvd, HTTP on a port of its choosing.
"$kvd" --data "$tmp/storage.data" --socket "$tmp/kvd.sock" --http 0 --name bench \
  2>"$tmp/kvd.log" &
kvd_pid=$!
wait_until_ready "$kvd_pid" kvd 30 "$kvctl" --socket "$tmp/kvd.sock" ping
kvd_url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/kvd.log" | tail -n 1)
# The key that gets read: ten 16-byte values.
for i in $(seq 10); do "$kvctl" --socket "$tmp/kvd.sock" --key bench --val "value-$(printf %010d "$i")"; done

# nginx answering every request with a fixed string.
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type text/plain; return 200 "Hello, World!\nnginx"; }
  }
}
CONF
nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
wait_until_ready "$nginx_pid" nginx 30 curl -sf "http://127.0.0.1:$nginx_port/"
nginx_url="http://127.0.0.1:$nginx_port"

printf 'wrk.method = "POST"\n' >"$tmp/post.lua"

echo "wrk:     $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); $threads threads, $connections connections, $duration s per run"
echo "nginx:   $(nginx -v 2>&1 | cut -d' ' -f3), 1 worker, fixed string"
echo
printf '%-6s %-52s %12s %10s %10s\n' server request "requests/s" p50 p99

# run NAME METHOD URL [WRK ARGS...]: one wrk run, one table row; fails on any error.
run() {
  local name=$1 method=$2 url=$3 out rps p50 p99 errors
  shift 3
  out=$(wrk -t "$threads" -c "$connections" -d "${duration}s" --latency "$@" "$url")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
  printf '%-6s %-52s %12s %10s %10s\n' "$name" "$method /${url#http://127.0.0.1:*/}" "$rps" \
    "$p50" "$p99"
  if [[ -n $errors || -z $rps ]]; then
    echo "$out" >&2
    echo "$0: errors in the run above" >&2
    exit 1
  fi
}

run kvd GET "$kvd_url/api/v1/storage?key=bench"
run kvd GET "$kvd_url/health"
run nginx GET "$nginx_url/"
run kvd POST "$kvd_url/api/v1/storage?key=posted&val=0123456789abcdef" -s "$tmp/post.lua"

stop_nginx
stop_cleanly kvd stop_daemon
