#!/bin/sh
# wattprof serve performance (docs/performance.md): daemon CPU at 10 Hz on a fake tree
# of 16 counters (8 packages + 8 DRAMs, advanced by fake_powercap), scrape latency under
# a wrk load, and RSS over a soak. Loopback only.
# usage: bench/serve_perf.sh BUILD_DIR [SOAK_SECONDS]
set -eu
build=$1
soak=${2:-180}
tmp=$(mktemp -d /tmp/wattprof-serve-perf-XXXXXX)
trap 'kill $pids 2>/dev/null; rm -rf "$tmp"' EXIT
pids=""
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
# shellcheck disable=SC2086
"$build/tests/fake_powercap" $args >"$tmp/fake.out" &
pids="$!"
sleep 0.5
WATTPROF_SYSFS="$tmp/sys" WATTPROF_SENSORS=rapl-powercap "$build/wattprof" serve \
    --listen 127.0.0.1:0 --socket "$tmp/w.sock" --interval 100 2>"$tmp/serve.err" &
d=$!
pids="$pids $d"
sleep 1
cat "$tmp/serve.err"
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/serve.err")
ticks() { awk '{print $14 + $15}' "/proc/$d/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
sleep 60
t1=$(ticks)
echo "cpu at 10 Hz, 16 channels, idle scrapes: $(awk -v a="$t0" -v b="$t1" -v hz="$hz" \
    'BEGIN {printf "%.3f %% of a core", (b - a) / hz / 60 * 100}')"
wrk -t1 -c8 -d10s --latency "http://127.0.0.1:$port/metrics" | grep -E 'requests in|99%|Socket|Non-2xx'
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$d/status")
i=0
while [ $i -lt "$soak" ]; do
    curl -s -o /dev/null "http://127.0.0.1:$port/metrics"
    sleep 1
    i=$((i + 1))
done
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$d/status")
echo "rss over a ${soak} s soak (1 scrape/s, sampling at 10 Hz): $rss0 kB -> $rss1 kB"
