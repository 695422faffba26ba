#!/bin/sh
# The hwmon backends end to end (amdgpu, intel-gpu, the opt-in generic hwmon), through
# WATTPROF_SYSFS fake trees: a real run while a helper advances an Intel GPU's energy
# counter at a known rate and the power gauges hold known constants, then what
# `wattprof sensors` says about each chip.
. "$(dirname "$0")/lib.sh"

# merge DEST FIXTURE...: one tree from several fixtures (their hwmon numbers differ).
merge() {
    dest=$1
    shift
    rm -rf "$dest"
    mkdir -p "$dest"
    for f in "$@"; do
        cp -a "$WATTPROF_FIXTURES/sysfs/$f/." "$dest/"
    done
}

# --- accuracy: gauges integrated, a counter read ----------------------------------------
merge "$TMP/sys" amdgpu-dgpu intel-xe hwmon-generic
H="$TMP/sys/class/hwmon"
# Gauges hold constants (µW): the AMD GPU 60 W; the ina3221 rails 12 W, 3 W, 1.5 W.
echo 60000000 >"$H/hwmon3/power1_input"
echo 12000000 >"$H/hwmon6/power1_input"
echo 3000000 >"$H/hwmon6/power2_input"
echo 1500000 >"$H/hwmon6/power3_input"
# The Intel GPU's card energy counts 25 W from its fixture value.
"$TOOLS_DIR/fake_hwmon" "$H/hwmon5/energy1_input" 25000000 8513340241 >"$TMP/fake.out" &
fake=$!
wait_ready "$TMP/fake.out"
WATTPROF_SYSFS="$TMP/sys" "$WATTPROF" run -q --sensors amdgpu,intel-gpu,hwmon --hwmon ina3221 \
    --json - -- sleep 1.5 >"$TMP/run.json"
status=$?
kill "$fake"
wait "$fake" 2>/dev/null
check "a run on the GPU and ina3221 tree exits 0" test $status -eq 0
check "the channels, their sources, kinds and provenance" json_true "$TMP/run.json" '
[(c["name"], c["source"], c["kind"], c["provenance"], c["domain"]) for c in d["channels"]] == [
    ("gpu:amd0", "amdgpu", "gauge", "integrated", "gpu"),
    ("gpu:intel0", "intel-gpu", "counter", "measured", "gpu"),
    ("hwmon:ina3221:VDD_IN", "hwmon", "gauge", "integrated", "other"),
    ("hwmon:ina3221:VDD_CPU_GPU_CV", "hwmon", "gauge", "integrated", "other"),
    ("hwmon:ina3221:VDD_SOC", "hwmon", "gauge", "integrated", "other")]'
check "how each is read and how it averages" json_true "$TMP/run.json" '
[(c["how"], c["averaging"]) for c in d["channels"][:3]] == [
    ("class/hwmon/hwmon3/power1_input (amdgpu, 0000:03:00.0)", "instantaneous"),
    ("class/hwmon/hwmon5/energy1_input (xe, 0000:07:00.0): card energy", None),
    ("class/hwmon/hwmon6/power1_input (ina3221, 1-0040); coverage unknown: not in the total",
     "instantaneous")]'
check "the GPUs count in the total, the generic chip does not" json_true "$TMP/run.json" '
[c["included_in_total"] for c in d["channels"]] == [True, True, False, False, False]
and not any(c["node_scope"] for c in d["channels"]) and d["energy_provenance"] == "mixed"'
check "each gauge is within 1 % of its power x duration" json_true "$TMP/run.json" '
all(abs(c["energy_j"] - p * d["duration_s"]) <= 0.01 * p * d["duration_s"]
    for c, p in zip([d["channels"][i] for i in (0, 2, 3, 4)], [60, 12, 3, 1.5]))'
check "the counter is within 0.5 % of 25 W x duration" json_true "$TMP/run.json" '
abs(d["channels"][1]["energy_j"] - 25 * d["duration_s"]) <= 0.005 * 25 * d["duration_s"]'
check "the total is the two GPUs, within 1 % of 85 W x duration" json_true "$TMP/run.json" '
abs(d["energy_j"] - 85 * d["duration_s"]) <= 0.01 * 85 * d["duration_s"]'
check "nothing was rejected or lost" json_true "$TMP/run.json" '
all(c["status"] == "ok" and c["anomalies"] == 0 and c["wraps"] == 0 for c in d["channels"])'

