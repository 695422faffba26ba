#!/bin/sh
# NVIDIA GPUs end to end, through the fake NVML (tests/fake_nvml, built into TOOLS_DIR):
# the channels a run reports and how they are read, their accuracy, the total,
# CUDA_VISIBLE_DEVICES, a GPU lost mid-run, and `wattprof sensors`.
. "$(dirname "$0")/lib.sh"

NVML="$TOOLS_DIR/libfake_nvml.so"
# No RAPL: the GPUs and the model are the whole machine, whatever this host has.
export WATTPROF_SYSFS="$WATTPROF_FIXTURES/sysfs/empty"
unset CUDA_VISIBLE_DEVICES FAKE_NVML_PROCS FAKE_NVML_FAIL

# --- a counter GPU and an averaged-gauge GPU ---------------------------------------------
WATTPROF_NVML_LIB="$NVML" FAKE_NVML_DEVICES=energy:250,power_avg:75 \
    "$WATTPROF" run -q --json - -- sleep 1 >"$TMP/gpu.json"
check "a run with two fake GPUs exits 0" test $? -eq 0
check "gpu:0 is a measured energy counter from nvml" json_true "$TMP/gpu.json" '
any(c["name"] == "gpu:0" and c["source"] == "nvml" and c["kind"] == "counter"
    and c["provenance"] == "measured" and c["domain"] == "gpu"
    and c["averaging"] == "counter, ~100 ms updates"
    and "nvmlDeviceGetTotalEnergyConsumption" in c["how"] and "GPU-00000000-" in c["how"]
    for c in d["channels"])'
check "gpu:1 is an integrated gauge that says how it averages" json_true "$TMP/gpu.json" '
any(c["name"] == "gpu:1" and c["source"] == "nvml" and c["kind"] == "gauge"
    and c["provenance"] == "integrated"
    and c["averaging"] == "trailing average (1 s on Ampere and newer)"
    and "nvmlDeviceGetPowerUsage" in c["how"] for c in d["channels"])'
check "the counter is within 0.5 % and the gauge within 2 % of the truth" json_true "$TMP/gpu.json" '
all(abs(c["energy_j"] - w * d["duration_s"]) <= tol * w * d["duration_s"]
    for c in d["channels"] for n, w, tol in [("gpu:0", 250, 0.005), ("gpu:1", 75, 0.02)]
    if c["name"] == n)'
check "the total adds both GPUs and the model, and says it is mixed" json_true "$TMP/gpu.json" '
d["totals"]["components"]["includes"][:2] == ["gpu:0", "gpu:1"]
and abs(d["energy_j"] - sum(c["energy_j"] for c in d["channels"] if c["included_in_total"])) < 1e-3
and d["energy_j"] > 325 * d["duration_s"] * 0.99 and d["energy_provenance"] == "mixed"'
check "GPU energy is attributed by device share (none: no GPU process)" json_true "$TMP/gpu.json" '
all(c["attribution"] == "device share of the process tree" and c["attributed_energy_j"] == 0
    for c in d["channels"] if c["source"] == "nvml")'

# --- CUDA_VISIBLE_DEVICES ------------------------------------------------------------------
CUDA_VISIBLE_DEVICES=GPU-00000001 WATTPROF_NVML_LIB="$NVML" FAKE_NVML_DEVICES=energy:250,power_avg:75 \
    "$WATTPROF" run -q --sensors nvml --json - -- true >"$TMP/visible.json"
check "CUDA_VISIBLE_DEVICES by UUID prefix: the job's gpu:0 is NVML's GPU 1" json_true "$TMP/visible.json" '
[c["name"] for c in d["channels"]] == ["gpu:0"] and "(nvml 1)" in d["channels"][0]["how"]'
CUDA_VISIBLE_DEVICES= WATTPROF_NVML_LIB="$NVML" FAKE_NVML_DEVICES=energy:250 \
    "$WATTPROF" sensors >"$TMP/hidden.out"
check "an empty CUDA_VISIBLE_DEVICES hides the GPUs, saying so" \
    grep -q "^nvml .*not available.*CUDA_VISIBLE_DEVICES='' hides every GPU (1 found)" "$TMP/hidden.out"

# --- a GPU lost mid-run ------------------------------------------------------------------------
WATTPROF_NVML_LIB="$NVML" FAKE_NVML_DEVICES=energy:250,error_after:150:0.3 \
    "$WATTPROF" run -q --sensors nvml --json - -- sleep 0.8 >"$TMP/lost.json"
check "the run goes on when a GPU is lost" test $? -eq 0
check "the lost GPU is marked lost, the other one still measures" json_true "$TMP/lost.json" '
[c["status"] for c in d["channels"]] == ["ok", "lost"]
and any("gpu:1" in w for w in d["warnings"])
and abs(d["channels"][0]["energy_j"] - 250 * d["duration_s"]) <= 0.005 * 250 * d["duration_s"]
and 0 < d["channels"][1]["energy_j"] <= 150 * 0.31'

# --- wattprof sensors ------------------------------------------------------------------------
WATTPROF_NVML_LIB="$NVML" FAKE_NVML_DEVICES=energy:250,power_instant:100 \
    "$WATTPROF" sensors >"$TMP/sensors.out"
check "sensors exits 0 with the fake GPUs" test $? -eq 0
check "sensors lists the GPU channels and how each is read" sh -c "
grep -q '^nvml  *in use, 2 channels' '$TMP/sensors.out' &&
grep -q 'gpu:0  *counter  *measured  *in total .*nvmlDeviceGetTotalEnergyConsumption' '$TMP/sensors.out' &&
grep -q 'gpu:1  *gauge  *integrated in total .*NVML_FI_DEV_POWER_INSTANT' '$TMP/sensors.out'"
check "sensors notes the GPUs selected and the fallback to power" sh -c "
grep -q 'note: CUDA_VISIBLE_DEVICES unset: 2 of 2 GPUs: gpu:0 = nvml 0, gpu:1 = nvml 1' '$TMP/sensors.out' &&
grep -q 'note: gpu:1: no energy counter (pre-Volta or not supported): integrating instantaneous power' '$TMP/sensors.out'"
WATTPROF_NVML_LIB=/nonexistent/libnvidia-ml.so.1 "$WATTPROF" sensors >"$TMP/nolib.out"
check "without the library, sensors says which one it looked for" \
    grep -q "^nvml .*not available.*no NVIDIA driver library ('/nonexistent/libnvidia-ml.so.1'" "$TMP/nolib.out"

finish
