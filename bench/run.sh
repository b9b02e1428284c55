#!/usr/bin/env bash
# Starts a throwaway kvd and measures it with kvd_bench (see bench/README.md).
#
#   bench/run.sh BUILD_DIR          BENCH_SECONDS=S sets each run's duration (default 3)
#
# Uses BUILD_DIR/daemon/kvd, BUILD_DIR/client/kvctl and BUILD_DIR/bench/kvd_bench.
# The daemon gets a fresh data file and socket in a temp dir, which is removed
# on exit, also on failure or Ctrl-C.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR   (env BENCH_SECONDS: seconds per run, default 3)" >&2
  exit 2
fi
build=$(cd -- "$1" && pwd)
seconds=${BENCH_SECONDS:-3}
if [[ ! $seconds =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "$0: BENCH_SECONDS must be a number of seconds, not '$seconds'" >&2
  exit 2
fi
kvd=$build/daemon/kvd
kvctl=$build/client/kvctl
bench=$build/bench/kvd_bench
for bin in "$kvd" "$kvctl" "$bench"; do
  if [[ ! -x $bin ]]; then
    echo "$0: $bin is missing; build first (ninja -C $build)" >&2
    exit 2
  fi
done
source_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# Reaps the daemon after SIGTERM. kvd finishes in-flight requests and folds its
# data within its --shutdown-timeout (10 s); if it is still there after 30 s it
# gets SIGKILL, so the script always ends.
stop_daemon() {
  local i state status=0
  kill -TERM "$kvd_pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    # Stop polling once the process is gone or a zombie waiting to be reaped.
    state=$(cat "/proc/$kvd_pid/stat" 2>/dev/null) || break
    state=${state##*) }
    [[ $state == Z* ]] && break
    sleep 0.1
  done
  if ((i == 300)); then
    echo "$0: kvd (pid $kvd_pid) ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$kvd_pid" 2>/dev/null || true
  fi
  wait "$kvd_pid" 2>/dev/null || status=$?
  kvd_pid=
  return "$status"
}

tmp=
kvd_pid=
cleanup() {
  local rc=$?
  trap - EXIT
  if [[ -n $kvd_pid ]]; then stop_daemon || true; fi
  if ((rc != 0 && rc != 130 && rc != 143)) && [[ -s $tmp/kvd.log ]]; then
    echo "--- last lines of the kvd log ($rc) ---" >&2
    tail -n 20 "$tmp/kvd.log" >&2
  fi
  if [[ -n $tmp ]]; then rm -rf -- "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvd-bench.XXXXXX")

echo "machine: nproc=$(nproc) kernel=$(uname -r)"
echo "commit:  $(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "seconds: $seconds per run; data dir on $(stat -f -c %T -- "$tmp") ($tmp)"

socket=$tmp/kvd.sock
"$kvd" --data "$tmp/storage.data" --socket "$socket" 2>"$tmp/kvd.log" &
kvd_pid=$!

# Wait at most 10 s for the daemon to answer.
for ((i = 0; ; i++)); do
  if "$kvctl" --socket "$socket" ping >/dev/null 2>&1; then break; fi
  if ! kill -0 "$kvd_pid" 2>/dev/null; then
    echo "$0: kvd exited before answering a ping" >&2
    exit 1
  fi
  if ((i >= 100)); then
    echo "$0: kvd did not answer a ping on $socket within 10 s" >&2
    exit 1
  fi
  sleep 0.1
done

# Prints the value of FIELD from a kvd_bench line "name=value name=value ...".
field() {
  local name=$1 line=$2 word
  for word in $line; do
    if [[ $word == "$name="* ]]; then
      echo "${word#*=}"
      return
    fi
  done
  echo "?"
}

echo
printf '%-7s %11s %10s %10s %10s\n' op connections ops/s p50_us p99_us
for op in append get; do
  for connections in 1 50; do
    line=$("$bench" --socket "$socket" --op "$op" --connections "$connections" \
      --seconds "$seconds")
    printf '%-7s %11s %10s %10s %10s\n' "$op" "$connections" "$(field ops_per_s "$line")" \
      "$(field p50_us "$line")" "$(field p99_us "$line")"
  done
done

if ! stop_daemon; then
  echo "$0: kvd did not exit cleanly on SIGTERM" >&2
  exit 1
fi
