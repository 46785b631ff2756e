#!/usr/bin/env python3
"""Writes docs/BENCHMARKS.md from the Google Benchmark JSON files of one run.

scripts/bench.sh runs it after the benchmarks; it also runs on saved results:

    bench/report.py --results build-bench/bench-results --doc /tmp/BENCHMARKS.md

Hand-written findings below the marker line of an existing document are kept.
"""
import argparse
import json, os, platform, re, statistics, subprocess, time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--results", required=True, help="directory of the run's *.json (and *.txt) files")
parser.add_argument("--doc", required=True, help="the Markdown file to write")
parser.add_argument("--elapsed", default="?", help="wall time of the run in seconds")
parser.add_argument("--quick", action="store_true", help="the run was a quick smoke run")
parser.add_argument("--configure", default="(not recorded)", help="the configure command of the run")
parser.add_argument("--build", default="(not recorded)", help="the build command of the run")
parser.add_argument("--commands", default="", help="file with the benchmark commands, one per line")
args = parser.parse_args()
commands = open(args.commands).read().splitlines() if args.commands else []
import json, os, platform, re, statistics, subprocess, time

results = args.results
doc = args.doc
root_build = os.path.dirname(results)

runs = {}  # run_name -> list of iteration entries
context = {}
for f in sorted(os.listdir(results)):
    if not f.endswith(".json"):
        continue
    try:
        data = json.load(open(os.path.join(results, f)))
    except (ValueError, OSError):
        continue
    context.setdefault("library_build_type", data.get("context", {}).get("library_build_type"))
    tag = "rt:" if f.endswith("_rt.json") else ""  # the SCHED_FIFO ping-pong run
    if f.endswith("_nopoll.json"):
        tag = "nopoll:"  # the control plane without busy polling
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        name = tag + b.get("run_name", b["name"])
        if b.get("error_occurred"):
            runs.setdefault(name, []).append({"error": b.get("error_message", "error")})
            continue
        runs.setdefault(name, []).append(b)

def find(prefix):
    for name in runs:
        if name == prefix or name.startswith(prefix + "/"):
            return runs[name]
    return None

def metric(prefix, key):
    """Median over repetitions of a counter or field; None when missing."""
    entries = find(prefix)
    if not entries:
        return None
    vals = [e[key] for e in entries if key in e]
    return statistics.median(vals) if vals else None

def ns_per_item(prefix):
    ips = metric(prefix, "items_per_second")
    return 1e9 / ips if ips else None

def fmt(v, unit="", digits=3):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.{digits}g}"
    return s + unit

rows = []  # (requirement, measured, ratio, target, verdict)

def ratio_row(what, num, den, target_op, target, detail):
    if num is None or den is None or den == 0:
        rows.append((what, detail, "n/a", f"{target_op} {target}x", "MISSING"))
        return
    r = num / den
    ok = r >= target if target_op == ">=" else r <= target
    rows.append((what, detail, f"{r:.2f}x", f"{target_op} {target}x", "PASS" if ok else "MISS"))

def limit_row(what, value, unit, limit):
    if value is None:
        rows.append((what, "not measured", "-", f"< {limit}{unit}", "MISSING"))
        return
    rows.append((what, fmt(value, " " + unit), "-", f"< {fmt(limit)} {unit}",
                 "PASS" if value < limit else "MISS"))

# 1. span sum
# Verdict on the interleaved benchmark (both loops alternate within one run); the
# separate benchmarks are shown as well.
a = metric("BM_SumSpan_interleaved", "mmm_GBps")
b = metric("BM_SumSpan_interleaved", "newarray_GBps")
ratio_row("sum over span(), 256 MiB uint64_t, vs new[] (throughput, interleaved)", a, b, ">=",
          0.95, f"{fmt(a)} vs {fmt(b)} GB/s")
a = metric("BM_SumSpan_mmm", "bytes_per_second")
b = metric("BM_SumSpan_newarray", "bytes_per_second")
if a and b:
    rows.append(("same, as two separate benchmarks", f"{fmt(a/1e9)} vs {fmt(b/1e9)} GB/s",
                 f"{a/b:.2f}x", "-", "info"))

