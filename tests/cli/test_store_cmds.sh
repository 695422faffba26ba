#!/bin/sh
# The run history end to end: list, show, compare, export, delete and gc on a store in
# $TMP, with id prefixes (unique, ambiguous, unknown) and bad input.
. "$(dirname "$0")/lib.sh"

WATTPROF_DB="$TMP/db"
export WATTPROF_DB
W="$WATTPROF"

# expect_status NAME STATUS PATTERN CMD...: exit status and a line on stderr.
expect_status() {
    name=$1
    want=$2
    pattern=$3
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    if [ $status -eq "$want" ] && grep -q -- "$pattern" "$TMP/err"; then
        ok "$name"
    else
        not_ok "$name" "status $status (want $want)" "$(cat "$TMP/err")"
    fi
}

# --- an empty store -----------------------------------------------------------------
"$W" list >"$TMP/out" 2>"$TMP/err"
check "list on an empty store exits 0" test $? -eq 0
check "and says so in one line" sh -c "[ \$(wc -l <'$TMP/out') -eq 1 ] && grep -q 'no stored runs yet' '$TMP/out'"

# --- two runs ------------------------------------------------------------------------
"$W" run --sensors model --units 100 --unit-name items --label team=a -- sleep 0.2 2>"$TMP/live_a"
"$W" run -q --sensors model -- true
"$W" list >"$TMP/list"
check "list shows both runs, newest first" sh -c "
    [ \$(grep -c ' complete ' '$TMP/list') -eq 2 ] &&
    sed -n 2p '$TMP/list' | grep -q ' true\$' && sed -n 3p '$TMP/list' | grep -q 'sleep 0.2\$'"
check "with UTC start, energy and its provenance" \
    grep -Eq '^[0-9a-f]{8} +20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} +[0-9.]+ s +[0-9.]+ [mkM]?J estimated' "$TMP/list"
check "CO2e is the recorded total, explained under the table" sh -c "
    grep -Eq 'estimated +[0-9.e+-]+ g +complete' '$TMP/list' && grep -q 'CO2e: operational + embodied' '$TMP/list'"
A=$(sed -n 3p "$TMP/list" | cut -d' ' -f1)
B=$(sed -n 2p "$TMP/list" | cut -d' ' -f1)

"$W" list --limit 1 >"$TMP/out"
check "--limit 1 lists one run" test "$(grep -c ' complete ' "$TMP/out")" -eq 1
"$W" list --label team=a >"$TMP/out"
check "--label team=a lists only the labelled run" sh -c "
    [ \$(grep -c ' complete ' '$TMP/out') -eq 1 ] && grep -q '^$A ' '$TMP/out'"
"$W" list --since 1h >"$TMP/out"
check "--since 1h lists both" test "$(grep -c ' complete ' "$TMP/out")" -eq 2
"$W" list --since 2000-01-01T00:00Z >"$TMP/out"
check "--since an ISO date lists both" test "$(grep -c ' complete ' "$TMP/out")" -eq 2
"$W" list --since 2999-01-01 >"$TMP/out"
check "--since the future matches nothing" grep -q "no stored runs match" "$TMP/out"
expect_status "--since yesterday is a usage error" 2 "invalid --since 'yesterday'" "$W" list --since yesterday
expect_status "--label without = is a usage error" 2 "invalid --label" "$W" list --label team
expect_status "an unknown option is a usage error" 2 "unknown option '--bogus'" "$W" list --bogus

env -u WATTPROF_DB "$W" list --db "$TMP/db" >"$TMP/out"
check "--db PATH names the store" test "$(grep -c ' complete ' "$TMP/out")" -eq 2

# --- show: the live summary, from the store -------------------------------------------
"$W" show "$A" >"$TMP/show_a"
check "show exits 0" test $? -eq 0
check "show prints the live summary byte for byte" sh -c "tail -n +2 '$TMP/show_a' | cmp -s - '$TMP/live_a'"
check "after a line naming the run and its UTC start" \
    grep -Eq "^stored run $A, started 20[0-9-]+ [0-9:]+ UTC\$" "$TMP/show_a"
