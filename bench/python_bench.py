#!/usr/bin/python3
"""The Python benchmarks of issue #17, in one run, against a private mmmd:

1. array.sum() over a 256 MiB float64 chunk vs the same on a plain numpy
   array (throughput; target >= 0.95x), interleaved repetitions; then again
   with the chunk on mmmd's huge-page directory (a tmpfs this process mounts
   in a mount namespace of its own: root only, else the row says why not);
2. client.open(name) + close() from Python vs the C++ open<double> + destroy
   (mmm_py_helper open-bench, the same chunk; target <= 1.2x, p50), with
   multiprocessing.shared_memory.SharedMemory(name) attach + close beside it;
3. mmm.SharedMemory create + close + unlink vs multiprocessing.shared_memory's
   (reported, no target).

Usage: bench/python_bench.py [--build DIR] [--doc FILE] [--quick]
  --build DIR  the build tree (default build-bench, else build): its
               daemon/mmmd, python/ (the package) and python/mmm_py_helper
  --doc FILE   where to write the "Python" section (default docs/BENCHMARKS.md);
               '-' prints it only. The section sits between its own markers,
               below the hand-written marker line that scripts/bench.sh keeps.
  --quick      tiny sizes and counts: a smoke run (ctest bench.python)
Run with /usr/bin/python3 (the interpreter the package is built for).
"""

import argparse
import ctypes
import multiprocessing.shared_memory as mp_shm
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- bench/python_bench.py: begin (generated; rewritten by each run) -->"
END = "<!-- bench/python_bench.py: end -->"
KEEP_MARKER = "<!-- Findings below this line are hand-written; scripts/bench.sh keeps them. -->"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=None)
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"))
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    if a.build is None:
        a.build = next((os.path.join(ROOT, d) for d in ("build-bench", "build")
                        if os.path.exists(os.path.join(ROOT, d, "python", "mmm"))),
                       os.path.join(ROOT, "build"))
    return a


ARGS = parse_args()
sys.path.insert(0, os.path.join(ARGS.build, "python"))
import numpy as np  # noqa: E402

import mmm  # noqa: E402


class HugeDir:
    """A tmpfs mounted with huge=within_size in a mount namespace of this process
    (root only; nothing of it is visible outside), for mmmd --huge-dir.
    .path is None and .why says why when it cannot be made."""
    CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE, MNT_DETACH = (
        0x20000, 2, 4, 0x4000, 1 << 18, 2)

    def __init__(self, megabytes):
        self.path, self.why = None, None
        if os.geteuid() != 0:
            self.why = "mounting a tmpfs needs root"
            return
        self.libc = ctypes.CDLL(None, use_errno=True)
        if self.libc.unshare(self.CLONE_NEWNS) != 0:
            self.why = "unshare(CLONE_NEWNS): " + os.strerror(ctypes.get_errno())
            return
        if self.libc.mount(b"none", b"/", None, self.MS_REC | self.MS_PRIVATE, None) != 0:
            self.why = "making / private: " + os.strerror(ctypes.get_errno())
            return
        path = tempfile.mkdtemp(prefix="mmm-pybench-huge.")
        options = f"huge=within_size,mode=1777,size={megabytes}m"
        if self.libc.mount(b"tmpfs", path.encode(), b"tmpfs", self.MS_NOSUID | self.MS_NODEV,
                           options.encode()) != 0:
            self.why = f"mount -t tmpfs -o {options}: " + os.strerror(ctypes.get_errno())
            os.rmdir(path)
            return
        self.path = path

    def close(self):
        if self.path:
            self.libc.umount2(self.path.encode(), self.MNT_DETACH)
            os.rmdir(self.path)
            self.path = None


