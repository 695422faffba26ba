#!/bin/sh
# wattprof schedule and run --defer: the best start on each forecast format, regions, the
# JSON contract, the sbatch line, chunks, --like, bad input (exit 2, nothing runs), and a
# deferred start that really waits, or is cancelled by Ctrl-C (130) without running.
. "$(dirname "$0")/lib.sh"

FC="$WATTPROF_FIXTURES/forecast"
SERIES="$WATTPROF_FIXTURES/series"
NOW=2026-01-15T00:00:00Z

"$WATTPROF" schedule --duration 2h --within 8h --forecast "$FC/step.csv" --now $NOW \
    --energy-kwh 10 >"$TMP/out" 2>"$TMP/err"
check "text: the best start of a step forecast, in UTC" \
    grep -q '^best start:   2026-01-15T03:00:00Z to 2026-01-15T05:00:00Z: 50.0 gCO2e/kWh, 500.0 g' "$TMP/out"
check "text: against starting now, in grams and %" \
    grep -q '^saving:       3000.0 g CO2e (85.7 %) against starting now' "$TMP/out"
check "text: the alternatives do not overlap the best" \
    sh -c "grep -A1 '^alternatives:' '$TMP/out' | grep -q '2026-01-15T01:00:00Z to 2026-01-15T03:00:00Z: 250.0'"

"$WATTPROF" schedule --duration 2h --within 8h --forecast "$FC/step.csv" --now $NOW \
    --energy-kwh 10 --json - >"$TMP/plan.json"
check "JSON: best, now, saving_pct, alternatives, forecast (the issue's contract)" json_true "$TMP/plan.json" '
d["best"] == {"start": "2026-01-15T03:00:00Z", "end": "2026-01-15T05:00:00Z",
              "mean_g_per_kwh": 50.0, "expected_g": 500.0}
and d["now"]["start"] == "2026-01-15T00:00:00Z" and d["now"]["mean_g_per_kwh"] == 350.0
and d["now"]["expected_g"] == 3500.0 and abs(d["saving_pct"] - 85.714) < 0.001
and all(set(a) == {"start", "end", "mean_g_per_kwh", "expected_g"} for a in d["alternatives"])
and d["forecast"]["source"] == "CSV file step.csv" and d["forecast"]["kind"] == "average"'

"$WATTPROF" schedule --duration 1h --within 4h --forecast DE="$FC/step.csv" \
    --forecast FR="$FC/region_fr.csv" --now $NOW --format json >"$TMP/regions.json"
check "regions: the cleaner region at its own 30-minute resolution" json_true "$TMP/regions.json" '
d["best"]["region"] == "FR" and d["best"]["start"] == "2026-01-15T01:30:00Z"
and d["best"]["mean_g_per_kwh"] == 30.0 and d["now"]["region"] == "DE"
and [f["resolution_s"] for f in d["forecasts"]] == [3600.0, 1800.0]'

"$WATTPROF" schedule --duration 10m --within 25m --forecast "$FC/watttime_forecast.json" \
    --now $NOW --json - >"$TMP/wt.json"
check "WattTime forecast: marginal, generated_at, lbs/MWh converted" json_true "$TMP/wt.json" '
d["best"]["start"] == "2026-01-15T00:10:00Z" and d["forecast"]["kind"] == "marginal"
and d["forecast"]["generated_at"] == "2026-01-14T23:55:00Z"
and abs(d["best"]["mean_g_per_kwh"] - 450 * 0.45359237) < 0.001
and d["forecast"]["source"].startswith("WattTime forecast, region CAISO_NORTH")'

"$WATTPROF" schedule --duration 1h --within 4h --forecast "$FC/electricitymaps_forecast.json" \
    --now $NOW --json - >"$TMP/em.json"
check "Electricity Maps forecast: average, updatedAt as generated_at" json_true "$TMP/em.json" '
d["best"]["start"] == "2026-01-15T02:00:00Z" and d["forecast"]["kind"] == "average"
and d["forecast"]["generated_at"] == "2026-01-14T22:00:00Z"'

