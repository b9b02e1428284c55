#!/usr/bin/env bash
# How close kvd comes to what this machine allows for durable appends: kvd
# under --fsync always against bench/bare_server (one thread that reads,
# makes each turn's bytes durable with one pwrite and one fdatasync, and
# answers; nothing else, see bare_server.cc) and against Redis with
# appendfsync always, all driven by the same kvbench runs, alternating, and
# prints one table: each server's ops/s, kvd's over the bare server's, and
# the bare server's over Redis's, the most that any server working in
# Redis's model could beat Redis by here (see bench/README.md).
#
#   bench/ceiling.sh BUILD_DIR   BENCH_SECONDS=S  each run's duration (default 3)
#                                REPS=N           runs per side and row, median (default 3)
#                                BENCH_SMOKE=1    0.5 s runs, 50 connections only, REPS 1
#
# Linux only (the bare server uses epoll). Installs redis-server and
# redis-tools (apt-get) if they are missing. For each workload it starts one
# kvd, one bare server and one redis-server on sockets in a temp dir, runs
# every row as kvd, bare server, Redis, kvd, ... (REPS times each), and stops
# them. Only the processes it started are signalled; the temp dir is removed
# on exit, also on failure or Ctrl-C.
set -euo pipefail
export LC_ALL=C

# Settings for common.sh (arguments, binaries, temp dir, cleanup, header).
run_name="kvbench run"
stop_timeout=30
tmp_prefix="kvd-ceiling"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

bare=$build/bench/bare_server
if [[ ! -x $bare ]]; then
  echo "$0: $bare is missing (it is built on Linux only); build first (ninja -C $build)" >&2
  exit 2
fi
read_reps 3
install_missing redis-server redis-cli -- redis-server redis-tools

# Each client waits for its answer before the next append (no pipelining).
connection_counts=(1 8 50)
if ((smoke)); then connection_counts=(50); fi
value_size=16
random_keys=100000 # as compare-redis.sh's random-key appends
kvd_socket=$tmp/kvd.sock
bare_socket=$tmp/bare.sock

bare_pid=
# Stops the bare server, if it runs; returns its exit status.
stop_bare() {
  local status=0
  if [[ -n $bare_pid ]]; then
    stop_pid "$bare_pid" bare_server "$stop_timeout" || status=$?
    bare_pid=
  fi
  return "$status"
}
# common.sh's EXIT trap (cleanup) stops kvd and reports by the exit status,
# which it reads from $?; the bare server is this script's own.
on_exit() {
  local rc=$?
  set +e
  stop_bare
  (exit "$rc")
  cleanup
}
trap on_exit EXIT

# Starts kvd, the bare server and Redis, each on files of its own for WORKLOAD.
start_all() {
  mkdir -p -- "$tmp/kvd-$1"
  echo "--- kvd --fsync always ($1)" >>"$tmp/kvd.log"
  "$kvd" --data "$tmp/kvd-$1/storage.data" --socket "$kvd_socket" --fsync always \
    2>>"$tmp/kvd.log" &
  kvd_pid=$!
  wait_until_ready "$kvd_pid" kvd 30 "$kvctl" --socket "$kvd_socket" ping
  # It answers any line with {"ok":true}, a ping too.
  "$bare" --socket "$bare_socket" --journal "$tmp/bare-$1.journal" 2>>"$tmp/bare.log" &
  bare_pid=$!
  wait_until_ready "$bare_pid" bare_server 30 "$kvctl" --socket "$bare_socket" ping
  # As compare-redis.sh's match for --fsync always.
  start_redis "$tmp/redis-$1" 'save ""' "appendonly yes" "appendfsync always"
}

stop_all() {
  stop_cleanly kvd stop_daemon
  stop_cleanly bare_server stop_bare
  stop_cleanly redis-server stop_redis
}

# Prints the ops/s of kvbench against SOCKET, spoken to in PROTOCOL (kvd or
# resp), for WORKLOAD at CONNECTIONS.
run() {
  local keys=--hot-key line
  if [[ $3 == append-random ]]; then keys="--keys $random_keys"; fi
  # shellcheck disable=SC2086 # $keys is one or two words
  line=$("$bench" --socket "$1" --protocol "$2" --connections "$4" --pipeline 1 \
    --value-size "$value_size" --duration "$seconds" --mix append $keys)
  field ops_per_s "$line"
}

print_row() {
  printf '%-14s %11s %12s %12s %12s %9s %11s\n' "$@"
}

echo "redis:   $(redis-server --version)"
echo "reps:    $reps per side and row, kvd, the bare server and Redis in turn; the table shows medians"
echo "values:  $value_size bytes; kvd --fsync always, Redis appendfsync always; no pipelining"
echo
print_row workload connections "kvd ops/s" "bare ops/s" "Redis ops/s" kvd/bare bare/Redis
for workload in append-random append-hot; do
  start_all "$workload"
  for connections in "${connection_counts[@]}"; do
    kvd_rates=()
    bare_rates=()
    redis_rates=()
    for ((rep = 0; rep < reps; rep++)); do
      kvd_rates+=("$(run "$kvd_socket" kvd "$workload" "$connections")")
      bare_rates+=("$(run "$bare_socket" kvd "$workload" "$connections")")
      redis_rates+=("$(run "$redis_socket" resp "$workload" "$connections")")
    done
    kvd_ops=$(median "${kvd_rates[@]}")
    bare_ops=$(median "${bare_rates[@]}")
    redis_ops=$(median "${redis_rates[@]}")
    print_row "$workload" "$connections" "$kvd_ops" "$bare_ops" "$redis_ops" \
      "$(ratio "$kvd_ops" "$bare_ops")" "$(ratio "$bare_ops" "$redis_ops")"
  done
  stop_all
done
