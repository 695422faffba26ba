#!/bin/sh
# rapl-msr end to end, through fake trees (WATTPROF_SYSFS, WATTPROF_PROCFS and
# WATTPROF_DEVFS): opt-in, accuracy on 32-bit counters that fake_msr advances at known
# rates with a wrap mid-run, and the fix when /dev/cpu is missing.
. "$(dirname "$0")/lib.sh"

# Two packages of one CPU each, an Intel CPU (Alder Lake: no fixed-unit quirk).
for cpu in 0 1; do
    mkdir -p "$TMP/sys/devices/system/cpu/cpu$cpu/topology" "$TMP/dev/cpu/$cpu"
    echo "$cpu" >"$TMP/sys/devices/system/cpu/cpu$cpu/topology/physical_package_id"
done
mkdir -p "$TMP/proc"
printf 'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 154\n' \
    >"$TMP/proc/cpuinfo"
msr_env() {
    env WATTPROF_SYSFS="$TMP/sys" WATTPROF_PROCFS="$TMP/proc" WATTPROF_DEVFS="$TMP/dev" "$@"
}

# --- opt-in --------------------------------------------------------------------------------
msr_env "$WATTPROF" sensors >"$TMP/default.out" 2>&1
check "without --sensors, rapl-msr is skipped and says how to opt in" \
    grep -q '^rapl-msr       skipped: opt-in: name it with --sensors rapl-msr$' "$TMP/default.out"

msr_env "$WATTPROF" sensors --sensors rapl-msr >"$TMP/nodev.out" 2>&1
check "named without /dev/cpu/N/msr, it says modprobe msr" \
    grep -q "^rapl-msr .*cannot open '$TMP/dev/cpu/0/msr': No such file or directory (modprobe msr)" \
    "$TMP/nodev.out"

# --- accuracy on advancing counters, with a wrap ------------------------------------------
# ESU 14 (2^14 counts per J). package 0: 50 W = 819200 counts/s, 0.5 s before its wrap;
# package 1: 30 W; DRAM 0: 5 W. (MSR_PKG_POWER_INFO, 0x614, shares bytes with 0x611 in a
# file, so the TDP read here is whatever the counter's upper bytes say.)
"$TOOLS_DIR/fake_msr" \
    "$TMP/dev/cpu/0/msr" 0x606 0 0xa0e03 \
    "$TMP/dev/cpu/1/msr" 0x606 0 0xa0e03 \
    "$TMP/dev/cpu/0/msr" 0x611 819200 $((4294967296 - 409600)) \
    "$TMP/dev/cpu/0/msr" 0x619 81920 1000 \
    "$TMP/dev/cpu/1/msr" 0x611 491520 5 >"$TMP/fake.out" &
fake=$!
wait_ready "$TMP/fake.out"
msr_env "$WATTPROF" sensors --sensors rapl-msr >"$TMP/sensors.out" 2>&1
check "named, it lists the packages and DRAM with the wrap period" sh -c "
grep -q '^rapl-msr       in use, 3 channels' '$TMP/sensors.out' &&
grep -q 'cpu-package:0 .*in total .*$TMP/dev/cpu/0/msr MSR 0x611, 2^-14 J' '$TMP/sensors.out' &&
grep -q 'cpu-package:0 wraps after 262144 J (' '$TMP/sensors.out'"
msr_env "$WATTPROF" run -q --sensors rapl-msr --interval 50 --json "$TMP/acc.json" -- sleep 2
check "a run reading the MSRs exits 0" test $? -eq 0
kill "$fake"
wait "$fake" 2>/dev/null
check "the channels are the packages and DRAM, measured, in the total" json_true "$TMP/acc.json" '
[c["name"] for c in d["channels"]] == ["cpu-package:0", "dram:0", "cpu-package:1"]
and all(c["source"] == "rapl-msr" and c["provenance"] == "measured" and c["included_in_total"]
        for c in d["channels"])'
check "each channel is within 0.5 % of its true energy, across the wrap" json_true "$TMP/acc.json" '
all(abs(c["energy_j"] - r * d["duration_s"]) <= 0.005 * r * d["duration_s"]
    for c, r in zip(d["channels"], [50, 5, 30]))
and all(c["anomalies"] == 0 for c in d["channels"])'
check "the sampler saw no wrap: the backend unwraps the 32-bit counters" json_true "$TMP/acc.json" '
all(c["wraps"] == 0 and c["resets"] == 0 for c in d["channels"])'

finish