# 2. checked access
# Verdicts on the interleaved benchmarks (pointer, checked and checked_single
# in alternating blocks within one run); the separate benchmarks are in Details.
for op in ("Read", "Write"):
    for elem, label in (("u64", "8-byte"), ("line64", "64-byte")):
        n = f"BM_Access/{op.lower()}/{elem}/interleaved"
        p = metric(n, "pointer_ns")
        for variant, kind in (("checked", "many-writer chunk"),
                              ("checked_single", "single-writer chunk")):
            c = metric(n, f"{variant}_ns")
            ratio_row(f"checked {op.lower()}(i), {label} element, {kind}, vs *pointer(i) "
                      "(time/op, interleaved)", c, p, "<=", 2.0, f"{fmt(c)} vs {fmt(p)} ns")
        # The floor of any design where every write of many writers bumps one
        # shared counter: the raw store plus the atomic add (no stripe, no check).
        f = metric(n, "version_only_ns")
        if op == "Write" and f and p:
            rows.append((f"floor: *pointer(i) = v + atomic add of a shared version, {label} "
                         "element, vs *pointer(i) (interleaved)", f"{fmt(f)} vs {fmt(p)} ns",
                         f"{f/p:.2f}x", "-", "info"))

# 3. ping-pong
# Verdict on the interleaved benchmark (both protocols in one pair of processes,
# switching every 32 round trips); the separate benchmarks are shown as well.
for q in ("p50", "p99"):
    m = metric("BM_PingPong/futex_vs_mmm_spin0", f"mmm_{q}_ns")
    f = metric("BM_PingPong/futex_vs_mmm_spin0", f"raw_{q}_ns")
    ratio_row(f"wait_for_change round trip, spin 0, vs raw futex ({q}, interleaved)", m, f, "<=",
              1.1, f"{fmt(m and m/1e3)} vs {fmt(f and f/1e3)} us")
for q in ("p50", "p99"):
    m = metric("BM_PingPong/mmm_spin0", f"{q}_ns")
    f = metric("BM_PingPong/futex_raw", f"{q}_ns")
    if m is not None and f:
        rows.append((f"same, {q}, as two separate benchmarks",
                     f"{fmt(m/1e3)} vs {fmt(f/1e3)} us", f"{m/f:.2f}x", "-", "info"))
# "While the peer is active": judged on the SCHED_FIFO run when there is one (both
# processes then always have a CPU); the plain run is shown beside it.
rt = "rt:" if find("rt:BM_PingPong/spin_raw") else ""
for q in ("p50", "p99"):
    m = metric(rt + "BM_PingPong/mmm_default", f"{q}_ns")
    s = metric(rt + "BM_PingPong/spin_raw", f"{q}_ns")
    ratio_row(f"wait_for_change round trip, default spin, vs busy-spin ({q})"
              + (", SCHED_FIFO run" if rt else ""), m, s, "<=", 2.0,
              f"{fmt(m and m/1e3)} vs {fmt(s and s/1e3)} us")
if rt:
    for q in ("p50", "p99"):
        m = metric("BM_PingPong/mmm_default", f"{q}_ns")
        s = metric("BM_PingPong/spin_raw", f"{q}_ns")
        if m is not None and s:
            rows.append((f"same, plain run ({q}; the peer competes for a CPU)",
                         f"{fmt(m/1e3)} vs {fmt(s/1e3)} us", f"{m/s:.2f}x", "-", "info"))

# 4. open
o = metric("BM_Open/mmm", "p50_ns")
rtt = metric("BM_Open/socket_rtt", "p50_ns")
shm = metric("BM_Open/shm_raw", "p50_ns")
base = rtt + shm if rtt is not None and shm is not None else None
ratio_row("open<T> of an existing chunk vs socket RTT + shm_open/fstat/mmap (p50)", o, base, "<=",
          1.3, f"{fmt(o and o/1e3)} vs {fmt(rtt and rtt/1e3)} + {fmt(shm and shm/1e3)} us")
