#!/usr/bin/env bash
# Measures what the journal (issue 3) promises: append throughput under
# --fsync always, its independence of the store size, and restart times with
# and without a journal to replay (see bench/README.md).
#
#   bench/durability.sh BUILD_DIR   BENCH_SECONDS=S sets each kvbench run (default 3)
#                                   BENCH_SMOKE=1: 0.5 s runs, 8 connections only,
#                                   stores of 1,000 and 20,000 values
#
# Uses BUILD_DIR/daemon/kvd, BUILD_DIR/client/kvctl and BUILD_DIR/bench/kvbench.
# Every daemon works on data files and a socket in one temp dir, which is
# removed on exit, also on failure or Ctrl-C. One daemon runs at a time; the
# script only ever signals the daemon it started last.
set -euo pipefail
export LC_ALL=C  # a '.' in $EPOCHREALTIME and in printf's %f

# Settings for common.sh, which checks the arguments and binaries, sets up the
# temp dir and its cleanup, and prints the header. Twice run.sh's stop timeout:
# a SIGTERM here can fold a journal into a storage.data of 2,200,000 values.
run_name="kvbench run"
stop_timeout=60
tmp_prefix="kvd-durability"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"
echo "kvd:     --fsync always, default compaction (--compact-min-size 64 MiB," \
  "--compact-percentage 100)"
socket=$tmp/kvd.sock

small_store=1000              # values in the small store of part 2
big_store=2000000             # values in the big store of parts 2 and 3
journal_values=200000         # values left in the journal for part 3b
keys=10000                    # preloaded values go round-robin over this many keys
start_limit=120               # seconds a start may take before the script gives up
connection_counts=(1 8 64)    # part 1
if ((smoke)); then
  big_store=20000
  journal_values=2000
  connection_counts=(8)
fi

# SIGKILLs the daemon this script started, as a crash would end it, and reaps it.
crash_daemon() {
  kill -KILL "$kvd_pid" 2>/dev/null || true
  wait "$kvd_pid" 2>/dev/null || true
  kvd_pid=
}

# Starts kvd on DIR/storage.data with --fsync always and waits until it answers
# a ping (polled every 10 ms, for at most $start_limit s); sets start_seconds to
# the time from launch until the first answer.
start_daemon() {
  local dir=$1 t0
  mkdir -p -- "$dir"
  echo "--- kvd --data $dir/storage.data" >>"$tmp/kvd.log"
  t0=$(now_us)
  "$kvd" --data "$dir/storage.data" --socket "$socket" --fsync always 2>>"$tmp/kvd.log" &
  kvd_pid=$!
  wait_until_ready "$kvd_pid" kvd "$start_limit" "$kvctl" --socket "$socket" ping
  start_seconds=$(seconds_since "$t0")
}

# Stops the daemon with SIGTERM (it folds its journal into storage.data); sets
# stop_seconds.
stop_timed() {
  local t0
  t0=$(now_us)
  stop_cleanly kvd stop_daemon
  stop_seconds=$(seconds_since "$t0")
}

# Exits unless the daemon holds exactly N values.
expect_values() {
  read_stats "$socket"
  if [[ ${stats[values]:-?} != "$1" ]]; then
    echo "$0: kvd holds ${stats[values]:-?} values, expected $1" >&2
    exit 1
  fi
}

# Writes lines FROM..TO-1 of the preload, "key<N mod $keys><TAB>v<N as 15 digits>"
# (a 16-byte value), to FILE.
generate() {
  awk -v from="$1" -v to="$2" -v keys="$keys" \
    'BEGIN { for (i = from; i < to; i++) printf "key%d\tv%015d\n", i % keys, i }' >"$3"
}

# Appends the lines of FILE (N of them) with kvctl import; sets import_seconds.
import_file() {
  local file=$1 n=$2 out t0
  t0=$(now_us)
  out=$("$kvctl" --socket "$socket" import <"$file")
  import_seconds=$(seconds_since "$t0")
  if [[ $out != "imported $n values" ]]; then
    echo "$0: kvctl import said '$out', expected 'imported $n values'" >&2
    exit 1
  fi
}

# The header and one row of a table of kvbench results.
table_header() {
  printf '%12s %10s %10s %10s %10s %12s %14s\n' "$1" ops/s p50_us p99_us max_us compactions \
    journal_bytes
}
# Runs kvbench --mix append with N connections and sets `row` to a table row
# starting with LABEL and ending with the daemon's compactions and
# journal_bytes after the run; sets ops_per_s.
bench_append() {
  local label=$1 connections=$2 line
  line=$("$bench" --socket "$socket" --mix append --connections "$connections" \
    --duration "$seconds")
  ops_per_s=$(field ops_per_s "$line")
  read_stats "$socket"
  row=$(printf '%12s %10s %10s %10s %10s %12s %14s' "$label" "$ops_per_s" \
    "$(field p50_us "$line")" "$(field p99_us "$line")" "$(field max_us "$line")" \
    "${stats[compactions]:-?}" "${stats[journal_bytes]:-?}")
}

