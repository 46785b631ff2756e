#!/usr/bin/env bash
# clang-tidy with the checks of .clang-tidy over the product code: every .cpp
# file in src/, daemon/ and tools/, and the headers they include from
# include/mmm/, src/, daemon/ and tools/. Every finding is an error.
#
# Usage: scripts/tidy.sh [BUILD_DIR]
#   BUILD_DIR  a configured build directory whose compile_commands.json says how
#              each file is compiled (default: build/; CMakeLists.txt always
#              writes it)
# Exit status: 0 when clang-tidy found nothing, 1 when it found something,
# 2 when it cannot run. Needs Debian's clang-tidy (scripts/install-deps.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
if [[ ! -f $build/compile_commands.json ]]; then
  echo "tidy.sh: $build/compile_commands.json is missing: configure $build first" \
    "(cmake -S $root -B $build)" >&2
  exit 2
fi
runner="$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)"
if [[ -z $runner ]]; then
  echo "tidy.sh: run-clang-tidy not found (Debian package clang-tidy;" \
    "scripts/install-deps.sh installs it)" >&2
  exit 2
fi

# The file argument is a regular expression over the paths in
# compile_commands.json; the root's own characters are matched literally.
root_re="$(printf '%s' "$root" | sed 's/[][\.*^$+?(){}|]/\\&/g')"
"$runner" -p "$build" -j2 -quiet "^$root_re/(src|daemon|tools)/[^/]+\\.cpp\$"
