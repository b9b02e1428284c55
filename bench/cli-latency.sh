#!/usr/bin/env bash
# The time of one command-line call, with hyperfine: kvctl against kvd,
# redis-cli against Redis and the original storage.py, appending and reading
# (see bench/README.md).
#
#   bench/cli-latency.sh BUILD_DIR   BENCH_RUNS=N  hyperfine runs per command (default 30)
#                                    BENCH_SMOKE=1 3 runs per command
#
# Installs hyperfine, redis-server and redis-tools (apt-get) if they are
# missing. Starts one kvd (--fsync always, its default) and one redis-server
# (appendonly yes, appendfsync always) on sockets in a temp dir; storage.py
# runs with TMPDIR in that dir, so it works on a storage.data of its own. Only
# the processes it started are signalled; the temp dir is removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail
export LC_ALL=C

# Settings for common.sh (arguments, binaries, temp dir, cleanup, header).
run_name=none
stop_timeout=30
tmp_prefix="kvd-cli"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

if ((smoke)); then runs=${BENCH_RUNS:-3}; else runs=${BENCH_RUNS:-30}; fi
if [[ ! $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: BENCH_RUNS must be a positive number, not '$runs'" >&2
  exit 2
fi
install_missing hyperfine -- hyperfine
install_missing redis-server redis-cli -- redis-server redis-tools
install_missing python3 -- python3

python=/usr/bin/python3
storage_py=$(cd -- "$source_dir/.." && pwd)/shared/reference/storage.py
scratch=$tmp/scratch
mkdir -p -- "$scratch"

echo "redis:   $(redis-server --version)"
echo "$(hyperfine --version): --warmup 3 --runs $runs --shell=none; the table shows medians"
echo "durability: kvd --fsync always, Redis appendonly yes + appendfsync always"

kvd_socket=$tmp/kvd.sock
mkdir -p -- "$tmp/kvd"
"$kvd" --data "$tmp/kvd/storage.data" --socket "$kvd_socket" --fsync always 2>"$tmp/kvd.log" &
kvd_pid=$!
wait_until_ready "$kvd_pid" kvd 30 "$kvctl" --socket "$kvd_socket" ping
start_redis "$tmp/redis" 'save ""' "appendonly yes" "appendfsync always"

# name, then command: kvctl finds the socket in KVD_SOCKET, so its command
# line is the one a user types.
commands=(
  "kvctl append" "$kvctl --key k --val v"
  "kvctl get" "$kvctl --key k"
  "redis-cli append" "redis-cli -s $redis_socket RPUSH k v"
  "redis-cli get" "redis-cli -s $redis_socket LRANGE k 0 -1"
)
if [[ -f $storage_py && -x $python ]]; then
  commands+=(
    "storage.py append" "$python $storage_py --key k --val v"
    "storage.py get" "$python $storage_py --key k"
  )
else
  echo "note:    $storage_py (or $python) is missing: storage.py is not measured"
fi

args=(--warmup 3 --runs "$runs" --shell=none --export-json "$tmp/cli.json")
for ((i = 0; i < ${#commands[@]}; i += 2)); do
  args+=(--command-name "${commands[i]}" "${commands[i + 1]}")
done
# hyperfine runs the commands in this order: each append before its get, so
# every get finds its key.
if ! KVD_SOCKET=$kvd_socket TMPDIR=$scratch hyperfine "${args[@]}" >"$tmp/hyperfine.log" 2>&1; then
  tail -n 30 "$tmp/hyperfine.log" >&2
  echo "$0: hyperfine failed (a command exited non-zero?)" >&2
  exit 1
fi

echo
python3 - "$tmp/cli.json" <<'EOF'
import json
import sys

results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}


def ms(name):
    r = results.get(name)
    return None if r is None else r["median"] * 1000


def cell(v):
    return "-" if v is None else f"{v:.2f}"


print(f"{'operation':<10} {'kvctl_ms':>9} {'redis-cli_ms':>13} {'kvctl/redis-cli':>16}  "
      f"{'target':<13} {'storage.py_ms':>13}")
for op in ("append", "get"):
    kvctl, cli, py = ms(f"kvctl {op}"), ms(f"redis-cli {op}"), ms(f"storage.py {op}")
    ratio = kvctl / cli
    verdict = "ok" if ratio <= 0.5 else "ABOVE"
    print(f"{op:<10} {cell(kvctl):>9} {cell(cli):>13} {ratio:>16.2f}  "
          f"{'<= 0.5 ' + verdict:<13} {cell(py):>13}")
EOF

stop_redis
stop_cleanly kvd stop_daemon