def open_info_row(what, tag, q):
    o, rtt, shm = (metric(f"{tag}BM_Open/{v}", q) for v in ("mmm", "socket_rtt", "shm_raw"))
    if None not in (o, rtt, shm):
        rows.append((what, f"{fmt(o/1e3)} vs {fmt(rtt/1e3)} + {fmt(shm/1e3)} us",
                     f"{o/(rtt+shm):.2f}x", "-", "info"))

open_info_row("open<T>, p99 (reported, no target)", "", "p99_ns")
open_info_row("same, p50, without polling (mmmd --busy-poll-us 0, reply_spin 0)", "nopoll:",
              "p50_ns")

# 5. create + remove
for procs in (1, 8):
    m = metric(f"BM_CreateRemove/mmm/procs:{procs}", "ops_per_s")
    r = metric(f"BM_CreateRemove/raw/procs:{procs}", "ops_per_s")
    ratio_row(f"create+remove, {procs} process{'es' if procs > 1 else ''}, vs raw shm (ops/s)",
              m, r, ">=", 0.5, f"{fmt(m)} vs {fmt(r)} ops/s")
    m = metric(f"nopoll:BM_CreateRemove/mmm/procs:{procs}", "ops_per_s")
    r = metric(f"nopoll:BM_CreateRemove/raw/procs:{procs}", "ops_per_s")
    if m and r:
        rows.append((f"same, {procs} process{'es' if procs > 1 else ''}, without polling",
                     f"{fmt(m)} vs {fmt(r)} ops/s", f"{m/r:.2f}x", "-", "info"))
    # The floor: the raw work plus the two round trips to mmmd that a checked
    # create and a checked remove need, with mmmd doing no work (BM_CreateRemove/floor).
    for tag, how in (("", ""), ("nopoll:", ", without polling")):
        f = metric(f"{tag}BM_CreateRemove/floor/procs:{procs}", "ops_per_s")
        r = metric(f"{tag}BM_CreateRemove/raw/procs:{procs}", "ops_per_s")
        m = metric(f"{tag}BM_CreateRemove/mmm/procs:{procs}", "ops_per_s")
        if f and r and m:
            rows.append((f"floor: raw + 2 pings to mmmd, {procs} process{'es' if procs > 1 else ''}"
                         f"{how}, vs raw (mmm vs floor: {m/f:.2f}x)",
                         f"{fmt(f)} vs {fmt(r)} ops/s", f"{f/r:.2f}x", "-", "info"))

# 6. fill
# Verdict on the interleaved benchmark (mmm and raw alternate within one run);
# the separate benchmarks are shown as well.
for key, label in (("first_GBps", "first touch"), ("warm_GBps", "warm")):
    m = metric("BM_Fill/interleaved", "mmm_" + key)
    r = metric("BM_Fill/interleaved", "raw_" + key)
    ml = metric("BM_Fill/malloc", key)
    ratio_row(f"1 GiB create + write all, {label}, vs raw shm (bandwidth, interleaved)", m, r,
              ">=", 0.95, f"{fmt(m)} vs {fmt(r)} GB/s (malloc: {fmt(ml)} GB/s)")
    m = metric("BM_Fill/mmm", key)
    r = metric("BM_Fill/shm_raw", key)
    if m and r:
        rows.append((f"same, {label}, as two separate benchmarks", f"{fmt(m)} vs {fmt(r)} GB/s",
                     f"{m/r:.2f}x", "-", "info"))

