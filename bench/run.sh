#!/usr/bin/env bash
# Starts a throwaway kvd and measures it with kvbench (see bench/README.md).
#
#   bench/run.sh BUILD_DIR          BENCH_SECONDS=S sets each run's duration (default 3)
#                                   BENCH_SMOKE=1: 0.5 s runs, 1 connection only
#
# Uses BUILD_DIR/daemon/kvd, BUILD_DIR/client/kvctl and BUILD_DIR/bench/kvbench.
# The daemon gets a fresh data file and socket in a temp dir, which is removed
# on exit, also on failure or Ctrl-C.
set -euo pipefail

# Settings for common.sh, which checks the arguments and binaries, sets up the
# temp dir and its cleanup, and prints the header. After SIGTERM, kvd needs its
# --shutdown-timeout (10 s) plus the fold of a store of a few runs' appends.
run_name=run
stop_timeout=30
tmp_prefix="kvd-bench"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

socket=$tmp/kvd.sock
"$kvd" --data "$tmp/storage.data" --socket "$socket" 2>"$tmp/kvd.log" &
kvd_pid=$!

# Wait at most 10 s for the daemon to answer.
wait_until_ready "$kvd_pid" kvd 10 "$kvctl" --socket "$socket" ping

connection_counts=(1 50)
if ((smoke)); then connection_counts=(1); fi

echo
printf '%-7s %11s %10s %10s %10s\n' op connections ops/s p50_us p99_us
for op in append get; do
  for connections in "${connection_counts[@]}"; do
    line=$("$bench" --socket "$socket" --mix "$op" --connections "$connections" \
      --duration "$seconds")
    printf '%-7s %11s %10s %10s %10s\n' "$op" "$connections" "$(field ops_per_s "$line")" \
      "$(field p50_us "$line")" "$(field p99_us "$line")"
  done
done

stop_cleanly kvd stop_daemon