"$WATTPROF" schedule --duration 10m --within 25m --forecast "$FC/carbon_aware_sdk_forecast.json" \
    --now $NOW --json - >"$TMP/sdk.json"
check "Carbon Aware SDK forecast: the start the SDK itself found optimal" json_true "$TMP/sdk.json" '
d["best"]["start"] == "2026-01-15T00:10:00Z" and d["best"]["mean_g_per_kwh"] == 10.0
and d["forecast"]["source"] == "Carbon Aware SDK forecast, location northeurope"'

"$WATTPROF" schedule --duration 1h --within 3h --forecast "$SERIES/carbon_aware_sdk_emissions.json" \
    --now 2026-01-15T12:00:00Z --json - >"$TMP/sdke.json"
check "Carbon Aware SDK emissions file (the accounting fixtures)" json_true "$TMP/sdke.json" '
d["best"]["start"] == "2026-01-15T12:00:00Z" and d["best"]["mean_g_per_kwh"] == 140.5'

TZ=UTC "$WATTPROF" schedule --duration 2h --within 8h --forecast "$FC/step.csv" --now $NOW \
    --format sbatch -- --job-name=x 'my job.sh' >"$TMP/sbatch"
check "sbatch: --begin in local time (here UTC), job arguments quoted" \
    grep -qx "sbatch --begin=2026-01-15T03:00:00 --job-name=x 'my job.sh'" "$TMP/sbatch"
check "sbatch: a comment gives the UTC time" grep -q '^# best start 2026-01-15T03:00:00Z (UTC)' "$TMP/sbatch"

"$WATTPROF" schedule --duration 2h --within 8h --forecast "$FC/step.csv" --now $NOW \
    --interruptible --chunks 2 --json - >"$TMP/chunks.json"
check "interruptible: the cleanest separate slots" json_true "$TMP/chunks.json" '
[c["start"] for c in d["chunks"]] == ["2026-01-15T03:00:00Z", "2026-01-15T04:00:00Z"]'

"$WATTPROF" schedule --duration 2h --within 7h --forecast "$FC/gap.csv" --now $NOW --json - >"$TMP/gap.json"
check "a start that needs data from a gap is left out and counted" json_true "$TMP/gap.json" '
d["best"]["start"] == "2026-01-15T05:00:00Z" and d["excluded"] == 1'

"$WATTPROF" schedule --duration 1h --within 8h --forecast "$FC/step.csv" --now $NOW \
    --max-intensity 250 --json - >"$TMP/max.json"
check "--max-intensity: the first slot below the threshold" json_true "$TMP/max.json" '
d["best"]["start"] == "2026-01-15T02:00:00Z" and d["max_intensity_met"] is True'

"$WATTPROF" run -q --sensors model --json "$TMP/run.json" -- sleep 1
id=$(json_get "$TMP/run.json" 'd["id"]')
"$WATTPROF" schedule --like "$id" --within 8h --forecast "$FC/step.csv" --now $NOW \
    --json - >"$TMP/like.json" 2>"$TMP/err"
check "--like RUN: the stored run's energy and length" json_true "$TMP/like.json" '
d["duration_s"] >= 1 and d["best"]["expected_g"] > 0 and d["best"]["start"] == "2026-01-15T03:00:00Z"'

for bad in 3x h 2h30 30m2h 0h 3h3h " 3h" 1.5h -1h 999999d; do
    "$WATTPROF" schedule --duration "$bad" --within 8h --forecast "$FC/step.csv" >"$TMP/out" 2>"$TMP/err"
    status=$?
    check "bad duration '$bad': exit 2 with the usage" \
        sh -c "test $status -eq 2 && grep -q 'invalid --duration' '$TMP/err' && grep -q '^usage:' '$TMP/err'"
done

