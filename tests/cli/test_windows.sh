#!/bin/sh
# Windows, units and metrics reported through WATTPROF_CONTROL by a shell workload
# (`wattprof control`), nested and overlapping, with bad lines and a window left open.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/work.sh" <<SH
#!/bin/sh
w="$WATTPROF"
\$w control begin t1 train
\$w control begin e1 epoch
$TOOLS_DIR/burn 200 $TMP/b1
\$w control begin o1 overlap
\$w control end e1
\$w control units e1 512 samples
\$w control metric accuracy 0.875 e1
\$w control end t1
$TOOLS_DIR/burn 100 $TMP/b2
\$w control end o1
\$w control metric loss 0.25
\$w control run-units 512 samples
\$w control this is not a message
\$w control begin only-a-tag
\$w control begin l1 left-open
SH
chmod +x "$TMP/work.sh"
"$WATTPROF" run -q --json "$TMP/win.json" -- "$TMP/work.sh"
check "a workload with windows exits 0" test $? -eq 0
check "the windows are listed in order, nested and overlapping" json_true "$TMP/win.json" '
[w["name"] for w in d["windows"]] == ["train", "epoch", "overlap", "left-open"]
and d["windows"][0]["start_s"] <= d["windows"][1]["start_s"]
and d["windows"][1]["end_s"] <= d["windows"][0]["end_s"]
and d["windows"][2]["start_s"] < d["windows"][1]["end_s"] < d["windows"][2]["end_s"]
and d["windows"][2]["end_s"] > d["windows"][0]["end_s"]'
check "each window has energy, per channel, within the run's" json_true "$TMP/win.json" '
all(0 < w["energy_j"] <= d["energy_j"] + 1e-6 and w["attributed_energy_j"] <= w["energy_j"]
    and abs(sum(c["energy_j"] for c in w["channels"] if c["name"] in d["totals"]["components"]["includes"]) - w["energy_j"]) < 1e-5
    for w in d["windows"])'
check "units, energy per unit and metrics of a window" json_true "$TMP/win.json" '
d["windows"][1]["units"] == 512 and d["windows"][1]["unit_name"] == "samples"
and abs(d["windows"][1]["energy_per_unit_j"] - d["windows"][1]["attributed_energy_j"] / 512) < 1e-6
and d["windows"][1]["metrics"] == {"accuracy": 0.875} and d["windows"][0]["units"] is None'
check "run-level metrics and units" json_true "$TMP/win.json" '
d["metrics"] == {"loss": 0.25} and d["units"] == 512'
check "the window left open is closed at the end and marked" json_true "$TMP/win.json" '
d["windows"][3]["complete"] is False and all(w["complete"] for w in d["windows"][:3])
and any("still open" in w for w in d["warnings"])'
check "lines that do not parse are counted and reported" json_true "$TMP/win.json" '
any("2 control message(s) could not be understood" in w for w in d["warnings"])
and any("this is not a message" in w for w in d["warnings"])'
# (its share of the machine depends on what else runs: tests run two at a time)
check "the CPU-burning window is attributed part of its energy" json_true "$TMP/win.json" '
0 < d["windows"][1]["attributed_energy_j"] <= d["windows"][1]["energy_j"]'

"$WATTPROF" control begin x y
check "wattprof control outside a run does nothing and exits 0" test $? -eq 0
"$WATTPROF" control --strict begin x y 2>"$TMP/err"
check "--strict outside a run exits 1 and says why" sh -c "[ $? -eq 1 ] && grep -q WATTPROF_CONTROL '$TMP/err'"
"$WATTPROF" control 2>/dev/null
check "wattprof control without a message is a usage error" test $? -eq 2

finish