# 7. registry
big = "BM_Registry/chunks:100000"
limit_row("registry 100k: Client::list()", metric(big, "list_ms"), "ms", 1000)
limit_row("registry 100k: mmmctl list --json", metric(big, "mmmctl_list_ms"), "ms", 1000)
limit_row("registry 100k: mmmd restart until list() has all", metric(big, "restart_ms"), "ms", 5000)
limit_row("registry 100k: mmmd RSS (VmRSS)", metric(big, "rss_MB"), "MB", 200)
# The million-chunk rows of issue #20: only a `scripts/bench.sh --scale` run has them.
huge = "BM_Registry/chunks:1000000"
if find(huge):
    limit_row("registry 1M: Client::list()", metric(huge, "list_ms"), "ms", 1000)
    limit_row("registry 1M: mmmctl list --json", metric(huge, "mmmctl_list_ms"), "ms", 2000)
    limit_row("registry 1M: mmmd restart until list() has all", metric(huge, "restart_ms"), "ms",
              5000)
    limit_row("registry 1M: mmmd RSS (VmRSS)", metric(huge, "rss_MB"), "MB", 400)
    # Mean create while the registry grows 100k -> 1M, against 0 -> 1k (time per
    # create, so the ratio is small-registry time over large-registry time).
    small = metric("BM_Registry/chunks:1000", "create_us")
    large = metric(huge, "create_us")
    ratio_row("create at 100k-1M chunks vs at 0-1k (1/time per create)",
              1 / large if large else None, 1 / small if small else None, ">=", 0.8,
              f"{fmt(large)} vs {fmt(small)} us per create")

# 8. heap chunks (issue #18): mmm's robust lock around Boost.Interprocess vs
# managed_shared_memory with an interprocess_mutex, in the same process run.
for op, what in (("find", "find of a named object"), ("insert", "map insert"),
                 ("lookup", "map lookup")):
    m = metric(f"BM_Heap/{op}/mmm", "items_per_second")
    b = metric(f"BM_Heap/{op}/bip", "items_per_second")
    ratio_row(f"heap chunk: {what} vs managed_shared_memory (ops/s)", m, b, ">=", 0.9,
              f"{fmt(m)} vs {fmt(b)} ops/s")
m = ns_per_item("BM_Heap/lock/mmm")
b = ns_per_item("BM_Heap/lock/bip")
if m and b:
    rows.append(("heap chunk: lock + release vs interprocess_mutex lock + unlock",
                 f"{fmt(m)} vs {fmt(b)} ns", f"{m/b:.2f}x", "-", "info"))

# 9. schemas (issue #16): open<T> of a described struct vs open<T> of a type of
# the same size and alignment without a schema (and vs open<uint64_t>), rotating
# in one benchmark.
d = metric("BM_Open/described_interleaved", "described_p50_ns")
o = metric("BM_Open/described_interleaved", "opaque_p50_ns")
u = metric("BM_Open/described_interleaved", "scalar_p50_ns")
ratio_row("open<T> of a described struct (11 fields, nested) vs the same bytes without a schema "
          "(p50, interleaved)", d, o, "<=", 1.05, f"{fmt(d and d/1e3)} vs {fmt(o and o/1e3)} us")
if d and u:
    rows.append(("same, vs open<uint64_t> of 48 bytes", f"{fmt(d/1e3)} vs {fmt(u/1e3)} us",
                 f"{d/u:.2f}x", "-", "info"))

# 10. growable chunks (issue #19)
for op in ("read", "write"):
    for elem, label in (("u64", "8-byte"), ("line64", "64-byte")):
        n = f"BM_Access/{op}/{elem}/growable_interleaved"
        g = metric(n, "growable_ns")
        f = metric(n, "fixed_ns")
        ratio_row(f"checked {op}(i), {label} element, growable chunk vs fixed (time/op, "
                  "interleaved)", g, f, "<=", 1.1, f"{fmt(g)} vs {fmt(f)} ns")
m = metric("BM_Grow/interleaved", "mmm_ms")
r = metric("BM_Grow/interleaved", "fallocate_ms")
ratio_row("resize: grow by 1 GiB vs posix_fallocate of 1 GiB (speed, interleaved)", r, m, ">=",
          0.9, f"{fmt(m)} vs {fmt(r)} ms")

# 11. issue #20: the rows of issue #5 that missed, restated against the floors
# measured in the same run, and the new rows.
for procs in (1, 8):
    m = metric(f"BM_CreateRemove/mmm/procs:{procs}", "ops_per_s")
    f = metric(f"BM_CreateRemove/floor/procs:{procs}", "ops_per_s")
    ratio_row(f"#20: create+remove, {procs} process{'es' if procs > 1 else ''}, vs floor (raw "
              "create+remove + 2 pings to the same mmmd; ops/s)", m, f, ">=", 0.8,
              f"{fmt(m)} vs {fmt(f)} ops/s")