# --- wattprof sensors: each channel and how it is read ----------------------------------
merge "$TMP/all" amdgpu-dgpu intel-xe hwmon-generic
WATTPROF_SYSFS="$TMP/all" "$WATTPROF" sensors --hwmon ina3221,power_meter >"$TMP/all.out"
check "sensors exits 0 on the GPU tree" test $? -eq 0
check "sensors shows the AMD GPU gauge and its file" grep -Eq \
    '^    gpu:amd0 +gauge +integrated +in total +class/hwmon/hwmon3/power1_input \(amdgpu, 0000:03:00.0\)$' \
    "$TMP/all.out"
check "sensors shows the Intel GPU counter and its file" grep -Eq \
    '^    gpu:intel0 +counter +measured +in total +class/hwmon/hwmon5/energy1_input \(xe, 0000:07:00.0\): card energy$' \
    "$TMP/all.out"
check "sensors shows the ina3221 rails out of the total" sh -c "
grep -q '^hwmon  *in use, 4 channels' '$TMP/all.out' &&
grep -Eq '^    hwmon:ina3221:VDD_SOC +gauge +integrated +not in total +class/hwmon/hwmon6/power3_input \(ina3221, 1-0040\); coverage unknown' '$TMP/all.out'"
check "sensors shows the ACPI power meter as a whole-node meter" grep -Eq \
    '^    hwmon:power_meter:1 +gauge +integrated +not in total +.*power1_average \(power_meter, ACPI000D:00\); ACPI power meter \(ACPI000D\): whole node$' \
    "$TMP/all.out"

WATTPROF_SYSFS="$TMP/all" "$WATTPROF" sensors >"$TMP/noopt.out"
check "without --hwmon the generic backend says how to select chips" grep -q \
    '^hwmon .*no generic hwmon chips selected (use --hwmon NAME,...)' "$TMP/noopt.out"
WATTPROF_SYSFS="$TMP/all" "$WATTPROF" sensors --hwmon ina226 >"$TMP/bogus.out"
check "a chip that is not there is named, with the chips there are" grep -q \
    "^hwmon .*chip 'ina226' not found under '$TMP/all/class/hwmon' (chips there: k10temp, amdgpu, xe, ina3221, power_meter, acpitz)" \
    "$TMP/bogus.out"

WATTPROF_SYSFS="$WATTPROF_FIXTURES/sysfs/amdgpu-apu" "$WATTPROF" sensors >"$TMP/apu.out"
check "an APU beside RAPL is shown out of the total, saying why" grep -Eq \
    '^    gpu:amd0 +gauge +integrated +not in total +.*APU: power1 includes the CPU; not added to avoid double counting with RAPL$' \
    "$TMP/apu.out"
WATTPROF_SYSFS="$WATTPROF_FIXTURES/sysfs/intel-i915-gt" "$WATTPROF" sensors >"$TMP/gt.out"
check "per-gt chips are skipped beside the device's energy, with a note" sh -c "
grep -Eq '^    gpu:intel0 +counter +measured +in total +class/hwmon/hwmon8/energy1_input' '$TMP/gt.out' &&
grep -q '^    note: skipped hwmon9 (i915_gt0): a part of gpu:intel0' '$TMP/gt.out' &&
grep -q '^    note: skipped hwmon10 (i915_gt1)' '$TMP/gt.out'"
WATTPROF_SYSFS="$WATTPROF_FIXTURES/sysfs/hwmon-none" "$WATTPROF" sensors --hwmon ina3221 >"$TMP/none.out"
check "a tree without GPU or power chips: all three not available" sh -c "
grep -q '^amdgpu .*not available' '$TMP/none.out' && grep -q '^intel-gpu .*not available' '$TMP/none.out' &&
grep -q '^hwmon .*not available' '$TMP/none.out'"

finish
