#!/bin/sh
# Sensors end to end, through WATTPROF_SYSFS fake trees: accuracy on counters that a
# helper advances at known rates (with a wrap mid-run), a zone that vanishes mid-run,
# counters that stay at zero, a root-only tree, and `wattprof sensors`.
. "$(dirname "$0")/lib.sh"

PKG_RANGE=262143328850
DRAM_RANGE=65712999613

# --- accuracy on advancing counters, with wraps -----------------------------------------
cp -a "$WATTPROF_FIXTURES/sysfs/intel-2s-server" "$TMP/sys"
Z="$TMP/sys/devices/virtual/powercap/intel-rapl"
# package-0: 50 W, 0.5 s before its wrap; dram:0: 8 W; package-1: 35 W;
# dram:1: 6 W, 0.8 s before the 15.3 µJ-unit DRAM wrap.
"$TOOLS_DIR/fake_powercap" \
    "$Z/intel-rapl:0" 50000000 $((PKG_RANGE - 25000000)) $PKG_RANGE \
    "$Z/intel-rapl:0/intel-rapl:0:0" 8000000 1000000 $DRAM_RANGE \
    "$Z/intel-rapl:a" 35000000 5000000 $PKG_RANGE \
    "$Z/intel-rapl:a/intel-rapl:a:0" 6000000 $((DRAM_RANGE - 4800000)) $DRAM_RANGE \
    >"$TMP/fake.out" &
fake=$!
wait_ready "$TMP/fake.out"
WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" run -q --sensors rapl-powercap --interval 50 \
    --json "$TMP/acc.json" -- sleep 2
check "a run on the fake server tree exits 0" test $? -eq 0
kill "$fake"
wait "$fake" 2>/dev/null
check "each channel is within 0.5 % of its true energy" json_true "$TMP/acc.json" '
all(abs(c["energy_j"] - r * d["duration_s"]) <= 0.005 * r * d["duration_s"]
    for c, r in zip(d["channels"], [50, 8, 35, 6]))'
check "the channels are the packages and DRAMs, measured, all in the total" json_true "$TMP/acc.json" '
[c["name"] for c in d["channels"]] == ["cpu-package:0", "dram:0", "cpu-package:1", "dram:1"]
and all(c["provenance"] == "measured" and c["included_in_total"] for c in d["channels"])
and d["energy_provenance"] == "measured"'
check "the wraps were seen and corrected" json_true "$TMP/acc.json" '
[c["wraps"] for c in d["channels"]] == [1, 0, 0, 1]
and all(c["anomalies"] == 0 for c in d["channels"])'
check "the total is within 0.5 % of 99 W x duration" json_true "$TMP/acc.json" '
abs(d["energy_j"] - 99 * d["duration_s"]) <= 0.005 * 99 * d["duration_s"]'
check "average power is within 0.5 % of the rate" json_true "$TMP/acc.json" '
all(abs(c["avg_power_w"] - r) <= 0.005 * r for c, r in zip(d["channels"], [50, 8, 35, 6]))'

# --- a zone that vanishes mid-run --------------------------------------------------------
rm -rf "$TMP/sys"
cp -a "$WATTPROF_FIXTURES/sysfs/intel-2s-server" "$TMP/sys"
"$TOOLS_DIR/fake_powercap" "$Z/intel-rapl:0" 20000000 0 $PKG_RANGE >"$TMP/fake.out" &
fake=$!
wait_ready "$TMP/fake.out"
WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" run -q --sensors rapl-powercap --interval 20 \
    --json "$TMP/gone.json" -- sh -c "sleep 0.4; : >'$Z/intel-rapl:a/energy_uj'; rm '$Z/intel-rapl:a/energy_uj'; sleep 0.4"
status=$?
kill "$fake"
wait "$fake" 2>/dev/null
check "the run goes on when a zone vanishes" test $status -eq 0
check "the vanished channel is marked lost, the others are not" json_true "$TMP/gone.json" '
[c["status"] for c in d["channels"]] == ["ok", "ok", "lost", "ok"]
and "stopped reading" in d["channels"][2]["status_detail"]
and any("cpu-package:1" in w for w in d["warnings"]) and d["complete"] is True'
check "the other channels still measure" json_true "$TMP/gone.json" '
abs(d["channels"][0]["energy_j"] - 20 * d["duration_s"]) <= 0.01 * 20 * d["duration_s"]'

