#!/usr/bin/env bash
# The C++ client library as installed (doc/client-library.md): meson install
# into a temporary DESTDIR, then tests/install/client_example.cc built
# against it with pkg-config alone (no other .pc file, no source tree),
# linked to libkvd-client.so and, with -static, to libkvd-client.a. Each
# binary runs against a kvd started here on a socket of its own, then on the
# data file embedded; what they print is checked. Removes its files and
# stops its kvd even on failure.
# Usage: client-library-test.sh SOURCE_DIR BUILD_DIR KVD SANITIZE CXX...
set -euo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
kvd=$3
sanitize=$4
shift 4
cxx=("$@")
if [ "$sanitize" != none ]; then
  # The library then refers to the sanitizer's runtime, which a plain
  # program does not link.
  echo "skipped: a -Db_sanitize=$sanitize build"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvd-client-library.XXXXXX")
kvd_pid=
cleanup() {
  if [ -n "$kvd_pid" ]; then
    kill "$kvd_pid" 2>/dev/null || true
    wait "$kvd_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*"
  exit 1
}

# expect WHAT EXPECTED COMMAND...: runs COMMAND, compares its stdout.
expect() {
  local what=$1 expected=$2
  shift 2
  local got
  got=$("$@") || true
  if [ "$got" != "$expected" ]; then
    printf 'FAILED: %s printed:\n%s\nexpected:\n%s\n' "$what" "$got" "$expected"
    exit 1
  fi
  echo "ok: $what"
}

root="$tmp/root"
meson install -C "$build" --no-rebuild --quiet --destdir "$root" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "meson install"; }
pc=$(find "$root" -name kvd-client.pc)
[ -n "$pc" ] || fail "no kvd-client.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for header in client.h embedded.h backend.h error.h; do
  [ -n "$(find "$root" -path "*/include/kvd/$header")" ] || fail "kvd/$header is not installed"
done

# Only the installed .pc file, its paths inside the DESTDIR.
export PKG_CONFIG_LIBDIR="$libdir/pkgconfig" PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR="$root"
version=$(pkg-config --modversion kvd-client)
project_version=$(meson introspect --projectinfo "$build" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
[ "$version" = "$project_version" ] || fail "kvd-client.pc has version $version, not $project_version"
read -r -a shared_flags <<<"$(pkg-config --cflags --libs kvd-client)"
read -r -a static_flags <<<"$(pkg-config --static --cflags --libs kvd-client)"
echo "pkg-config --cflags --libs kvd-client: ${shared_flags[*]}"
echo "pkg-config --static --cflags --libs kvd-client: ${static_flags[*]}"

example="$src/tests/install/client_example.cc"
warnings=(-Wall -Wextra -Werror)
"${cxx[@]}" "${warnings[@]}" -o "$tmp/shared" "$example" "${shared_flags[@]}" ||
  fail "building against libkvd-client.so"
"${cxx[@]}" "${warnings[@]}" -static -o "$tmp/static" "$example" "${static_flags[@]}" ||
  fail "building against libkvd-client.a"
readelf -d "$tmp/shared" | grep -q 'NEEDED.*\[libkvd-client\.so\.0\]' ||
  fail "the shared build does not load libkvd-client.so.0"
if readelf -d "$tmp/static" 2>/dev/null | grep -q NEEDED; then
  fail "the static build loads shared libraries"
fi
shared=(env LD_LIBRARY_PATH="$libdir" "$tmp/shared")

socket="$tmp/kvd.sock"
data="$tmp/storage.data"
"$kvd" --socket "$socket" --data "$data" 2>"$tmp/kvd.log" &
kvd_pid=$!
for _ in $(seq 100); do
  [ -S "$socket" ] && break
  kill -0 "$kvd_pid" 2>/dev/null || { cat "$tmp/kvd.log"; fail "kvd did not start"; }
  sleep 0.1
done
[ -S "$socket" ] || fail "kvd made no socket in 10 s"

expect "shared, over the socket" "hello, world" \
  "${shared[@]}" socket "$socket" greeting "hello, world"
expect "static, over the socket" $'hello, world\nÿ "quoted"' \
  "$tmp/static" socket "$socket" greeting 'ÿ "quoted"'
expect "shared, an unreachable daemon" \
  "error unreachable: cannot connect to kvd at $tmp/none.sock: No such file or directory" \
  "${shared[@]}" socket "$tmp/none.sock" greeting x

kill -TERM "$kvd_pid"
wait "$kvd_pid" || { cat "$tmp/kvd.log"; fail "kvd did not stop cleanly"; }
kvd_pid=

expect "static, embedded" $'hello, world\nÿ "quoted"\nthird' \
  "$tmp/static" data "$data" greeting third
expect "shared, embedded" $'hello, world\nÿ "quoted"\nthird\nfourth' \
  "${shared[@]}" data "$data" greeting fourth
grep -q fourth "$data" || fail "Embedded::Close did not fold the journal into $data"
echo "passed"