"$WATTPROF" schedule --duration 3h --within 2h --forecast "$FC/step.csv" 2>"$TMP/err"
check "--within shorter than --duration: exit 2" \
    sh -c "test $? -eq 2 && grep -q 'shorter than --duration' '$TMP/err'"

"$WATTPROF" schedule --duration 2h --within 24h --forecast "$FC/step.csv" --now 2026-01-15T07:00:00Z \
    2>"$TMP/err"
check "a forecast that does not cover the window says which part is missing" \
    sh -c "test $? -eq 2 && grep -q 'no data from 2026-01-15T08:00:00Z to 2026-01-16T07:00:00Z' '$TMP/err'"

"$WATTPROF" schedule --duration 1h --within 2h --forecast "$FC/malformed.csv" 2>"$TMP/err"
check "a malformed forecast: file, line and column" \
    sh -c "test $? -eq 2 && grep -q 'malformed.csv:3:22: ' '$TMP/err'"

"$WATTPROF" schedule --duration 1h --within 2h --forecast "$SERIES/duplicate.csv" 2>"$TMP/err"
check "duplicated timestamps are refused" sh -c "test $? -eq 2 && grep -q 'duplicate timestamp' '$TMP/err'"

# --defer: a forecast in seconds whose best slot is 2 s after --now.
T0=1768435200
printf 'timestamp,g_per_kwh\n%s,500\n%s,100\n%s,500\n%s,500\n' $T0 $((T0 + 2)) $((T0 + 4)) \
    $((T0 + 6)) >"$TMP/soon.csv"
start=$(date +%s%N)
"$WATTPROF" run -q --sensors model --no-store --defer --duration 2s --within 6s \
    --forecast "$TMP/soon.csv" --now $NOW -- touch "$TMP/ran" 2>"$TMP/err"
status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "--defer waits for the best slot, then runs the command" \
    sh -c "test $status -eq 0 && test -e '$TMP/ran' && test $elapsed_ms -ge 1900"
check "--defer says until when and why" \
    grep -q 'waiting until 2026-01-15T00:00:02Z (2 s; Ctrl-C cancels): the cleanest start' "$TMP/err"

rm -f "$TMP/ran"
"$WATTPROF" run -q --sensors model --no-store --defer --duration 2s --within 6s --max-intensity 600 \
    --forecast "$TMP/soon.csv" --now $NOW -- touch "$TMP/ran" 2>"$TMP/err"
check "--max-intensity: starts at once when now is below it" \
    sh -c "test -e '$TMP/ran' && grep -q 'starting now: the first start below 600.0' '$TMP/err'"

rm -f "$TMP/ran"
printf 'timestamp,g_per_kwh\n%s,500\n%s,100\n%s,500\n' $T0 $((T0 + 60)) $((T0 + 120)) >"$TMP/later.csv"
env --default-signal=INT "$WATTPROF" run -q --no-store --defer --duration 1m --within 3m \
    --forecast "$TMP/later.csv" --now $NOW -- touch "$TMP/ran" 2>"$TMP/err" &
wpid=$!
for _ in $(seq 100); do
    grep -q 'waiting until' "$TMP/err" 2>/dev/null && break
    sleep 0.05
done
kill -INT "$wpid"
wait "$wpid"
status=$?
check "Ctrl-C while waiting: exit 130, the command never ran" \
    sh -c "test $status -eq 130 && test ! -e '$TMP/ran' && grep -q 'did not run' '$TMP/err'"

"$WATTPROF" run -q --no-store --defer --within 1h --duration 2h --forecast "$FC/step.csv" \
    -- touch "$TMP/ran" 2>"$TMP/err"
check "run --defer with --within shorter than --duration: exit 2, nothing runs" \
    sh -c "test $? -eq 2 && test ! -e '$TMP/ran'"

"$WATTPROF" run -q --no-store --forecast "$FC/step.csv" -- touch "$TMP/ran" 2>"$TMP/err"
check "--forecast without --defer is refused" sh -c "test $? -eq 2 && test ! -e '$TMP/ran'"

finish
