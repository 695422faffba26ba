#!/bin/sh
# wattprof bench: small real studies (the C MLP example, a CPU burner, failing and
# timing-out variants), the JSON "wattprof.study/1", and bad study files.
. "$(dirname "$0")/lib.sh"
: "${MLP_TRAIN:?set MLP_TRAIN to the mlp-train example}"

# 1. The MLP: 2 variants x 3 runs; the quality bar (accuracy >= 0.9 after 2 epochs)
# is met by hidden=32 (0.9139) and missed by hidden=16 (0.8917): deterministic (seed 1).
cat >"$TMP/mlp.yaml" <<EOT
name: mlp-hidden
command: $MLP_TRAIN --epochs 2 --hidden {hidden} --report-metric
matrix: { hidden: [16, 32] }
baseline: { hidden: 16 }
repetitions: { min: 3, max: 3 }
warmup: 1
cooldown_s: 0
idle_baseline_s: 0.2
seed: 1234
quality: { metric: accuracy, at_least: 0.9 }
EOT
check "a study of the MLP example runs" "$WATTPROF" bench -q "$TMP/mlp.yaml" --json "$TMP/mlp.json"
"$WATTPROF" bench -q "$TMP/mlp.yaml" >"$TMP/mlp.txt" 2>"$TMP/mlp.err"
j=$TMP/mlp.json
check "the JSON is wattprof.study/1 with the seed" json_true "$j" \
    'd["schema"] == "wattprof.study/1" and d["seed"] == 1234 and d["name"] == "mlp-hidden"'
check "every variant has 3 runs that count and one warm-up" json_true "$j" \
    'all(v["stats"]["energy_per_unit_j"]["n"] == 3 and sum(r["warmup"] for r in v["runs"]) == 1 for v in d["variants"])'
check "the order lists the 8 runs" json_true "$j" 'len(d["order"]) == 8'
check "units come from the workload (samples trained)" json_true "$j" \
    'all(r["units"] == 2874 for v in d["variants"] for r in v["runs"])'
check "the accuracy is summarised" json_true "$j" \
    'abs(d["variants"][1]["stats"]["accuracy"]["mean"] - 0.9139) < 1e-3'
check "stats have mean, sd and a CI around the mean" json_true "$j" \
    'all(s["ci_low"] <= s["mean"] <= s["ci_high"] and s["sd"] >= 0 for v in d["variants"] for s in [v["stats"]["energy_j"]])'
check "the quality bar excludes hidden=16" json_true "$j" \
    'not d["variants"][0]["meets_quality"] and d["variants"][1]["meets_quality"]'
check "the recommendation is the variant meeting the bar" json_true "$j" \
    'd["recommendation"]["variant"] == "hidden=32" and d["recommendation"]["reason"]'
check "comparisons carry ratio, CI, p, Holm, effect and verdict" json_true "$j" \
    'len(d["comparisons"]) == 2 and all(c["verdict"] in ("better", "worse", "no-difference") and c["baseline"] == "hidden=16" and "p_holm" in c and "effect_size" in c for c in d["comparisons"])'
check "comparisons carry Mann-Whitney p with the low-n warning (n = 3)" json_true "$j" \
    'all(0 <= c["p_mannwhitney"] <= 1 and c["mannwhitney_warning"] == "Mann-Whitney below n = 9: low power" for c in d["comparisons"])'
check "the text has the table and the recommendation" grep -q "^recommendation: hidden=32" "$TMP/mlp.txt"
check "the workload's output stays off stdout" sh -c "! grep -q 'final test accuracy' '$TMP/mlp.txt'"
check "every run is stored with study, variant and rep labels" sh -c \
    "test \$('$WATTPROF' list -n 0 --label study=mlp-hidden --label variant=hidden=32 | grep -cE '^[0-9a-f]{8} ') -ge 4 &&
     test \$('$WATTPROF' list -n 0 --label study=mlp-hidden --label rep=warmup-1 | grep -cE '^[0-9a-f]{8} ') -ge 2"