for elem, label in (("u64", "8-byte"), ("line64", "64-byte")):
    n = f"BM_Access/write/{elem}/interleaved"
    c = metric(n, "checked_ns")
    f = metric(n, "version_only_ns")
    ratio_row(f"#20: checked write(i), {label} element, many-writer chunk, vs floor (store + "
              "atomic add of the shared version; time/op, interleaved)", c, f, "<=", 1.1,
              f"{fmt(c)} vs {fmt(f)} ns")
ratio_row("#20: open<T> of an existing chunk vs socket RTT + shm_open/fstat/mmap (p50)", o, base,
          "<=", 1.1, f"{fmt(o and o/1e3)} vs {fmt(rtt and rtt/1e3)} + {fmt(shm and shm/1e3)} us")

# Memory of a chunk of one element (issue #20): the worst element size against
# a 4 KiB page, target <= 2 pages per chunk.
sizes = (1, 8, 16, 64, 100, 256)
pages = {n: metric(f"BM_ChunkMemory/elem:{n}", "pages") for n in sizes}
if all(v is not None for v in pages.values()):
    worst = max(pages.values())
    shown = ", ".join(f"{n} B: {fmt(pages[n])}" for n in sizes)
    rows.append(("#20: memory of a chunk of one element, element sizes 1-256 B, vs a 4 KiB page "
                 "(segment blocks after create)", f"{fmt(worst)} pages at most ({shown})",
                 f"{worst:.2f}x", "<= 2x", "PASS" if worst <= 2 else "MISS"))
else:
    rows.append(("#20: memory of a chunk of one element, element sizes 1-256 B, vs a 4 KiB page",
                 "not measured", "n/a", "<= 2x", "MISSING"))

# Huge pages (issue #20): the chunk on mmmd's huge-page directory against raw
# /dev/shm, with the floor (the raw create of a file on the same tmpfs) beside it.
hi = "BM_Fill/huge_interleaved"
m = metric(hi, "mmm_first_GBps")
r = metric(hi, "raw_first_GBps")
f = metric(hi, "rawhuge_first_GBps")
if find(hi) and find(hi)[0].get("error"):
    rows.append(("#20: 1 GiB create + first touch, chunk on huge pages vs raw shm (4 KiB pages)",
                 "skipped: " + find(hi)[0]["error"], "n/a", ">= 4x", "MISSING"))
else:
    ratio_row("#20: 1 GiB create + first touch, chunk on huge pages (mmmd --huge-dir) vs raw shm "
              "(4 KiB pages; bandwidth, interleaved)", m, r, ">=", 4.0,
              f"{fmt(m)} vs {fmt(r)} GB/s")
    if f and r:
        rows.append(("floor: raw open + posix_fallocate + mmap + write on the same huge-page "
                     "tmpfs vs raw shm (same rotation)", f"{fmt(f)} vs {fmt(r)} GB/s",
                     f"{f/r:.2f}x", "-", "info"))
    if m and f:
        rows.append(("same, mmm on huge pages vs that floor", f"{fmt(m)} vs {fmt(f)} GB/s",
                     f"{m/f:.2f}x", "-", "info"))
    alone = metric("BM_Fill/mmm_huge", "first_GBps")
    raw_alone = metric("BM_Fill/shm_raw", "first_GBps")
    if alone and raw_alone:
        rows.append(("same, huge-page chunks one after another, vs raw shm's separate benchmark",
                     f"{fmt(alone)} vs {fmt(raw_alone)} GB/s", f"{alone/raw_alone:.2f}x", "-",
                     "info"))

