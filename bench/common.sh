# shellcheck shell=bash
# The set-up the bench/*.sh scripts share. Sourced, not run: a script sets
# these three, then sources this file with its own arguments:
#
#   run_name=run            # what BENCH_SECONDS times, in the usage and the header;
#                           # "none" for a script that does not use BENCH_SECONDS
#   stop_timeout=30         # seconds stop_daemon waits after SIGTERM before SIGKILL
#   tmp_prefix="kvd-bench"  # the temp dir is ${TMPDIR:-/tmp}/$tmp_prefix.XXXXXX
#   # shellcheck source-path=SCRIPTDIR
#   source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"
#
# (The directive lets `shellcheck -x` find this file from any directory.)
#
# Sourcing it checks the arguments (BUILD_DIR, env BENCH_SECONDS and
# BENCH_SMOKE) and the binaries, exiting 2 on bad usage; sets build, seconds,
# smoke, kvd, kvctl, bench and source_dir; defines stop_daemon, stop_pid,
# stop_cleanly, field, read_reps, median, now_us, seconds_since,
# wait_until_ready, install_missing, read_stats, rss_kib, track, stop_tracked,
# kill_tracked, free_ports, whole_seconds, kvbench_rate, wrk_run, ratio,
# verdict and, for the scripts that compare with Redis, start_redis,
# stop_redis and redis;
# creates the temp dir $tmp with an EXIT trap that stops the kvd whose pid is
# in $kvd_pid, the redis-server whose pid is in $redis_pid and every process
# still tracked (track), shows the end of their logs ($tmp/kvd.log,
# $tmp/redis.log, $tmp/NAME.log of each NAME in extra_logs) on failure and
# removes $tmp; and prints the header lines (machine, commit, seconds per run
# and the file system of $tmp). The script sets kvd_pid when it starts kvd;
# stop_daemon clears it. Only these processes, which the script started
# itself, are ever signalled.
#
# BENCH_SMOKE=1 asks for a smoke run (CI): each script makes its runs very
# short and few, and only checks that everything works. It sets smoke=1 and
# makes BENCH_SECONDS default to 0.5 instead of 3.

# A forgotten setting stops the script here, not at the first stop_daemon.
: "${run_name:?set run_name before sourcing common.sh}"
: "${stop_timeout:?set stop_timeout before sourcing common.sh}"
: "${tmp_prefix:?set tmp_prefix before sourcing common.sh}"

