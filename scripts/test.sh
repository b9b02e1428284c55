#!/usr/bin/env bash
# Installs what is missing, builds kvd and runs every test suite: the normal
# build, then again under ASan+UBSan and under TSan, and a build with GCC 11
# (CentOS Stream 9's compiler) when it is installed. Ends with one line
# "N passed, N failed" counting individual test cases over all builds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
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
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

status=0
for i in "${!builds[@]}"; do
  dir="${builds[$i]}"
  echo "=== ${dir} ==="
  if [ ! -f "${dir}/build.ninja" ]; then
    # shellcheck disable=SC2086  # the arguments are meant to split
    meson setup "${dir}" ${setup_args[$i]}
  fi
  meson compile -C "${dir}"
  meson test -C "${dir}" --print-errorlogs --num-processes 2 || status=1
done

python3 scripts/count-tests.py "${builds[@]}"
exit "${status}"
