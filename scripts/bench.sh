#!/usr/bin/env bash
# Builds the benchmarks (Release, build-bench/), runs each benchmark binary once
# and has bench/report.py write docs/BENCHMARKS.md from their JSON: the machine,
# the commands, every ratio of issue #5 against its target (PASS/MISS) and the
# raw numbers behind them (report.py also runs alone on saved results);
# then bench/python_bench.py (issue #17) writes its own section, when the
# Python package was built.
#
# Usage: scripts/bench.sh [--no-build] [--quick] [--scale]
#   --no-build  reuse build-bench/ as it is
#   --quick     tiny sizes and minimal times (MMM_BENCH_QUICK=1): a smoke run;
#               writes build-bench/bench-results/BENCHMARKS.quick.md instead
#   --scale     the registry benchmark goes on to 1,000,000 chunks
#               (MMM_BENCH_SCALE=1; about 8 GB of /dev/shm, minutes)
#
# Each binary starts its own mmmd on a fresh runtime directory, stops it by pid
# and removes every segment it created. The hand-written findings below the
# marker line of docs/BENCHMARKS.md are kept across runs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-bench"
results="$build/bench-results"
doc="$root/docs/BENCHMARKS.md"
do_build=1
quick=0
for arg in "$@"; do
  case "$arg" in
    --no-build) do_build=0 ;;
    --quick) quick=1 ;;
    --scale) export MMM_BENCH_SCALE=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
configure_cmd=(cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMMM_BUILD_TESTS=OFF
               -DMMM_BUILD_EXAMPLES=OFF -DMMM_BUILD_BENCH=ON)
build_cmd=(cmake --build "$build" -j2)
if [[ $do_build == 1 ]]; then
  # The Redis baseline of the throughput rows (redis-server, redis-tools).
  "$root/scripts/install-deps.sh" --bench
  "${configure_cmd[@]}" >/dev/null
  "${build_cmd[@]}" >/dev/null
fi

mkdir -p "$results"
rm -f "$results"/*.json
if [[ $quick == 1 ]]; then
  export MMM_BENCH_QUICK=1
  doc="$results/BENCHMARKS.quick.md"
fi

# binary | extra flags. Repetitions are interleaved at random so that a burst of
# background load hits mmm and its baseline alike; the report takes medians.
if [[ $quick == 1 ]]; then
  common=(--benchmark_min_time=0.001)
  runs=("access_bench|" "wait_bench|" "control_bench|" "bandwidth_bench|" "registry_bench|"
    "heap_bench|" "throughput_bench|")
else
  interleave=(--benchmark_enable_random_interleaving=true)
  runs=(
    "access_bench|--benchmark_repetitions=5 --benchmark_min_time=0.2 ${interleave[*]}"
    "wait_bench|--benchmark_repetitions=3 --benchmark_min_time=1 ${interleave[*]}"
    "control_bench|--benchmark_repetitions=3 --benchmark_min_time=0.5 ${interleave[*]}"
    "control_bench_nopoll|--benchmark_repetitions=3 --benchmark_min_time=0.5 ${interleave[*]}"
    "bandwidth_bench|--benchmark_repetitions=3 ${interleave[*]}"
    "registry_bench|"
    "heap_bench|--benchmark_repetitions=3 --benchmark_min_time=0.3 ${interleave[*]}"
    "throughput_bench|--benchmark_repetitions=3 ${interleave[*]}"
    "throughput_bench_nopoll|--benchmark_repetitions=3 ${interleave[*]}"
  )
  common=()
fi
# "While the peer is active": a second ping-pong run under SCHED_FIFO (root only),
# so that both processes have a CPU even when the machine is busy.
if [[ $quick == 0 && $(id -u) == 0 ]] && command -v chrt >/dev/null; then
  runs+=("wait_bench_rt|--benchmark_repetitions=3 --benchmark_min_time=0.5 ${interleave[*]}")
fi

commands=()
status=0
for entry in "${runs[@]}"; do
  name=${entry%%|*}
  read -r -a flags <<<"${entry#*|}"
  bin="$build/bench/mmm_${name%_rt}"
  bin=${bin%_nopoll}
  out="$results/$name.json"
  cmd=("$bin" "${common[@]}" "${flags[@]}" --benchmark_out="$out" --benchmark_out_format=json)
  [[ $name == *_rt ]] && cmd=(chrt -f 10 "${cmd[@]}")
  # The control plane once more with mmmd and the client sleeping at once
  # (control_bench_nopoll, throughput_bench_nopoll).
  [[ $name == *_nopoll ]] && cmd=(env MMM_BENCH_NO_POLL=1 "${cmd[@]}")
  commands+=("${cmd[*]#"$root/"}")
  echo "== $name" >&2
  t0=$(date +%s)
  if ! "${cmd[@]}" >"$results/$name.txt" 2>"$results/$name.stderr"; then
    echo "bench.sh: $name failed (see $results/$name.stderr)" >&2
    status=1
  fi
  echo "   $(( $(date +%s) - t0 )) s" >&2
done

# The Python benchmarks (issue #17): their own section of the document, below
# the marker line, which the report below keeps.
if [[ -f $build/python/mmm/__init__.py ]]; then
  echo "== python_bench" >&2
  t0=$(date +%s)
  pycmd=(/usr/bin/python3 "$root/bench/python_bench.py" --build "$build" --doc "$doc")
  [[ $quick == 1 ]] && pycmd+=(--quick)
  if ! "${pycmd[@]}" >"$results/python_bench.txt" 2>"$results/python_bench.stderr"; then
    echo "bench.sh: python_bench failed (see $results/python_bench.stderr)" >&2
    status=1
  fi
  echo "   $(( $(date +%s) - t0 )) s" >&2
else
  echo "bench.sh: no Python package in $build/python: python_bench skipped" >&2
fi

leftover=$(ls /dev/shm 2>/dev/null | grep -c '^mmmbench-' || true)
if [[ $leftover != 0 ]]; then
  echo "bench.sh: $leftover raw baseline segment(s) left in /dev/shm" >&2
  status=1
fi

elapsed=$(( $(date +%s) - start ))
printf '%s\n' "${commands[@]}" >"$results/commands.txt"
report=(/usr/bin/python3 "$root/bench/report.py" --results "$results" --doc "$doc" --elapsed "$elapsed"
  --configure "${configure_cmd[*]#"$root/"}" --build "${build_cmd[*]}" --commands "$results/commands.txt")
[[ $quick == 1 ]] && report+=(--quick)
"${report[@]}" || status=1
exit $status
