#!/usr/bin/env bash
# Two kvd set-ups side by side: the same kvbench load against each, in
# interleaved rounds, medians and the ratio B/A. How a tuning shows whether it
# still pays: A with it, B without (a flag, or another build's kvd).
#
#   A_FLAGS="--fsync no" B_FLAGS="--fsync no --busy-poll 0" bench/ab.sh BUILD_DIR
#
#   A_FLAGS, B_FLAGS  kvd flags of each side (besides --socket and --data)
#   B_KVD=PATH        B's kvd binary (default: BUILD_DIR's, as A's)
#   CONNECTIONS="1 8 50"  kvbench connection counts, one row each
#   KVBENCH_ARGS      more kvbench flags for every run (default: appends of
#                     40-byte values to 100000 random keys)
#   BENCH_SECONDS=S   each run's duration (default 3);  REPS=N rounds (default 5)
#
# Both daemons run throughout, each on its own socket and data in the temp
# dir; each round runs every row once on A and once on B, which goes first
# alternating by round. Only the processes it started are signalled.
set -euo pipefail
export LC_ALL=C

run_name="kvbench run"
stop_timeout=30
tmp_prefix="kvd-ab"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

read_reps 5
read -ra a_flags <<<"${A_FLAGS:-}"
read -ra b_flags <<<"${B_FLAGS:-}"
b_kvd=${B_KVD:-$kvd}
read -ra connection_counts <<<"${CONNECTIONS:-1 8 50}"
read -ra load <<<"${KVBENCH_ARGS:---keys 100000 --value-size 40}"

# start_side NAME KVD FLAGS...: a kvd on $tmp/NAME, tracked as NAME.
start_side() {
  mkdir -p -- "$tmp/$1"
  "$2" --socket "$tmp/$1/kvd.sock" --data "$tmp/$1/storage.data" "${@:3}" 2>>"$tmp/$1.log" &
  track "$1" $!
  extra_logs+=("$1")
  wait_until_ready "${tracked_pids[$1]}" "kvd ($1)" 30 "$kvctl" --socket "$tmp/$1/kvd.sock" ping
}
start_side a "$kvd" "${a_flags[@]}"
start_side b "$b_kvd" "${b_flags[@]}"

echo "A:       $kvd ${a_flags[*]}"
echo "B:       $b_kvd ${b_flags[*]}"
echo "load:    kvbench ${load[*]}; $reps rounds, the table shows medians"
echo

declare -A rates
for ((round = 0; round < reps; round++)); do
  if ((round % 2)); then order=(b a); else order=(a b); fi
  for c in "${connection_counts[@]}"; do
    for side in "${order[@]}"; do
      rate=$(kvbench_rate "$tmp/$side/kvd.sock" --connections "$c" "${load[@]}")
      rates[$side-$c]+="$rate "
    done
  done
done

echo "runs, in order (ops/s):"
for c in "${connection_counts[@]}"; do
  echo "  A, $c connections: ${rates[a-$c]}"
  echo "  B, $c connections: ${rates[b-$c]}"
done
echo
printf '%-12s %10s %10s %7s\n' connections A B B/A
for c in "${connection_counts[@]}"; do
  # shellcheck disable=SC2086  # the rates are words
  a=$(median ${rates[a-$c]})
  # shellcheck disable=SC2086
  b=$(median ${rates[b-$c]})
  printf '%-12s %10s %10s %7s\n' "$c" "$a" "$b" "$(ratio "$b" "$a")"
done
stop_tracked a b
