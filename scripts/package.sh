#!/usr/bin/env bash
# Builds the Debian packages of mmm with CPack (cmake/mmmCPack.cmake) into
# BUILD_DIR/packages/:
#   mmm_<version>_<arch>.deb         mmmd, mmmctl, systemd units, sysusers.d,
#                                    /etc/default/mmmd, man pages, completion, docs
#   libmmm-dev_<version>_<arch>.deb  headers, libmmm.a, CMake package, mmm.pc
#   python3-mmm_<version>_<arch>.deb the Python package mmm in /usr/lib/python3/dist-packages
#                                    (when its build packages are there: python3-dev,
#                                    pybind11-dev, python3-numpy)
#
# The build is a Debian one: prefix /usr, the flags of dpkg-buildflags
# (hardening: fortify, stack protector, relro, bindnow; -g dropped), man
# pages required,
# SOURCE_DATE_EPOCH from packaging/debian/changelog (reproducible time
# stamps). The version is the changelog's; its upstream part must be the
# project's version (add an entry with `dch -v X.Y.Z-1` when it changes).
#
# Usage: scripts/package.sh [BUILD_DIR]   (default build-pkg)
# Needs cmake, g++, dpkg-dev, help2man, file (scripts/install-deps.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${1:-build-pkg}"
jobs=2

changelog=packaging/debian/changelog
project_version="$(sed -n 's/^project(mmm VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
deb_version="$(dpkg-parsechangelog -l "$changelog" -S Version)"
if [[ ${deb_version%-*} != "$project_version" ]]; then
  echo "package.sh: $changelog is at $deb_version but the project is $project_version;" >&2
  echo "  add an entry first: dch -c $changelog -v $project_version-1" >&2
  exit 1
fi
SOURCE_DATE_EPOCH="$(dpkg-parsechangelog -l "$changelog" -S Timestamp)"
export SOURCE_DATE_EPOCH

# Debian's compiler and linker flags. CMake ignores CPPFLAGS: fold them in.
# Without -g: the binaries are stripped and no -dbgsym package is made, so
# debug information would only cost build time.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
# shellcheck disable=SC2153 # CPPFLAGS and CXXFLAGS come from the eval
cxxflags="$CPPFLAGS $CXXFLAGS"
cxxflags="${cxxflags//-g /}"

cmake -S . -B "$build" \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" \
  -DCMAKE_SHARED_LINKER_FLAGS="$LDFLAGS" -DCMAKE_MODULE_LINKER_FLAGS="$LDFLAGS" \
  -DBUILD_SHARED_LIBS=OFF \
  -DMMM_BUILD_TESTS=OFF -DMMM_BUILD_BENCH=OFF -DMMM_BUILD_EXAMPLES=OFF -DMMM_BUILD_FUZZ=OFF \
  -DMMM_SANITIZE= -DMMM_WERROR=OFF -DMMM_BUILD_MAN_PAGES=ON
cmake --build "$build" -j"$jobs"
rm -rf "$build/packages"
(cd "$build" && cpack -G DEB)

shopt -s nullglob
debs=("$build"/packages/*.deb)
((${#debs[@]} > 0)) || {
  echo "package.sh: cpack made no package in $build/packages" >&2
  exit 1
}
printf 'package.sh: built %s\n' "${debs[@]}"