"$W" show --json "$(echo "$A" | cut -c1-5)" >"$TMP/a.json"
check "show --json with a unique prefix gives the stored JSON" json_true "$TMP/a.json" "
d['schema'] == 'wattprof.run/1' and d['id'] == '$A' and d['units'] == 100"

# --- id prefixes -----------------------------------------------------------------------
unknown=$(for p in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do grep -q "^$p$p$p$p" "$TMP/list" || { echo "$p$p$p$p"; break; }; done)
expect_status "an unknown id is one line, exit 1" 1 "no run '$unknown'" "$W" show "$unknown"
check "and only one line" test "$(wc -l <"$TMP/err")" -eq 1
# 17 runs: two ids share their first digit
for _ in $(seq 15); do "$W" run -q --sensors model -- true; done
"$W" list --limit 0 | grep -Eo '^[0-9a-f]{8}' >"$TMP/ids"
shared=$(cut -c1 "$TMP/ids" | sort | uniq -d | head -1)
expect_status "an ambiguous prefix is one line, exit 1" 1 "ambiguous" "$W" show "$shared"
check "naming the candidates" sh -c "
    for id in \$(grep '^$shared' '$TMP/ids'); do grep -q \"\$id\" '$TMP/err' || exit 1; done"
expect_status "show without a run is a usage error" 2 "missing run id" "$W" show
expect_status "a store that cannot be opened is exit 1" 1 "not a wattprof database" \
    env WATTPROF_DB="$TMP/list" "$W" list

# --- compare -------------------------------------------------------------------------
"$W" compare "$A" "$B" >"$TMP/cmp"
check "compare exits 0" test $? -eq 0
check "compare has duration, energy and per-channel rows with B/A" sh -c "
    grep -Eq '^  duration .* [0-9]+\.[0-9]{3}\$' '$TMP/cmp' &&
    grep -Eq '^  energy .*estimated .*estimated +[0-9.]+\$' '$TMP/cmp' &&
    grep -Eq '^  cpu:estimated .* [0-9.]+\$' '$TMP/cmp'"
check "energy per unit: '-' where B has no units" grep -Eq '^  energy per unit .* - +-$' "$TMP/cmp"
check "two estimates are flagged as such" grep -q "both totals are estimates" "$TMP/cmp"
expect_status "compare needs two runs" 2 "missing run id" "$W" compare "$A"

# a measured run (fake RAPL counters) against the estimated one
cp -a "$WATTPROF_FIXTURES/sysfs/intel-2s-server" "$TMP/sys"
Z="$TMP/sys/devices/virtual/powercap/intel-rapl"
"$TOOLS_DIR/fake_powercap" "$Z/intel-rapl:0" 20000000 0 262143328850 >"$TMP/fake.out" &
fake=$!
for _ in $(seq 100); do grep -q ready "$TMP/fake.out" 2>/dev/null && break; sleep 0.02; done
WATTPROF_SYSFS="$TMP/sys" "$W" run -q --sensors rapl-powercap --interval 20 -- sleep 0.3
kill "$fake"
wait "$fake" 2>/dev/null
M=$("$W" list --limit 1 | sed -n 2p | cut -d' ' -f1)
"$W" compare "$M" "$A" >"$TMP/cmp2"
check "measured vs estimated is flagged not comparable" \
    grep -q "not comparable: A is measured, B is estimated" "$TMP/cmp2"

