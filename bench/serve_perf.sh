#!/bin/sh
# wattprof serve performance (docs/performance.md): daemon CPU at 10 Hz on a fake tree
# of 16 counters (8 packages + 8 DRAMs, advanced by fake_powercap), first alone, then
# with JOBS registered jobs (sleeping processes, registered through the socket) and
# per-cgroup attribution over a fake cgroup v2 tree of 191 cgroups; scrape latency under
# a wrk load in both cases; and RSS over a soak (1 scrape/s, one job replaced every
# sample, RSS sampled every SAMPLE seconds). Loopback only.
# usage: bench/serve_perf.sh BUILD_DIR [SOAK_SECONDS [JOBS [SAMPLE_SECONDS]]]
set -eu
build=$1
soak=${2:-600}
njobs=${3:-50}
every=${4:-15}
tmp=$(mktemp -d /tmp/wattprof-serve-perf-XXXXXX)
pids=""
trap 'kill $pids 2>/dev/null || true; rm -rf "$tmp"' EXIT
src=$(dirname "$0")/../tests/fixtures/sysfs/intel-2s-server/devices/virtual/powercap/intel-rapl
top="$tmp/sys/devices/virtual/powercap/intel-rapl"
mkdir -p "$top" "$tmp/sys/class/powercap"
cp -a "$src/enabled" "$src/uevent" "$top/"
args=""
for i in 0 1 2 3 4 5 6 7; do
    z="$top/intel-rapl:$i"
    cp -a "$src/intel-rapl:0" "$z"
    [ "$i" = 0 ] || mv "$z/intel-rapl:0:0" "$z/intel-rapl:$i:0"
    echo "package-$i" >"$z/name"
    ln -s "../../devices/virtual/powercap/intel-rapl/intel-rapl:$i" "$tmp/sys/class/powercap/intel-rapl:$i"
    ln -s "../../devices/virtual/powercap/intel-rapl/intel-rapl:$i/intel-rapl:$i:0" \
        "$tmp/sys/class/powercap/intel-rapl:$i:0"
    args="$args $z $((40000000 + i * 1000000)) $((i * 7777)) 262143328850"
    args="$args $z/intel-rapl:$i:0 $((5000000 + i * 100000)) $((i * 333)) 65712999613"
done
# A fake cgroup v2 tree: 10 slices of 18 services each (191 cgroups with the top).
cg="$tmp/cgroup"
mkdir -p "$cg"
echo "cpu memory" >"$cg/cgroup.controllers"
echo "usage_usec 900000000" >"$cg/cpu.stat"
for s in 0 1 2 3 4 5 6 7 8 9; do
    mkdir -p "$cg/s$s.slice"
    echo "usage_usec $((s * 1000000 + 5000000))" >"$cg/s$s.slice/cpu.stat"
    for u in $(seq 18); do
        mkdir -p "$cg/s$s.slice/u$u.service"
        echo "usage_usec $((s * 1000 + u * 100))" >"$cg/s$s.slice/u$u.service/cpu.stat"
    done
done

# shellcheck disable=SC2086
"$build/tests/fake_powercap" $args >"$tmp/fake.out" &
pids="$!"
sleep 0.5

# start_serve NAME CGROUPFS ARGS...: a daemon on the fake tree; sets d (pid) and port.
start_serve() {
    name=$1
    cgfs=$2
    shift 2
    WATTPROF_SYSFS="$tmp/sys" WATTPROF_CGROUPFS="$cgfs" WATTPROF_SENSORS=rapl-powercap "$build/wattprof" serve \
        --listen 127.0.0.1:0 --socket "$tmp/$name.sock" --interval 100 "$@" 2>"$tmp/$name.err" &
    d=$!
    pids="$pids $d"
    sleep 1
    sed 's/^/  /' "$tmp/$name.err"
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$name.err")
}
ticks() { awk '{print $14 + $15}' "/proc/$d/stat"; }
hz=$(getconf CLK_TCK)
cpu_60s() {
    t0=$(ticks)
    sleep 60
    t1=$(ticks)
    awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {printf "%.3f %% of a core", (b - a) / hz / 60 * 100}'
}
latency() {
    wrk -t1 -c8 -d10s --latency "http://127.0.0.1:$port/metrics" | grep -E 'requests in|50%|99%|Socket|Non-2xx'
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$d/status"; }
# register_job N: a sleeping process registered through the socket as job N.
register_job() {
    sleep 100000 &
    jp=$!
    pids="$pids $jp"
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(("register %s job-%s\n" % (sys.argv[2], sys.argv[3])).encode())
r = s.recv(100).decode()
sys.exit(0 if r.startswith("ok") else "register: " + r)' "$tmp/jobs.sock" "$jp" "$1"
}

echo "== 16 channels at 10 Hz, no jobs, no cgroups"
start_serve plain "$tmp/none" --cgroup-depth 0
echo "cpu at 10 Hz, 16 channels, idle scrapes: $(cpu_60s)"
latency
kill "$d"

echo "== 16 channels at 10 Hz, $njobs registered jobs, cgroup attribution (191 cgroups)"
start_serve jobs "$cg" --cgroup-depth 3 --cgroup-max 256
jobpids=""
for i in $(seq "$njobs"); do
    register_job "$i"
    jobpids="$jobpids $jp"
done
curl -s "http://127.0.0.1:$port/metrics" >"$tmp/m.txt"
echo "series: $(grep -c '^wattprof_job_energy_joules_total{' "$tmp/m.txt") jobs, $(grep -c '^wattprof_cgroup_energy_joules_total{' "$tmp/m.txt") cgroups, $(wc -c <"$tmp/m.txt") bytes per scrape"
echo "cpu at 10 Hz, 16 channels, $njobs jobs, 191 cgroups, idle scrapes: $(cpu_60s)"
latency

echo "== soak: ${soak} s, 1 scrape/s, one job replaced every ${every} s, RSS every ${every} s"
first=$(rss)
max=$first
last=$first
echo "rss t=0 s: $first kB"
start=$(date +%s)
next=$((start + every))
n=$njobs
while [ $(($(date +%s) - start)) -lt "$soak" ]; do
    curl -s -o /dev/null "http://127.0.0.1:$port/metrics"
    sleep 1
    if [ "$(date +%s)" -ge "$next" ]; then
        next=$((next + every))
        n=$((n + 1))
        set -- $jobpids
        kill "$1" 2>/dev/null || true
        shift
        register_job "$n"
        jobpids="$* $jp"
        last=$(rss)
        [ "$last" -gt "$max" ] && max=$last
        echo "rss t=$(($(date +%s) - start)) s: $last kB"
    fi
done
echo "rss over a ${soak} s soak: first $first kB, last $last kB, max $max kB"
curl -s "http://127.0.0.1:$port/metrics" | grep -c '^wattprof_job_energy_joules_total{' |
    sed 's/^/job series at the end: /'
