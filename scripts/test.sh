#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run). Stages, each with a banner,
# stopping at the first failure:
#   1. deps    scripts/install-deps.sh
#   2. main    RelWithDebInfo build with -DMMM_WERROR=ON in build/, ctest
#   3. tidy    scripts/tidy.sh build: clang-tidy (.clang-tidy) over src/, daemon/
#              and tools/, every finding an error
#   4. package scripts/test-package.sh: the Debian packages built in build-pkg/
#              (scripts/package.sh), their contents, lintian, systemd-analyze
#              verify of the units; as root, also install them, run mmmd as the
#              unit does (user mmm), build a find_package(mmm) consumer against
#              /usr, share a chunk between members of group mmm, upgrade, purge
#              and check that nothing is left
#   5. asan    AddressSanitizer + UBSan build in build-asan/, ctest
#   6. tsan    ThreadSanitizer build in build-tsan/, ctest (every test: TSan
#              sees the threads of each process, its helpers included)
#   7. fuzz    clang++ libFuzzer build in build-fuzz/; every build-fuzz/fuzz/fuzz_*
#              runs for MMM_FUZZ_SECONDS over a temporary copy of fuzz/corpus/<name>/,
#              two at a time (one per core)
#   8. shm     fails when the run left /dev/shm/mmm.* segments that were not
#              there before it started
# and a timing summary at the end.
#
# Environment:
#   MMM_SKIP_TIDY=1      skip stage 3
#   MMM_SKIP_PACKAGE=1   skip stage 4
#   MMM_SKIP_ASAN=1      skip stage 5
#   MMM_SKIP_TSAN=1      skip stage 6
#   MMM_SKIP_FUZZ=1      skip stage 7
#   MMM_FUZZ_SECONDS=N   time per fuzzer (default 60)
#
# Usage: scripts/test.sh          Exit status: 0 when every stage passed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

jobs=2
fuzz_seconds="${MMM_FUZZ_SECONDS:-60}"
[[ $fuzz_seconds =~ ^[0-9]+$ ]] || {
  echo "test.sh: MMM_FUZZ_SECONDS must be a number of seconds" >&2
  exit 2
}

stage_names=()
stage_results=()
stage_seconds=()
current_stage=""
current_start=0
fuzz_work=""

banner() {
  printf '\n'
  printf '=%.0s' {1..78}
  printf '\n== %s\n' "$*"
  printf '=%.0s' {1..78}
  printf '\n'
}

begin_stage() {
  current_stage=$1
  current_start=$SECONDS
  banner "stage: $1 -- $2"
}

end_stage() {
  stage_names+=("$current_stage")
  stage_results+=("${1:-ok}")
  stage_seconds+=($((SECONDS - current_start)))
  current_stage=""
}

skip_stage() {
  banner "stage: $1 -- skipped ($2)"
  stage_names+=("$1")
  stage_results+=("skipped")
  stage_seconds+=(0)
}

summary() {
  printf '\n%-8s %-8s %8s\n' stage result seconds
  local i
  for i in "${!stage_names[@]}"; do
    printf '%-8s %-8s %8s\n' "${stage_names[$i]}" "${stage_results[$i]}" "${stage_seconds[$i]}"
  done
  printf '%-8s %-8s %8s\n' total "" "$SECONDS"
}

on_exit() {
  local rc=$?
  trap - EXIT
  if [[ -n $current_stage ]]; then
    end_stage FAILED
    ((rc != 0)) || rc=1
  fi
  [[ -n $fuzz_work && -d $fuzz_work ]] && rm -rf -- "$fuzz_work"
  summary
  if ((rc == 0)); then
    banner "test.sh: all stages passed"
  else
    banner "test.sh: FAILED (exit status $rc)"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- leaked shared-memory segments -----------------------------------------
shm_segments() { (cd /dev/shm && ls -1 2>/dev/null | grep '^mmm\.' | sort) || true; }
shm_before="$(shm_segments)"
if [[ -n $shm_before ]]; then
  echo "test.sh: note: /dev/shm already holds mmm segments (not counted as leaks of this run):"
  head -n 20 <<<"$shm_before" | sed 's/^/  /'
  (($(wc -l <<<"$shm_before") <= 20)) || echo "  ... $(($(wc -l <<<"$shm_before") - 20)) more"
fi

# --- helpers ---------------------------------------------------------------
# configure_and_build DIR [cmake options...]
configure_and_build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@"
  cmake --build "$dir" -j"$jobs"
}

# run_ctest DIR [ctest options...]
run_ctest() {
  local dir=$1
  shift
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" "$@"
}

# --- 1. dependencies -------------------------------------------------------
begin_stage deps "scripts/install-deps.sh"
scripts/install-deps.sh
end_stage

# --- 2. main build ---------------------------------------------------------
begin_stage main "RelWithDebInfo, -DMMM_WERROR=ON, build/"
configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMM_WERROR=ON -DMMM_SANITIZE= \
  -DMMM_BUILD_TESTS=ON -DMMM_BUILD_BENCH=ON \
  -DMMM_BUILD_EXAMPLES=ON -DMMM_BUILD_FUZZ=OFF
run_ctest build
end_stage

# --- 3. clang-tidy ---------------------------------------------------------
if [[ ${MMM_SKIP_TIDY:-0} == 1 ]]; then
  skip_stage tidy "MMM_SKIP_TIDY=1"
else
  begin_stage tidy "clang-tidy over src/ daemon/ tools/ (build/compile_commands.json)"
  scripts/tidy.sh build
  end_stage
fi

