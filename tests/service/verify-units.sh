#!/usr/bin/env bash
# The unit files as meson configured them: `systemd-analyze verify` finds
# nothing to say (it exits 0 even on unknown keys, so any output fails), and
# `systemd-analyze security` rates kvd.service's exposure at 2.0 or less.
# Usage: verify-units.sh KVD_SERVICE KVD_SOCKET KVD_BINARY
set -euo pipefail
service=$(realpath "$1") socket=$(realpath "$2") kvd=$(realpath "$3")
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze is not installed"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify checks that ExecStart= exists: point it at the built binary.
sed "s|^ExecStart=[^ ]*|ExecStart=${kvd}|" "$service" >"$work/kvd.service"
cp "$socket" "$work/kvd.socket"
cd "$work"
out=$(systemd-analyze verify --man=no ./kvd.service ./kvd.socket 2>&1) || true
if [ -n "$out" ]; then
  echo "systemd-analyze verify complains:"; echo "$out"; exit 1
fi
echo "systemd-analyze verify: no complaints"
security=$(systemd-analyze security --offline=yes ./kvd.service 2>&1) || true
score=$(sed -n 's/.*Overall exposure level for kvd.service: \([0-9.]*\).*/\1/p' <<<"$security")
echo "systemd-analyze security --offline=yes kvd.service: exposure ${score:-unknown}"
if [ -z "$score" ] || ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
  echo "$security"; exit 1
fi