class Daemon:
    def __init__(self, build, huge_dir=None):
        self.dir = tempfile.mkdtemp(prefix="mmm-pybench.")
        extra = ["--huge-dir", huge_dir] if huge_dir else []
        self.proc = subprocess.Popen([os.path.join(build, "daemon", "mmmd"), "--foreground",
                                      "--runtime-dir", self.dir, "--log-level", "warn"] + extra,
                                     stdin=subprocess.DEVNULL)
        sock = os.path.join(self.dir, "mmmd.sock")
        deadline = time.monotonic() + 60
        while True:
            with socket.socket(socket.AF_UNIX) as s:
                try:
                    s.connect(sock)
                    break
                except OSError:
                    pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("mmmd did not start (" + " ".join(self.proc.args) + ")")
            time.sleep(0.01)  # poll interval of a bounded wait
        os.environ["MMM_RUNTIME_DIR"] = self.dir
        self.client = mmm.Client(self.dir)
        self.segment_dir = self.client.stats().segment_dir

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "segment_dir", "").startswith("/dev/shm/mmm."):
            shutil.rmtree(self.segment_dir, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def timed(fn):
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


def bench_sum(client, quick, huge_pages="auto"):
    n = (1 << 20 if quick else 256 << 20) // 8
    reps = 3 if quick else 9
    chunk = client.create("pybench.sum", np.float64, n, huge_pages=huge_pages)
    shared = chunk.array
    shared[:] = np.arange(n, dtype=np.float64)  # first touch, outside the timing
    plain = np.arange(n, dtype=np.float64)
    # numpy asks for transparent huge pages (madvise) on big arrays; /dev/shm
    # gives the chunk 4 KiB pages. A plain array without that request too:
    prev = np.core.multiarray._set_madvise_hugepage(False)
    plain_4k = np.empty(n, dtype=np.float64)
    np.core.multiarray._set_madvise_hugepage(prev)
    plain_4k[:] = plain
    assert shared.sum() == plain.sum() == plain_4k.sum()
    times = {"mmm": [], "numpy": [], "numpy_4k": []}
    for _ in range(reps):  # interleaved: background load hits all alike
        for key, arr in (("mmm", shared), ("numpy", plain), ("numpy_4k", plain_4k)):
            times[key].append(timed(arr.sum))
    chunk.remove()
    chunk.close()
    del shared
    gb = n * 8 / 1e9
    return {k: gb / (statistics.median(v) / 1e9) for k, v in times.items()}


def percentiles(ns):
    ns = sorted(ns)
    return ns[len(ns) // 2], sum(ns) / len(ns)


def bench_open(client, build, quick):
    iters = 200 if quick else 3000
    rounds = 1 if quick else 3
    name = "pybench.open"
    chunk = client.create(name, np.float64, 4096)
    seg = mp_shm.SharedMemory(create=True, size=4096 * 8)
    helper = os.path.join(build, "python", "mmm_py_helper")
    py, cpp, mp = [], [], []
    for _ in range(rounds):  # alternate C++ and Python runs
        out = subprocess.run([helper, "open-bench", name, str(iters)], capture_output=True,
                             text=True, check=True, timeout=300).stdout.split()
        cpp.append(int(out[1]))
        samples = []
        for _ in range(iters):
            t0 = time.perf_counter_ns()
            c = client.open(name)
            c.close()
            samples.append(time.perf_counter_ns() - t0)
        py.append(percentiles(samples)[0])
        samples = []
        for _ in range(iters):
            t0 = time.perf_counter_ns()
            s = mp_shm.SharedMemory(seg.name)
            s.close()
            samples.append(time.perf_counter_ns() - t0)
        mp.append(percentiles(samples)[0])
    seg.close()
    seg.unlink()
    chunk.remove()
    chunk.close()
    return {"python": statistics.median(py), "cpp": statistics.median(cpp),
            "mp": statistics.median(mp)}


def bench_create_unlink(build, quick):
    iters = 100 if quick else 1500
    helper = os.path.join(build, "python", "mmm_py_helper")
    out = {}
    for size in (4096, 1 << 20):
        rates = {}
        res = subprocess.run([helper, "create-bench", "pybench.create", str(iters), str(size)],
                             capture_output=True, text=True, check=True, timeout=300)
        rates["cpp"] = (int(res.stdout.split()[1]), None)
        for key, cls in (("mmm", mmm.SharedMemory), ("mp", mp_shm.SharedMemory)):
            samples = []
            for _ in range(iters):
                t0 = time.perf_counter_ns()
                s = cls(create=True, size=size)
                s.close()
                s.unlink()
                samples.append(time.perf_counter_ns() - t0)
            rates[key] = percentiles(samples)
        out[size] = rates
    return out


def fmt(x, digits=3):
    return f"{x:.{digits}g}"


def bench_sum_huge(quick):
    """The sum with the chunk on mmmd's huge-page directory (2 MiB pages, as
    numpy's array gets); (results, None) or (None, why it did not run)."""
    huge = HugeDir(600)
    if not huge.path:
        return None, huge.why
    try:
        try:
            daemon = Daemon(ARGS.build, huge.path)
        except RuntimeError as e:
            return None, str(e)
        try:
            return bench_sum(daemon.client, quick, huge_pages="always"), None
        finally:
            daemon.stop()
    finally:
        huge.close()


def main():
    daemon = Daemon(ARGS.build)
    try:
        sums = bench_sum(daemon.client, ARGS.quick)
        opens = bench_open(daemon.client, ARGS.build, ARGS.quick)
        creates = bench_create_unlink(ARGS.build, ARGS.quick)
    finally:
        daemon.stop()
    # Last: it moves this process into a mount namespace of its own.
    huge_sums, no_huge = bench_sum_huge(ARGS.quick)

    r_sum = sums["mmm"] / sums["numpy"]
    r_sum_4k = sums["mmm"] / sums["numpy_4k"]
    r_open = opens["python"] / opens["cpp"]
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    lines = [BEGIN, "", "## Python (issue #17)", ""]
    lines.append(f"Generated by `bench/python_bench.py` on {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
                 + (" (QUICK smoke run: tiny sizes, numbers meaningless)" if ARGS.quick else "")
                 + f"; Python {platform.python_version()}, numpy {np.__version__}, "
                 f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end.")
    lines.append("Command: `/usr/bin/python3 bench/python_bench.py --build "
                 f"{os.path.relpath(ARGS.build, ROOT)}` (scripts/bench.sh runs it).")
    lines += ["", "| requirement | measured (mmm vs baseline) | ratio | target | verdict |",
              "|---|---|---|---|---|"]
    lines.append(f"| `chunk.array.sum()`, 256 MiB float64, vs a numpy array (throughput, median "
                 f"of interleaved runs) | {fmt(sums['mmm'])} vs {fmt(sums['numpy'])} GB/s | "
                 f"{r_sum:.2f}x | >= 0.95x | {verdict(r_sum >= 0.95)} |")
    lines.append(f"| same, vs a numpy array without numpy's huge-page request (4 KiB pages, as "
                 f"/dev/shm gives the chunk) | {fmt(sums['mmm'])} vs {fmt(sums['numpy_4k'])} GB/s"
                 f" | {r_sum_4k:.2f}x | - | info |")
    if huge_sums:
        r_huge = huge_sums["mmm"] / huge_sums["numpy"]
        lines.append(f"| same, the chunk on mmmd's huge-page directory (`--huge-dir`, 2 MiB pages "
                     f"like numpy's; interleaved with its own numpy array) | "
                     f"{fmt(huge_sums['mmm'])} vs {fmt(huge_sums['numpy'])} GB/s | "
                     f"{r_huge:.2f}x | >= 0.95x | {verdict(r_huge >= 0.95)} |")
    else:
        lines.append(f"| same, the chunk on mmmd's huge-page directory | skipped: {no_huge} | "
                     f"n/a | >= 0.95x | MISSING |")
    lines.append(f"| `client.open(name)` + `close()` from Python vs C++ `open<double>` + destroy "
                 f"(p50) | {fmt(opens['python'] / 1e3)} vs {fmt(opens['cpp'] / 1e3)} us | "
                 f"{r_open:.2f}x | <= 1.2x | {verdict(r_open <= 1.2)} |")
    lines.append(f"| beside it: `multiprocessing.shared_memory.SharedMemory(name)` attach + "
                 f"`close()` (p50) | {fmt(opens['mp'] / 1e3)} us | - | - | info |")
    for size, r in creates.items():
        m, p = r["mmm"][0], r["mp"][0]
        lines.append(f"| `mmm.SharedMemory` create + close + unlink, {size // 1024} KiB, vs "
                     f"`multiprocessing.shared_memory` (p50 per block) | {fmt(m / 1e3)} vs "
                     f"{fmt(p / 1e3)} us | {m / p:.2f}x | - | info |")
        c = r["cpp"][0]
        lines.append(f"| beside it: C++ `create<uint8_t>` + destroy + `remove`, {size // 1024} KiB "
                     f"(p50) | {fmt(c / 1e3)} us | - | - | info |")
    lines += ["", "How: the chunk and both numpy arrays are written once before the timing, "
              "then `.sum()` runs on each in turn, repeatedly. Open: the C++ side is "
              "`mmm_py_helper open-bench` (`open<double>` + destroy of the same 32 KiB chunk, "
              "in its own process), alternating with the Python loop (`client.open(name)` + "
              "`close()`), medians of the runs' p50. numpy asks the kernel for transparent huge "
              "pages on large arrays; chunks live in /dev/shm, whose huge pages are off here "
              "(`shmem_enabled` never), hence the second sum row; the third puts the chunk on "
              "a huge-page tmpfs given to a second mmmd as `--huge-dir`, as a deployment that "
              "wants numpy's page size would (docs/DEPLOYMENT.md).", "",
              "Why `mmm.SharedMemory` create + unlink costs more than multiprocessing's: each "
              "block is two round trips to mmmd (create, remove), in which mmmd makes the "
              "segment, reserves its memory (`posix_fallocate`: a full /dev/shm fails the "
              "create instead of a SIGBUS later), records the change in its registry and "
              "passes the descriptor; the client maps it and tells mmmd when it unmaps. "
              "multiprocessing does `shm_open` + `ftruncate` + `mmap` with no reservation, "
              "plus one message to its resource tracker. The C++ create + remove has the same "
              "gap against raw shared memory (the \"Create + remove\" rows above, and the C++ "
              "row beside each SharedMemory row: the rest is the Python layer). The price buys the listing, permissions, quotas, "
              "the reservation and no resource tracker.", "", END]
    section = "\n".join(lines)
    print(section)
    if ARGS.doc == "-":
        return
    text = open(ARGS.doc).read() if os.path.exists(ARGS.doc) else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        if KEEP_MARKER not in text:
            text = text.rstrip() + "\n\n" + KEEP_MARKER + "\n"
        head, tail = text.split(KEEP_MARKER, 1)
        text = head + KEEP_MARKER + "\n\n" + section + "\n" + tail
    with open(ARGS.doc, "w") as f:
        f.write(text)
    print(f"wrote {ARGS.doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
