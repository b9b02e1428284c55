#!/usr/bin/env bash
# Installs what kvd needs, on Debian 12 or CentOS Stream 9, as root:
#   install-deps.sh build   what building and running kvd needs (scripts/run.sh)
#   install-deps.sh test    that and the test-only packages (scripts/test.sh);
#                           also without an argument
# Installs only what is missing; safe to run again.
set -euo pipefail

what=${1:-test}
case "$what" in
  build | test) ;;
  *)
    echo "usage: install-deps.sh [build|test]" >&2
    exit 2
    ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it installs packages)" >&2
  exit 1
fi

. /etc/os-release
case " ${ID} ${ID_LIKE:-} " in
  *" debian "*)
    # Building and running kvd (meson setup builds the GoogleTest suites by
    # default, so GoogleTest is here too).
    packages=(meson ninja-build g++ pkg-config libboost-dev rapidjson-dev libcli11-dev
              libgtest-dev libgmock-dev python3
              libraft-dev libuv1-dev liblz4-dev    # cluster mode (doc/cluster.md)
              libsystemd-dev)                      # sd_notify, socket activation
    # Test-only packages: scripts/test.sh's suites, benchmarks and fuzzing.
    test_packages=(ccache socat
              clang libclang-rt-14-dev util-linux  # clang + its runtime: libFuzzer
              systemd systemd-container rpm cpio   # the service suite
              curl chromium wrk nginx-light        # HTTP API tests and benchmark
              python3-pytest python3-pip           # the Python client's tests (clients/python)
              prometheus python3-prometheus-client  # GET /metrics checked (promtool, the parser)
              etcd-server                          # bench/cluster.sh compares with etcd
              # deploy/ha/ha-test.sh: the load balancers, netns tools, its client
              # and the Compose file's checks (docker-compose validates, no engine)
              haproxy keepalived iproute2 python3-yaml docker-compose)
    # Extra toolchains for the CI builds: GCC 11 is CentOS Stream 9's compiler;
    # mingw-w64 cross-builds for Windows, whose tests run under Wine.
    if [ "${KVD_CI_TOOLCHAINS:-0}" = 1 ]; then
      test_packages+=(g++-11 g++-mingw-w64-x86-64-posix wine wine64 procps)  # procps: pgrep
    fi
    if [ "$what" = test ]; then packages+=("${test_packages[@]}"); fi
    missing=()
    for p in "${packages[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get -o DPkg::Lock::Timeout=600 update -qq
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
      # The prometheus package enables and starts a Prometheus server; the
      # tests only run its promtool, so one installed here is stopped again.
      if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
        systemctl disable --now prometheus >/dev/null 2>&1 || true
      fi
    fi
    ;;
  *" rhel "* | *" centos "* | *" fedora "*)
    # RapidJSON, CLI11 and GoogleTest come from EPEL; EPEL needs CRB.
    if ! rpm -q epel-release >/dev/null 2>&1; then
      dnf install -y -q epel-release
    fi
    dnf install -y -q dnf-plugins-core
    dnf config-manager --set-enabled crb
    # Building and running kvd (meson setup builds the GoogleTest suites by
    # default, so GoogleTest is here too).
    packages=(meson ninja-build gcc-c++ pkgconf-pkg-config boost-devel rapidjson-devel
              cli11-devel gtest-devel gmock-devel python3
              raft-devel libuv-devel lz4-devel  # cluster mode (doc/cluster.md)
              glibc-static libstdc++-static     # a static kvctl starts faster
              systemd-devel)                    # sd_notify, socket activation
    # Test-only packages: scripts/test.sh's suites, benchmarks and fuzzing.
    test_packages=(ccache socat clang compiler-rt util-linux
              systemd-container systemd-rpm-macros rpm-build cpio  # the service suite
              haproxy keepalived iproute python3-pyyaml)  # deploy/ha/ha-test.sh
    if [ "$what" = test ]; then packages+=("${test_packages[@]}"); fi
    missing=()
    for p in "${packages[@]}"; do rpm -q "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then dnf install -y -q "${missing[@]}"; fi
    if [ "$what" = build ]; then exit 0; fi
    # The rest is test-only too.
    # HTTP API: curl for the tests; chromium (EPEL; the browser test skips
    # without it), wrk and nginx (bench/http.sh) as far as the repositories
    # have them.
    command -v curl >/dev/null || dnf install -y -q curl  # curl-minimal is enough
    for p in chromium wrk nginx; do
      rpm -q "$p" >/dev/null 2>&1 || dnf install -y -q "$p" ||
        echo "install-deps.sh: $p is not available; skipping it" >&2
    done
    # The Python client's tests (clients/python): pytest, and pip with
    # setuptools and wheel for its offline install test, which skips without them.
    for p in python3-pytest python3-pip python3-setuptools python3-wheel; do
      rpm -q "$p" >/dev/null 2>&1 || dnf install -y -q "$p" ||
        echo "install-deps.sh: $p is not available; skipping it" >&2
    done
    # GET /metrics checked by promtool (EPEL's golang-github-prometheus ships
    # it) and prometheus_client's parser; that test skips without them.
    command -v promtool >/dev/null || dnf install -y -q golang-github-prometheus ||
      echo "install-deps.sh: promtool (golang-github-prometheus) is not available; skipping it" >&2
    rpm -q python3-prometheus_client >/dev/null 2>&1 || dnf install -y -q python3-prometheus_client ||
      echo "install-deps.sh: python3-prometheus_client is not available; skipping it" >&2
    ;;
  *)
    echo "install-deps.sh: unsupported system '${ID}'; install meson, a C++20 compiler," \
         "Boost, RapidJSON, CLI11 and GoogleTest yourself" >&2
    exit 1
    ;;
esac