# --- counters that stay at zero while the CPU is busy ------------------------------------
rm -rf "$TMP/sys"
cp -a "$WATTPROF_FIXTURES/sysfs/intel-client" "$TMP/sys"
WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" run -q --sensors rapl-powercap,model \
    --json "$TMP/dead.json" -- "$TOOLS_DIR/burn" 400 "$TMP/burn.cpu"
check "counters stuck at zero are marked not working and left out" json_true "$TMP/dead.json" '
all(c["status"] == "not working" and not c["included_in_total"]
    for c in d["channels"] if c["source"] == "rapl-powercap" and c["name"] == "cpu-package:0")
and d["energy_provenance"] == "estimated" and d["energy_j"] > 0
and any("stayed at zero" in w for w in d["warnings"])'

# --- a root-only tree: the reason and the fix, never a silent guess ---------------------
rm -rf "$TMP/sys"
cp -a "$WATTPROF_FIXTURES/sysfs/intel-client" "$TMP/sys"
chmod -R a+rX "$TMP/sys"
find "$TMP/sys" -name energy_uj -exec chmod 0400 {} +
# The unprivileged user may not reach the build tree (a clone under /root): it runs
# copies of the binary and the data.
cp "$WATTPROF" "$TMP/wattprof"
cp -r "$WATTPROF_DATA" "$TMP/data"
chmod -R a+rX "$TMP/wattprof" "$TMP/data"
as_user() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        find "$TMP/sys" -name energy_uj -exec chmod 0000 {} +
        "$@"
    fi
}
as_user env WATTPROF_SYSFS="$TMP/sys" WATTPROF_DATA="$TMP/data" "$TMP/wattprof" sensors >"$TMP/sensors.out" 2>&1
status=$?
check "sensors still exits 0 (the model works)" test $status -eq 0
check "sensors names the root-only file, CVE-2020-8694 and the fix" sh -c "
grep -q \"rapl-powercap .*cannot read '$TMP/sys/class/powercap/intel-rapl:0/energy_uj': Permission denied\" '$TMP/sensors.out' &&
grep -q 'CVE-2020-8694' '$TMP/sensors.out' && grep -q 'CAP_PERFMON' '$TMP/sensors.out'"
as_user env WATTPROF_SYSFS="$TMP/sys" WATTPROF_DATA="$TMP/data" "$TMP/wattprof" run --json - -q -- true >"$TMP/denied.json" 2>/dev/null
check "a run then says the counters were not readable, in its warnings" json_true "$TMP/denied.json" '
d["energy_provenance"] == "estimated"
and any("rapl-powercap not used" in w and "Permission denied" in w for w in d["warnings"])'

# --- wattprof sensors on fixtures ---------------------------------------------------------
WATTPROF_SYSFS="$WATTPROF_FIXTURES/sysfs/intel-client" "$WATTPROF" sensors >"$TMP/client.out"
check "sensors lists every backend tried" sh -c "
grep -q '^rapl-perf ' '$TMP/client.out' && grep -q '^rapl-powercap  in use' '$TMP/client.out' &&
grep -q '^model ' '$TMP/client.out'"
check "sensors shows the dropped mmio duplicate and psys out of the total" sh -c "
grep -q 'dropped intel-rapl-mmio:0' '$TMP/client.out' &&
grep -q 'psys .*not in total' '$TMP/client.out'"
check "with measured counters the model is kept for comparison only" sh -c "
grep -q 'cpu:estimated .*not in total' '$TMP/client.out'"
"$WATTPROF" sensors --bogus >/dev/null 2>&1
check "sensors rejects an unknown option with 2" test $? -eq 2
"$WATTPROF" sensors --sensors model >"$TMP/model.out"
check "sensors --sensors model skips the others, saying why" sh -c "
grep -q '^rapl-perf .*skipped: not selected' '$TMP/model.out' && grep -q '^model .*in use' '$TMP/model.out'"

finish