# --- 4. Debian packages ----------------------------------------------------
if [[ ${MMM_SKIP_PACKAGE:-0} == 1 ]]; then
  skip_stage package "MMM_SKIP_PACKAGE=1"
else
  begin_stage package "Debian packages, build-pkg/: contents, lintian, units, install, run, purge"
  scripts/test-package.sh
  end_stage
fi

sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMM_WERROR=OFF
  -DMMM_BUILD_TESTS=ON -DMMM_BUILD_BENCH=OFF -DMMM_BUILD_EXAMPLES=OFF
  -DMMM_BUILD_FUZZ=OFF)

# --- 5. ASan + UBSan -------------------------------------------------------
if [[ ${MMM_SKIP_ASAN:-0} == 1 ]]; then
  skip_stage asan "MMM_SKIP_ASAN=1"
else
  begin_stage asan "AddressSanitizer + UndefinedBehaviorSanitizer, build-asan/"
  configure_and_build build-asan "${sanitizer_flags[@]}" -DMMM_SANITIZE=address,undefined
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest build-asan
  end_stage
fi

# --- 6. TSan ---------------------------------------------------------------
if [[ ${MMM_SKIP_TSAN:-0} == 1 ]]; then
  skip_stage tsan "MMM_SKIP_TSAN=1"
else
  begin_stage tsan "ThreadSanitizer, build-tsan/"
  configure_and_build build-tsan "${sanitizer_flags[@]}" -DMMM_SANITIZE=thread
  # TSan needs the address space layout it knows: kernels with more mmap
  # randomisation than it supports make it abort ("unexpected memory mapping").
  tsan_prefix=()
  rnd_bits="$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)"
  if ((rnd_bits > 28)) && command -v setarch >/dev/null 2>&1; then
    echo "test.sh: vm.mmap_rnd_bits=$rnd_bits: running without ASLR (setarch -R) for TSan"
    tsan_prefix=(setarch "$(uname -m)" -R)
  fi
  TSAN_OPTIONS=halt_on_error=1 "${tsan_prefix[@]}" ctest --test-dir build-tsan \
    --output-on-failure --no-tests=error -j"$jobs"
  end_stage
fi

# --- 7. fuzzing ------------------------------------------------------------
if [[ ${MMM_SKIP_FUZZ:-0} == 1 ]]; then
  skip_stage fuzz "MMM_SKIP_FUZZ=1"
else
  begin_stage fuzz "libFuzzer (clang++), build-fuzz/, ${fuzz_seconds}s per fuzzer"
  # -DMMM_BUILD_FUZZ=ON instruments the library too (fuzzer-no-link), so
  # coverage reaches the decoders the fuzzers call.
  configure_and_build build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMMM_WERROR=OFF -DMMM_BUILD_FUZZ=ON -DMMM_SANITIZE= \
    -DMMM_BUILD_TESTS=OFF -DMMM_BUILD_BENCH=OFF -DMMM_BUILD_EXAMPLES=OFF
  mapfile -t fuzzers < <(find build-fuzz/fuzz -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
  ((${#fuzzers[@]} > 0)) || {
    echo "test.sh: no fuzzer binaries in build-fuzz/fuzz/" >&2
    exit 1
  }
  fuzz_work="$(mktemp -d "${TMPDIR:-/tmp}/mmm-fuzz.XXXXXX")"
  # run_fuzzer FUZZER: one fuzzer over a copy of its corpus, its output in
  # $fuzz_work/<name>.log (shown when all are done).
  run_fuzzer() {
    local fuzzer=$1 name corpus artifacts
    name="$(basename "$fuzzer")"
    corpus="$fuzz_work/$name/corpus"
    artifacts="$root/build-fuzz/artifacts/$name/"
    mkdir -p "$corpus" "$artifacts"
    {
      if [[ -d fuzz/corpus/$name ]]; then
        cp -R "fuzz/corpus/$name/." "$corpus/"
      else
        echo "test.sh: note: no committed corpus fuzz/corpus/$name/: starting empty"
      fi
      echo "--- $name: ${fuzz_seconds}s over $(find "$corpus" -type f | wc -l) corpus inputs"
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" 2>&1
    } >"$fuzz_work/$name.log"
  }
  # $jobs at a time: each fuzzer is one process, so each has a core to itself.
  failed_fuzzers=()
  for ((first = 0; first < ${#fuzzers[@]}; first += jobs)); do
    pids=()
    batch=("${fuzzers[@]:first:jobs}")
    for fuzzer in "${batch[@]}"; do
      run_fuzzer "$fuzzer" &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do
      name="$(basename "${batch[$i]}")"
      wait "${pids[$i]}" || failed_fuzzers+=("$name")
      { grep -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$fuzz_work/$name.log" || true; }
    done
  done
  if ((${#failed_fuzzers[@]} > 0)); then
    for name in "${failed_fuzzers[@]}"; do
      echo "test.sh: $name failed; crash inputs (if any) are in $root/build-fuzz/artifacts/$name/" >&2
    done
    exit 1
  fi
  end_stage
fi

# --- 8. leaked segments ----------------------------------------------------
begin_stage shm "no /dev/shm/mmm.* segments leaked by this run"
leaked="$(comm -13 <(printf '%s\n' "$shm_before" | sed '/^$/d') <(shm_segments))"
if [[ -n $leaked ]]; then
  echo "test.sh: the run leaked these shared-memory segments:" >&2
  sed 's|^|  /dev/shm/|' <<<"$leaked" >&2
  exit 1
fi
echo "none"
end_stage
