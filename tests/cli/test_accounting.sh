#!/bin/sh
# wattprof run's carbon, cost and SCI accounting: the JSON's accounting object, the
# summary lines, bad settings (exit 2, nothing run), flags > environment > config file,
# an intensity time series end to end, `wattprof list` and the CodeCarbon export.
. "$(dirname "$0")/lib.sh"
unset WATTPROF_COUNTRY WATTPROF_REGION WATTPROF_CLOUD WATTPROF_PUE WATTPROF_INTENSITY \
    WATTPROF_INTENSITY_SERIES WATTPROF_PRICE WATTPROF_CURRENCY WATTPROF_EMBODIED_KG
export XDG_CONFIG_HOME="$TMP/config"
export WATTPROF_SENSORS=model

"$WATTPROF" run --country DEU --pue 1.12 --price 0.30EUR --units 1000 --unit-name images \
    --json "$TMP/deu.json" -- true 2>"$TMP/summary"
check "a run with settings exits 0" test $? -eq 0
check "accounting uses DEU's shipped figure and says where it came from" json_true "$TMP/deu.json" '
    d["accounting"]["intensity_g_per_kwh"] == 380.95 and d["accounting"]["location"] == "DEU"
    and "DEU 2023 annual average" in d["accounting"]["intensity_source"]
    and d["accounting"]["intensity_kind"] == "average"'
check "PUE once: facility = IT x PUE, CO2e and cost from facility energy" json_true "$TMP/deu.json" '
    abs(d["accounting"]["facility_energy_j"] - d["energy_j"] * 1.12) < 1e-6
    and abs(d["accounting"]["operational_g"] - d["energy_j"] * 1.12 / 3.6e6 * 380.95) < 1e-12
    and abs(d["accounting"]["cost"] - d["energy_j"] * 1.12 / 3.6e6 * 0.30) < 1e-15
    and d["accounting"]["currency"] == "EUR"'
check "SCI is (operational + embodied) per unit" json_true "$TMP/deu.json" '
    abs(d["accounting"]["sci_g_per_unit"] * 1000 - d["accounting"]["total_g"]) < 1e-12
    and abs(d["accounting"]["total_g"] - d["accounting"]["operational_g"] - d["accounting"]["embodied_g"]) < 1e-15'
check "the summary has the four accounting lines" sh -c "
    grep -q '^  energy .* (IT) · .* facility (PUE 1.12, user setting)' '$TMP/summary' &&
    grep -q '^  CO2e  .* operational (380.9 g/kWh average, DEU 2023' '$TMP/summary' &&
    grep -q '^  SCI   .* g CO2e per images' '$TMP/summary' &&
    grep -q '^  cost  .* EUR (0.3 EUR/kWh' '$TMP/summary'"

"$WATTPROF" run -q --json "$TMP/none.json" -- true 2>"$TMP/err"
check "no location: the world average, said so in the JSON" json_true "$TMP/none.json" '
    d["accounting"]["intensity_source"] == "world-average-default" and d["accounting"]["location"] == "unknown"
    and d["accounting"]["intensity_g_per_kwh"] == 475 and d["accounting"]["country_iso_code"] is None
    and any("world average" in w for w in d["warnings"])'
check "unknown values are null, never 0" json_true "$TMP/none.json" '
    d["accounting"]["cost"] is None and d["accounting"]["price_per_kwh"] is None
    and d["accounting"]["sci_g_per_unit"] is None and d["accounting"]["currency"] is None'

"$WATTPROF" run -q --cloud gcp:europe-west4 --json "$TMP/gcp.json" -- true
check "a cloud region: its intensity and the provider's PUE" json_true "$TMP/gcp.json" '
    d["accounting"]["intensity_g_per_kwh"] == 236 and d["accounting"]["pue"] == 1.1
    and d["accounting"]["cloud_provider"] == "gcp" and d["accounting"]["cloud_region"] == "europe-west4"'

