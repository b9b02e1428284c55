#!/usr/bin/env bash
# shellcheck disable=SC2154  # prefix, unitdir, sysusersdir: from paths.sh
# Runs inside the container boot-test.sh boots: installs kvd's units as a
# package would, then drives kvd through systemd. Exit code: the test's.
set -euo pipefail
# shellcheck source=/dev/null  # written by boot-test.sh
. /kvdtest/paths.sh
sock=/run/kvd/kvd.sock
kvctl="$prefix/bin/kvctl --socket $sock"
step() { echo "== $*"; }
fail() {
  echo "FAILED: $*"
  systemctl status --no-pager kvd.socket kvd.service || true
  journalctl --no-pager -u kvd.socket -u kvd.service || true
  exit 1
}
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

step "install: sysusers, units, enable the socket"
systemd-sysusers "/kvdtest/stage$sysusersdir/kvd.conf"
cp "/kvdtest/stage$unitdir/kvd.service" "/kvdtest/stage$unitdir/kvd.socket" /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now kvd.socket
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ "$(stat -c '%U:%G %a' "$sock")" = "kvd:kvd 660" ] || fail "socket is $(stat -c '%U:%G %a' "$sock")"
[ "$(systemctl is-active kvd.service)" = inactive ] || fail "kvd started before any connection"

step "the first connection starts kvd"
$kvctl --key a --val x
[ "$(systemctl is-active kvd.service)" = active ] || fail "kvd.service is not active"
[ "$(stat -c '%U:%G %a' "$sock")" = "kvd:kvd 660" ] || fail "kvd changed the socket: $(stat -c '%U:%G %a' "$sock")"

step "runs as its own user, with the hardening in force"
[ "$(systemctl show -p User --value kvd)" = kvd ] || fail "User= is not kvd"
pid=$(systemctl show -p MainPID --value kvd)
[ "$(stat -c %U "/proc/$pid")" = kvd ] || fail "kvd runs as $(stat -c %U "/proc/$pid")"
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" || fail "NoNewPrivs is off"
grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" || fail "no seccomp filter"
grep -q '^CapEff:[[:space:]]*0*$' "/proc/$pid/status" || fail "kvd has capabilities"
# ProtectSystem=strict: in kvd's mount namespace / is read-only and only
# its state directory is writable.
# (No awk: it is an /etc/alternatives link, and this /etc is empty.)
mount_options() {
  local options="" _id _parent _dev _root point opts _rest
  while read -r _id _parent _dev _root point opts _rest; do
    [ "$point" = "$1" ] && options=$opts
  done <"/proc/$pid/mountinfo"
  echo "$options"
}
[[ "$(mount_options /)" == ro* ]] || fail "/ is $(mount_options /) for kvd"
[[ "$(mount_options /var/lib/kvd)" == rw* ]] || fail "/var/lib/kvd is not writable for kvd"
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '--max-connections 2000' ||
  fail "KVD_OPTS from $prefix/etc/sysconfig/kvd did not reach kvd"
# kvd.conf sets max-key-size 8 and max-value-size 10; KVD_OPTS wins with 100.
$kvctl --key 123456789 --val x 2>/dev/null && fail "max-key-size from $prefix/etc/kvd/kvd.conf did not apply"
$kvctl --key b --val 0123456789abcdef || fail "KVD_OPTS did not win over kvd.conf"
$kvctl del b >/dev/null

step "restart keeps the data and the socket"
systemctl restart kvd
[ "$($kvctl --key a)" = x ] || fail "value lost over restart"
[ "$(stat -c '%U:%G %a' "$sock")" = "kvd:kvd 660" ] || fail "socket changed over restart"

step "the journal has the start-up line, with its priority and one timestamp"
journalctl --sync
line=$(journalctl -u kvd -p notice -o cat | grep -m1 'serving /run/kvd/kvd.sock (socket from the service manager)') ||
  fail "no start-up line at priority notice"
[[ "$line" == kvd\ * ]] || fail "start-up line carries a prefix of its own: $line"
echo "journal: $line"

step "stop folds everything into storage.data"
systemctl stop kvd.socket kvd.service
[ "$(cat /var/lib/kvd/storage.data)" = '{"a":["x"]}' ] || fail "storage.data: $(cat /var/lib/kvd/storage.data)"

step "without the socket unit kvd binds the socket itself"
systemctl start kvd.service
$kvctl --key a --val y
[ "$($kvctl --key a)" = "x, y" ] || fail "read back"
systemctl stop kvd.service
[ ! -e "$sock" ] || fail "kvd left its own socket behind"
echo "PASS"
