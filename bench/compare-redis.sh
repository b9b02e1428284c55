#!/usr/bin/env bash
# Runs the same workloads against kvd and Redis, with matched durability and
# the same client (kvbench, or kvwatchbench for watch; for Redis with
# --protocol resp), and prints one
# table of throughputs and their ratio, with redis-benchmark's figure for
# Redis beside them where it has the workload (see bench/README.md).
#
#   bench/compare-redis.sh BUILD_DIR   BENCH_SECONDS=S  each run's duration (default 3)
#                                      REPS=N           runs per side and row, median (default 2)
#                                      BENCH_FSYNC="always everysec no"  durability modes
#                                      BENCH_ROWS="append-random ... watch"  workloads (rows)
#                                      BENCH_SMOKE=1    0.5 s runs, 50 connections x 16 only, REPS 1
#
# Installs redis-server and redis-tools (apt-get) if they are missing. For
# each durability mode it starts one kvd and one redis-server on sockets in a
# temp dir, runs every row as kvd, Redis, redis-benchmark, kvd, ... (REPS times each),
# and stops both. Only the processes it started are signalled; the temp dir is
# removed on exit, also on failure or Ctrl-C.
set -euo pipefail
export LC_ALL=C

# Settings for common.sh (arguments, binaries, temp dir, cleanup, header).
run_name="kvbench or redis-benchmark run"
stop_timeout=30
tmp_prefix="kvd-compare"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

read_reps 2
read -ra modes <<<"${BENCH_FSYNC:-always everysec no}"
read -ra workloads <<<"${BENCH_ROWS:-append-random append-hot get-100 range-10 pop blpop watch}"
for mode in "${modes[@]}"; do
  if [[ $mode != always && $mode != everysec && $mode != no ]]; then
    echo "$0: BENCH_FSYNC holds '$mode'; use always, everysec and no" >&2
    exit 2
  fi
done
if ((${#modes[@]} == 0)); then
  echo "$0: BENCH_FSYNC names no mode" >&2
  exit 2
fi

install_missing redis-server redis-benchmark redis-cli -- redis-server redis-tools

# connections:pipeline for every workload.
configs=(1:1 8:1 50:1 50:16)
if ((smoke)); then configs=(50:16); fi

value_size=16
value=$(printf "%${value_size}s" "" | tr ' ' v)  # kvbench's value: 'v' x value_size
list_values=100                                  # values of the list that gets read
range_values=10                                  # values a ranged get reads: the list's first
random_keys=100000                               # key space of the random-key appends
producers=4                                      # blpop: connections appending to the queue
watchers=50                                      # watch: connections receiving every change
kvd_socket=$tmp/kvd.sock

echo "redis:   $(redis-server --version)"
echo "reps:    $reps per side and row, kvd and Redis alternating; the table shows medians"
echo "client:  kvbench for both (Redis: --protocol resp); redis-benchmark as an extra column"
echo "values:  $value_size bytes; gets read a list of $list_values values (ranged: its first" \
  "$range_values); pops take one of a list preloaded for the run; blpop: $producers producers" \
  "feed the connections' waiting pops; watch: one writer, $watchers watchers (kvwatchbench;" \
  "Redis: keyspace notifications), figure: changes delivered per second"

# Starts kvd with --fsync MODE on a fresh data dir and waits for it.
start_kvd() {
  local mode=$1
  mkdir -p -- "$tmp/kvd-$mode"
  echo "--- kvd --fsync $mode" >>"$tmp/kvd.log"
  "$kvd" --data "$tmp/kvd-$mode/storage.data" --socket "$kvd_socket" --fsync "$mode" \
    2>>"$tmp/kvd.log" &
  kvd_pid=$!
  wait_until_ready "$kvd_pid" kvd 30 "$kvctl" --socket "$kvd_socket" ping
}

# Starts redis-server with the durability that matches kvd's --fsync MODE:
# an append-only file, written on every change as kvd's journal is, and
# fsynced always, every second, or when the OS flushes (no).
start_redis_like() {
  local mode=$1
  start_redis "$tmp/redis-$mode" 'save ""' "appendonly yes" "appendfsync $mode"
  # The list the LRANGE workloads read: exactly $list_values values.
  local -a values
  mapfile -t values < <(yes "$value" | head -n "$list_values")
  redis del lrange100 >/dev/null
  if [[ $(redis rpush lrange100 "${values[@]}") != "$list_values" ]]; then
    echo "$0: could not fill the Redis list lrange100" >&2
    exit 1
  fi
}

stop_both() {
  stop_cleanly kvd stop_daemon
  stop_cleanly redis-server stop_redis
}

# The arguments of each workload, for kvbench and for redis-benchmark (none:
# it has no equivalent). kvbench runs for $seconds, but for pop: REQUESTS pops
# of a list preloaded with as many values, which the run empties.
kvbench_args() {
  case $1 in
    append-random) echo "--duration $seconds --mix append --keys $random_keys" ;;
    append-hot) echo "--duration $seconds --mix append --hot-key" ;;
    get-100) echo "--duration $seconds --mix get --hot-key --preload-values $list_values" ;;
    range-10)
      echo "--duration $seconds --mix get --hot-key --preload-values $list_values" \
        "--range 0 $((range_values - 1))"
      ;;
    pop) echo "--requests $2 --preload-values $2 --mix pop --hot-key" ;;
    blpop) echo "--duration $seconds --mix blocking-pop --hot-key --producers $producers" ;;
  esac
}
redis_args() {
  case $1 in
    append-random) echo "-r $random_keys RPUSH key:__rand_int__ $value" ;;
    append-hot) echo "RPUSH hotlist $value" ;;
    get-100) echo "LRANGE lrange100 0 $((list_values - 1))" ;;
    range-10) echo "LRANGE lrange100 0 $((range_values - 1))" ;;
    # Its own LPOP test pops the list its LPUSH test has just filled with as many values.
    pop) echo "-d $value_size -t lpush,lpop" ;;
  esac
}

