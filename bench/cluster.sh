#!/usr/bin/env bash
# kvd's cluster mode against single-node kvd and against etcd, in interleaved
# rounds, and the time a leader failover takes; prints one table of ratios
# with the targets of issue 23 (see bench/README.md).
#
#   bench/cluster.sh BUILD_DIR   BENCH_SECONDS=S  each kvbench run's duration (default 3; wrk
#                                                 runs take it rounded up to whole seconds)
#                                REPS=N           rounds, medians (default 3)
#                                FAILOVERS=N      leader kills (default 7)
#                                BENCH_SMOKE=1    0.5 s kvbench and 1 s wrk runs, one round,
#                                                 one leader kill
#
# Linux only (cluster mode); needs python3. Installs wrk, curl, etcd-server
# and etcd-client (apt-get) if they are missing. Starts, all on loopback and
# in one temp dir: a 3-node kvd cluster (kvd --node/--peers, default election
# timeout, HTTP on free ports), one single-node kvd --fsync always, and a
# 3-member etcd cluster (etcd's defaults). Each round runs, one after the other: kvbench
# appends at 1, 8 and 50 connections against the cluster's leader and against
# the single node; wrk appends at 50 connections against the leader's HTTP
# API and wrk puts through etcd's JSON gateway on etcd's leader; linearizable
# and stale gets at 50 connections on the leader. Then it kills the leader
# with SIGKILL FAILOVERS times, each time timing the kill to the first
# acknowledged append (one attempt every 10 ms, through either survivor) and
# restarting the node. Only the processes it started are signalled; the temp
# dir is removed on exit, also on failure or Ctrl-C.
set -euo pipefail
export LC_ALL=C

# Settings for common.sh (arguments, binaries, temp dir, cleanup, header).
run_name="kvbench run"
stop_timeout=30
tmp_prefix="kvd-cluster"
# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh" "$@"

kvd_help=$("$kvd" --help)
if [[ $kvd_help != *--node* ]]; then
  echo "$0: $kvd has no cluster mode (built without libraft: meson option 'cluster')" >&2
  exit 2
