# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with the caller
# What deploy/ha's tests (ha-test.sh, cluster-test.sh) share: a LAN made of
# network namespaces of their own, the processes they start in them, HAProxy +
# keepalived load balancers holding the VIP, and a clean-up that stops only
# those processes and removes those namespaces on any exit. Sourced, after the
# caller set:
#   addr          associative array: host name -> its address in 10.203.8.0/24
#   haproxy_cfg   the HAProxy configuration both load balancers run
# and before it calls ha_init. Everything here runs as root.

ha_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ha_repo=$(cd "${ha_here}/../.." && pwd)

# The addresses of haproxy*.cfg, keepalived.conf and docker-compose*.yml.
vip=10.203.8.100
http_port=8080
mon="http://127.0.0.1:8404"

declare -A pid=()   # name -> PID of each process the test started
namespaces=()
failures=()

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
now_ms() { date +%s%3N; }
elapsed() { echo $(($(now_ms) - $1)); }
in_ns() { local ns=$1; shift; ip netns exec "${prefix}-${ns}" "$@"; }
fail() { failures+=("$*"); log "FAILED: $*"; }

# ha_init NAME NS_TAG BUILD_DIR TOOL...: checks that it runs as root with the
# tools and a built kvd (sets `build` and `kvd`), makes the logs directory
# `tmp`, names the namespaces NS_TAG<PID>-*, and sets the clean-up traps.
ha_init() {
  ha_name=$1
  prefix="$2$$"
  build=$3
  shift 3
  case "${build}" in /*) ;; *) build="${ha_repo}/${build}" ;; esac
  kvd="${build}/daemon/kvd"
  if [ "$(id -u)" -ne 0 ]; then
    echo "${ha_name}: run as root (it creates network namespaces)" >&2
    exit 1
  fi
  local tool
  for tool in "$@"; do
    command -v "${tool}" >/dev/null ||
      { echo "${ha_name}: ${tool} is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
  done
  [ -x "${kvd}" ] || { echo "${ha_name}: no kvd at ${kvd}; build first" >&2; exit 1; }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/${ha_name}.XXXXXX")
  trap ha_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

stop_pid() {  # name signal: signal a process the test started and forget it
  local name=$1 sig=$2
  [ -n "${pid[${name}]:-}" ] || return 0
  kill "-${sig}" "${pid[${name}]}" 2>/dev/null || true
  { wait "${pid[${name}]}"; } 2>/dev/null || true
  unset "pid[${name}]"
}

kill9() {  # name|PID...: SIGKILL, all at once, to processes the test started
  local pids=() name
  for name; do
    case "${name}" in
      *[!0-9]*)
        pids+=("${pid[${name}]}")
        # No longer a job: bash reaps it without a "Killed" notice in the output.
        disown "${pid[${name}]}" 2>/dev/null || true
        unset "pid[${name}]"
        ;;
      *) pids+=("${name}") ;;
    esac
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

ha_cleanup() {
  local rc=$? name f ns deadline
  trap - EXIT INT TERM
  set +e
  for name in "${!pid[@]}"; do kill -TERM "${pid[${name}]}" 2>/dev/null; done
  deadline=$(($(now_ms) + 5000))
  for name in "${!pid[@]}"; do
    while kill -0 "${pid[${name}]}" 2>/dev/null && [ "$(now_ms)" -lt "${deadline}" ]; do sleep 0.05; done
    kill -KILL "${pid[${name}]}" 2>/dev/null
    { wait "${pid[${name}]}"; } 2>/dev/null
  done
  # keepalived's VRRP children, should a parent have been killed before them.
  for f in "${tmp}"/keepalived-*-vrrp.pid; do
    [ -f "${f}" ] && kill -KILL "$(cat "${f}")" 2>/dev/null
  done
  for ns in "${namespaces[@]}"; do ip netns del "${ns}" 2>/dev/null; done
  if [ "${rc}" -ne 0 ]; then
    for f in "${tmp}"/*.log; do
      [ -f "${f}" ] && { echo "--- ${f##*/} (last lines)"; tail -n 15 "${f}"; }
    done
  fi
  rm -rf "${tmp:?}/bin"  # copies of the programs under test, if the test made them
  if [ "${KEEP_LOGS:-0}" = 1 ] || [ "${rc}" -ne 0 ]; then echo "logs: ${tmp}"; else rm -rf "${tmp}"; fi
  exit "${rc}"
}

wait_until() {  # timeout_ms command...: polls every 20 ms; 1 on timeout
  local deadline=$(($(now_ms) + $1))
  shift
  until "$@"; do
    [ "$(now_ms)" -lt "${deadline}" ] || return 1
    sleep 0.02
  done
}

