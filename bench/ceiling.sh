#!/usr/bin/env bash
# How close kvd comes to what this machine allows for durable appends: kvd
# under --fsync always against bench/bare_server (one thread that reads,
# makes each turn's bytes durable with one pwrite and one fdatasync, and
# answers; nothing else, see bare_server.cc), both driven by the same kvbench
# runs, alternating, and prints one table: kvd's ops/s, the bare server's and
# their ratio (see bench/README.md).
#
#   bench/ceiling.sh BUILD_DIR   BENCH_SECONDS=S  each run's duration (default 3)
#                                REPS=N           runs per side and row, median (default 3)
#                                BENCH_SMOKE=1    0.5 s runs, 50 connections only, REPS 1
#
# Linux only (the bare server uses epoll). For each workload it starts one kvd
# and one bare server on sockets in a temp dir, runs every row as kvd, bare
# server, kvd, bare server, ... (REPS times each), and stops both. Only the
# processes it started are signalled; the temp dir is removed on exit, also
# on failure or Ctrl-C.
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

# Starts kvd and the bare server, each on files of its own for WORKLOAD.
start_both() {
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
}

stop_both() {
  stop_cleanly kvd stop_daemon
  stop_cleanly bare_server stop_bare
}

# Prints the ops/s of kvbench against SOCKET for WORKLOAD at CONNECTIONS.
run() {
  local keys=--hot-key line
  if [[ $2 == append-random ]]; then keys="--keys $random_keys"; fi
  # shellcheck disable=SC2086 # $keys is one or two words
  line=$("$bench" --socket "$1" --connections "$3" --pipeline 1 --value-size "$value_size" \
    --duration "$seconds" --mix append $keys)
  field ops_per_s "$line"
}

print_row() {
  printf '%-14s %11s %12s %12s %9s\n' "$@"
}

echo "reps:    $reps per side and row, kvd and the bare server alternating; the table shows medians"
echo "values:  $value_size bytes; kvd --fsync always; no pipelining"
echo
print_row workload connections "kvd ops/s" "bare ops/s" kvd/bare
for workload in append-random append-hot; do
  start_both "$workload"
  for connections in "${connection_counts[@]}"; do
    kvd_rates=()
    bare_rates=()
    for ((rep = 0; rep < reps; rep++)); do
      kvd_rates+=("$(run "$kvd_socket" "$workload" "$connections")")
      bare_rates+=("$(run "$bare_socket" "$workload" "$connections")")
    done
    kvd_ops=$(median "${kvd_rates[@]}")
    bare_ops=$(median "${bare_rates[@]}")
    ratio=$(awk -v a="$kvd_ops" -v b="$bare_ops" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    print_row "$workload" "$connections" "$kvd_ops" "$bare_ops" "$ratio"
  done
  stop_both
done