fi
read_reps 3
if ((smoke)); then failovers=${FAILOVERS:-1}; else failovers=${FAILOVERS:-7}; fi
if [[ ! $failovers =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: FAILOVERS must be a positive number, not '$failovers'" >&2
  exit 2
fi
install_missing wrk -- wrk
install_missing curl -- curl
install_missing etcd -- etcd-server etcd-client

connection_counts=(1 8 50)   # socket appends
http_connections=50
http_threads=2
http_seconds=$(whole_seconds "$seconds")
get_connections=50
value_size=40
value=$(printf "%${value_size}s" "" | tr ' ' v)  # kvbench's value: 'v' x value_size
random_keys=100000 # socket appends: as compare-redis.sh's
http_keys=10000    # HTTP appends and puts: requests encoded before the clock starts
get_keys=1000      # gets: keys of one value each, preloaded
failover_limit=30  # seconds a failover may take before the script gives up
election_timeout=$(sed -n 's/.*--election-timeout [^=]*=\([0-9]*\).*/\1/p' <<<"$kvd_help")

# --- the kvd cluster: nodes 1, 2 and 3 ---
read -ra raft_ports <<<"$(free_ports 3)"
peers="1=127.0.0.1:${raft_ports[0]},2=127.0.0.1:${raft_ports[1]},3=127.0.0.1:${raft_ports[2]}"
node_socket() {
  echo "$tmp/node$1/kvd.sock"
}
# start_node ID: starts (or restarts, on its Raft dir) node ID of the cluster.
start_node() {
  mkdir -p -- "$tmp/node$1"
  echo "--- kvd --node $1" >>"$tmp/node$1.log"
  "$kvd" --node "$1" --peers "$peers" --socket "$(node_socket "$1")" \
    --data "$tmp/node$1/storage.data" --http 0 --name "node$1" 2>>"$tmp/node$1.log" &
  track "node$1" $!
}
# Prints the leader's node ID once the node at SOCKET names one; fails
# otherwise (no leader, or the node does not answer).
leader_seen_by() {
  local status id
  status=$(timeout 5 "$kvctl" --timeout 0 --socket "$1" cluster status --json 2>/dev/null) ||
    return 1
  id=$(grep -o '"leader":[0-9]*' <<<"$status" | head -n 1 | cut -d: -f2)
  [[ -n $id && $id != 0 ]] || return 1
  echo "$id"
}
# True once every node runs and answers, and all three are members with a role
# (none unavailable) in the status of a node that names a leader.
cluster_ready() {
  local i status
  for i in 1 2 3; do
    [[ -n ${tracked_pids[node$i]:-} ]] || return 1
    "$kvctl" --socket "$(node_socket "$i")" ping >/dev/null 2>&1 || return 1
  done
  status=$(timeout 5 "$kvctl" --timeout 0 --socket "$(node_socket 1)" cluster status --json \
    2>/dev/null) || return 1
  [[ $(grep -o '"role":"\(leader\|follower\)"' <<<"$status" | wc -l) == 3 ]] &&
    leader_seen_by "$(node_socket 1)" >/dev/null
}
# Waits until cluster_ready, and prints the leader's node ID.
cluster_leader() {
  wait_until_ready "${tracked_pids[node1]}" "the kvd cluster" 60 cluster_ready
  leader_seen_by "$(node_socket 1)"
}
# The base URL of node ID's HTTP API (its port is in its log).
node_url() {
  grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/node$1.log" | tail -n 1
}
for i in 1 2 3; do
  start_node "$i"
  extra_logs+=("node$i")
done

# --- the single-node kvd ---
mkdir -p -- "$tmp/single"
single_socket=$tmp/single/kvd.sock
"$kvd" --socket "$single_socket" --data "$tmp/single/storage.data" --fsync always \
  2>>"$tmp/kvd.log" &
kvd_pid=$!
wait_until_ready "$kvd_pid" kvd 30 "$kvctl" --socket "$single_socket" ping

# --- etcd: members e1, e2 and e3 ---
read -ra etcd_ports <<<"$(free_ports 6)"  # client and peer port of each
etcd_urls=()                               # client URLs
etcd_cluster=
for i in 1 2 3; do
  etcd_urls+=("http://127.0.0.1:${etcd_ports[2 * i - 2]}")
  etcd_cluster+="${etcd_cluster:+,}e$i=http://127.0.0.1:${etcd_ports[2 * i - 1]}"
done
for i in 1 2 3; do
  client_url=${etcd_urls[i - 1]}
  peer_url=http://127.0.0.1:${etcd_ports[2 * i - 1]}
  etcd --name "e$i" --data-dir "$tmp/etcd$i" \
    --listen-client-urls "$client_url" --advertise-client-urls "$client_url" \
    --listen-peer-urls "$peer_url" --initial-advertise-peer-urls "$peer_url" \
    --initial-cluster "$etcd_cluster" --initial-cluster-token kvd-bench \
    --initial-cluster-state new --logger zap --log-outputs stderr >"$tmp/etcd$i.log" 2>&1 &
  track "etcd$i" $!
  extra_logs+=("etcd$i")
done
# True once every member says it is healthy (it has a leader).
etcd_ready() {
  local url
  for url in "${etcd_urls[@]}"; do
    [[ $(curl -sf "$url/health") == *'"health":"true"'* ]] || return 1
  done
}
wait_until_ready "${tracked_pids[etcd1]}" etcd 60 etcd_ready
# Prints the client URL of etcd's leader: the member whose status names
# itself as the leader.
etcd_leader() {
  local url status
  for url in "${etcd_urls[@]}"; do
    status=$(curl -sf -X POST "$url/v3/maintenance/status" -d '{}') || continue
    if [[ $(sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p' <<<"$status") == \
      "$(sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p' <<<"$status")" ]]; then
      echo "$url"
      return
    fi
  done
  echo "$0: etcd has no leader" >&2
  return 1
}

cluster_leader >/dev/null  # the three nodes have elected a leader

# Appends (kvd) and puts (etcd) for wrk, one request per key encoded in init()
# (before the clock starts), each request() picking a key at random:
# wrk -s put.lua URL -- kvd|etcd KEYS VALUE.
cat >"$tmp/put.lua" <<'LUA'
local requests = {}

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    for j = 3, 0, -1 do
      local k = math.floor(n / 64 ^ j) % 64
      out[#out + 1] = alphabet:sub(k + 1, k + 1)
    end
    if not c then out[#out] = "=" end
    if not b then out[#out - 1] = "=" end
  end
  return table.concat(out)
end

function init(args)
  local server, keys, value = args[1], tonumber(args[2]), args[3]
  for i = 0, keys - 1 do
    local key = string.format("key:%012d", i)
    if server == "kvd" then
      requests[i + 1] = wrk.format("POST", "/api/v1/storage?key=" .. key .. "&val=" .. value)
    else
      requests[i + 1] = wrk.format("POST", "/v3/kv/put", { ["Content-Type"] = "application/json" },
        '{"key":"' .. base64(key) .. '","value":"' .. base64(value) .. '"}')
    end
  end
  -- A seed of this thread's own: the address of a new table.
  math.randomseed(os.time() + tonumber(tostring({}):match("%x+$"), 16))
end

function request()
  return requests[math.random(#requests)]
end
LUA

echo "cluster: 3 kvd nodes on loopback, --election-timeout ${election_timeout:-?} ms (the default); single node: kvd --fsync always"
echo "etcd:    $(etcd --version | head -n 1 | cut -d' ' -f3), 3 members on loopback, its defaults"
echo "wrk:     $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); $http_threads threads, $http_connections connections, $http_seconds s per run"
echo "load:    $value_size-byte values; socket appends to $random_keys random keys, HTTP to $http_keys, gets of $get_keys keys of one value"
echo "rounds:  $reps, each side of a row once per round; the table shows medians"
echo

# The figures of every run, by row, in the order they ran.
declare -A runs=()
record() {
  runs[$1]+="${runs[$1]:+ }$2"
}
# bench_row ROW SOCKET ARG...: one kvbench run, its ops/s recorded under ROW.
bench_row() {
  local rate
  rate=$(kvbench_rate "${@:2}")
  record "$1" "$rate"
}
# wrk_row ROW URL SERVER: one wrk run of put.lua, its requests/s under ROW.
wrk_row() {
  local out
  out=$(wrk_run -t "$http_threads" -c "$http_connections" -d "${http_seconds}s" \
    -s "$tmp/put.lua" "$2" -- "$3" "$http_keys" "$value")
  out=${out%% *}
  record "$1" "${out%.*}"
}

for ((round = 1; round <= reps; round++)); do
  for c in "${connection_counts[@]}"; do
    args=(--connections "$c" --mix append --keys "$random_keys" --value-size "$value_size")
    leader=$(cluster_leader)
    bench_row "append-cluster-$c" "$(node_socket "$leader")" "${args[@]}"
    bench_row "append-single-$c" "$single_socket" "${args[@]}"
  done

  leader=$(cluster_leader)
  wrk_row http-cluster "$(node_url "$leader")" kvd
  etcd_url=$(etcd_leader)
  wrk_row http-etcd "$etcd_url" etcd

  args=(--connections "$get_connections" --mix get --keys "$get_keys" --value-size "$value_size")
  leader=$(cluster_leader)
  bench_row get-linearizable "$(node_socket "$leader")" "${args[@]}"
  bench_row get-stale "$(node_socket "$leader")" "${args[@]}" --stale
done

# etcd really stored the puts: count the keys under key: (base64 of "key:"
# and of "key;", the end of that range).
etcd_url=$(etcd_leader)
etcd_count=$(curl -sf -X POST "$etcd_url/v3/kv/range" \
  -d '{"key":"a2V5Og==","range_end":"a2V5Ow==","count_only":true}' |
  sed -n 's/.*"count":"\([0-9]*\)".*/\1/p')
if [[ -z $etcd_count || $etcd_count == 0 ]]; then
  echo "$0: etcd holds no key:... after the puts" >&2
  exit 1
fi

# Failover: kill_and_probe PID SOCKET1 SOCKET2 sends SIGKILL to PID (the
# leader), then appends to the key "failover" through SOCKET1, SOCKET2,
# SOCKET1, ... (one connection per attempt, as kvctl makes, every 10 ms)
# until an append is acknowledged; prints the milliseconds from the kill to
# that answer, the attempts, and 1 or 2: the socket that answered. Fails
# after $failover_limit s.
kill_and_probe() {
  python3 - "$@" "$failover_limit" <<'PY'
import json, os, signal, socket, sys, time
pid, sockets, limit = int(sys.argv[1]), sys.argv[2:4], float(sys.argv[4])
start = time.monotonic()
os.kill(pid, signal.SIGKILL)
attempt = 0
while True:
    path = sockets[attempt % 2]
    attempt += 1
    request = {"op": "append", "key": "failover", "val": "%d.%d" % (pid, attempt)}
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(path)
            s.sendall((json.dumps(request) + "\n").encode())
            if json.loads(s.makefile().readline()).get("ok"):
                break
    except (OSError, ValueError):
        pass
    if time.monotonic() - start > limit:
        sys.exit("no append was acknowledged within %g s of the kill" % limit)
    time.sleep(0.01)
print(round((time.monotonic() - start) * 1000), attempt, (attempt - 1) % 2 + 1)
PY
}

# Kills the leader FAILOVERS times, each time restarting it on its Raft dir
# once a write has been acknowledged.
failover_ms=()
for ((cycle = 1; cycle <= failovers; cycle++)); do
  leader=$(cluster_leader)
  a=$((leader % 3 + 1))
  b=$(((leader + 1) % 3 + 1))
  probe=$(kill_and_probe "${tracked_pids[node$leader]}" "$(node_socket "$a")" "$(node_socket "$b")")
  kill_tracked "node$leader"  # reaps it
  read -r ms attempts via <<<"$probe"
  if ((via == 2)); then via=$b; else via=$a; fi
  failover_ms+=("$ms")
  echo "failover $cycle: killed node $leader (the leader); first append acknowledged" \
    "after $ms ms, attempt $attempts, through node $via"
  start_node "$leader"
done
cluster_leader >/dev/null  # the restarted node is back before the stop

echo
echo "runs, in order (ops/s; requests/s for HTTP):"
for row in append-cluster-1 append-single-1 append-cluster-8 append-single-8 \
  append-cluster-50 append-single-50 http-cluster http-etcd get-linearizable get-stale; do
  printf '  %-18s %s\n' "$row" "${runs[$row]}"
done
echo

print_row() {
  printf '%-36s %11s %11s %11s %7s  %s\n' "$@"
}
# row NAME CONNECTIONS A-ROW B-ROW [OP TARGET]: medians of two rows, their ratio, the target.
row() {
  local a b r target=-
  # shellcheck disable=SC2086 # the runs, one word each
  a=$(median ${runs[$3]})
  # shellcheck disable=SC2086
  b=$(median ${runs[$4]})
  r=$(ratio "$a" "$b")
  if (($# == 6)); then target="$5 $6 $(verdict "$r" "$5" "$6")"; fi
  print_row "$1" "$2" "$a" "$b" "$r" "$target"
}
print_row "ratio" connections A B "A/B" target
for c in "${connection_counts[@]}"; do
  if ((c == 50)); then
    row "socket appends: cluster / single" "$c" "append-cluster-$c" "append-single-$c" ">=" 0.5
  else
    row "socket appends: cluster / single" "$c" "append-cluster-$c" "append-single-$c"
  fi
done
row "HTTP: cluster appends / etcd puts" "$http_connections" http-cluster http-etcd ">=" 3
row "gets: linearizable / stale" "$get_connections" get-linearizable get-stale ">=" 0.5
failover_median=$(median "${failover_ms[@]}")
failover_max=$(printf '%s\n' "${failover_ms[@]}" | sort -n | tail -n 1)
print_row "failover ms: median, max of $failovers" - "$failover_median" "$failover_max" \
  "$failover_median" "<= 1500 $(verdict "$failover_median" "<=" 1500)"

# Stops the etcd members one after the other: a leader hands its leadership to
# a member still running when it stops, and waits seconds for that if the
# others stop with it. etcd ends by re-raising SIGTERM once it has shut down
# cleanly, so that is its status then (143).
stop_etcd() {
  local i status
  for i in 1 2 3; do
    status=0
    stop_tracked "etcd$i" || status=$?
    ((status == 0 || status == 143)) || return 1
  done
}

stop_nodes() {
  stop_tracked node1 node2 node3
}
stop_cleanly "a kvd cluster node" stop_nodes
stop_cleanly "an etcd member" stop_etcd
stop_cleanly kvd stop_daemon
