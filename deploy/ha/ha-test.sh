#!/usr/bin/env bash
# Failover test of kvd's high-availability set-up (doc/high-availability.md),
# with the real programs and the real deploy/ha/ configuration files:
#
#   deploy/ha/ha-test.sh [BUILD_DIR]      as root; BUILD_DIR (default: build) holds daemon/kvd
#
# First it validates docker-compose.yml. Then it builds the topology out of network
# namespaces of its own (names kvdha<PID>-*): a bridge in one namespace and, wired
# to it by veth pairs, two kvd servers, two load balancers (HAProxy + keepalived)
# and a client, all in 10.203.8.0/24, which exists only inside these namespaces.
# A client requests /hello on the VIP every 50 ms while the test breaks one thing
# at a time: kvd 1 stopped, kvd 2's disk full, and on lb1 HAProxy killed and
# restarted, keepalived stopped and restarted, the whole LB crashed and rebooted;
# and it checks the key-hashed API (each key on one kvd; 503 for the keys of a
# kvd that is down). It prints per phase the failed requests, the longest time
# without a successful answer and when the failure was noticed, and asserts
# bounds on them: no failed request when a kvd stops or its disk is full, the
# VIP on lb2 within 3 s of an lb1 failure, no outage when lb1 takes it back.
# It stops only the processes it started and removes its namespaces on any exit.
# KEEP_LOGS=1 keeps the logs directory it prints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
declare -A addr=([lb1]=10.203.8.2 [lb2]=10.203.8.3 [s1]=10.203.8.11 [s2]=10.203.8.12 [cl]=10.203.8.50)
haproxy_cfg="${here}/haproxy.cfg"
# shellcheck source=deploy/ha/netns-lib.sh
. "${here}/netns-lib.sh"
ha_init ha-test kvdha "${1:-build}" ip haproxy keepalived curl python3
rows=()

check_compose "${here}/docker-compose.yml"

# --- Topology --------------------------------------------------------------
#   cl ─┐                       ┌─ lb1 (HAProxy, keepalived MASTER) ─┐
#       ├── br0 (namespace sw) ─┤                                    ├─ s1, s2 (kvd)
#       │                       └─ lb2 (HAProxy, keepalived BACKUP) ─┘
# All on one bridge, as on one LAN; the VIP floats between lb1 and lb2.
make_lan lb1 lb2 s1 s2 cl

# kvd 2 keeps its files on a 1 MiB tmpfs in a mount namespace of its own, so
# that the test can fill its disk; kvd 1's files outlive its restart.
start_kvd() {  # 1|2
  local n=$1 dir="${tmp}/kvd$1" run=()
  mkdir -p "${dir}"
  if [ "${n}" = 2 ]; then
    # shellcheck disable=SC2016  # $0 and $@ are the inner shell's
    run=(unshare --mount --propagation private
         sh -c 'mount -t tmpfs -o size=1m,mode=0700 kvd2 "$0" && exec "$@"' "${dir}")
  fi
  start "kvd${n}" "s${n}" "${run[@]}" "${kvd}" --http "${addr[s${n}]}:${http_port}" \
    --name "Server ${n}" --data "${dir}/storage.data" --socket "${dir}/kvd.sock"
  wait_until 10000 http_ok cl "http://${addr[s${n}]}:${http_port}/health" ||
    { echo "kvd ${n} did not come up" >&2; exit 1; }
}

t_start=$(now_ms)
start_kvd 1
start_kvd 2
start_haproxy lb1
start_haproxy lb2
start_keepalived lb1
start_keepalived lb2
wait_until 15000 vip_on lb1 || { echo "the VIP did not settle on lb1" >&2; exit 1; }
for lb in lb1 lb2; do
  for s in s1 s2; do
    wait_until 5000 server_is "${lb}" web "${s}" UP || { echo "${lb} does not see ${s} UP" >&2; exit 1; }
  done
