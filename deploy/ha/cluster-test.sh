#!/usr/bin/env bash
# Rolling-restart test of kvd's replicated cluster behind HAProxy and keepalived
# (doc/high-availability.md, "Replicated cluster"), with the real programs and
# the real deploy/ha/ configuration files:
#
#   deploy/ha/cluster-test.sh [BUILD_DIR] [--failures]
#       as root; BUILD_DIR (default: build) holds daemon/kvd and client/kvctl
#
# First it validates docker-compose-cluster.yml. Then it builds the topology
# out of network namespaces of its own (kvdcl<PID>-*): a bridge and, wired to
# it, three kvd cluster nodes, two load balancers (HAProxy with
# haproxy-cluster.cfg, keepalived with keepalived.conf) and a client, in
# 10.203.8.0/24, which exists only inside these namespaces. Eight clients
# (cluster-client.py) append through the VIP throughout, numbering their
# writes (client/seq) and retrying what a user of the API retries, while the
# test restarts the three kvd nodes one after the other (SIGTERM, wait for the
# exit, start it again with the same flags and directories, wait for /health
# 200 and both load balancers to see it up) and crashes the MASTER load
# balancer once (then reboots it). At the end it checks: no failed request
# (each acknowledged within its retry budget), every acknowledged value on
# every node exactly once and in order per client, no value never sent, and
# after a clean stop the three storage.data files equal. It prints per phase
# the requests, retries and latencies, and exits non-zero on any failure.
#
# --failures also measures what other failures cost (doc/high-availability.md):
# the leader and a follower killed (-9), the leader cut off from the other
# nodes (but not from the load balancers) and healed, a follower's disk lost
# (killed, its files removed, started again empty). The same checks follow.
#
# It stops only the processes it started and removes its namespaces on any
# exit. KEEP_LOGS=1 keeps the logs directory it prints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
declare -A addr=([lb1]=10.203.8.2 [lb2]=10.203.8.3 [n1]=10.203.8.21 [n2]=10.203.8.22
                 [n3]=10.203.8.23 [cl]=10.203.8.50)
haproxy_cfg="${here}/haproxy-cluster.cfg"
build_arg=build
more_failures=0
for arg; do
  case "${arg}" in
    --failures) more_failures=1 ;;
    -*) echo "usage: $0 [BUILD_DIR] [--failures]" >&2; exit 2 ;;
    *) build_arg=${arg} ;;
  esac
done
# shellcheck source=deploy/ha/netns-lib.sh
. "${here}/netns-lib.sh"
ha_init cluster-test kvdcl "${build_arg}" ip haproxy keepalived curl python3
[ -x "${build}/client/kvctl" ] || { echo "cluster-test: no kvctl in ${build}/client; build first" >&2; exit 1; }
# Copies: every restart runs the same kvd, even if the build changes meanwhile.
mkdir "${tmp}/bin"
cp "${kvd}" "${build}/client/kvctl" "${tmp}/bin/"
kvd="${tmp}/bin/kvd"
kvctl="${tmp}/bin/kvctl"
case "$("${kvd}" --help)" in
  *--peers*) ;;
  *) echo "cluster-test: ${kvd} has no cluster mode (built without libraft)" >&2; exit 1 ;;
esac
t_begin=$(now_ms)
rows=()

check_compose "${here}/docker-compose-cluster.yml"

# --- Topology --------------------------------------------------------------
#   cl ─┐                       ┌─ lb1 (HAProxy, keepalived MASTER) ─┐
#       ├── br0 (namespace sw) ─┤                                    ├─ n1, n2, n3 (kvd
#       │                       └─ lb2 (HAProxy, keepalived BACKUP) ─┘   cluster nodes)
# All on one bridge, as on one LAN; the VIP floats between lb1 and lb2.
make_lan lb1 lb2 n1 n2 n3 cl
raft_port=8300
peers="1=${addr[n1]}:${raft_port},2=${addr[n2]}:${raft_port},3=${addr[n3]}:${raft_port}"

# Each node's files outlive its restarts: the data file and beside it the
# Raft directory (storage.data.raft, the default).
start_kvd() {  # 1|2|3
  local n=$1 dir="${tmp}/node$1"
  mkdir -p "${dir}"
  start "kvd${n}" "n${n}" "${kvd}" --node "${n}" --peers "${peers}" \
    --http "${addr[n${n}]}:${http_port}" --name "Node ${n}" \
    --data "${dir}/storage.data" --socket "${dir}/kvd.sock"
}
healthy() { http_ok cl "http://${addr[n$1]}:${http_port}/health"; }
leads() { http_ok cl "http://${addr[n$1]}:${http_port}/health?role=leader"; }
leader() {  # [EXCEPT]: prints the first running node (not EXCEPT) whose /health?role=leader is 200
  local n
  for n in 1 2 3; do
    if [ -n "${pid[kvd${n}]:-}" ] && [ "${n}" != "${1:-}" ] && leads "${n}"; then
      echo "${n}"
      return 0
    fi
  done
  return 1
}
seen_up() {  # node: both load balancers' HAProxy route reads to it
  server_is lb1 any "n$1" UP && server_is lb2 any "n$1" UP
}
# stop_kvd node: SIGTERM, and its exit status.
stop_kvd() { kill -TERM "${pid[kvd$1]}"; wait_exit "$1"; }
# wait_exit node: waits for its exit (10 s at most) and returns its status.
wait_exit() {
  local n=$1 p=${pid[kvd$1]} rc=0
  if ! wait_until 10000 eval '! kill -0 '"${p}"' 2>/dev/null'; then
    fail "kvd ${n} still runs 10 s after SIGTERM"
    kill -KILL "${p}" 2>/dev/null || true
  fi
  wait "${p}" 2>/dev/null || rc=$?
  unset "pid[kvd${n}]"
  return "${rc}"
}