# Prints kvbench's ops/s for WORKLOAD at CONNECTIONS and PIPELINE against
# the server on SOCKET, spoken to in PROTOCOL (kvd or resp); a pop run is
# sized to last about $seconds at RATE ops/s. watch runs kvwatchbench,
# whose ops/s are changes delivered, and keeps its p99 delay in
# $tmp/p99-PROTOCOL (appended, one per run).
run_kvbench() {
  local line
  local -a args
  if [[ $1 == watch ]]; then
    line=$("$watchbench" --socket "$4" --protocol "$5" --watchers "$watchers" \
      --duration "$seconds" --value-size "$value_size")
    field p99_us "$line" >>"$tmp/p99-$5"
    field ops_per_s "$line"
    return
  fi
  read -ra args <<<"$(kvbench_args "$1" "$(requests_for "$6" "$2" "$3")")"
  line=$("$bench" --socket "$4" --protocol "$5" --connections "$2" --pipeline "$3" \
    --value-size "$value_size" "${args[@]}")
  field ops_per_s "$line"
}

# Prints redis-benchmark's requests per second for WORKLOAD at CONNECTIONS and
# PIPELINE, over REQUESTS requests.
run_redis_benchmark() {
  local out rps
  local -a args
  read -ra args <<<"$(redis_args "$1")"
  out=$(redis-benchmark -s "$redis_socket" -c "$2" -P "$3" -n "$4" --csv "${args[@]}")
  # --csv: a header line, then "test","rps",... for each test: the last.
  rps=$(awk -F'","' 'NR > 1 && NF > 1 { r = $2 } END { print r }' <<<"$out")
  if [[ ! $rps =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "$0: unexpected redis-benchmark output for $1: $out" >&2
    exit 1
  fi
  printf '%.0f\n' "$rps"
}

# How many requests make a Redis run last about $seconds at RATE ops/s (at
# least 10 rounds per connection).
requests_for() {
  awk -v rate="$1" -v s="$seconds" -v min=$(($2 * $3 * 10)) \
    'BEGIN { n = int(rate * s); if (n < min) n = min; print n }'
}

# The target of a row (bench/README.md) and whether the ratio meets it.
target_for() {
  local workload=$1 mode=$2 connections=$3
  case $workload in
    append-*) if [[ $mode == always ]] && ((connections == 50)); then echo 1.5; else echo 1.0; fi ;;
    get-100) if ((connections == 50)); then echo 1.0; else echo -; fi ;;
    range-10) echo - ;;
    pop | blpop | watch) echo 1.0 ;;
  esac
}