# Many clients (issue #20): info requests against Redis GET at the same client
# counts, and open+close against the raw calls in as many processes.
for n in (1, 8, 64):
    m = metric(f"BM_Throughput/info/procs:{n}", "ops_per_s")
    r = metric(f"BM_Throughput/redis_get/clients:{n}", "ops_per_s")
    mp99 = metric(f"BM_Throughput/info/procs:{n}", "p99_ns")
    rp99 = metric(f"BM_Throughput/redis_get/clients:{n}", "p99_ns")
    e = find(f"BM_Throughput/redis_get/clients:{n}")
    if e and e[0].get("error"):
        rows.append((f"#20: info requests, {n} client process{'es' if n > 1 else ''}, vs Redis GET",
                     "skipped: " + e[0]["error"], "n/a", ">= 1.0x", "MISSING"))
        continue
    ratio_row(f"#20: info requests, {n} client process{'es' if n > 1 else ''}, vs Redis 7 GET of 16 "
              f"bytes, redis-benchmark -c {n} (ops/s; p99 beside)", m, r, ">=", 1.0,
              f"{fmt(m)} vs {fmt(r)} ops/s; p99 {fmt(mp99 and mp99/1e3)} vs "
              f"{fmt(rp99 and rp99/1e3)} us")
# The floors under the info rows: a ping to the same mmmd (its loop, no work),
# and a one-thread epoll echo process answering as many processes with frames
# of the info request's and reply's sizes (any one-thread server's floor).
for n in (1, 8, 64):
    m = metric(f"BM_Throughput/info/procs:{n}", "ops_per_s")
    r = metric(f"BM_Throughput/redis_get/clients:{n}", "ops_per_s")
    for name, what in (("echo", "one-thread epoll echo of the same frame sizes"),
                       ("ping", "ping to the same mmmd")):
        f = metric(f"BM_Throughput/{name}/procs:{n}", "ops_per_s")
        fp99 = metric(f"BM_Throughput/{name}/procs:{n}", "p99_ns")
        if f and r and m:
            rows.append((f"floor: {what}, {n} process{'es' if n > 1 else ''}, vs Redis (mmm info "
                         f"vs this floor: {m/f:.2f}x)", f"{fmt(f)} vs {fmt(r)} ops/s; p99 "
                         f"{fmt(fp99 and fp99/1e3)} us", f"{f/r:.2f}x", "-", "info"))
for n in (1, 8, 64):
    m = metric(f"nopoll:BM_Throughput/info/procs:{n}", "ops_per_s")
    p99 = metric(f"nopoll:BM_Throughput/info/procs:{n}", "p99_ns")
    r = metric(f"BM_Throughput/redis_get/clients:{n}", "ops_per_s")
    if m and r and p99:
        rows.append((f"same, {n} process{'es' if n > 1 else ''}, without polling (mmmd "
                     "--busy-poll-us 0, reply_spin 0)", f"{fmt(m)} vs {fmt(r)} ops/s; p99 "
                     f"{fmt(p99/1e3)} us", f"{m/r:.2f}x", "-", "info"))
for n in (8, 64):
    m = metric(f"BM_Throughput/open_close/procs:{n}", "ops_per_s")
    r = metric(f"BM_Throughput/raw_open_close/procs:{n}", "ops_per_s")
    if m and r:
        mp = metric(f"BM_Throughput/open_close/procs:{n}", "p50_ns")
        rp = metric(f"BM_Throughput/raw_open_close/procs:{n}", "p50_ns")
        rows.append((f"#20: open<T> + close, {n} processes, vs raw shm_open + fstat + mmap + munmap"
                     " + close (ops/s; p50 beside)", f"{fmt(m)} vs {fmt(r)} ops/s; p50 "
                     f"{fmt(mp and mp/1e3)} vs {fmt(rp and rp/1e3)} us", f"{m/r:.2f}x", "reported",
                     "info"))

# --- details ---------------------------------------------------------------------
details = []
def table(title, header, body):
    details.append(f"### {title}\n")
    details.append("| " + " | ".join(header) + " |")
    details.append("|" + "---|" * len(header))
    for r in body:
        details.append("| " + " | ".join(r) + " |")
    details.append("")

body = []
for op in ("Read", "Write"):
    for elem in ("u64", "line64"):
        variants = ["raw", "pointer", "checked", "checked_single"]
        if op == "Write":
            variants += (["seqlock_only"] if elem == "line64" else []) + ["version_only"]
        for v in variants:
            inter = metric(f"BM_Access/{op.lower()}/{elem}/interleaved", f"{v}_ns")
            body.append((f"{op.lower()} {elem}", v, fmt(ns_per_item(f"BM_{op}/{elem}/{v}"), " ns"),
                         fmt(inter, " ns") if inter is not None else "-"))