# --- bad settings: one line, exit 2, the command never runs ----------------------------
expect_bad() {
    name=$1
    pattern=$2
    shift 2
    rm -f "$TMP/ran"
    "$WATTPROF" run "$@" -- touch "$TMP/ran" >"$TMP/out" 2>"$TMP/err"
    status=$?
    if [ $status -eq 2 ] && [ ! -e "$TMP/ran" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
        grep -q -- "$pattern" "$TMP/err"; then
        ok "$name"
    else
        not_ok "$name" "status $status" "$(cat "$TMP/err")"
    fi
}
expect_bad "unknown country lists close matches" "unknown code 'DUE' (close matches: DEU)" --country DUE
expect_bad "unknown cloud region lists close matches" "close matches: .*europe-west4" --cloud gcp:europe-west44
expect_bad "PUE below 1" "invalid setting 'pue'" --pue 0.9
expect_bad "PUE above 3" "invalid setting 'pue'" --pue 3.5
expect_bad "negative intensity" "invalid setting 'intensity'" --intensity -5
expect_bad "absurd intensity" "invalid setting 'intensity'" --intensity 2500
expect_bad "negative price" "invalid setting 'price'" --price -1
expect_bad "absurd price" "invalid setting 'price'" --price 150EUR
expect_bad "bad currency" "invalid setting 'currency'" --price 0.3 --currency EURO
expect_bad "a broken intensity series names file and line" "negative.csv:2" \
    --intensity-series "$WATTPROF_FIXTURES/series/negative.csv"

# --- flags > environment > config file --------------------------------------------------
mkdir -p "$XDG_CONFIG_HOME/wattprof"
cat >"$XDG_CONFIG_HOME/wattprof/config" <<'CFG'
# wattprof settings
country = FRA
pue = 1.2   # the machine room
price = 0.25 EUR
CFG
"$WATTPROF" run -q --json "$TMP/cfg.json" -- true
check "the config file is read" json_true "$TMP/cfg.json" '
    d["accounting"]["country_iso_code"] == "FRA" and d["accounting"]["pue"] == 1.2
    and d["accounting"]["price_per_kwh"] == 0.25'
WATTPROF_COUNTRY=IND "$WATTPROF" run -q --json "$TMP/env.json" -- true
check "the environment beats the config file" json_true "$TMP/env.json" '
    d["accounting"]["country_iso_code"] == "IND" and d["accounting"]["pue"] == 1.2'
WATTPROF_COUNTRY=IND "$WATTPROF" run -q --country USA --json "$TMP/flag.json" -- true
check "a flag beats the environment" json_true "$TMP/flag.json" '
    d["accounting"]["country_iso_code"] == "USA" and d["accounting"]["intensity_g_per_kwh"] == 369.473'
printf 'colour = red\n' >"$XDG_CONFIG_HOME/wattprof/config"
"$WATTPROF" run -q -- true 2>"$TMP/err"
check "an unknown config key is an error naming file and line" sh -c "
    [ $? -eq 2 ] && grep -q \"config' line 1: unknown key 'colour'\" '$TMP/err'"
rm -f "$XDG_CONFIG_HOME/wattprof/config"

# --- an intensity time series, end to end -----------------------------------------------
printf 'timestamp,g_per_kwh\n2020-01-01T00:00:00Z,200\n' >"$TMP/series.csv"
"$WATTPROF" run -q --intensity-series "$TMP/series.csv" --json "$TMP/series.json" -- sleep 1.3
check "a series sets the run's intensity over its whole timeline" json_true "$TMP/series.json" '
    abs(d["accounting"]["intensity_g_per_kwh"] - 200) < 1e-6 and d["accounting"]["intensity_kind"] == "average"
    and "series.csv" in d["accounting"]["intensity_source"]
    and abs(d["accounting"]["operational_g"] - d["energy_j"] / 3.6e6 * 200) < 1e-9'
"$WATTPROF" run -q --no-store --intensity-series "$WATTPROF_FIXTURES/series/simple.csv" \
    --json "$TMP/simple.json" -- true
check "the colleague's fixture runs unstored, its extrapolation reported" json_true "$TMP/simple.json" '
    abs(d["accounting"]["intensity_g_per_kwh"] - 250.5) < 1e-9 and any("intensity series" in w for w in d["warnings"])'

# --- windows get their own accounting ---------------------------------------------------
cat >"$TMP/win.sh" <<SH
#!/bin/sh
"$WATTPROF" control begin w1 epoch
sleep 0.2
"$WATTPROF" control end w1
"$WATTPROF" control units w1 50 samples
SH
chmod +x "$TMP/win.sh"
"$WATTPROF" run -q --intensity 100 --pue 1.5 --json "$TMP/win.json" -- "$TMP/win.sh"
check "a window's accounting: its facility energy x intensity, SCI per its units" json_true "$TMP/win.json" '
    len(d["windows"]) == 1 and abs(d["windows"][0]["accounting"]["operational_g"]
        - d["windows"][0]["energy_j"] * 1.5 / 3.6e6 * 100) < 1e-12
    and abs(d["windows"][0]["accounting"]["sci_g_per_unit"] * 50 - d["windows"][0]["accounting"]["total_g"]) < 1e-12
    and d["windows"][0]["accounting"]["intensity_source"] == "user setting"'

# --- list and export read the stored accounting ------------------------------------------
id=$(json_get "$TMP/deu.json" 'd["id"]')
"$WATTPROF" list >"$TMP/list"
check "wattprof list shows the run's CO2e" sh -c "grep '^$id ' '$TMP/list' | grep -q ' g '"
"$WATTPROF" export --format codecarbon "$id" >"$TMP/cc.csv"
check "the CodeCarbon export fills emissions, country and pue" "$PYTHON" -c '
import csv, json, sys
row = next(csv.DictReader(open(sys.argv[1])))
d = json.load(open(sys.argv[2]))
assert abs(float(row["emissions"]) - d["accounting"]["total_g"] / 1000) < 1e-15, row
assert row["country_iso_code"] == "DEU" and row["country_name"] == "Germany", row
assert row["pue"] == "1.12" and row["on_cloud"] == "N" and float(row["emissions_rate"]) > 0, row
' "$TMP/cc.csv" "$TMP/deu.json"
"$WATTPROF" show "$id" >"$TMP/show" 2>&1
check "wattprof show prints the recorded accounting" grep -q "DEU 2023 annual average" "$TMP/show"


# --- sub-national regions --------------------------------------------------------------
"$WATTPROF" run -q --no-store --json "$TMP/ca.json" --country USA --region california -- true
check "a US state uses its eGRID figure (lbs/MWh converted)" json_true "$TMP/ca.json" '
abs(d["accounting"]["intensity_g_per_kwh"] - 452.541 * 0.45359237) < 0.001
and d["accounting"]["intensity_source"].startswith("USA/california 2016")'
"$WATTPROF" run -q --no-store --json "$TMP/se.json" --country SWE --region SE3 -- true
check "a Nordic bidding zone, case-insensitive" json_true "$TMP/se.json" '
d["accounting"]["intensity_g_per_kwh"] == 18 and "ENTSO-E" in d["accounting"]["intensity_source"]'
"$WATTPROF" run -q --no-store --json "$TMP/by.json" --country DEU --region bavaria -- true
check "a country without regional data keeps its national figure and says so" json_true "$TMP/by.json" '
"no regional data for DEU" in d["accounting"]["intensity_source"]'
"$WATTPROF" run -q --no-store --country USA --region californa -- touch "$TMP/ran-region" 2>"$TMP/err"
check "an unknown region is an error with close matches, and nothing runs" sh -c "
[ $? -eq 2 ] && [ ! -e '$TMP/ran-region' ] && grep -q 'close matches: california' '$TMP/err'"

finish