print_row() {
  printf '%-14s %-10s %11s %8s %12s %12s %7s %11s  %-12s %16s\n' "$@"
}

# The lowest and highest ratio of the runs paired in turn (kvd's i-th over
# Redis's i-th), as "LOW-HIGH": how far one pair may stray from the median.
ratio_spread() {
  local -n a=$1 b=$2
  local i
  for i in "${!a[@]}"; do ratio "${a[i]}" "${b[i]}"; echo; done |
    sort -g | awk 'NR == 1 { low = $1 } { high = $1 } END { print low "-" high }'
}

declare -A hot_rates  # append-hot's medians by side and config: a pop run's first size
echo
print_row workload durability connections pipeline "kvd ops/s" "Redis ops/s" ratio spread target \
  "redis-benchmark"
for mode in "${modes[@]}"; do
  start_kvd "$mode"
  start_redis_like "$mode"
  for workload in "${workloads[@]}"; do
    # watch: one writer without pipelining, fanned out to $watchers.
    row_configs=("${configs[@]}")
    if [[ $workload == watch ]]; then row_configs=("$watchers:1"); fi
    rm -f "$tmp/p99-kvd" "$tmp/p99-resp"
    for config in "${row_configs[@]}"; do
      connections=${config%:*}
      pipeline=${config#*:}
      kvd_rates=()
      redis_rates=()
      redis_benchmark_rates=()
      redis_benchmark_rate=
      # A pop run pops as many values as its side's last rate (first: its
      # append-hot median) makes last about $seconds.
      kvd_rate=${hot_rates[kvd:$config]:-0}
      redis_rate=${hot_rates[resp:$config]:-0}
      for ((rep = 0; rep < reps; rep++)); do
        kvd_rate=$(run_kvbench "$workload" "$connections" "$pipeline" "$kvd_socket" kvd "$kvd_rate")
        redis_rate=$(run_kvbench "$workload" "$connections" "$pipeline" "$redis_socket" resp \
          "$redis_rate")
        kvd_rates+=("$kvd_rate")
        redis_rates+=("$redis_rate")
        if [[ -n $(redis_args "$workload") ]]; then
          # redis-benchmark runs a number of requests: as many as its last rate
          # (first: kvbench's against Redis) makes last about $seconds.
          n=$(requests_for "${redis_benchmark_rate:-${redis_rates[0]}}" "$connections" "$pipeline")
          redis_benchmark_rate=$(run_redis_benchmark "$workload" "$connections" "$pipeline" "$n")
          redis_benchmark_rates+=("$redis_benchmark_rate")
        fi
      done
      kvd_ops=$(median "${kvd_rates[@]}")
      redis_ops=$(median "${redis_rates[@]}")
      redis_benchmark_ops=-
      if ((${#redis_benchmark_rates[@]} > 0)); then
        redis_benchmark_ops=$(median "${redis_benchmark_rates[@]}")
      fi
      if [[ $workload == append-hot ]]; then
        hot_rates[kvd:$config]=$kvd_ops
        hot_rates[resp:$config]=$redis_ops
      fi
      ratio=$(awk -v a="$kvd_ops" -v b="$redis_ops" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
      target=$(target_for "$workload" "$mode" "$connections")
      verdict=
      if [[ $target != - ]]; then
        verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r + 0 >= t + 0 ? "ok" : "BELOW") }')
        target=">= $target $verdict"
      fi
      print_row "$workload" "$mode" "$connections" "$pipeline" "$kvd_ops" "$redis_ops" \
        "$ratio" "$(ratio_spread kvd_rates redis_rates)" "$target" "$redis_benchmark_ops"
      if [[ $workload == watch ]]; then
        # shellcheck disable=SC2046  # one number per line
        echo "  watch p99 delay, append sent to change received (median of runs):" \
          "kvd $(median $(cat "$tmp/p99-kvd")) us, Redis $(median $(cat "$tmp/p99-resp")) us"
      fi
    done
  done
  # The Redis side really stored what it was sent.
  if [[ $(redis llen lrange100) != "$list_values" ]] ||
    { [[ " ${workloads[*]} " == *" append-hot "* ]] && (($(redis llen hotlist) == 0)); }; then
    echo "$0: the Redis lists do not hold what the benchmark sent" >&2
    exit 1
  fi
  stop_both
done
