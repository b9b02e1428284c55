#!/usr/bin/env bash
# Installs what is missing, builds kvd and runs every test suite: the normal
# build, then again under ASan+UBSan and under TSan, and a build with GCC 11
# (CentOS Stream 9's compiler) when it is installed, and a Windows build
# (mingw-w64, tests under Wine) when those are installed (the release build
# also runs the service suite: systemd units, a systemd boot, the RPM, and the
# Python client's pytest suite); then each libFuzzer
# target for FUZZ_SECONDS (default 60, scripts/fuzz.sh). Ends with one line
# "N passed, N failed" counting test cases over all builds, and each fuzz
# target, each benchmark script's smoke run and the failover test of the
# high-availability set-up (deploy/ha) as one test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

builds=("build" "build-asan" "build-tsan")
setup_args=(
  ""
  "-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug"
  "-Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug"
)
if command -v g++-11 >/dev/null; then
  builds+=("build-gcc11")
  setup_args+=("--native-file=scripts/gcc11.ini")
fi

# Sanitizer reports fail the test that triggered them.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"

status=0
for i in "${!builds[@]}"; do
  dir="${builds[$i]}"
  echo "=== ${dir} ==="
  if [ ! -f "${dir}/build.ninja" ]; then
    # shellcheck disable=SC2086  # the arguments are meant to split
    meson setup "${dir}" ${setup_args[$i]}
  fi
  meson compile -C "${dir}"
  # The service suite (unit files, a systemd boot, the RPM) tests packaging,
  # not code: once, on the release build.
  suites=()
  if [ "${dir}" != build ]; then suites=(--no-suite service); fi
  # The timeouts in tests/meson.build are for optimized builds; the
  # sanitizers' debug builds run the same tests several times slower.
  timeouts=()
  case "${dir}" in build-asan | build-tsan) timeouts=(--timeout-multiplier 2) ;; esac
  meson test -C "${dir}" --print-errorlogs --num-processes 2 "${suites[@]}" "${timeouts[@]}" ||
    status=1
  if [ "${dir}" = build ]; then
    # The Python client's suite (clients/python), against this build's kvd
    # and kvctl; counted from its JUnit report.
    echo "=== Python client (clients/python/tests) ==="
    pytest=(pytest-3)
    command -v pytest-3 >/dev/null || pytest=(python3 -m pytest)
    rm -f build/python-tests.xml
    KVD_BIN="$PWD/build/daemon/kvd" KVCTL_BIN="$PWD/build/client/kvctl" \
      "${pytest[@]}" -p no:cacheprovider -q clients/python/tests \
      --junitxml=build/python-tests.xml || status=1
  fi
done

# Windows: everything cross-built with mingw-w64, its tests run under Wine in
# a fresh prefix of their own, removed afterwards (doc/windows.md).
if command -v x86_64-w64-mingw32-g++-posix >/dev/null && command -v wine >/dev/null; then
  echo "=== build-mingw (Windows, tests under Wine) ==="
  builds+=("build-mingw")
  wine_prefix=$(mktemp -d "${TMPDIR:-/tmp}/kvd-wine.XXXXXX")
  export WINEDEBUG=-all
  # wineserver makes its socket's directory (wine-XXXXXX) in TMPDIR: inside
  # the prefix, it goes when the prefix does. Also for meson setup, whose
  # sanity check runs a test program under Wine.
  mkdir "$wine_prefix/tmp"
  wine_env=(env WINEPREFIX="$wine_prefix" TMPDIR="$wine_prefix/tmp")
  if [ ! -f build-mingw/build.ninja ]; then
    "${wine_env[@]}" meson setup build-mingw --cross-file scripts/mingw-w64.ini
  fi
  meson compile -C build-mingw
  "${wine_env[@]}" wineboot --init >/dev/null 2>&1 || true
  # The boot's own processes (services, its registry updates) still run for
  # seconds after wineboot returns: the tests start once they are done.
  "${wine_env[@]}" timeout 120 wineserver -w || true
  "${wine_env[@]}" meson test -C build-mingw --print-errorlogs --num-processes 2 || status=1
  "${wine_env[@]}" wineserver -k || true  # this prefix's wineserver only
  rm -rf "$wine_prefix"
fi

echo "=== fuzzing ==="
scripts/fuzz.sh | tee fuzz-results.txt || status=1
fuzz_passed=$(grep -c ': passed,' fuzz-results.txt || true)
fuzz_failed=$(grep -c ': failed,' fuzz-results.txt || true)
if [ "$status" -ne 0 ] && [ "$fuzz_passed" -eq 0 ] && [ "$fuzz_failed" -eq 0 ]; then fuzz_failed=1; fi

# The benchmark scripts, in their seconds-long smoke mode, to keep them
# working (figures come from full runs by hand, never from tests).
echo "=== benchmark smoke runs ==="
extra_passed=$fuzz_passed
extra_failed=$fuzz_failed
for script in run ab durability compare-redis ceiling cli-latency load-memory http cluster soak; do
  if BENCH_SMOKE=1 "bench/${script}.sh" build >"build/bench-${script}.log" 2>&1; then
    echo "bench ${script}: passed"
    extra_passed=$((extra_passed + 1))
  else
    echo "bench ${script}: failed"
    tail -n 30 "build/bench-${script}.log"
    extra_failed=$((extra_failed + 1))
    status=1
  fi
done

# The high-availability set-up of deploy/ha: real kvd, HAProxy and keepalived
# in network namespaces of its own, with failures injected (about 30 s).
# Runs a deploy/ha test script as one counted test, its output shown and kept
# in build/<script>.log.
ha_test() {
  local name=$1 script=$2
  echo "=== ${name} (deploy/ha/${script}.sh) ==="
  if "deploy/ha/${script}.sh" build 2>&1 | tee "build/${script}.log"; then
    echo "${name}: passed"
    extra_passed=$((extra_passed + 1))
  else
    echo "${name}: failed"
    extra_failed=$((extra_failed + 1))
    status=1
  fi
}
ha_test "high availability" ha-test

# The replicated cluster of deploy/ha: three kvd nodes behind the same two load
# balancers, restarted one by one while clients write (about 30 s).
ha_test "high availability (cluster)" cluster-test

python3 scripts/count-tests.py --extra "${extra_passed}" "${extra_failed}" \
  --junit build/python-tests.xml "${builds[@]}"
exit "${status}"
