#!/usr/bin/env bash
# Memory and start time on a big store: kvd loading a storage.data of 1M keys
# x 2 values of 40 bytes, against Redis holding the same (see bench/README.md).
#
#   bench/load-memory.sh BUILD_DIR   BENCH_KEYS=N  keys (default 1000000)
#                                    BENCH_SMOKE=1 10,000 keys
#
# Installs redis-server and redis-tools (apt-get) if they are missing. kvd:
# writes storage.data directly (in the original {"key": ["v1", "v2"]} shape),
# then times kvd from launch until `kvctl ping` answers (polled every 10 ms)
# and reads its VmRSS. Redis: loads the same keys and values with
# `redis-cli --pipe` (RPUSH key v1 v2), reads its VmRSS, SAVEs an RDB, times
# DEBUG RELOAD NOSAVE (flush and load that RDB), and then times a restart from
# the RDB until PING answers, and reads VmRSS again. Only the processes it
# started are signalled; the temp dir (about 250 MB for 1M keys) is removed on
# exit, also on failure or Ctrl-C.
set -euo pipefail
export LC_ALL=C

# Settings for common.sh (arguments, binaries, temp dir, cleanup, header). A
# SIGTERM folds nothing here (no journal), but give a big store time.
run_name=none
stop_timeout=60
tmp_prefix="kvd-memory"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

if ((smoke)); then keys=${BENCH_KEYS:-10000}; else keys=${BENCH_KEYS:-1000000}; fi
if [[ ! $keys =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: BENCH_KEYS must be a positive number, not '$keys'" >&2
  exit 2
fi
install_missing redis-server redis-cli -- redis-server redis-tools
echo "redis:   $(redis-server --version)"
echo "store:   $keys keys x 2 values of 40 bytes (key<N>: v1-<N as 37 digits>, v2-<N ...>)"

# MiB from KiB, with 1 decimal; a / b with 2 decimals.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# --- kvd ---------------------------------------------------------------------
mkdir -p -- "$tmp/kvd"
t0=$(now_us)
awk -v n="$keys" 'BEGIN {
  printf "{"
  for (i = 0; i < n; i++)
    printf "%s\"key%d\": [\"v1-%037d\", \"v2-%037d\"]", (i ? ", " : ""), i, i, i
  printf "}"
}' >"$tmp/kvd/storage.data"
echo "storage.data: $(stat -c %s -- "$tmp/kvd/storage.data") bytes, written in $(seconds_since "$t0") s"

kvd_socket=$tmp/kvd.sock
t0=$(now_us)
"$kvd" --data "$tmp/kvd/storage.data" --socket "$kvd_socket" 2>>"$tmp/kvd.log" &
kvd_pid=$!
wait_until_ready "$kvd_pid" kvd 300 "$kvctl" --socket "$kvd_socket" ping
kvd_ready=$(seconds_since "$t0")
kvd_rss=$(rss_kib "$kvd_pid")
stats=$("$kvctl" --socket "$kvd_socket" stats)
if ! grep -qx "keys:$keys" <<<"$stats" || ! grep -qx "values:$((2 * keys))" <<<"$stats"; then
  echo "$0: kvd does not hold $keys keys and $((2 * keys)) values:" \
    "$(tr '\n' ' ' <<<"$stats")" >&2
  exit 1
fi
stop_cleanly kvd stop_daemon

# --- Redis -------------------------------------------------------------------
redis_conf=('save ""' "appendonly no" "enable-debug-command yes")
start_redis "$tmp/redis" "${redis_conf[@]}"
t0=$(now_us)
out=$(awk -v n="$keys" 'BEGIN {
  for (i = 0; i < n; i++) {
    key = "key" i
    printf "*4\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n$40\r\nv1-%037d\r\n$40\r\nv2-%037d\r\n", \
      length(key), key, i, i
  }
}' | redis --pipe)
pipe_seconds=$(seconds_since "$t0")
if [[ $out != *"errors: 0, replies: $keys"* ]]; then
  echo "$0: redis-cli --pipe said: $out" >&2
  exit 1
fi
expect_dbsize() {
  local n
  n=$(redis dbsize)
  if [[ $n != "$keys" ]]; then
    echo "$0: Redis holds $n keys, expected $keys" >&2
    exit 1
  fi
}
expect_dbsize
redis_pipe_rss=$(rss_kib "$redis_pid")
if [[ $(redis save) != OK ]]; then
  echo "$0: Redis SAVE failed" >&2
  exit 1
fi
t0=$(now_us)
out=$(redis debug reload nosave)
redis_reload=$(seconds_since "$t0")
if [[ $out != OK ]]; then
  echo "$0: DEBUG RELOAD NOSAVE said: $out" >&2
  exit 1
fi
expect_dbsize
echo "Redis:   loaded with redis-cli --pipe in $pipe_seconds s;" \
  "dump.rdb $(stat -c %s -- "$tmp/redis/dump.rdb") bytes"
stop_cleanly redis-server stop_redis
t0=$(now_us)
start_redis "$tmp/redis" "${redis_conf[@]}"
redis_restart=$(seconds_since "$t0")
redis_rss=$(rss_kib "$redis_pid")
expect_dbsize
stop_cleanly redis-server stop_redis

# --- the table ---------------------------------------------------------------
row() { printf '%-40s %9s %9s %9s  %s\n' "$@"; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r + 0 <= t + 0 ? "ok" : "ABOVE") }'; }
echo
row "" kvd Redis kvd/Redis target
r=$(ratio "$kvd_rss" "$redis_rss")
row "RSS after loading its file, MiB" "$(mib "$kvd_rss")" "$(mib "$redis_rss")" "$r" \
  "<= 0.75 $(verdict "$r" 0.75)"
r=$(ratio "$kvd_ready" "$redis_restart")
row "start until ping answers, s" "$kvd_ready" "$redis_restart" "$r" "<= 0.7 $(verdict "$r" 0.7)"
r=$(ratio "$kvd_ready" "$redis_reload")
row "  Redis DEBUG RELOAD NOSAVE instead, s" "$kvd_ready" "$redis_reload" "$r" \
  "<= 0.7 $(verdict "$r" 0.7)"
row "  Redis RSS after --pipe instead, MiB" "$(mib "$kvd_rss")" "$(mib "$redis_pipe_rss")" \
  "$(ratio "$kvd_rss" "$redis_pipe_rss")" ""
