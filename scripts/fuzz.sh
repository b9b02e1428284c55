#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan+UBSan, leak
# detection on) in build-fuzz/ and runs each for FUZZ_SECONDS (default 60),
# starting from its committed seed corpus (fuzz/corpus/NAME, never modified).
# Prints one line per target, "fuzz NAME: passed|failed, N executions", and
# exits non-zero if any target found a crash, a leak or a sanitizer report;
# the reproducer is kept in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
clang=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$clang" ]; then
  echo "fuzz.sh: clang++ is needed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CXX="$clang" meson setup build-fuzz -Dfuzzing=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false -Dcpp_args=-fsanitize=fuzzer-no-link
fi
targets=(request_fuzzer snapshot_fuzzer journal_fuzzer)
ninja -C build-fuzz "${targets[@]/#/fuzz/}" >/dev/null

mkdir -p build-fuzz/crashes
status=0
for target in "${targets[@]}"; do
  name=${target%_fuzzer}
  work=$(mktemp -d)
  log="build-fuzz/${name}.log"
  if UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=fuzz/ubsan.supp" \
     "build-fuzz/fuzz/${target}" "$work" "fuzz/corpus/${name}" \
       -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="build-fuzz/crashes/${name}-" >"$log" 2>&1; then
    result=passed
  else
    result=failed
    status=1
    tail -n 40 "$log" >&2
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  echo "fuzz ${name}: ${result}, ${runs:-?} executions in ${seconds} s"
  rm -rf "$work"
done
exit "$status"
