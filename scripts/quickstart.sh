#!/usr/bin/env bash
# mmm in one command: installs the build dependencies, builds a Release tree in
# build/, starts a private mmmd, runs every example against it (simple; writer
# and reader as two processes, with `mmmctl list` while their chunk exists;
# counter; particles, a chunk that describes its fields, shown by `mmmctl
# dump`; heap, a map of strings two processes share in a heap chunk; a C++
# writer and a Python reader, examples/python/), then stops mmmd
# and removes everything it created.
#
# Usage: scripts/quickstart.sh
# Exit status: 0 when every step succeeded; otherwise non-zero, with the step
# that failed and the tail of mmmd's log on stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }
die() {
  echo "quickstart: FAILED: $*" >&2
  exit 1
}

# Polls `"$@"` every 0.1 s for up to $1 seconds; returns 1 on timeout.
wait_until() {
  local seconds=$1
  shift
  local tries=$((seconds * 10))
  while ((tries-- > 0)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

step "Checking build dependencies"
scripts/install-deps.sh

step "Building (Release) into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMMM_BUILD_TESTS=OFF -DMMM_BUILD_BENCH=OFF \
  -DMMM_BUILD_EXAMPLES=ON -DMMM_SANITIZE=
cmake --build build -j2

mmmd=build/daemon/mmmd
mmmctl=build/tools/mmmctl
examples=build/examples
for exe in "$mmmd" "$mmmctl" "$examples"/mmm_example_{simple,writer,reader,counter,particles,heap,py_writer}; do
  [[ -x $exe ]] || die "$exe was not built"
done

runtime_dir="$(mktemp -d "${TMPDIR:-/tmp}/mmm-quickstart.XXXXXX")"
log="$(mktemp "${TMPDIR:-/tmp}/mmm-quickstart-log.XXXXXX")"
export MMM_RUNTIME_DIR="$runtime_dir"
mmmd_pid=""
writer_pid=""
name_space=""
shm_before="$(cd /dev/shm && ls -1 2>/dev/null | grep '^mmm\.' || true)"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $writer_pid ]]; then
    kill -TERM "$writer_pid" 2>/dev/null || true
    wait "$writer_pid" 2>/dev/null || true
  fi
  if [[ -n $mmmd_pid ]]; then
    kill -TERM "$mmmd_pid" 2>/dev/null || true
    wait "$mmmd_pid" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -s $log ]]; then
    echo "--- last lines of mmmd's log ---" >&2
    tail -n 30 "$log" >&2 || true
  fi
  # What a failed run left behind: this daemon's segment directory (mmmd
  # removes it itself when it stops without chunks), or, when its namespace is
  # unknown, segment directories that appeared during this run.
  local leftovers=()
  if [[ -n $name_space ]]; then
    [[ -e /dev/shm/mmm.$name_space ]] && leftovers=("/dev/shm/mmm.$name_space")
  else
    local seg
    while read -r seg; do
      [[ -n $seg ]] && leftovers+=("/dev/shm/$seg")
    done < <(comm -13 <(sort <<<"$shm_before") <(cd /dev/shm && ls -1 2>/dev/null | grep '^mmm\.' | sort || true))
  fi
  if ((${#leftovers[@]} != 0)); then
    echo "quickstart: removing what this run left in /dev/shm: ${leftovers[*]}" >&2
    rm -rf -- "${leftovers[@]}"
  fi
  rm -rf -- "$runtime_dir" "$log"
  if ((rc == 0)); then
    printf '\n==> quickstart: all examples ran; mmmd stopped and cleaned up\n'
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "Starting mmmd with runtime directory $runtime_dir"
"$mmmd" --foreground --runtime-dir "$runtime_dir" >"$log" 2>&1 &
mmmd_pid=$!
for ((i = 0; i < 100; i++)); do
  [[ -S $runtime_dir/mmmd.sock ]] && break
  kill -0 "$mmmd_pid" 2>/dev/null || die "mmmd exited at startup (see its log below)"
  sleep 0.1
done
[[ -S $runtime_dir/mmmd.sock ]] || die "mmmd's socket $runtime_dir/mmmd.sock did not appear within 10 s"
echo "mmmd is running (pid $mmmd_pid)"
stats_json="$("$mmmctl" stats --json)" || die "mmmctl stats failed"
name_space="$(sed -n 's/.*"name_space": *"\([^"]*\)".*/\1/p' <<<"$stats_json" | head -n 1)"
[[ -n $name_space ]] || echo "quickstart: warning: no name_space in mmmctl stats --json" >&2

step "Example 1: simple (create, write, read, pointer, remove)"
"$examples/mmm_example_simple" quickstart-coords || die "mmm_example_simple"

step "Example 2: a writer and a reader in two processes"
chunk=quickstart-shared
"$examples/mmm_example_writer" "$chunk" 16 30 &
writer_pid=$!
wait_until 10 "$mmmctl" info "$chunk" || die "the writer's chunk '$chunk' did not appear within 10 s"
echo "--- mmmctl list, while the writer waits for the reader ---"
"$mmmctl" list || die "mmmctl list"
echo "---"
"$examples/mmm_example_reader" "$chunk" 10 || die "mmm_example_reader"
pid=$writer_pid
writer_pid=""
wait "$pid" || die "mmm_example_writer"
if "$mmmctl" info "$chunk" >/dev/null 2>&1; then die "the writer did not delete '$chunk'"; fi

step "Example 3: a counter shared by 4 processes (std::atomic_ref)"
"$examples/mmm_example_counter" quickstart-counter 4 100000 || die "mmm_example_counter"

step "Example 4: a chunk that describes its fields (particles)"
"$examples/mmm_example_particles" quickstart-particles --keep || die "mmm_example_particles"
echo "--- mmmctl dump: elements by field ---"
"$mmmctl" dump quickstart-particles || die "mmmctl dump"
echo "--- mmmctl dump --format csv ---"
"$mmmctl" dump quickstart-particles --format csv || die "mmmctl dump --format csv"
"$mmmctl" delete quickstart-particles || die "mmmctl delete"

step "Example 5: two processes share a map of strings (a heap chunk)"
"$examples/mmm_example_heap" quickstart-heap || die "mmm_example_heap"

step "Example 6: a C++ writer and a Python reader (numpy on the shared memory)"
# The package mmm as built in build/python, for the system python3 (its numpy).
if [[ -f build/python/mmm/__init__.py ]]; then
  chunk=quickstart-py-particles
  "$examples/mmm_example_py_writer" "$chunk" 1000 30 &
  writer_pid=$!
  PYTHONPATH="$root/build/python" /usr/bin/python3 examples/python/reader.py "$chunk" 10 ||
    die "examples/python/reader.py"
  pid=$writer_pid
  writer_pid=""
  wait "$pid" || die "mmm_example_py_writer"
else
  echo "quickstart: skipped: the Python package was not built (see cmake's 'mmm:' message;" \
    "scripts/install-deps.sh installs python3-dev, pybind11-dev, python3-numpy)"
fi

step "Stopping mmmd"
kill -TERM "$mmmd_pid"
pid=$mmmd_pid
mmmd_pid=""
wait "$pid" || die "mmmd exited with status $? after SIGTERM"
