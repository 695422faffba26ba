#!/usr/bin/python3
"""Cost of a window begin/end pair from Python, next to the same pair from C.

usage: PYTHONPATH=python bench/python_windows.py [--pairs 2000] [--build build]

Prints the median over --pairs pairs (and the 90th percentile) of:
- in-process: `w = t.begin("w"); w.end()` on a Tracker that measures in this process
  (each edge reads every counter: the C work dominates), the same with `with
  t.window("w"): pass`, and the two bare ctypes calls (the binding's floor);
- remote: the same under `wattprof run` (two lines on the control socket);
- C: build/bench/windows_c, when it was built, for the same pairs without Python.
Goal for the in-process Python pair: under 50 us.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
import wattprof  # noqa: E402

clock = time.perf_counter_ns


def summary(samples_ns):
    s = sorted(samples_ns)
    return statistics.median(s) / 1000, s[int(len(s) * 0.9)] / 1000


def bench_methods(t, pairs):
    """{label: (median_us, p90_us)} for the ways of timing a pair."""
    out = {}
    for _ in range(50):  # warm up
        t.begin("w").end()
    samples = []
    for _ in range(pairs):
        a = clock()
        w = t.begin("w")
        w.end()
        samples.append(clock() - a)
    out["t.begin(name) ... w.end()"] = summary(samples)
    samples = []
    for _ in range(pairs):
        a = clock()
        with t.window("w"):
            pass
        samples.append(clock() - a)
    out["with t.window(name): ..."] = summary(samples)
    lib, handle = t._lib, t._t
    begin, end = lib.wattprof_tracker_window_begin, lib.wattprof_tracker_window_end
    wid = ctypes.c_uint64()
    ref = ctypes.byref(wid)
    samples = []
    for _ in range(pairs):
        a = clock()
        begin(handle, b"w", ref)
        end(handle, wid.value)
        samples.append(clock() - a)
    out["bare ctypes calls"] = summary(samples)
    return out


def child(pairs):
    """Runs inside `wattprof run`: prints the remote results, one per line."""
    with wattprof.Tracker() as t:
        if not t.is_remote:
            sys.exit("python_windows: --child expects to run under wattprof run")
        for label, (med, p90) in bench_methods(t, pairs).items():
            print("%s\t%.2f\t%.2f" % (label, med, p90), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--build", default=os.path.join(ROOT, "build"),
                   help="the build directory (wattprof, libwattprof.so, bench/windows_c)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("WATTPROF_LIBRARY", os.path.join(args.build, "libwattprof.so"))
    if args.child:
        return child(args.pairs)
    os.environ.pop("WATTPROF_CONTROL", None)

    print("# Window begin/end pair: Python vs C (%d pairs, median / p90 in us)\n" % args.pairs)
    print("library: %s (%s); python %s\n" % (wattprof.library_path(), wattprof.version(),
                                             sys.version.split()[0]))
    print("| mode | call | median us | p90 us |")
    print("|---|---|---|---|")
    with wattprof.Tracker() as t:
        for label, (med, p90) in bench_methods(t, args.pairs).items():
            print("| in-process | %s | %.2f | %.2f |" % (label, med, p90))

    exe = os.path.join(args.build, "wattprof")
    if os.access(exe, os.X_OK):
        r = subprocess.run([exe, "run", "-q", "--", sys.executable, os.path.abspath(__file__),
                            "--child", "--pairs", str(args.pairs), "--build", args.build],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("| remote | failed: %s | | |" % r.stderr.strip().replace("\n", " "))
        for line in r.stdout.splitlines():
            label, med, p90 = line.split("\t")
            print("| remote | %s | %s | %s |" % (label, med, p90))

    cbench = os.path.join(args.build, "bench", "windows_c")
    if os.access(cbench, os.X_OK):
        r = subprocess.run([cbench, str(args.pairs)], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            mode, _, rest = line.partition(": median ")
            med = rest.split()[0] if rest else "?"
            print("| %s | C (bench/windows_c) | %s | |" % (mode, med))
    else:
        print("\n(no %s: the C numbers are missing)" % cbench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
