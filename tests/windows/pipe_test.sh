#!/usr/bin/env bash
# Integration test of the Windows build (doc/windows.md): kvd.exe serving
# a named pipe of its own (never the default \\.\pipe\kvd), several kvctl.exe
# processes appending at once, values read back in order, a second kvd
# (same pipe, or same data file) refused, and data kept across a clean restart and across kill -9. Run by
# `meson test` in the mingw build, under Wine from Linux (in $WINEPREFIX, set
# up by the caller) or directly on Windows (MSYS2). Prints TAP.
#   tests/windows/pipe_test.sh KVD.EXE KVCTL.EXE
set -uo pipefail
kvd_exe=$1
kvctl_exe=$2
case "$(uname -s)" in
  MINGW* | MSYS* | CYGWIN*) run=() ;;
  *) run=(wine) ;;
esac
export WINEDEBUG=-all

dir=$(mktemp -d "${TMPDIR:-/tmp}/kvd-pipe-test.XXXXXX")
token="kvd-test-$$-${RANDOM}"  # names this run's pipe and finds its kvd.exe
pipe="\\\\.\\pipe\\${token}"
if [ ${#run[@]} -gt 0 ]; then data="Z:${dir//\//\\}\\storage.data"; else data="$dir/storage.data"; fi
kvd_pid=""

# The kvd.exe process of this run, by the unique token in its command line
# (under Wine the launcher's PID is not the program's).
find_kvd() { pgrep -f -- "--socket .*${token} " | head -n 1; }
stop_kvd() {  # SIGNAL: signals kvd.exe and waits for it to be gone (10 s, then SIGKILL)
  [ -n "$kvd_pid" ] || return 0
  kill "-$1" "$kvd_pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$kvd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$kvd_pid" 2>/dev/null
  kvd_pid=""
}
cleanup() {
  [ -n "$kvd_pid" ] || kvd_pid=$(find_kvd)  # one that never answered, too
  stop_kvd INT
  rm -rf "$dir"
}
trap cleanup EXIT

# run_exe PROGRAM ARGS...: runs a Windows program, under Wine from Linux.
# Wine (8.0 here) now and then fails to start a program before any of its code
# runs: "failed to map the shared user data" (exit 1) or STATUS_DLL_INIT_FAILED
# (0xC0000142, exit 66), about once in several thousand starts while other
# Wine programs run (the unit tests beside this test); this test makes ~140.
# kvd.exe and kvctl.exe always say on stderr why they fail, so a silent exit 1
# or 66 under Wine is Wine's own: that start is made again (3 starts at most),
# and the retry is reported on stderr.
run_exe() {
  local err="$dir/stderr.$BASHPID" rc
  for _ in 1 2 3; do
    "${run[@]}" "$@" 2>"$err"
    rc=$?
    cat "$err" >&2
    if [ ${#run[@]} -eq 0 ] || [ -s "$err" ] || { [ "$rc" -ne 1 ] && [ "$rc" -ne 66 ]; }; then break; fi
    echo "# Wine did not start ${1##*/} (exit $rc, nothing on stderr): starting it again" >&2
  done
  rm -f "$err"
  return "$rc"
}

# kvctl.exe ends lines with \r\n, as Windows programs do.
kvctl() { run_exe "$kvctl_exe" --socket "$pipe" "$@" | tr -d '\r'; }
start_kvd() {
  # A long --shutdown-timeout: a shutdown must not need it (stop_kvd waits 10 s).
  "${run[@]}" "$kvd_exe" --socket "$pipe" --data "$data" --shutdown-timeout 60 \
    2>>"$dir/kvd.log" &
  disown  # its end (even by kill -9) is checked here, not reported by bash
  for _ in $(seq 150); do
    if [ "$(kvctl ping 2>/dev/null)" = PONG ]; then
      kvd_pid=$(find_kvd)
      [ -n "$kvd_pid" ] && return 0
    fi
    sleep 0.2
  done
  return 1
}

n=0
failed=0
check() {  # NAME COMMAND...: one TAP line
  n=$((n + 1))
  if "${@:2}"; then
    echo "ok $n - $1"
  else
    echo "not ok $n - $1"
    failed=1
    # On stderr too: meson prints a failed test's stderr, not its TAP output.
    echo "not ok $n - $1" >&2
    sed 's/^/# kvd: /' "$dir/kvd.log" 2>/dev/null | tail -n 20 | tee /dev/stderr
  fi
}

writers=4
per_writer=15
expected_list() { seq -s ', ' 1 "$per_writer"; }

concurrent_appends() {
  local pids=()
  for w in $(seq "$writers"); do
    (
      for i in $(seq "$per_writer"); do
        kvctl --key "k$w" --val "$i" || { echo "# writer $w: append k$w $i: exit $?" >&2; exit 1; }
        kvctl append shared "$w:$i" || { echo "# writer $w: append shared $w:$i: exit $?" >&2; exit 1; }
      done
    ) &
    pids+=($!)
  done
  local ok=0
  for p in "${pids[@]}"; do wait "$p" || ok=1; done
  return $ok
}

values_in_order() {
  local got
  for w in $(seq "$writers"); do
    got=$(kvctl --key "k$w")
    [ "$got" = "$(expected_list)" ] || { echo "# k$w: $got" >&2; return 1; }
  done
  # Every writer's values on the shared key, each writer's in its order.
  got=$(kvctl --key shared)
  local shared
  shared=$(sed 's/, /\n/g' <<<"$got")
  [ "$(wc -l <<<"$shared")" -eq $((writers * per_writer)) ] || { echo "# shared: $got" >&2; return 1; }
  for w in $(seq "$writers"); do
    [ "$(grep "^$w:" <<<"$shared" | cut -d: -f2 | tr '\n' ' ')" = "$(seq -s ' ' 1 "$per_writer") " ] ||
      { echo "# shared: $got" >&2; return 1; }
  done
}

text_survives() {
  kvctl --key text --val 'a, "quoted"' && kvctl --key text --val '' &&
    [ "$(kvctl --key text --json)" = '["a, \"quoted\"",""]' ] &&
    [ "$(kvctl --key missing)" = "" ]
}

second_kvd_refused() {
  local out
  out=$(run_exe "$kvd_exe" --socket "$pipe" --data "${data}.other" 2>&1)
  [ $? -eq 1 ] && grep -q "already serving" <<<"$out"
}

second_owner_refused() {
  local out
  out=$(run_exe "$kvd_exe" --socket "${pipe}-other" --data "$data" 2>&1)
  [ $? -eq 1 ] && grep -q "owned by a running kvd" <<<"$out"
}

clean_restart_keeps_data() {
  # An idle client (kvctl import waiting for stdin) must not hold up the
  # shutdown: its pending pipe read is cancelled.
  mkfifo "$dir/stdin"
  kvctl import <"$dir/stdin" >/dev/null 2>&1 &
  local idle=$!
  exec 3>"$dir/stdin"
  for _ in $(seq 50); do
    kvctl stats | grep -q '^connections:2$' && break
    sleep 0.2
  done
  stop_kvd INT
  exec 3>&-
  wait "$idle"
  grep -q "stopped; everything is in" "$dir/kvd.log" || return 1
  [ ! -e "$dir/storage.data.journal" ] || return 1  # folded into storage.data
  grep -q '"k1":\["1","2"' "$dir/storage.data" || return 1
  start_kvd && values_in_order
}

crash_restart_keeps_data() {
  kvctl --key crash --val before || return 1
  stop_kvd KILL  # no fold: the journal must be replayed
  [ -s "$dir/storage.data.journal" ] || return 1
  start_kvd && [ "$(kvctl --key crash)" = before ] && values_in_order
}

unknown_group_refused() {
  local out
  out=$(run_exe "$kvd_exe" --socket "${pipe}-group" --data "${data}.group" \
    --socket-group no-such-group-kvd 2>&1)
  [ $? -eq 1 ] && grep -q "no such group: no-such-group-kvd" <<<"$out"
}

unreachable_is_reported() {
  local out
  out=$(run_exe "$kvctl_exe" --socket '\\.\pipe\kvd-nobody-serves-this' ping 2>&1)
  [ $? -eq 1 ] && grep -q 'kvd-nobody-serves-this' <<<"$out"
}

echo "1..9"
check "kvd.exe serves a named pipe" start_kvd
check "kvctl.exe processes append concurrently; values read back in order" \
  eval 'concurrent_appends && values_in_order'
check "commas, quotes, empty values and missing keys" text_survives
check "a second kvd.exe on the same pipe is refused" second_kvd_refused
check "a second kvd.exe on the same data file is refused (file lock)" second_owner_refused
check "Ctrl+C with an idle client connected: clean shutdown folds the journal; restart keeps data" clean_restart_keeps_data
check "after kill -9 the journal is replayed" crash_restart_keeps_data
check "kvctl.exe names an unreachable pipe" unreachable_is_reported
check "--socket-group with an unknown group is refused" unknown_group_refused
exit "$failed"
