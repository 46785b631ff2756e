#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages mmm needs to build, test, fuzz and
# package (the `package` stage of scripts/test.sh: dpkg-dev, file, help2man,
# lintian, systemd for systemd-analyze and systemd-sysusers, adduser), and
# the Python package (python/: python3-dev, pybind11-dev, python3-numpy,
# python3-pytest, all for the system interpreter /usr/bin/python3), and
# python3-prometheus-client, whose parser checks `mmmctl metrics`.
# Idempotent and silent when everything is already installed.
#
# Usage: scripts/install-deps.sh [--bench]
#   --bench  also what scripts/bench.sh compares with: redis-server and
#            redis-tools (the Redis baseline of the throughput rows)
# Runs apt-get as root, or through sudo when available; otherwise prints the
# command to run and exits 1.
set -euo pipefail

packages=(
  cmake make pkg-config
  g++ clang clang-tidy libclang-rt-14-dev
  libboost1.81-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  dpkg-dev file help2man lintian systemd adduser passwd
  python3 python3-dev pybind11-dev python3-numpy python3-pytest
  python3-prometheus-client
)

for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(redis-server redis-tools) ;;
    *) echo "install-deps: unknown argument $arg" >&2; exit 2 ;;
  esac
done

installed() {
  # `dpkg -s` also succeeds for removed packages that left their config files.
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: not a Debian-based system; install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "install-deps: installing ${missing[*]}"
if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages and no root rights; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

still=()
for p in "${missing[@]}"; do
  installed "$p" || still+=("$p")
done
if ((${#still[@]} != 0)); then
  echo "install-deps: could not install: ${still[*]}" >&2
  exit 1
fi
