#!/usr/bin/python3
"""What measuring costs: wattprof's own CPU time per second of sampling at 10, 100 and
1000 Hz, and the wall time `wattprof run` adds to `true` and to `sleep 1`, side by side
with the bare command and `perf stat -a -e power/energy-pkg/` (where that works).

usage: bench/overhead.py [--wattprof build/wattprof] [--fixtures tests/fixtures]
                         [--reps 5] [--quick]
Prints a Markdown report on stdout (docs/performance.md holds a dated copy).

Method
- CPU cost: for each sensor set and rate, `wattprof run -q --interval MS -- sleep D` at
  D = 1 s and D = 6 s; the CPU time (user + system) of wattprof and its child comes
  from wait4(). The difference between the two durations, divided by 5 s, is the cost
  of one second of sampling, free of the fixed start-up cost. Median of --reps runs.
- Floor: bench/timer_floor does nothing but wait on a timerfd at the same rate; what
  it costs is the price of waking up at all on this machine (high in VMs), which no
  timer-driven sampler can go below.
- Wall time: the bare command, `wattprof run -q -- CMD`, and perf stat, interleaved
  round by round so that drift in the machine's load hits every variant alike.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_cpu(cmd, env):
    """Runs cmd, returns (wall_s, cpu_s of the process and its reaped children)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench: %s exited %d" % (" ".join(cmd), p.returncode))
    return wall, ru.ru_utime + ru.ru_stime


def timer_floor(floor, hz, seconds, reps):
    """CPU share of a thread that only wakes up on a timerfd at hz (median of reps)."""
    out = [float(subprocess.run([floor, str(hz), str(seconds)], capture_output=True,
                                text=True, check=True).stdout) for _ in range(reps)]
    return statistics.median(out)


def perf_energy_works():
    perf = shutil.which("perf")
    if not perf:
        return None, "perf is not installed"
    r = subprocess.run([perf, "stat", "-a", "-e", "power/energy-pkg/", "true"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        lines = [l.strip() for l in r.stderr.splitlines() if l.strip()]
        line = lines[0] if lines else "failed"
        return None, "`perf stat -a -e power/energy-pkg/` fails here: %s" % line
    return perf, None


def wall_times(variants, rounds):
    """Median wall time per variant; variants run interleaved, round by round."""
    samples = {name: [] for name, _ in variants}
    for _ in range(rounds):
        for name, cmd in variants:
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=True)
            samples[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in samples.items()}


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%s, %d logical CPUs, Linux %s" % (model, os.cpu_count(), platform.release())


def fake_tree(fixtures):
    d = tempfile.mkdtemp(prefix="wattprof-bench-")
    shutil.copytree(os.path.join(fixtures, "sysfs", "intel-2s-server"), d,
                    symlinks=True, dirs_exist_ok=True)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wattprof", default="build/wattprof")
    ap.add_argument("--fixtures", default="tests/fixtures")
    ap.add_argument("--floor", default="build/bench/timer_floor",
                    help="the bare timerfd loop (bench/timer_floor.c)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer rounds, shorter runs")
    ap.add_argument("--only", choices=["cpu", "wall"], help="run one part only")
    a = ap.parse_args()
    wattprof = os.path.abspath(a.wattprof)
    short_s, long_s = (0.5, 2.5) if a.quick else (1, 6)
    rounds_true, rounds_sleep = (10, 3) if a.quick else (40, 8)

    print("# wattprof overhead benchmark\n")
    print("- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print("- machine: %s" % machine())
    print("- command: `%s`\n" % " ".join(["bench/overhead.py"] + sys.argv[1:]))

    db_dir = tempfile.mkdtemp(prefix="wattprof-bench-db-")
    os.environ["WATTPROF_DB"] = os.path.join(db_dir, "bench.db")
    if a.only != "wall":
        cpu_part(a, wattprof, short_s, long_s)
    if a.only != "cpu":
        wall_part(wattprof, rounds_true, rounds_sleep)
    shutil.rmtree(db_dir, ignore_errors=True)


def cpu_part(a, wattprof, short_s, long_s):
    tree = fake_tree(a.fixtures)
    try:
        sets = [
            ("model only (this machine; it changes every 100 ms, so wattprof ticks at "
             "most at 10 Hz)", "model", {}),
            ("rapl-powercap, fake 2-socket tree (4 counters, regular files)",
             "rapl-powercap", {"WATTPROF_SYSFS": tree}),
        ]
        print("## CPU time per second of sampling (share of one core)\n")
        floors = {hz: timer_floor(a.floor, hz, long_s - short_s, a.reps) for hz in (10, 100, 1000)}
        print("| sensors | rate | median | min | max | floor: bare timerfd loop | goal |")
        print("|---|---|---|---|---|---|---|")
        for label, backends, extra in sets:
            env = dict(os.environ, **extra)
            for hz in (10, 100, 1000):
                med, lo, hi = sampling_cost(wattprof, env, backends, hz, a.reps, short_s,
                                            long_s)
                goal = "<= 0.1 %" if hz == 10 else "<= 1 %" if hz == 1000 else ""
                print("| %s | %d Hz | %.3f %% | %.3f %% | %.3f %% | %.3f %% | %s |" %
                      (label, hz, med * 100, lo * 100, hi * 100, floors[hz] * 100, goal))
    finally:
        shutil.rmtree(tree, ignore_errors=True)



def wall_part(wattprof, rounds_true, rounds_sleep):
    perf, why = perf_energy_works()
    print("\n## Wall time added to a command (median, interleaved rounds)\n")
    if why:
        print("perf stat column: not run (%s).\n" % why)
    for cmd, rounds in ((["true"], rounds_true), (["sleep", "1"], rounds_sleep)):
        variants = [("bare", cmd),
                    ("wattprof run --no-store", [wattprof, "run", "-q", "--no-store", "--"] + cmd),
                    ("wattprof run (stored in SQLite)", [wattprof, "run", "-q", "--"] + cmd)]
        if perf:
            variants.append(("perf stat -a -e power/energy-pkg/",
                             [perf, "stat", "-a", "-e", "power/energy-pkg/"] + cmd))
        elif shutil.which("perf"):
            variants.append(("perf stat -a -e cpu-clock (stand-in, no power PMU)",
                             [shutil.which("perf"), "stat", "-a", "-e", "cpu-clock"] + cmd))
        t = wall_times(variants, rounds)
        bare = t["bare"]
        print("`%s` (%d rounds):\n" % (" ".join(cmd), rounds))
        print("| variant | median wall time | added vs bare | ratio to bare |")
        print("|---|---|---|---|")
        for name, _ in variants:
            print("| %s | %.2f ms | %+.2f ms | %.3f |" %
                  (name, t[name] * 1e3, (t[name] - bare) * 1e3, t[name] / bare))
        print()


def sampling_cost(wattprof, env, backends, hz, reps, short_s, long_s):
    """CPU seconds wattprof spends per second of sampling: (median, min, max)."""
    interval = 1000 // hz
    costs = []
    for _ in range(reps):
        base = [wattprof, "run", "-q", "--sensors", backends, "--interval", str(interval),
                "--", "sleep"]
        _, c_short = run_cpu(base + [str(short_s)], env)
        _, c_long = run_cpu(base + [str(long_s)], env)
        costs.append(max(0.0, (c_long - c_short) / (long_s - short_s)))
    return statistics.median(costs), min(costs), max(costs)


if __name__ == "__main__":
    main()