# 2. One variant does twice the work: found (p < 0.01); two identical variants are not
# called different.
# The work is a sleep: its duration does not depend on the load of the test machine
# (CPU-bound work on a shared 2-core VM is too noisy for a fixed p < 0.01).
cat >"$TMP/burn.yaml" <<EOT
name: twice
command: sleep {s}
matrix: { s: [0.1, 0.2] }
repetitions: { min: 5, max: 5 }
warmup: 0
order: abba
EOT
check "a study with twice the work runs" "$WATTPROF" bench -q --no-store "$TMP/burn.yaml" --json "$TMP/burn.json"
# (ratio near 2: each run also pays a process start, tens of ms on a loaded machine)
check "twice the work is found (p < 0.01, worse, ratio near 2)" json_true "$TMP/burn.json" \
    '[c for c in d["comparisons"] if c["quantity"] == "time_per_unit_s" and c["p_value"] < 0.01 and c["verdict"] == "worse" and 1.6 < c["ratio"] < 2.1]'
# Progress: one plain line per run when stderr is not a terminal; on a terminal one
# line rewritten with \r (checked through script(1) when it is installed).
"$WATTPROF" bench --no-store "$TMP/burn.yaml" >/dev/null 2>"$TMP/progress.err"
check "progress off a terminal: one line per run, no carriage return" sh -c \
    "test \$(grep -c '^wattprof: s=0.2 run [0-9]*: [0-9.]* s, [0-9.]* J\$' '$TMP/progress.err') -eq 5 && ! grep -q \"\$(printf '\\r')\" '$TMP/progress.err'"
if command -v script >/dev/null 2>&1; then
    script -qec "'$WATTPROF' bench --no-store '$TMP/burn.yaml'" /dev/null >"$TMP/progress.tty" 2>&1
    check "progress on a terminal: rewritten with carriage returns, with ETA and energy" sh -c \
        "grep -q \"\$(printf '\\r')variant s=0.* run [0-9]*/5  elapsed [0-9]*s  ETA [0-9]*s  energy so far [0-9]* J\" '$TMP/progress.tty'"
fi
check "abba runs A B B A" json_true "$TMP/burn.json" \
    '[o["variant"] for o in d["order"][:4]] == ["s=0.1", "s=0.2", "s=0.2", "s=0.1"]'
cat >"$TMP/same.yaml" <<EOT
name: same
command: "sleep 0.05; : {copy}"
shell: true
matrix: { copy: [a, b] }
repetitions: { min: 4, max: 20, target_ci: 0.5 }
warmup: 0
order: abba
EOT
# Energy here is the model's estimate, which follows the whole machine's load; the other
# tests run beside this one, so interleave (abba) and use a noise threshold that load
# drift does not reach: identical variants must still never be called different.
check "a study of identical variants runs" "$WATTPROF" bench -q --no-store --noise-threshold 25 \
    "$TMP/same.yaml" --json "$TMP/same.json"
check "identical variants are not called different" json_true "$TMP/same.json" \
    'all(c["verdict"] == "no-difference" for c in d["comparisons"])'
check "adaptive stopping stops before max" json_true "$TMP/same.json" \
    'all(len(v["runs"]) < 20 for v in d["variants"])'

# Outliers are flagged, never removed: the 4th of 7 runs burns 40 times the CPU. (CPU,
# not sleep: the energy per unit is the attributed energy, the run's share of the busy
# CPU time, which a sleeping run does not grow when other tests load the machine; and
# 40 times, because under load that share varies several-fold from run to run, which
# widens the MAD the outlier rule scales with.)
cat >"$TMP/outl.yaml" <<EOT
name: outl
command: "n=\$(cat $TMP/outl.cnt 2>/dev/null || echo 0); n=\$((n+1)); echo \$n >$TMP/outl.cnt; if [ \$n -eq 4 ]; then $TOOLS_DIR/burn 2000 $TMP/o.cpu; else $TOOLS_DIR/burn 50 $TMP/o.cpu; fi; : {v}"
shell: true
matrix: { v: [a] }
repetitions: { min: 7, max: 7 }
warmup: 0
cooldown_s: 0
EOT
check "a study with one slow run runs" "$WATTPROF" bench -q --no-store "$TMP/outl.yaml" --json "$TMP/outl.json"
check "the slow run is flagged as an outlier and still counted" json_true "$TMP/outl.json" \
    '4 in [r["index"] for r in d["variants"][0]["runs"] if r["outlier"]] and d["variants"][0]["stats"]["energy_per_unit_j"]["n"] == 7'
rm -f "$TMP/outl.cnt"
"$WATTPROF" bench -q --no-store "$TMP/outl.yaml" >"$TMP/outl.txt" 2>/dev/null
check "the text table counts the outliers" sh -c "
    grep -qE '^v=a +7/7 +[1-9] ' '$TMP/outl.txt' || { cat '$TMP/outl.txt'; exit 1; }"