table("Element access, time per operation (median of repetitions; 1024 cache-resident elements)",
      ["operation", "variant", "time/op, separate benchmark", "time/op, interleaved"], body)

body = []
for v in ("spin_raw", "mmm_default", "futex_raw", "mmm_spin0"):
    n = f"BM_PingPong/{v}"
    body.append((v, fmt(metric(n, "p50_ns") and metric(n, "p50_ns") / 1e3),
                 fmt(metric(n, "p99_ns") and metric(n, "p99_ns") / 1e3),
                 fmt(metric(n, "mean_ns") and metric(n, "mean_ns") / 1e3),
                 fmt(metric(n, "samples"))))
n = "BM_PingPong/futex_vs_mmm_spin0"
for side, label in (("raw_", "futex_raw (interleaved)"), ("mmm_", "mmm_spin0 (interleaved)")):
    body.append((label, fmt(metric(n, side + "p50_ns") and metric(n, side + "p50_ns") / 1e3),
                 fmt(metric(n, side + "p99_ns") and metric(n, side + "p99_ns") / 1e3),
                 fmt(metric(n, side + "mean_ns") and metric(n, side + "mean_ns") / 1e3),
                 fmt(metric(n, side + "samples"))))
table("Cross-process round trip (us)", ["variant", "p50", "p99", "mean", "samples/run"], body)
if rt:
    body = []
    for v in ("spin_raw", "mmm_default", "futex_raw", "mmm_spin0"):
        n = f"rt:BM_PingPong/{v}"
        body.append((v, fmt(metric(n, "p50_ns") and metric(n, "p50_ns") / 1e3),
                     fmt(metric(n, "p99_ns") and metric(n, "p99_ns") / 1e3),
                     fmt(metric(n, "mean_ns") and metric(n, "mean_ns") / 1e3),
                     fmt(metric(n, "samples"))))
    table("Cross-process round trip under SCHED_FIFO (`chrt -f 10`; us)",
          ["variant", "p50", "p99", "mean", "samples/run"], body)

body = []
for v in ("mmm", "socket_rtt", "shm_raw", "mmmd_ping", "nopoll:mmm", "nopoll:mmmd_ping"):
    tag, _, bare = v.rpartition(":")
    n = (tag + ":" if tag else "") + f"BM_Open/{bare}"
    body.append((bare + (" (no polling)" if tag else ""), fmt(metric(n, "p50_ns") and metric(n, "p50_ns") / 1e3),
                 fmt(metric(n, "p99_ns") and metric(n, "p99_ns") / 1e3),
                 fmt(metric(n, "mean_ns") and metric(n, "mean_ns") / 1e3)))
table("Open of an existing chunk (us per operation)", ["variant", "p50", "p99", "mean"], body)

body = []
for v in ("mmm", "raw", "floor", "nopoll:mmm", "nopoll:raw", "nopoll:floor"):
    tag, _, bare = v.rpartition(":")
    for procs in (1, 8):
        n = (tag + ":" if tag else "") + f"BM_CreateRemove/{bare}/procs:{procs}"
        ops = metric(n, "ops_per_s")
        body.append((bare + (" (no polling)" if tag else ""), str(procs), fmt(ops),
                     fmt(ops and procs * 1e6 / ops, " us")))
table("Create + remove", ["variant", "processes", "ops/s", "time/op per process"], body)

body = []
for v in ("mmm", "shm_raw", "malloc"):
    n = f"BM_Fill/{v}"
    body.append((v, fmt(metric(n, "first_GBps")), fmt(metric(n, "first_ms")),
                 fmt(metric(n, "warm_GBps")), fmt(metric(n, "warm_ms"))))
table("1 GiB create + write all", ["variant", "first touch GB/s", "first touch ms", "warm GB/s", "warm ms"], body)