# The phases, for the client's per-phase summary.
event() { echo "$(now_ms) $*" >>"${tmp}/events"; log "phase: $*"; }

t_start=$(now_ms)
for n in 1 2 3; do start_kvd "${n}"; done
for n in 1 2 3; do
  wait_until 15000 healthy "${n}" || { echo "kvd ${n} did not come up" >&2; exit 1; }
done
start_haproxy lb1
start_haproxy lb2
start_keepalived lb1
start_keepalived lb2
wait_until 15000 vip_on lb1 || { echo "the VIP did not settle on lb1" >&2; exit 1; }
for n in 1 2 3; do
  wait_until 5000 seen_up "${n}" || { echo "the load balancers do not see kvd ${n} up" >&2; exit 1; }
done
wait_until 5000 eval 'leader >/dev/null' || { echo "no leader" >&2; exit 1; }
leader_is=$(leader)
log "up: kvd nodes on ${addr[n1]}, ${addr[n2]}, ${addr[n3]} (leader: ${leader_is}), VIP ${vip}" \
    "on lb1, $(elapsed "${t_start}") ms after start-up began"

# --- The clients -------------------------------------------------------------
client_log="${tmp}/requests.jsonl"
event "steady"
start client cl python3 "${here}/cluster-client.py" run "http://${vip}" "${client_log}" 8
wait_until 10000 test -s "${client_log}" || { echo "the clients did not start" >&2; exit 1; }
sleep 1

# --- Rolling restart -----------------------------------------------------------
# restart_node n: what an operator does, one node at a time.
restart_node() {
  local n=$1 role t0 down up rc=0
  role=$([ "$(leader || true)" = "${n}" ] && echo leader || echo follower)
  event "kvd ${n} (${role}) restarted"
  t0=$(now_ms)
  stop_kvd "${n}" || rc=$?
  down=$(elapsed "${t0}")
  [ "${rc}" -eq 0 ] || fail "kvd ${n} (${role}) exited with status ${rc} on SIGTERM"
  t0=$(now_ms)
  start_kvd "${n}"
  if wait_until 15000 healthy "${n}"; then up=$(elapsed "${t0}"); else up=never; fail "kvd ${n}: /health not 200 within 15 s of its restart"; fi
  wait_until 5000 seen_up "${n}" || fail "kvd ${n}: the load balancers do not see it up again"
  rows+=("$(printf 'kvd %s (%s): exited %s ms after SIGTERM, /health 200 %s ms after its start; leader now: %s' \
    "${n}" "${role}" "${down}" "${up}" "$(leader || echo none)")")
  sleep 1
}

restart_node 1

# vip_move title action target: the action, then the time until the VIP sits
# on target alone (in `moved`).
vip_move() {
  local t0
  event "$1"
  t0=$(now_ms)
  $2
  if wait_until 10000 vip_on "$3"; then moved=$(elapsed "${t0}"); else moved=never; fi
  rows+=("$1: VIP on $3 after ${moved} ms")
}
vip_move "lb1 (MASTER) crashed" "crash_lb lb1" lb2
if [ "${moved}" = never ] || [ "${moved}" -gt 3000 ]; then
  fail "lb1 crashed: VIP on lb2 after ${moved} ms (want <= 3000)"
fi
sleep 1.5
vip_move "lb1 rebooted" "restart_lb lb1" lb1
[ "${moved}" != never ] || fail "lb1 rebooted: the VIP did not come back to it within 10 s"
for n in 1 2 3; do wait_until 5000 seen_up "${n}" || fail "lb1 does not see kvd ${n} up"; done
sleep 1

restart_node 2
restart_node 3

