#!/usr/bin/env bash
# A soak (issue 27): kvd under a steady mixed load for a long time, with
# compactions every few minutes and one restart midway. Every interval it
# prints kvd's RSS, open file descriptors, the interval's throughput and
# latency percentiles, the store's size and the compactions so far; at the
# end, whether RSS and descriptors grew after each process's first
# compaction (see bench/README.md, "A long run: soak.sh").
#
#   bench/soak.sh BUILD_DIR    SOAK_MINUTES=M   minutes in all (default 30)
#                              SOAK_INTERVAL=S  seconds per sample (default 60)
#                              BENCH_SMOKE=1: 6 samples of 10 s, small compactions
#
# Load: kvbench, 50 connections, 45 % gets, 10 % deletes, 45 % appends of
# 40-byte values over 10,000 keys (the deletes keep the store from growing),
# one run per interval with a seed of its own, so 50 new connections and new
# requests each interval; beside it kvctl
# in a loop, a new connection for each append, get and delete.
# Uses BUILD_DIR/daemon/kvd, BUILD_DIR/client/kvctl and BUILD_DIR/bench/kvbench.
set -euo pipefail
export LC_ALL=C

run_name=none
stop_timeout=60
tmp_prefix="kvd-soak"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

minutes=${SOAK_MINUTES:-30}
interval=${SOAK_INTERVAL:-60}
compact_min_size=$((256 << 20))  # about one compaction in 3 minutes on the 2-core test VM
if ((smoke)); then
  minutes=1
  interval=10
  compact_min_size=$((4 << 20))
fi
for setting in minutes interval; do
  if [[ ! ${!setting} =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: SOAK_${setting^^} must be a positive whole number, not '${!setting}'" >&2
    exit 2
  fi
done
samples=$((minutes * 60 / interval))
if ((samples < 2)); then
  echo "$0: SOAK_MINUTES=$minutes with SOAK_INTERVAL=$interval makes fewer than 2 samples" >&2
  exit 2
fi
restart_after=$((samples / 2))
socket=$tmp/kvd.sock
data=$tmp/storage.data
kvd_flags=(--data "$data" --socket "$socket" --compact-min-size "$compact_min_size")
echo "kvd:     ${kvd_flags[*]:4} (default --fsync always)"
echo "load:    kvbench --connections 50 --mix 45 --delete-percent 10 --keys 10000" \
  "--value-size 40, $interval s per sample, $samples samples; kvctl in a loop beside it;" \
  "restart after sample $restart_after"

start_daemon() {
  "$kvd" "${kvd_flags[@]}" 2>>"$tmp/kvd.log" &
  kvd_pid=$!
  wait_until_ready "$kvd_pid" kvd 120 "$kvctl" --socket "$socket" ping
}

# kvctl in a loop, each call a new connection: an append, a get, and every
# tenth round a delete, over 97 keys (prime to 10: the deletes reach every
# key, so they stay small). Ends (its log says why) when a call fails.
kvctl_loop() {
  local i=0 key
  while :; do
    i=$((i + 1))
    key=soak.kvctl.$((i % 97))
    "$kvctl" --socket "$socket" --key "$key" --val "$i" >/dev/null
    "$kvctl" --socket "$socket" --key "$key" >/dev/null
    if ((i % 10 == 0)); then "$kvctl" --socket "$socket" delete "$key" >/dev/null; fi
    sleep 0.05
  done
}
start_kvctl_loop() {
  (set -e; kvctl_loop) 2>>"$tmp/kvctl.log" &
  track kvctl-loop $!
}
# Fails the soak if the kvctl loop has ended.
check_kvctl_loop() {
  if ! kill -0 "${tracked_pids[kvctl-loop]}" 2>/dev/null; then
    echo "$0: a kvctl call failed:" >&2
    tail -n 5 "$tmp/kvctl.log" >&2
    exit 1
  fi
}

start_daemon
start_kvctl_loop
extra_logs+=(kvctl)

printf '%-6s %-4s %9s %5s %9s %8s %8s %8s %8s %7s %7s %6s\n' sample proc rss_kib fds \
  ops_per_s p50_us p99_us p999_us keys values jrn_mib compac
rss=()      # per sample
fds=()      # per sample
p99=()      # per sample
lifetime=() # per sample: 1 before the restart, 2 after
compacted=() # per sample: compactions of that process so far
for ((n = 1; n <= samples; n++)); do
  out=$("$bench" --socket "$socket" --connections 50 --mix 45 --delete-percent 10 \
    --keys 10000 --value-size 40 --preload-values 0 --seed "$((n * 1000))" --duration "$interval")
  check_kvctl_loop
  read_stats "$socket"
  rss+=("$(rss_kib "$kvd_pid")")
  fds+=("$(find "/proc/$kvd_pid/fd" -mindepth 1 | wc -l)")
  life=$((n <= restart_after ? 1 : 2))
  lifetime+=("$life")
  compacted+=("${stats[compactions]}")
  p99+=("$(field p99_us "$out")")
  printf '%-6s %-4s %9s %5s %9s %8s %8s %8s %8s %7s %7s %6s\n' "$n" "$life" "${rss[-1]}" \
    "${fds[-1]}" "$(field ops_per_s "$out")" "$(field p50_us "$out")" "${p99[-1]}" \
    "$(field p999_us "$out")" "${stats[keys]}" "${stats[values]}" \
    "$(awk -v b="${stats[journal_bytes]}" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    "${stats[compactions]}"
  if ((n == restart_after)); then
    stop_tracked kvctl-loop || true # SIGTERM ends its loop: not an error
    t0=$(now_us)
    stop_cleanly kvd stop_daemon
    start_daemon
    start_kvctl_loop
    echo "restart: SIGTERM, start and first answer in $(seconds_since "$t0") s"
  fi
done
stop_tracked kvctl-loop || true # SIGTERM ends its loop: not an error

# Per process: from its first sample after a compaction to its last, RSS
# may rise by 10 % (the allocator's arenas settle), p99 by 25 % (samples
# spread by about that much on 2 cores), descriptors by at most 3 (a kvctl
# connection and a compaction's two new files may be open at a sample).
for life in 1 2; do
  first=
  for i in "${!rss[@]}"; do
    ((lifetime[i] == life && compacted[i] > 0)) || continue
    if [[ -z $first ]]; then first=$i; fi
    last=$i
  done
  if [[ -z $first ]]; then
    echo "process $life: no compaction in its samples; nothing to compare"
    continue
  fi
  rss_verdict=$(verdict "${rss[last]}" "<=" "$((rss[first] * 110 / 100))")
  fd_verdict=$(verdict "${fds[last]}" "<=" "$((fds[first] + 3))")
  p99_limit=$(awk -v p="${p99[first]}" 'BEGIN { printf "%.1f", p * 1.25 }')
  p99_verdict=$(verdict "${p99[last]}" "<=" "$p99_limit")
  echo "process $life: samples $((first + 1))-$((last + 1)) after its first compaction:" \
    "rss ${rss[first]} -> ${rss[last]} KiB ($rss_verdict, at most +10 %)," \
    "p99 ${p99[first]} -> ${p99[last]} us ($p99_verdict, at most +25 %)," \
    "fds ${fds[first]} -> ${fds[last]} ($fd_verdict, at most +3)"
done
stop_cleanly kvd stop_daemon