body = []
for n in (1000, 10000, 100000):
    name = f"BM_Registry/chunks:{n}"
    body.append((f"{n:,}", fmt(metric(name, "create_us"), " us"), fmt(metric(name, "list_ms"), " ms"),
                 fmt(metric(name, "mmmctl_list_ms"), " ms"), fmt(metric(name, "restart_ms"), " ms"),
                 fmt(metric(name, "stop_ms"), " ms"), fmt(metric(name, "rss_MB"), " MB"),
                 fmt(metric(name, "rss_after_restart_MB"), " MB")))
body.append(("remove all", fmt(metric("BM_Registry/remove_all", "remove_us"), " us/chunk"),
             "", "", "", "", "", ""))
table("Registry growth (cumulative; restart = start mmmd again until list() returns all)",
      ["chunks", "create (mean)", "list()", "mmmctl list --json", "restart", "stop", "RSS", "RSS after restart"],
      body)

errors = [(n, e["error"]) for n, es in runs.items() for e in es if "error" in e]

# --- machine ---------------------------------------------------------------------
def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

def shm_size():
    try:
        out = subprocess.run(["df", "-h", "/dev/shm"], capture_output=True, text=True).stdout.splitlines()
        return out[1].split()[1]
    except Exception:
        return "?"

def read(path):
    try:
        return open(path).read().strip()
    except OSError:
        return "?"

def compiler():
    try:
        cache = open(os.path.join(root_build, "CMakeCache.txt")).read()
        m = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.*)$", cache, re.M)
        cxx = m.group(1) if m else "c++"
        return subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except Exception:
        return "?"

out = []
out.append("# mmm benchmarks (issue #5)\n")
out.append("Generated by `scripts/bench.sh` on " + time.strftime("%Y-%m-%d %H:%M:%S %Z") +
           (" (QUICK smoke run: tiny sizes, numbers meaningless)" if args.quick else "") + ".")
out.append("Every result is a ratio of mmm to a baseline measured in the same benchmark")
out.append("process run; absolute times are shown for context only.\n")
out.append("## Machine\n")
out.append(f"- CPUs (nproc): {os.cpu_count()}; CPU model: {cpu_model()}")
out.append(f"- kernel: {platform.release()}; clocksource: {read('/sys/devices/system/clocksource/clocksource0/current_clocksource')}")
out.append(f"- memory: {read('/proc/meminfo').splitlines()[0].split(':')[1].strip() if read('/proc/meminfo') != '?' else '?'}; /dev/shm: tmpfs {shm_size()}")
out.append(f"- THP: anon `{read('/sys/kernel/mm/transparent_hugepage/enabled')}`, shmem `{read('/sys/kernel/mm/transparent_hugepage/shmem_enabled')}`")
out.append(f"- compiler: {compiler()}; Google Benchmark library build type: {context.get('library_build_type')}")
out.append(f"- load average at the end: {read('/proc/loadavg')}")
out.append(f"- wall time of scripts/bench.sh (build + runs): {args.elapsed} s\n")
out.append("## Commands\n")
out.append("```sh")
out.append(args.configure)
out.append(args.build)
out.extend(commands)
out.append("```\n")
out.append("Repetitions run in random interleaved order; each figure below is the median over")
out.append("repetitions (p50/p99 are per-operation percentiles within a run, then that median).\n")
out.append("## Results against the targets\n")
out.append("| requirement | measured (mmm vs baseline) | ratio | target | verdict |")
out.append("|---|---|---|---|---|")
for r in rows:
    out.append("| " + " | ".join(r) + " |")
out.append("")
if errors:
    out.append("**Benchmarks that failed:**\n")
    for n, e in errors:
        out.append(f"- `{n}`: {e}")
    out.append("")
out.append("## Details\n")
out.extend(details)

marker = "<!-- Findings below this line are hand-written; scripts/bench.sh keeps them. -->"
kept = ""
if os.path.exists(doc):
    text = open(doc).read()
    if marker in text:
        kept = text.split(marker, 1)[1]
out.append(marker + (kept if kept else "\n"))
os.makedirs(os.path.dirname(doc), exist_ok=True)
open(doc, "w").write("\n".join(out).rstrip() + "\n")
print(f"wrote {doc}")
for r in rows:
    print(f"  {r[4]:7} {r[2]:>7}  {r[0]}")