# Quality from a regex on the workload's stdout (the last match wins) and from a JSON file.
cat >"$TMP/rx.yaml" <<EOT
name: rx
command: "echo accuracy 0.5; echo accuracy 0.{q}"
shell: true
matrix: { q: [96, 90] }
repetitions: { min: 2, max: 2 }
warmup: 0
cooldown_s: 0
quality: { metric: accuracy, at_least: 0.95, regex: 'accuracy ([0-9.]+)' }
EOT
check "a study with a quality regex runs" "$WATTPROF" bench -q --no-store "$TMP/rx.yaml" --json "$TMP/rx.json"
check "the regex's last match is the quality" json_true "$TMP/rx.json" \
    'd["variants"][0]["stats"]["accuracy"]["mean"] == 0.96 and d["variants"][0]["meets_quality"] and not d["variants"][1]["meets_quality"]'
cat >"$TMP/mf.yaml" <<EOT
name: mf
command: 'printf "\173\"accuracy\": 0.{q}\175" >$TMP/m.json'
shell: true
matrix: { q: [97] }
repetitions: { min: 2, max: 2 }
warmup: 0
cooldown_s: 0
quality: { metric: accuracy, metrics_file: $TMP/m.json }
EOT
check "a study with a metrics file runs" "$WATTPROF" bench -q --no-store "$TMP/mf.yaml" --json "$TMP/mf.json"
check "the metrics file gives the quality" json_true "$TMP/mf.json" \
    'd["variants"][0]["stats"]["accuracy"]["mean"] == 0.97'
sed 's/accuracy (/acc (/' "$TMP/rx.yaml" >"$TMP/rx2.yaml"
"$WATTPROF" bench -q --no-store "$TMP/rx2.yaml" --json "$TMP/rx2.json" >/dev/null 2>&1
check "a regex without a match excludes the run, naming the key and line" json_true "$TMP/rx2.json" \
    'all(r["excluded"].startswith("metric ") and r["excluded"].endswith("accuracy\x27: quality.regex (line 8) matched nothing in the output") for r in d["variants"][0]["runs"])'

# 3. A failing and a timing-out variant: recorded, excluded with a reason, listed.
cat >"$TMP/fail.yaml" <<EOT
name: failing
command: case {mode} in fail) exit 3;; slow) sleep 10;; esac
shell: true
matrix: { mode: [ok, fail, slow] }
repetitions: { min: 2, max: 2 }
warmup: 0
timeout_s: 0.3
EOT
start=$(date +%s)
check "a study with failing variants completes" "$WATTPROF" bench -q --no-store "$TMP/fail.yaml" --json "$TMP/fail.json"
check "the timeout kills the slow runs" test $(($(date +%s) - start)) -lt 5
check "a non-zero exit is excluded with its reason" json_true "$TMP/fail.json" \
    'all(r["excluded"] == "exit status 3" and r["exit_code"] == 3 for r in d["variants"][1]["runs"])'
check "a timeout is excluded with its reason" json_true "$TMP/fail.json" \
    'all(r["excluded"].startswith("timeout after 0.3 s") for r in d["variants"][2]["runs"])'
check "excluded runs are not in the statistics" json_true "$TMP/fail.json" \
    'd["variants"][1]["stats"]["energy_j"]["n"] == 0 and d["variants"][0]["stats"]["energy_j"]["n"] == 2'
"$WATTPROF" bench -q --no-store "$TMP/fail.yaml" >"$TMP/fail.txt" 2>&1
check "the text lists the excluded runs" grep -q "excluded: mode=slow run 1: timeout" "$TMP/fail.txt"

