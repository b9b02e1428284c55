#!/usr/bin/env bash
# Installs what is missing, builds kvd and runs it in the foreground on the
# defaults (data <temp dir>/storage.data, socket $XDG_RUNTIME_DIR/kvd.sock
# or <temp dir>/kvd.sock). Stop it with Ctrl-C. Extra arguments go to kvd.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build
[ -f build/build.ninja ] || meson setup build
meson compile -C build
exec build/daemon/kvd "$@"