# --- Other failures (--failures) -------------------------------------------------
# cut_off node on|off: drops every packet between the node and the other kvd
# nodes (each side's neighbour entry for the other points to a MAC nobody has),
# while the load balancers still reach it.
cut_off() {
  local n=$1 m
  for m in 1 2 3; do
    [ "${m}" = "${n}" ] && continue
    if [ "$2" = on ]; then
      ip -n "${prefix}-n${n}" neigh replace "${addr[n${m}]}" lladdr 02:00:00:00:00:01 dev eth0 nud permanent
      ip -n "${prefix}-n${m}" neigh replace "${addr[n${n}]}" lladdr 02:00:00:00:00:01 dev eth0 nud permanent
    else
      ip -n "${prefix}-n${n}" neigh del "${addr[n${m}]}" dev eth0
      ip -n "${prefix}-n${m}" neigh del "${addr[n${n}]}" dev eth0
    fi
  done
}
# The length of the shared key's values as the node holds them (a stale read,
# its own copy); a node is caught up once it holds as much as the leader held.
hot_length() {
  local out
  out=$(in_ns cl curl -fsS --max-time 1 "http://${addr[n$1]}:${http_port}/api/v1/storage?key=hot&stale=1") &&
    echo "${#out}"
}
caught_up() { local len; len=$(hot_length "$1") && [ "${len}" -ge "$2" ]; }

if [ "${more_failures}" = 1 ]; then
  for role in leader follower; do
    l=$(leader)
    n=$([ "${role}" = leader ] && echo "${l}" || echo $((l % 3 + 1)))
    event "kvd ${n} (${role}) killed (-9)"
    kill9 "kvd${n}"
    sleep 2
    wait_until 5000 eval 'leader >/dev/null' || true
    rows+=("kvd ${n} (${role}) killed (-9): leader now $(leader || echo none)")
    start_kvd "${n}"
    wait_until 15000 healthy "${n}" || fail "kvd ${n}: not healthy after its restart"
    wait_until 5000 seen_up "${n}" || fail "kvd ${n}: the load balancers do not see it up again"
    sleep 1
  done

  l=$(leader)
  event "kvd ${l} (leader) cut off from the other nodes"
  cut_off "${l}" on
  t0=$(now_ms)
  if wait_until 10000 eval 'leader '"${l}"' >/dev/null'; then elected=$(elapsed "${t0}"); else elected=never; fi
  wait_until 5000 eval '! healthy '"${l}" || true
  if healthy "${l}"; then old="still 200"; else old="503 after $(elapsed "${t0}") ms"; fi
  sleep 1
  rows+=("kvd ${l} (leader) cut off: new leader $(leader "${l}" || echo none) after ${elected} ms; /health on the old leader: ${old}")
  event "partition healed"
  cut_off "${l}" off
  t0=$(now_ms)
  if wait_until 10000 healthy "${l}"; then back=$(elapsed "${t0}"); else back=never; fi
  wait_until 5000 seen_up "${l}" || fail "kvd ${l}: the load balancers do not see it up after the partition"
  rows+=("partition healed: kvd ${l} /health 200 after ${back} ms")
  sleep 1

  l=$(leader)
  n=$((l % 3 + 1))
  event "kvd ${n} (follower) disk lost"
  kill9 "kvd${n}"
  rm -rf "${tmp}/node${n}"
  target=$(hot_length "${l}")
  t0=$(now_ms)
  start_kvd "${n}"
  if wait_until 15000 healthy "${n}"; then up=$(elapsed "${t0}"); else up=never; fi
  if wait_until 15000 caught_up "${n}" "${target}"; then caught=$(elapsed "${t0}"); else caught=never; fi
  rows+=("kvd ${n} (follower) disk lost: restarted empty, /health 200 after ${up} ms, caught up after ${caught} ms")
  [ "${caught}" != never ] || fail "kvd ${n} did not catch up after its disk was lost"
  wait_until 5000 seen_up "${n}" || fail "kvd ${n}: the load balancers do not see it up after its disk was lost"
  sleep 1
fi

# --- Checks ----------------------------------------------------------------------
event "clients stopping"
stop_pid client TERM

# What every node serves, read with kvctl (linearizable reads: each node
# answers after applying everything acknowledged before the read began).
dump() {  # node: "<key><TAB><values as JSON>" lines
  local sock="${tmp}/node$1/kvd.sock" key
  "${kvctl}" --socket "${sock}" keys | while IFS= read -r key; do
    printf '%s\t%s\n' "${key}" "$("${kvctl}" --socket "${sock}" get "${key}" --json)"
  done
}
for n in 1 2 3; do
  dump "${n}" >"${tmp}/dump${n}" || fail "kvd ${n}: could not read its keys with kvctl"
done

# A clean stop of all three: each writes its storage.data.
for n in 1 2 3; do kill -TERM "${pid[kvd${n}]}" 2>/dev/null || true; done
for n in 1 2 3; do
  rc=0
  wait_exit "${n}" || rc=$?
  [ "${rc}" -eq 0 ] || fail "kvd ${n} exited with status ${rc} on the final SIGTERM"
done
for n in 2 3; do
  cmp "${tmp}/node1/storage.data" "${tmp}/node${n}/storage.data" ||
    fail "storage.data of kvd 1 and kvd ${n} differ after a clean stop"
done

echo
python3 "${here}/cluster-client.py" check "${client_log}" "${tmp}/events" "${tmp}"/dump{1,2,3} \
  "${tmp}"/node{1,2,3}/storage.data || fail "the nodes' data or the clients' answers are wrong"
echo
for row in "${rows[@]}"; do echo "${row}"; done

echo
log "cluster-test: $(elapsed "${t_begin}") ms in all"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "cluster-test: passed"
