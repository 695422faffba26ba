#!/bin/sh
# wattprof run: exit codes, signals, bad input, the JSON, and the model backend on a
# real CPU-burning process tree.
. "$(dirname "$0")/lib.sh"

# --- exit status ---------------------------------------------------------------------
"$WATTPROF" run -q -- true
check "true exits 0" test $? -eq 0

"$WATTPROF" run -q -- sh -c 'exit 7'
check "exit status is passed through" test $? -eq 7

"$WATTPROF" run -q --json "$TMP/killed.json" -- sh -c 'kill -TERM $$'
check "killed by SIGTERM gives 128+15" test $? -eq 143
check "a killed command's JSON is marked incomplete" \
    json_true "$TMP/killed.json" 'd["complete"] is False and d["exit_code"] == 143'

"$WATTPROF" run -- /nonexistent/command 2>"$TMP/err"
check "a command that does not exist exits 127" test $? -eq 127
check "and says so in one line" \
    sh -c "[ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q \"cannot run '/nonexistent/command': No such file\" '$TMP/err'"

printf 'echo hi\n' >"$TMP/noexec.sh"
chmod 644 "$TMP/noexec.sh"
"$WATTPROF" run -- "$TMP/noexec.sh" 2>/dev/null
check "a file that cannot be executed exits 126" test $? -eq 126

# --- stdout stays the command's --------------------------------------------------------
out=$("$WATTPROF" run -- echo hello 2>"$TMP/summary")
check "the command's stdout is untouched" test "$out" = "hello"
check "the summary goes to stderr" grep -q "machine total" "$TMP/summary"

# --- bad input: one clear line, usage, exit 2, nothing started -----------------------
expect_usage() {
    name=$1
    pattern=$2
    shift 2
    "$WATTPROF" run "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    if [ $status -eq 2 ] && grep -q "$pattern" "$TMP/err" && grep -q "^usage:" "$TMP/err" &&
        [ ! -s "$TMP/out" ]; then
        ok "$name"
    else
        not_ok "$name" "status $status" "$(cat "$TMP/err")"
    fi
}
expect_usage "unknown option" "unknown option '--bogus'" --bogus -- true
expect_usage "missing command" "missing command"
expect_usage "missing command after --" "missing command" --
expect_usage "zero interval" "invalid --interval '0'" --interval 0 -- true
expect_usage "non-numeric interval" "invalid --interval 'fast'" --interval fast -- true
expect_usage "negative units" "invalid --units '-3'" --units -3 -- true
expect_usage "option without its value" "missing value for option '--json'" --json

rm -f "$TMP/started"
"$WATTPROF" run --json /nonexistent/dir/run.json -- touch "$TMP/started" 2>"$TMP/err"
status=$?
if [ $status -eq 125 ] && [ ! -e "$TMP/started" ] &&
    grep -q "cannot write '/nonexistent/dir/run.json'" "$TMP/err"; then
    ok "an unwritable --json path fails (125) before the command starts"
else
    not_ok "an unwritable --json path fails (125) before the command starts" "status $status" "$(cat "$TMP/err")"
fi

"$WATTPROF" run --sensors nosuch -- true 2>"$TMP/err"
check "an unknown backend is an error naming it" \
    sh -c "grep -q \"unknown sensor backend 'nosuch'\" '$TMP/err'"

# --- JSON -----------------------------------------------------------------------------
"$WATTPROF" run -q --json - --units 1000 --unit-name samples -- sleep 0.3 >"$TMP/run.json"
check "--json - writes JSON to stdout" json_true "$TMP/run.json" 'd["schema"] == "wattprof.run/1"'
check "the JSON has every documented key" json_true "$TMP/run.json" '
all(k in d for k in ["schema","command","exit_code","complete","started_at","duration_s",
  "energy_j","attributed_energy_j","idle_power_w","units","unit_name","energy_per_unit_j",
  "host","channels"]) and all(k in d["host"] for k in ["cpu_model","logical_cpus",
  "memory_bytes","kernel"]) and all(all(k in c for k in ["name","kind","source",
  "provenance","energy_j","avg_power_w","peak_power_w","included_in_total"])
  for c in d["channels"])'
check "duration, command and units are right" json_true "$TMP/run.json" '
0.3 <= d["duration_s"] < 1.0 and d["command"] == ["sleep","0.3"] and d["units"] == 1000
and d["unit_name"] == "samples" and d["complete"] is True and d["exit_code"] == 0'
check "started_at is RFC 3339 UTC with milliseconds" json_true "$TMP/run.json" '
__import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["started_at"])'
check "the total is the sum of the included channels" json_true "$TMP/run.json" '
abs(d["energy_j"] - sum(c["energy_j"] for c in d["channels"] if c["included_in_total"])) < 1e-5'
check "attributed energy never exceeds the total" json_true "$TMP/run.json" '
0 <= d["attributed_energy_j"] <= d["energy_j"]'
check "energy per unit is attributed energy / units" json_true "$TMP/run.json" '
abs(d["energy_per_unit_j"] - d["attributed_energy_j"] / 1000) < 1e-6'
check "idle power is null when not measured" json_true "$TMP/run.json" 'd["idle_power_w"] is None'

"$WATTPROF" run -q --json "$TMP/file.json" -- true
check "--json FILE writes the file whole" json_true "$TMP/file.json" 'd["exit_code"] == 0'
check "and leaves no temporary file behind" sh -c "! ls -a '$TMP' | grep -q wattprof-out"

# --- the model backend on a real CPU-burning process tree ----------------------------
"$WATTPROF" run -q --sensors model --json "$TMP/burn.json" -- "$TOOLS_DIR/burn" 800 "$TMP/burn.cpu"
check "burn ran" test -s "$TMP/burn.cpu"
truth=$(cat "$TMP/burn.cpu")
check "attributed CPU time is within 5 % of getrusage's ($truth s)" json_true "$TMP/burn.json" "
abs(d['attribution']['workload_cpu_s'] - $truth) <= 0.05 * $truth"
check "model channels are labelled estimated, with the model named" json_true "$TMP/burn.json" '
d["channels"] and all(c["provenance"] == "estimated" and c["source"] == "model"
  and "model" in c["how"] for c in d["channels"]) and d["energy_provenance"] == "estimated"'
check "the busy CPU's estimated energy is positive and attributed <= total" json_true "$TMP/burn.json" '
d["energy_j"] > 0 and 0 < d["attributed_energy_j"] <= d["energy_j"]'

# --- idle baseline --------------------------------------------------------------------
"$WATTPROF" run -q --idle-baseline 0.3 --json "$TMP/idle.json" -- sleep 0.2
check "--idle-baseline reports idle power and splits idle from dynamic" json_true "$TMP/idle.json" '
d["idle_power_w"] is not None and d["idle_power_w"] > 0 and
abs(d["idle_energy_j"] + d["dynamic_energy_j"] - d["energy_j"]) < 1e-5 and
d["attributed_energy_j"] <= d["dynamic_energy_j"] + 1e-6'

finish