# check_compose FILE: the schema by Docker Compose where a client is installed
# (no engine needed), the agreement between the files by check-compose.py.
check_compose() {
  local file=$1 name=${1##*/}
  if docker compose version >/dev/null 2>&1; then
    docker compose -f "${file}" config -q
    log "${name}: valid (docker compose config)"
  elif command -v docker-compose >/dev/null; then
    docker-compose -f "${file}" config -q
    log "${name}: valid (docker-compose config)"
  else
    log "${name}: no Docker Compose client to check its schema"
  fi
  log "$(python3 "${ha_here}/check-compose.py" "${file}")"
}

# make_lan HOST...: a bridge in a namespace of its own (sw) and, wired to it by
# veth pairs, a namespace per host with its address on eth0, as on one LAN.
# The host's own interfaces are never touched.
make_lan() {
  local host ns
  ip netns add "${prefix}-sw"
  namespaces+=("${prefix}-sw")
  ip -n "${prefix}-sw" link add br0 type bridge
  ip -n "${prefix}-sw" link set br0 up
  for host; do
    ns="${prefix}-${host}"
    ip netns add "${ns}"
    namespaces+=("${ns}")
    ip -n "${prefix}-sw" link add "${host}" type veth peer name eth0 netns "${ns}"
    ip -n "${prefix}-sw" link set "${host}" master br0 up
    ip -n "${ns}" link set lo up
    ip -n "${ns}" addr add "${addr[${host}]}/24" dev eth0
    ip -n "${ns}" link set eth0 up
    # HAProxy binds the VIP while the other LB holds it.
    case "${host}" in lb*) in_ns "${host}" sh -c "echo 1 >/proc/sys/net/ipv4/ip_nonlocal_bind" ;; esac
  done
}

start() {  # name namespace command...: runs command in the background, records its PID
  local name=$1 ns=$2
  shift 2
  ip netns exec "${prefix}-${ns}" "$@" >>"${tmp}/${name}.log" 2>&1 &
  pid[${name}]=$!
}

http_ok() { in_ns "$1" curl -fsS -o /dev/null --max-time 1 "$2" 2>/dev/null; }

start_haproxy() {  # lb1|lb2
  start "haproxy-$1" "$1" haproxy -db -f "${haproxy_cfg}"
  wait_until 10000 http_ok "$1" "${mon}/haproxy-health" ||
    { echo "HAProxy on $1 did not come up" >&2; exit 1; }
}

start_keepalived() {  # lb1|lb2
  start "keepalived-$1" "$1" keepalived --dont-fork --log-console --no-syslog --vrrp \
    --config-id "$1" -f "${ha_here}/keepalived.conf" \
    -p "${tmp}/keepalived-$1.pid" -r "${tmp}/keepalived-$1-vrrp.pid"
}

has_vip() { ip -n "${prefix}-$1" -4 -o addr show dev eth0 | grep -q " ${vip}/"; }
link_up() { ip -n "${prefix}-$1" -o link show dev eth0 | grep -q "[<,]UP[,>]"; }
# The VIP is on this LB alone (an LB cut off the network does not count).
vip_on() {
  local other
  other=$([ "$1" = lb1 ] && echo lb2 || echo lb1)
  has_vip "$1" && ! { link_up "${other}" && has_vip "${other}"; }
}

# server_status lb backend server: UP, DOWN, ... as this LB's HAProxy sees it
server_status() {
  in_ns "$1" curl -fsS --max-time 1 "${mon}/stats;csv" 2>/dev/null |
    awk -F, -v b="$2" -v s="$3" '$1 == b && $2 == s { print $18 }'
}
server_is() { [ "$(server_status "$1" "$2" "$3")" = "$4" ]; }

# A crash of a whole LB machine: off the network at once, and no process of it
# gets to say goodbye (no priority-0 advert): the other LB waits out the
# master-down timer.
crash_lb() {  # lb1|lb2
  local vrrp_child
  vrrp_child=$(cat "${tmp}/keepalived-$1-vrrp.pid")
  ip -n "${prefix}-$1" link set eth0 down
  kill9 "haproxy-$1" "keepalived-$1" "${vrrp_child}"
}
restart_lb() {  # lb1|lb2: a rebooted machine has no VIP left on its interface
  ip -n "${prefix}-$1" addr del "${vip}/24" dev eth0 2>/dev/null || true
  ip -n "${prefix}-$1" link set eth0 up
  start_haproxy "$1"
  start_keepalived "$1"
}