# --- export --------------------------------------------------------------------------
"$W" export "$A" "$B" >"$TMP/exp.json"
check "export json is an array of the stored runs, in the order given" json_true "$TMP/exp.json" "
[r['id'] for r in d] == ['$A', '$B'] and all(r['schema'] == 'wattprof.run/1' for r in d)"
"$W" export --format json -o "$TMP/all.json"
check "export -o FILE writes all runs, oldest first" json_true "$TMP/all.json" "
len(d) == 18 and d[0]['id'] == '$A' and [r['started_at'] for r in d] == sorted(r['started_at'] for r in d)"
check "and leaves no temporary file behind" sh -c "! ls -a '$TMP' | grep -q wattprof-out"
"$W" export -f csv "$A" >"$TMP/a.csv"
check "csv: header, then one row per channel" "$PYTHON" -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
assert list(rows[0].keys()) == 'run_id,started_at,command,channel,kind,domain,source,provenance,included_in_total,energy_j,avg_power_w,peak_power_w,duration_s'.split(','), rows[0].keys()
assert len(rows) == 2 and all(r['run_id'] == '$A' and r['command'] == 'sleep 0.2' for r in rows)
assert abs(sum(float(r['energy_j']) for r in rows) - float('$(json_get "$TMP/a.json" 'd["energy_j"]')')) < 1e-5
" "$TMP/a.csv"
"$W" export -f codecarbon "$A" >"$TMP/cc.csv"
check "codecarbon: 38 columns, energy_consumed in kWh, emissions from the stored accounting" "$PYTHON" -c "
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
assert len(rows) == 2 and len(rows[0]) == 38 and len(rows[1]) == 38
r = dict(zip(rows[0], rows[1]))
assert abs(float(r['energy_consumed']) * 3.6e6 - $(json_get "$TMP/a.json" 'd["energy_j"]')) < 1e-3
assert abs(float(r['emissions']) * 1000 - $(json_get "$TMP/a.json" 'd["accounting"]["total_g"]')) < 1e-12
assert r['run_id'] == '$A' and r['country_name'] == '' and r['pue'] == '1'
" "$TMP/cc.csv"
"$W" export -f openmetrics "$A" >"$TMP/om.txt"
check "openmetrics: typed families and # EOF at the end" sh -c "
    grep -q '^# TYPE wattprof_run_energy_joules counter\$' '$TMP/om.txt' &&
    grep -Eq '^wattprof_run_energy_joules_total\{run=\"$A\",channel=\"cpu:estimated\",provenance=\"estimated\",in_total=\"true\"\} [0-9.]+\$' '$TMP/om.txt' &&
    [ \"\$(tail -n 1 '$TMP/om.txt')\" = '# EOF' ]"
expect_status "an unknown format is a usage error" 2 "invalid --format 'xml'" "$W" export -f xml
expect_status "export of an unknown run fails" 1 "no run '$unknown'" "$W" export "$unknown"
expect_status "an unwritable -o path fails" 1 "cannot write '/nonexistent-dir/x.json'" \
    "$W" export -o /nonexistent-dir/x.json

# --- delete and gc -------------------------------------------------------------------
expect_status "delete with an unknown id deletes nothing" 1 "no run '$unknown'" "$W" delete "$B" "$unknown"
"$W" show "$B" >/dev/null 2>&1
check "so the other run is still there" test $? -eq 0
"$W" delete "$B" >"$TMP/out"
check "delete removes the run" sh -c "grep -q 'deleted run $B' '$TMP/out' && ! '$W' show '$B' 2>/dev/null"
check "list no longer shows it" sh -c "! '$W' list --limit 0 | grep -q '^$B '"
"$W" gc --keep-samples 0 >"$TMP/out"
check "gc --keep-samples 0 reports what it pruned" grep -Eq '^dropped the samples of [0-9]+ runs? older than 0 days$' "$TMP/out"
"$W" show "$A" >/dev/null
check "summaries survive gc" test $? -eq 0
expect_status "gc without --keep-samples is a usage error" 2 "missing --keep-samples" "$W" gc
expect_status "gc with a bad value is a usage error" 2 "invalid --keep-samples 'x'" "$W" gc --keep-samples x

finish
