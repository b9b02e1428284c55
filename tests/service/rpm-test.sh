#!/usr/bin/env bash
# Builds the RPM from dist/kvd.spec as CentOS would (rpmbuild -bb from a
# tarball of the source tree, meson in rpm's build root; --without tests to
# keep it quick) and checks the packages list the files the units, the
# README and doc/client-library.md expect (kvd, kvd-devel). Where rpm lacks the systemd and meson macros (Debian),
# tests/service/rpm-macros stands in for them.
# Usage: rpm-test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
if ! command -v rpmbuild >/dev/null; then echo "rpmbuild is not installed (package rpm)"; exit 77; fi

version=$(sed -n 's/^Version: *//p' "$src/dist/kvd.spec")
project_version=$(meson introspect --projectinfo "$build" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
if [ "$version" != "$project_version" ]; then
  echo "dist/kvd.spec has Version $version, meson.build $project_version"; exit 1
fi

# A fixed place (inside the build directory), so ccache recognizes the
# compilations of the previous run.
top="$build/rpm-test"
rm -rf "$top"
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SOURCES"
# The source tree as it is (tracked and new files, uncommitted changes too).
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - --transform "s|^|kvd-$version/|" \
    -czf "$top/SOURCES/kvd-$version.tar.gz")
cp "$src/systemd/kvd.sysusers" "$top/SOURCES/"

load=()
if [ "$(rpm --eval '%{?systemd_post:1}%{?meson:1}')" != 11 ]; then
  load=(--load="$src/tests/service/rpm-macros")
fi
# --nodeps: BuildRequires name CentOS packages, which Debian's rpm database does not list.
if ! rpmbuild -bb --nodeps --without tests "${load[@]}" --define "_topdir $top" \
    "$src/dist/kvd.spec" >"$top/rpmbuild.log" 2>&1; then
  tail -n 40 "$top/rpmbuild.log"; exit 1
fi
rpm_file=$(find "$top/RPMS" -name "kvd-$version-*.rpm")
echo "built $(basename "$rpm_file")"
listed=$(rpm -qlp "$rpm_file")
echo "$listed"
# Where CentOS Stream 9 puts them (man pages: compressed there, not on Debian).
expected=(
  /usr/bin/kvd /usr/bin/kvctl
  /usr/lib/systemd/system/kvd.service /usr/lib/systemd/system/kvd.socket
  /usr/lib/sysusers.d/kvd.conf /etc/sysconfig/kvd /etc/kvd/kvd.conf
  /usr/share/bash-completion/completions/kvctl /usr/share/bash-completion/completions/kvd
  '/usr/share/man/man8/kvd\.8(\.gz)?' '/usr/share/man/man1/kvctl\.1(\.gz)?'
)
status=0
for file in "${expected[@]}"; do
  grep -Eqx -- "$file" <<<"$listed" || { echo "missing from the package: $file"; status=1; }
done
# The C++ client library: its shared object in kvd, the rest in kvd-devel.
grep -Eqx -- '/usr/lib(64)?/libkvd-client\.so\.0(\.[0-9.]+)?' <<<"$listed" ||
  { echo "missing from the package: libkvd-client.so.0"; status=1; }
if grep -Eq -- '/include/|\.pc$|\.a$|libkvd-client\.so$' <<<"$listed"; then
  echo "development files in the main package"; status=1
fi
devel_file=$(find "$top/RPMS" -name "kvd-devel-$version-*.rpm")
if [ -z "$devel_file" ]; then
  echo "no kvd-devel package"; status=1
else
  echo "built $(basename "$devel_file")"
  devel_listed=$(rpm -qlp "$devel_file")
  echo "$devel_listed"
  for file in /usr/include/kvd/client.h /usr/include/kvd/embedded.h \
      '/usr/lib(64)?/pkgconfig/kvd-client\.pc' '/usr/lib(64)?/libkvd-client\.so' \
      '/usr/lib(64)?/libkvd-client\.a'; do
    grep -Eqx -- "$file" <<<"$devel_listed" || { echo "missing from kvd-devel: $file"; status=1; }
  done
fi
# The installed unit runs the packaged binary and reads the packaged kvd.conf and sysconfig.
unit=usr/lib/systemd/system/kvd.service
rpm2cpio "$rpm_file" | (cd "$top" && cpio -idm --quiet "./$unit")
# shellcheck disable=SC2016  # a literal $KVD_OPTS
grep -qx 'ExecStart=/usr/bin/kvd --config /etc/kvd/kvd.conf $KVD_OPTS' "$top/$unit" || { echo "ExecStart is wrong"; status=1; }
grep -qx 'EnvironmentFile=-/etc/sysconfig/kvd' "$top/$unit" || { echo "EnvironmentFile is wrong"; status=1; }
scripts=$(rpm -qp --scripts "$rpm_file")
for macro in sysusers_create_compat systemd_post systemd_preun systemd_postun_with_restart; do
  if [ ${#load[@]} -gt 0 ]; then
    grep -q "$macro" <<<"$scripts" || { echo "no $macro in the scriptlets"; status=1; }
  fi
done
exit "$status"