# 1. Append throughput under --fsync always by concurrency, on one daemon that
#    starts empty (later runs see the earlier runs' values).
echo
if ((smoke)); then
  echo "1. append, --fsync always, store starting empty (one daemon, one run)"
else
  echo "1. append, --fsync always, store starting empty (one daemon for all three runs)"
fi
start_daemon "$tmp/empty"
table_header connections
for connections in "${connection_counts[@]}"; do
  bench_append "$connections" "$connections"
  echo "$row"
done
stop_timed

# 2. Append throughput by store size. Each store is imported into a fresh
#    daemon, which is then stopped (folding the import's journal into
#    storage.data) and started again, so the run measures the steady state.
echo
echo "2. append, --fsync always, 8 connections, by values in storage.data at start"
t0=$(now_us)
generate 0 "$big_store" "$tmp/preload.tsv"
echo "   generated $big_store preload lines in $(seconds_since "$t0") s" \
  "($(stat -c %s -- "$tmp/preload.tsv") bytes)"
head -n "$small_store" -- "$tmp/preload.tsv" >"$tmp/preload-small.tsv"
rows=()
for size in "$small_store" "$big_store"; do
  file=$tmp/preload.tsv
  ((size == small_store)) && file=$tmp/preload-small.tsv
  start_daemon "$tmp/store-$size"
  import_file "$file" "$size"
  read_stats "$socket"
  summary="import ${import_seconds} s (compactions ${stats[compactions]},"
  summary+=" journal_bytes ${stats[journal_bytes]})"
  stop_timed
  if [[ -e $tmp/store-$size/storage.data.journal ]]; then
    echo "$0: a clean stop left $tmp/store-$size/storage.data.journal behind" >&2
    exit 1
  fi
  summary+=", stop ${stop_seconds} s"
  # Part 3 starts from this storage.data, before the benchmark adds to it.
  if ((size == big_store)); then cp -- "$tmp/store-$size/storage.data" "$tmp/big.data"; fi
  start_daemon "$tmp/store-$size"
  expect_values "$size"
  summary+=", start ${start_seconds} s"
  summary+=", storage.data $(stat -c %s -- "$tmp/store-$size/storage.data") bytes"
  echo "   preload $size values: $summary"
  # Let the kernel write back the freshly folded storage.data first, so the
  # fsyncs measured do not queue behind tens of MB of unrelated writeback.
  sync
  bench_append "$size" 8
  rows+=("$row")
  if ((size == small_store)); then small_ops=$ops_per_s; else big_ops=$ops_per_s; fi
  stop_timed
done
table_header store_values
printf '%s\n' "${rows[@]}"
ratio=$(awk -v a="$big_ops" -v b="$small_ops" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r + 0 >= 0.8 ? "ok" : "BELOW 0.8") }')
echo "ratio (must be >= 0.8): $ratio  ($big_store / $small_store, $verdict)"

# 3. Restart time of a store of $big_store values: from storage.data alone,
#    then from storage.data plus a journal of $journal_values values left by
#    a crash. Both times run from launching kvd until it answers a ping.
echo
echo "3. restart time, $big_store values (launch until kvctl ping answers, polled every 10 ms)"
mkdir -p -- "$tmp/restart"
mv -- "$tmp/big.data" "$tmp/restart/storage.data"
start_daemon "$tmp/restart"
expect_values "$big_store"
printf '(a) storage.data only, after a clean shutdown: %s s  (values %s, storage.data %s bytes)\n' \
  "$start_seconds" "${stats[values]}" "$(stat -c %s -- "$tmp/restart/storage.data")"
generate "$big_store" $((big_store + journal_values)) "$tmp/journal.tsv"
import_file "$tmp/journal.tsv" "$journal_values"
read_stats "$socket"
journal_before=${stats[journal_bytes]}
compactions_before=${stats[compactions]}
crash_daemon
if [[ ! -s $tmp/restart/storage.data.journal ]]; then
  echo "$0: no journal left after kill -9" >&2
  exit 1
fi
start_daemon "$tmp/restart"
expect_values $((big_store + journal_values))
printf '(b) storage.data + journal, after kill -9:      %s s  (values %s, journal %s bytes,' \
  "$start_seconds" "${stats[values]}" "$journal_before"
printf ' %s compactions during the import)\n' "$compactions_before"
stop_timed
echo "    then SIGTERM folded the journal in ${stop_seconds} s"