done
log "up: kvd on ${addr[s1]} and ${addr[s2]}, VIP ${vip} on lb1, $(elapsed "${t_start}") ms after start-up began"

# --- Phases ------------------------------------------------------------------
probe() { ip netns exec "${prefix}-cl" python3 "${here}/probe.py" "$@"; }

watches=0
watch_start() {
  watches=$((watches + 1))
  watch_log="${tmp}/watch-${watches}.log"
  start watch cl python3 "${here}/probe.py" watch "http://${vip}/hello" "${watch_log}"
  # Its first answers, not a fixed time: a loaded machine may take a second to
  # start Python, and a probe stopped before it began has no log to sum up.
  wait_until 10000 test -s "${watch_log}" || { echo "the client did not start" >&2; exit 1; }
  sleep 0.5
}

# watch_stop phase event: stops the client, adds a table row.
watch_stop() {
  sleep 1
  stop_pid watch TERM
  read -r requests failed gap servers < <(probe summary "${watch_log}")
  rows+=("$(printf '%-38s %8s %7s %9s  %s' "$1" "${requests}" "${failed}" "${gap}" "$2")")
}

log "phase: /hello round-robin"
watch_start
sleep 1.5
watch_stop "/hello round-robin" "-"
[ "${failed}" -eq 0 ] || fail "round-robin: ${failed} failed requests"
[ "${servers}" = "Server_1,Server_2" ] || fail "round-robin: saw '${servers}', not both servers"

log "phase: API by key"
probe put "http://${vip}" 20 "${tmp}/keys.json" || fail "API by key: writes/reads through the VIP"

log "phase: stop kvd 1 (SIGTERM)"
watch_start
t0=$(now_ms)
kill -TERM "${pid[kvd1]}"
if wait_until 5000 server_is lb1 web s1 DOWN; then detect=$(elapsed "${t0}"); else detect=never; fi
wait "${pid[kvd1]}" || fail "kvd 1 exited with status $? on SIGTERM"
unset "pid[kvd1]"
watch_stop "kvd 1 stopped" "HAProxy marked it DOWN after ${detect} ms"
[ "${failed}" -eq 0 ] || fail "kvd 1 stopped: ${failed} failed /hello requests (want 0)"
[ "${detect}" != never ] || fail "kvd 1 stopped: HAProxy never marked it DOWN"

log "phase: API while kvd 1 is down"
if out=$(probe check "http://${vip}" "${tmp}/keys.json" "Server 1"); then
  log "${out}"
  rows+=("$(printf '%-38s %s' "API while kvd 1 is down" "${out}")")
else
  fail "API while kvd 1 is down: ${out}"
fi
start_kvd 1
wait_until 5000 server_is lb1 web s1 UP || fail "lb1 does not see kvd 1 UP again"
probe check "http://${vip}" "${tmp}/keys.json" >/dev/null || fail "API after kvd 1 came back"

