#!/usr/bin/env bash
# Boots a real systemd in a container (systemd-nspawn over this machine's own
# root, read-only, with a throw-away /etc and /var: --volatile=yes), with kvd
# installed into it by `meson install`, and runs boot-inner.sh there as the
# only job (systemd.run=). nspawn exits with the script's exit code.
# Usage: boot-test.sh BUILD_DIR (as root; skipped without systemd-nspawn)
set -euo pipefail
build=$(realpath "$1")
here=$(realpath "$(dirname "$0")")
if [ "$(id -u)" -ne 0 ] || ! command -v systemd-nspawn >/dev/null; then
  echo "needs root and systemd-nspawn (package systemd-container)"; exit 77
fi

work=$(mktemp -d /tmp/kvd-boot.XXXXXX)
machine="kvdtest-$$"
trap 'rm -rf "$work"' EXIT

# Install as a package would, then bind the installed prefix where it belongs.
meson install -C "$build" --no-rebuild --destdir "$work/stage" >"$work/install.log"
option() {
  meson introspect --buildoptions "$build" |
    python3 -c "import json, sys; print([o['value'] for o in json.load(sys.stdin) if o['name'] == '$1'][0])"
}
prefix=$(option prefix)
case "$prefix" in
  /usr) echo "cannot bind prefix /usr over the host's; configure with the default prefix"; exit 77 ;;
esac
unitdir=$(sed -n 's|^Installing .*kvd\.socket to '"$work"'/stage||p' "$work/install.log")
sysusers=$(sed -n 's|^Installing .*kvd\.sysusers to '"$work"'/stage||p' "$work/install.log")
cat >"$work/paths.sh" <<PATHS
prefix=$prefix
unitdir=$unitdir
sysusersdir=$sysusers
PATHS
cp "$here/boot-inner.sh" "$work/"
# A setting in the installed sysconfig file, to see it reach kvd; settings
# in the installed kvd.conf, to see them apply unless KVD_OPTS says otherwise.
sed -i 's|^KVD_OPTS=.*|KVD_OPTS="--max-connections 2000 --max-value-size 100"|' \
  "$work/stage$prefix/etc/sysconfig/kvd"
sed -i 's|^# max-key-size = .*|max-key-size = 8|; s|^# max-value-size = .*|max-value-size = 10|' \
  "$work/stage$prefix/etc/kvd/kvd.conf"

# On timeout, SIGTERM makes nspawn power the container off; if even that
# hangs, SIGKILL takes the container with it (nspawn's children die with it).
rc=0
timeout -k 10 180 systemd-nspawn --quiet --register=no --keep-unit -D / --volatile=yes \
  -M "$machine" --bind-ro="$work/stage$prefix:$prefix" --bind-ro="$work:/kvdtest" \
  -b -- systemd.firstboot=off 'systemd.run="/kvdtest/boot-inner.sh"' \
  systemd.run_success_action=exit systemd.run_failure_action=exit \
  >"$work/console.log" 2>&1 || rc=$?
# The script's own lines (and what it dumps on failure).
grep -a 'boot-inner.sh\[' "$work/console.log" | sed 's/^\[[ 0-9.]*\] //' || true
if [ "$rc" -ne 0 ]; then
  echo "--- systemd-nspawn exited with $rc; console:"
  grep -av 'boot-inner.sh\[' "$work/console.log" | tail -n 30
fi
if [ -e "/run/systemd/nspawn/propagate/$machine" ]; then
  echo "the container left /run/systemd/nspawn/propagate/$machine behind"; rc=1
fi
exit "$rc"
