# shellcheck shell=bash
# The set-up bench/run.sh and bench/durability.sh share. Sourced, not run: a
# script sets these three, then sources this file with its own arguments:
#
#   run_name=run            # what BENCH_SECONDS times, in the usage and the header
#   stop_timeout=30         # seconds stop_daemon waits after SIGTERM before SIGKILL
#   tmp_prefix="kvd-bench"  # the temp dir is ${TMPDIR:-/tmp}/$tmp_prefix.XXXXXX
#   # shellcheck source-path=SCRIPTDIR
#   source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"
#
# (The directive lets `shellcheck -x` find this file from any directory.)
#
# Sourcing it checks the arguments (BUILD_DIR, env BENCH_SECONDS) and the
# binaries, exiting 2 on bad usage; sets build, seconds, kvd, kvctl, bench and
# source_dir; defines stop_daemon and field; creates the temp dir $tmp with an
# EXIT trap that stops the daemon whose pid is in $kvd_pid, shows the end of
# $tmp/kvd.log on failure and removes $tmp; and prints the header lines
# (machine, commit, seconds per run and the file system of $tmp). The script
# sets kvd_pid when it starts kvd; stop_daemon clears it.

# A forgotten setting stops the script here, not at the first stop_daemon.
: "${run_name:?set run_name before sourcing common.sh}"
: "${stop_timeout:?set stop_timeout before sourcing common.sh}"
: "${tmp_prefix:?set tmp_prefix before sourcing common.sh}"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR   (env BENCH_SECONDS: seconds per $run_name, default 3)" >&2
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
# This file lives in bench/, like the scripts, so its parent is the source tree.
source_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# Reaps the daemon after SIGTERM. kvd finishes in-flight requests and folds its
# journal into storage.data within its --shutdown-timeout (10 s) plus the fold;
# if it is still there after $stop_timeout s it gets SIGKILL, so the script
# always ends.
stop_daemon() {
  local i state status=0 polls=$((stop_timeout * 10))
  kill -TERM "$kvd_pid" 2>/dev/null || true
  for ((i = 0; i < polls; i++)); do
    # Stop polling once the process is gone or a zombie waiting to be reaped.
    state=$(cat "/proc/$kvd_pid/stat" 2>/dev/null) || break
    state=${state##*) }
    [[ $state == Z* ]] && break
    sleep 0.1
  done
  if ((i == polls)); then
    echo "$0: kvd (pid $kvd_pid) ignored SIGTERM for $stop_timeout s; killing it" >&2
    kill -KILL "$kvd_pid" 2>/dev/null || true
  fi
  wait "$kvd_pid" 2>/dev/null || status=$?
  kvd_pid=
  return "$status"
}

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
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$tmp_prefix.XXXXXX")

echo "machine: nproc=$(nproc) kernel=$(uname -r)"
echo "commit:  $(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "seconds: $seconds per $run_name; data dir on $(stat -f -c %T -- "$tmp") ($tmp)"