log "phase: kvd 2 cannot persist writes (disk full)"
key2=$(python3 -c 'import json, sys
print(next(k for k, v in json.load(open(sys.argv[1])).items() if v == "Server 2"))' "${tmp}/keys.json")
watch_start
nsenter --target "${pid[kvd2]}" --mount dd if=/dev/zero of="${tmp}/kvd2/filler" bs=64k 2>/dev/null || true
t0=$(now_ms)
# An append to one of kvd 2's keys, through the VIP, with a value larger than a page.
code=$(in_ns cl curl -s -o "${tmp}/full-write.json" -w '%{http_code}' \
  --data-urlencode "key=${key2}" --data-urlencode "val=$(head -c 8000 /dev/zero | tr '\0' x)" \
  "http://${vip}/api/v1/storage")
if wait_until 5000 server_is lb1 web s2 DOWN; then detect=$(elapsed "${t0}"); else detect=never; fi
watch_stop "kvd 2 disk full" "append: ${code}; /health 503: DOWN after ${detect} ms"
[ "${code}" = 503 ] || fail "disk full: the append answered ${code}, want 503: $(cat "${tmp}/full-write.json")"
[ "${detect}" != never ] || fail "disk full: HAProxy never marked kvd 2 DOWN"
[ "${failed}" -eq 0 ] || fail "disk full: ${failed} failed /hello requests (want 0)"
# Its keys stay readable (from kvd 2 alone), and the failed append left nothing.
probe check "http://${vip}" "${tmp}/keys.json" >/dev/null || fail "API while kvd 2's disk is full"
nsenter --target "${pid[kvd2]}" --mount rm "${tmp}/kvd2/filler"
# kvd's /health answers 200 again after its next durable write.
in_ns cl curl -fsS -o /dev/null -X POST "http://${addr[s2]}:${http_port}/api/v1/storage?key=ha-disk&val=back" ||
  fail "kvd 2 refused a write after its disk was freed"
wait_until 5000 server_is lb1 web s2 UP || fail "lb1 does not see kvd 2 UP after its disk was freed"

reap_later=
# lb_phase title action target: does action (which only signals, so that the
# clock runs from the failure, not from the end of a shutdown), then waits for
# the VIP to sit on target alone.
lb_phase() {
  local title=$1 action=$2 target=$3 t0 moved
  log "phase: ${title}"
  watch_start
  t0=$(now_ms)
  ${action}
  if wait_until 10000 vip_on "${target}"; then moved=$(elapsed "${t0}"); else moved=never; fi
  watch_stop "${title}" "VIP on ${target} after ${moved} ms"
  if [ "${target}" = lb2 ]; then  # lb1 failed
    if [ "${moved}" = never ] || [ "${moved}" -gt 3000 ]; then
      fail "${title}: VIP on lb2 after ${moved} ms (want <= 3000)"
    fi
  else
    # Preemption by lb1 once it is healthy (two good probes, 1 s apart): no
    # outage. A request in flight on lb2 at that instant may be reset (TCP
    # state does not move with the VIP).
    if [ "${moved}" = never ] || [ "${moved}" -gt 5000 ]; then
      fail "${title}: VIP back on lb1 after ${moved} ms (want <= 5000)"
    fi
    if [ "${failed}" -gt 1 ] || [ "${gap}" -ge 1000 ]; then
      fail "${title}: ${failed} failed requests, ${gap} ms without an answer (want <= 1, < 1000)"
    fi
  fi
  if [ -n "${reap_later}" ]; then stop_pid "${reap_later}" TERM; reap_later=; fi
}

kill_haproxy_lb1() { kill9 haproxy-lb1; }
stop_keepalived_lb1() {  # its shutdown runs on while the phase measures
  kill -TERM "${pid[keepalived-lb1]}"
  reap_later=keepalived-lb1
}
lb_phase "HAProxy on lb1 killed (-9)" kill_haproxy_lb1 lb2
probe check "http://${vip}" "${tmp}/keys.json" >/dev/null || fail "API through lb2: keys moved"
lb_phase "HAProxy on lb1 restarted" "start_haproxy lb1" lb1
lb_phase "keepalived on lb1 stopped" stop_keepalived_lb1 lb2
lb_phase "keepalived on lb1 restarted" "start_keepalived lb1" lb1
lb_phase "lb1 crashed (all its processes -9)" "crash_lb lb1" lb2
lb_phase "lb1 restarted" "restart_lb lb1" lb1
probe check "http://${vip}" "${tmp}/keys.json" >/dev/null || fail "API after the LB failovers"

echo
printf '%-38s %8s %7s %9s  %s\n' "phase (client: GET /hello every 50 ms)" requests failed "gap (ms)" "event"
for row in "${rows[@]}"; do echo "${row}"; done
echo "(gap: longest time between two successful answers; about 50 ms when nothing fails)"
echo
if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "ha-test: passed"