if [[ $# -ne 1 ]]; then
  if [[ $run_name == none ]]; then
    echo "usage: $0 BUILD_DIR   (env BENCH_SMOKE=1: a short smoke run)" >&2
  else
    echo "usage: $0 BUILD_DIR   (env BENCH_SECONDS: seconds per $run_name, default 3;" \
      "BENCH_SMOKE=1: a short smoke run)" >&2
  fi
  exit 2
fi
build=$(cd -- "$1" && pwd)
smoke=${BENCH_SMOKE:-0}
if [[ $smoke != 0 && $smoke != 1 ]]; then
  echo "$0: BENCH_SMOKE must be 0 or 1, not '$smoke'" >&2
  exit 2
fi
if ((smoke)); then seconds=${BENCH_SECONDS:-0.5}; else seconds=${BENCH_SECONDS:-3}; fi
if [[ ! $seconds =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "$0: BENCH_SECONDS must be a number of seconds, not '$seconds'" >&2
  exit 2
fi
kvd=$build/daemon/kvd
kvctl=$build/client/kvctl
bench=$build/bench/kvbench
watchbench=$build/bench/kvwatchbench  # compare-redis.sh's watch row
export watchbench
for bin in "$kvd" "$kvctl" "$bench" "$watchbench"; do
  if [[ ! -x $bin ]]; then
    echo "$0: $bin is missing; build first (ninja -C $build)" >&2
    exit 2
  fi
done
# This file lives in bench/, like the scripts, so its parent is the source tree.
source_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# Sends SIGTERM to PID, a child of this script, and reaps it; if it is still
# there after TIMEOUT s, sends SIGKILL, so the script always ends. NAME is for
# the message. Returns PID's exit status.
stop_pid() {
  local pid=$1 name=$2 timeout=$3 i state status=0
  local polls=$((timeout * 10))
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < polls; i++)); do
    # Stop polling once the process is gone or a zombie waiting to be reaped.
    state=$(cat "/proc/$pid/stat" 2>/dev/null) || break
    state=${state##*) }
    [[ $state == Z* ]] && break
    sleep 0.1
  done
  if ((i == polls)); then
    echo "$0: $name (pid $pid) ignored SIGTERM for $timeout s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  return "$status"
}

# Runs STOP, a function that stops one process (stop_daemon, stop_redis, ...)
# and returns its exit status; exits 1 naming NAME unless that is 0.
stop_cleanly() {
  if ! "$2"; then
    echo "$0: $1 did not exit cleanly on SIGTERM" >&2
    exit 1
  fi
}

# Reaps the daemon after SIGTERM. kvd finishes in-flight requests and folds its
# journal into storage.data within its --shutdown-timeout (10 s) plus the fold;
# if it is still there after $stop_timeout s it gets SIGKILL.
stop_daemon() {
  local status=0
  stop_pid "$kvd_pid" kvd "$stop_timeout" || status=$?
  kvd_pid=
  return "$status"
}

# Prints the value of FIELD from a kvbench line "name=value name=value ...".
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

# Sets `reps`, runs per side and row, from env REPS: DEFAULT unless set (1 in
# smoke mode); exits 2 unless it is a positive number.
read_reps() {
  if ((smoke)); then reps=${REPS:-1}; else reps=${REPS:-$1}; fi
  if [[ ! $reps =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: REPS must be a positive number, not '$reps'" >&2
    exit 2
  fi
}

# The median of the whole numbers given (of an even count: the mean of the
# middle two, rounded).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Microseconds since the epoch.
now_us() {
  local t=$EPOCHREALTIME
  t=${t/,/}  # a locale with a decimal comma
  echo "${t/./}"
}

# Seconds since T0 (from now_us), with 2 decimals.
seconds_since() {
  LC_ALL=C awk -v us=$(($(now_us) - $1)) 'BEGIN { printf "%.2f", us / 1e6 }'
}

# Runs COMMAND... every 10 ms until it succeeds, while process PID (NAME) is
# alive, for at most LIMIT s; exits 1 if PID dies or the limit passes.
wait_until_ready() {
  local pid=$1 name=$2 limit=$3 t0
  shift 3
  t0=$(now_us)
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$0: $name exited before it was ready" >&2
      exit 1
    fi
    if (($(now_us) - t0 > limit * 1000000)); then
      echo "$0: $name was not ready within $limit s" >&2
      exit 1
    fi
    sleep 0.01
  done
}

# install_missing COMMAND... -- PACKAGE...: unless every COMMAND is on the
# PATH, installs the Debian PACKAGEs (apt-get update first only if the
# install fails); exits 2 if that is not possible.
install_missing() {
  local -a commands=()
  local cmd missing=0
  while [[ $1 != -- ]]; do
    commands+=("$1")
    shift
  done
  shift
  for cmd in "${commands[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing=1; done
  ((missing)) || return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$0: needs ${commands[*]}: install $* first" >&2
    exit 2
  fi
  echo "installing $* (apt-get) ..." >&2
  local -a apt=(apt-get -o DPkg::Lock::Timeout=600)
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "$@" >"$tmp/apt.log" 2>&1; then
    "${apt[@]}" update >>"$tmp/apt.log" 2>&1 || true
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "$@" >>"$tmp/apt.log" 2>&1; then
      tail -n 20 "$tmp/apt.log" >&2
      echo "$0: could not install $*" >&2
      exit 2
    fi
  fi
  for cmd in "${commands[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
      echo "$0: $cmd is still missing after installing $*" >&2
      exit 2
    fi
  done
}

# read_stats SOCKET: reads the stats of the kvd on SOCKET (kvctl stats) into
# the associative array `stats`.
declare -A stats
# shellcheck disable=SC2034  # the scripts read `stats`
read_stats() {
  local line out
  out=$("$kvctl" --socket "$1" stats)
  stats=()
  while IFS= read -r line; do stats[${line%%:*}]=${line#*:}; done <<<"$out"
}

# The resident set size of process PID, in KiB (VmRSS in /proc/PID/status).
rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Processes a script starts besides kvd and redis-server (cluster nodes,
# etcd, ...), by a NAME of its choosing: `track NAME PID` right after starting
# one. cleanup stops every one still tracked.
declare -A tracked_pids=()
track() {
  tracked_pids[$1]=$2
}
# stop_tracked NAME...: SIGTERM to all of them first (members of a cluster
# then go down together rather than one waiting for the others), then reaps
# each as stop_pid does (SIGKILL after $stop_timeout s). Returns the exit
# status of the last one that did not exit 0, else 0.
stop_tracked() {
  local name status=0
  for name in "$@"; do kill -TERM "${tracked_pids[$name]}" 2>/dev/null || true; done
  for name in "$@"; do
    stop_pid "${tracked_pids[$name]}" "$name" "$stop_timeout" || status=$?
    unset "tracked_pids[$name]"
  done
  return "$status"
}
# kill_tracked NAME: SIGKILL (a crash) and reap.
kill_tracked() {
  kill -KILL "${tracked_pids[$1]}" 2>/dev/null || true
  wait "${tracked_pids[$1]}" 2>/dev/null || true
  unset "tracked_pids[$1]"
}
# Names of logs ($tmp/NAME.log) that cleanup shows the end of on failure,
# besides kvd's and redis-server's.
extra_logs=()

# Prints N free loopback TCP ports, all different, separated by spaces.
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# Seconds S rounded up to a whole number, at least 1 (wrk's -d).
whole_seconds() {
  awk -v s="$1" 'BEGIN { d = int(s); if (d < s) d++; if (d < 1) d = 1; print d }'
}

# kvbench_rate SOCKET ARG...: one kvbench run against SOCKET for $seconds;
# prints its ops/s, or fails if kvbench did (assign its output, as in
# rate=$(kvbench_rate ...), for set -e to see that).
kvbench_rate() {
  local line
  line=$("$bench" --socket "$1" --duration "$seconds" "${@:2}") || return 1
  field ops_per_s "$line"
}

# wrk_run ARG...: one wrk run (--latency added); prints "REQUESTS/S P50 P99"
# as wrk wrote them, or shows wrk's output and exits 1 if wrk failed, any
# answer was not 2xx or any socket error happened (in a command substitution:
# assign its output, as kvbench_rate's).
wrk_run() {
  local out rps p50 p99
  if ! out=$(wrk --latency "$@"); then
    echo "$out" >&2
    echo "$0: wrk --latency $* failed" >&2
    exit 1
  fi
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  if [[ -z $rps ]] || grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "$out" >&2
    echo "$0: errors in this wrk run: wrk --latency $*" >&2
    exit 1
  fi
  echo "$rps $p50 $p99"
}

# A / B with 2 decimals (0 when B is 0).
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

# verdict VALUE ">=" TARGET (or "<="): ok, or BELOW / ABOVE when it misses.
verdict() {
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (op == ">=") print (v + 0 >= t + 0 ? "ok" : "BELOW")
    else print (v + 0 <= t + 0 ? "ok" : "ABOVE") }'
}

# Redis, for the scripts that compare with it. One redis-server at a time,
# listening only on the Unix socket $redis_socket (no TCP port).
redis_socket=
redis_pid=
redis_start_limit=300  # seconds a start (loading an RDB) may take

# redis-cli against that server.
redis() {
  redis-cli -s "$redis_socket" "$@"
}
redis_answers() {
  [[ $(redis ping 2>/dev/null) == PONG ]]
}

# start_redis DIR [CONFIG LINE]...: starts redis-server in the foreground as a
# child, with DIR as its working directory (its AOF and RDB files go there) and
# the given configuration lines, and waits until it answers PING (not LOADING).
start_redis() {
  local dir=$1
  shift
  mkdir -p -- "$dir"
  {
    echo "port 0"
    echo "unixsocket \"$redis_socket\""
    echo "unixsocketperm 700"
    echo "daemonize no"
    echo "dir \"$dir\""
    echo 'logfile ""'
    printf '%s\n' "$@"
  } >"$dir/redis.conf"
  echo "--- redis-server $dir/redis.conf" >>"$tmp/redis.log"
  redis-server "$dir/redis.conf" >>"$tmp/redis.log" 2>&1 &
  redis_pid=$!
  wait_until_ready "$redis_pid" redis-server "$redis_start_limit" redis_answers
}

# Stops the redis-server started last (SIGTERM: it shuts down cleanly).
stop_redis() {
  local status=0
  stop_pid "$redis_pid" redis-server "$stop_timeout" || status=$?
  redis_pid=
  return "$status"
}

tmp=
kvd_pid=
cleanup() {
  local rc=$?
  trap - EXIT
  if ((${#tracked_pids[@]} > 0)); then stop_tracked "${!tracked_pids[@]}" || true; fi
  if [[ -n $kvd_pid ]]; then stop_daemon || true; fi
  if [[ -n $redis_pid ]]; then stop_redis || true; fi
  if ((rc != 0 && rc != 130 && rc != 143)); then
    local log
    for log in kvd redis "${extra_logs[@]}"; do
      if [[ -s $tmp/$log.log ]]; then
        echo "--- last lines of the $log log ($rc) ---" >&2
        tail -n 20 "$tmp/$log.log" >&2
      fi
    done
  fi
  if [[ -n $tmp ]]; then rm -rf -- "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$tmp_prefix.XXXXXX")
redis_socket=$tmp/redis.sock

echo "machine: nproc=$(nproc) kernel=$(uname -r) load=$(cut -d' ' -f1-3 /proc/loadavg)"
commit=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
# The binaries may have been built from a tree that differs from that commit.
if [[ $commit != unknown ]] &&
  ! git -C "$source_dir" diff --quiet HEAD -- . ':!doc' ':!*.md' 2>/dev/null; then
  commit+=" + uncommitted changes"
fi
echo "commit:  $commit"
if [[ $run_name == none ]]; then
  echo "data dir on $(stat -f -c %T -- "$tmp") ($tmp)"
else
  echo "seconds: $seconds per $run_name; data dir on $(stat -f -c %T -- "$tmp") ($tmp)"
fi
if ((smoke)); then echo "smoke:   BENCH_SMOKE=1 (short runs, figures meaningless)"; fi