# 4. Bad input: one clear error each (file:line:column), exit 2, nothing runs.
bad() { # NAME WHERE MESSAGE YAML
    printf '%s\n' "$4" >"$TMP/bad.yaml"
    "$WATTPROF" bench "$TMP/bad.yaml" >"$TMP/bad.out" 2>"$TMP/bad.err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "bad.yaml:$2: .*$3" "$TMP/bad.err" && [ ! -s "$TMP/bad.out" ]; then
        ok "bad input: $1"
    else
        not_ok "bad input: $1" "exit $rc" "$(cat "$TMP/bad.err")"
    fi
}
base='name: x
command: touch '"$TMP"'/ran-{v}
matrix: { v: [a, b] }'
bad "unknown key" "4:1" "unknown key 'colour'" "$base
colour: red"
bad "wrong type" "4:9" "'warmup' must be a whole number" "$base
warmup: [1]"
bad "empty matrix" "3:9" "matrix is empty" "name: x
command: touch {v}
matrix: {}"
bad "baseline not in the matrix" "4:16" "not in matrix key 'v'" "$base
baseline: { v: c }"
bad "placeholder without a value" "2:10" "placeholder '{w}'" "name: x
command: touch {v} {w}
matrix: { v: [a] }"
bad "min > max" "4:14" "min (5) is greater than max (2)" "$base
repetitions: { min: 5, max: 2 }"
check "--eta outside 0..1 is refused" sh -c "! '$WATTPROF' bench --eta 1.5 '$TMP/mlp.yaml' 2>/dev/null"
check "--eta 1 recommends the fastest variant" sh -c \
    "'$WATTPROF' bench -q --no-store --eta 1 '$TMP/burn.yaml' --json - | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"eta\"] == 1 and d[\"recommendation\"][\"variant\"] == \"s=0.1\"'"
check "--dry-run without history says so" sh -c \
    "'$WATTPROF' bench --dry-run '$TMP/burn.yaml' | grep -qx 'estimate: no estimate (no earlier runs)'"
check "--dry-run estimates from the stored runs of the study" sh -c \
    "'$WATTPROF' bench --dry-run '$TMP/mlp.yaml' | grep -qE '^estimate \(from [0-9]+ earlier runs\): [0-9.]+ to [0-9.]+ s, [0-9.]+ to [0-9.]+ J$'"
check "nothing ran for bad input" sh -c "! ls '$TMP'/ran-* 2>/dev/null"
check "--dry-run shows the plan and runs nothing" sh -c \
    "'$WATTPROF' bench --dry-run '$TMP/mlp.yaml' | grep -q 'seed 1234' && '$WATTPROF' bench --dry-run '$TMP/mlp.yaml' | grep -q 'hidden=16 *\[baseline\]'"

# Stored studies: the JSON, with its "id", lands in the studies table, exactly as --json wrote it.
cat >"$TMP/tiny.yaml" <<EOT
name: tiny-store
command: sleep {s}
matrix: { s: [0.01, 0.02] }
repetitions: { min: 2, max: 2 }
warmup: 0
cooldown_s: 0
idle_baseline_s: 0
EOT
check "a tiny study is stored" sh -c \
    "'$WATTPROF' bench -q '$TMP/tiny.yaml' --json '$TMP/tiny.json' >'$TMP/tiny.txt' && grep -qE '^study [0-9a-f]{8} stored$' '$TMP/tiny.txt'"
check "its JSON has the id right after the schema" json_true "$TMP/tiny.json" \
    'list(d)[:3] == ["schema", "id", "name"] and len(d["id"]) == 8 and "study " + d["id"] + " stored" in open(sys.argv[1][:-4] + "txt").read()'
check "the studies row holds the name, the start and exactly the --json output" "$PYTHON" -c '
import json, sqlite3, sys, time
text = open(sys.argv[2]).read()
sid = json.loads(text)["id"]
rows = sqlite3.connect(sys.argv[1]).execute(
    "select id, name, started_at_unix_ms, json from studies where id = ?", (sid,)).fetchall()
assert len(rows) == 1, rows
i, name, started, stored = rows[0]
assert name == "tiny-store", name
assert 0 < time.time() * 1000 - started < 600000, started
assert stored == text, "stored JSON differs from --json"
' "$WATTPROF_DB" "$TMP/tiny.json"
check "--json - keeps stdout pure JSON (the note goes to stderr)" sh -c \
    "'$WATTPROF' bench -q '$TMP/tiny.yaml' --json - 2>'$TMP/tiny2.err' | '$PYTHON' -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"id\"]) == 8' && grep -qE '^study [0-9a-f]{8} stored$' '$TMP/tiny2.err'"
check "--no-store stores no study and adds no id" sh -c \
    "'$WATTPROF' bench -q --no-store '$TMP/tiny.yaml' --json - | '$PYTHON' -c 'import json,sys; d=json.load(sys.stdin); assert \"id\" not in d' &&
     test \$('$PYTHON' -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from studies where name = ?\", (\"tiny-store\",)).fetchone()[0])' '$WATTPROF_DB') -eq 2"
finish
