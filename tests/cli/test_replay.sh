#!/bin/sh
# Replay end to end (docs/replay.md): a run on a fake powercap tree, its raw samples
# exported as a trace, the trace replayed by `wattprof run --sensors replay --replay`
# (same energy for the same duration, names and domains kept, provenance and source say
# replay), live channels kept out of the total, and bad traces refused with line numbers.
. "$(dirname "$0")/lib.sh"

W=$WATTPROF
PKG_RANGE=262143328850
DRAM_RANGE=65712999613

# --- record a run on advancing fake counters ------------------------------------------
cp -a "$WATTPROF_FIXTURES/sysfs/intel-2s-server" "$TMP/sys"
Z="$TMP/sys/devices/virtual/powercap/intel-rapl"
"$TOOLS_DIR/fake_powercap" \
    "$Z/intel-rapl:0" 50000000 0 $PKG_RANGE \
    "$Z/intel-rapl:0/intel-rapl:0:0" 8000000 0 $DRAM_RANGE \
    "$Z/intel-rapl:a" 35000000 0 $PKG_RANGE \
    "$Z/intel-rapl:a/intel-rapl:a:0" 6000000 0 $DRAM_RANGE \
    >"$TMP/fake.out" &
fake=$!
wait_ready "$TMP/fake.out"
WATTPROF_SYSFS="$TMP/sys" "$W" run -q --sensors rapl-powercap --interval 50 \
    --json "$TMP/rec.json" -- sleep 2
check "a run on the fake tree is recorded" test $? -eq 0
kill "$fake"
wait "$fake" 2>/dev/null
REC=$("$W" list --limit 1 | sed -n 2p | cut -d' ' -f1)

# --- export it as a trace -------------------------------------------------------------
"$W" export "$REC" --format trace -o "$TMP/rec.trace"
check "export --format trace writes the run's raw samples" test $? -eq 0
check "the trace opens with the magic line and one channel line per channel" sh -c "
head -1 '$TMP/rec.trace' | grep -qx '# wattprof trace 1' &&
[ \$(grep -c '^# channel ' '$TMP/rec.trace') -eq 4 ] &&
grep -q '^# channel cpu-package:0 kind=counter domain=package provenance=measured included=1 node=0 source=rapl-powercap\$' '$TMP/rec.trace' &&
grep -qx 't_s,cpu-package:0,dram:0,cpu-package:1,dram:1' '$TMP/rec.trace'"
check "its last row holds the recorded energies (µJ exact)" "$PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1]))
last = open(sys.argv[2]).read().split()[-1].split(',')
assert [round(float(v), 6) for v in last[1:]] == [c['energy_j'] for c in d['channels']], (last, d['channels'])
" "$TMP/rec.json" "$TMP/rec.trace"
"$W" export "$REC" --format trace >"$TMP/stdout.trace"
check "without -o the trace goes to stdout, the same text" cmp "$TMP/rec.trace" "$TMP/stdout.trace"

# --- replay it --------------------------------------------------------------------------
"$W" run -q --sensors replay --replay "$TMP/rec.trace" --interval 50 --json "$TMP/rep.json" \
    -- sleep 1
check "a run with --sensors replay --replay TRACE exits 0" test $? -eq 0
check "the replayed channels keep their names and domains" "$PYTHON" -c "
import json, sys
rec, rep = (json.load(open(f)) for f in sys.argv[1:3])
assert [(c['name'], c['domain']) for c in rep['channels']] == [(c['name'], c['domain']) for c in rec['channels']], rep['channels']
" "$TMP/rec.json" "$TMP/rep.json"
check "provenance and source say replay, how names the file and the recorder" json_true "$TMP/rep.json" '
all(c["provenance"] == "replayed" and c["source"] == "replay" and c["included_in_total"]
    and "replayed from" in c["how"] and "recorded by rapl-powercap" in c["how"]
    for c in d["channels"]) and d["energy_provenance"] == "replayed"'
check "each replayed channel's energy is the recorded power x duration within 1 %" "$PYTHON" -c "
import json, sys
rec, rep = (json.load(open(f)) for f in sys.argv[1:3])
for a, b in zip(rec['channels'], rep['channels']):
    want = a['energy_j'] / rec['duration_s'] * rep['duration_s']
    assert abs(b['energy_j'] - want) <= 0.01 * want, (a['name'], b['energy_j'], want)
" "$TMP/rec.json" "$TMP/rep.json"
check "the run warns that the total is a replayed trace" json_true "$TMP/rep.json" '
any("the total is a replayed trace" in w for w in d["warnings"])'
"$W" report "$(json_get "$TMP/rep.json" 'd["id"]')" -o "$TMP/rep.html"
check "its report says the energies were replayed, not measured" sh -c "
    grep -q 'REPLAYED from a recorded trace' '$TMP/rep.html' && grep -q 'badge replayed' '$TMP/rep.html'"

# a replay that outlasts the trace: the values hold, the whole recorded energy, a warning
"$W" run -q --sensors replay --replay "$TMP/rec.trace" --json "$TMP/long.json" -- sleep 2.6
check "after the trace's end the values hold: the recorded energy within 1 %" "$PYTHON" -c "
import json, sys
rec, rep = (json.load(open(f)) for f in sys.argv[1:3])
assert abs(rep['energy_j'] - rec['energy_j']) <= 0.01 * rec['energy_j'], (rep['energy_j'], rec['energy_j'])
" "$TMP/rec.json" "$TMP/long.json"
check "and the run says the trace ended" json_true "$TMP/long.json" '
any("the replayed trace ended at" in w for w in d["warnings"])'

# live channels beside the trace are listed, not counted
WATTPROF_REPLAY="$TMP/rec.trace" "$W" run -q --sensors replay,model --json "$TMP/mix.json" \
    -- sleep 0.3
check "WATTPROF_REPLAY selects the trace; the model is listed but not in the total" \
    json_true "$TMP/mix.json" '
all(c["included_in_total"] == (c["source"] == "replay") for c in d["channels"])
and any(c["source"] == "model" for c in d["channels"]) and d["energy_provenance"] == "replayed"'
"$W" sensors --sensors replay,model --replay "$TMP/rec.trace" >"$TMP/sensors.out"
check "wattprof sensors lists the replayed channels and says when the trace ends" sh -c "
grep -q '^replay  *in use, 4 channels' '$TMP/sensors.out' &&
grep -q 'cpu-package:0 .*replayed .*in total .*recorded by rapl-powercap' '$TMP/sensors.out' &&
grep -q 'after that each channel holds its last value' '$TMP/sensors.out' &&
grep -q 'not in the total: a recorded trace is replayed' '$TMP/sensors.out'"

# serve --replay: clients read the trace through the socket, still marked replayed
"$W" serve --replay "$TMP/rec.trace" --listen none --socket "$TMP/s.sock" 2>"$TMP/serve.err" &
serve=$!
for _ in $(seq 150); do [ -S "$TMP/s.sock" ] && break; sleep 0.02; done
WATTPROF_SOCKET="$TMP/s.sock" "$W" sensors --sensors daemon >"$TMP/daemon.out" 2>&1
kill "$serve"
wait "$serve" 2>/dev/null
check "serve --replay serves the replayed channels, marked replayed" sh -c "
grep -q '^daemon  *in use' '$TMP/daemon.out' &&
grep -q 'cpu-package:0 .*replayed .*in total .*(replay: replayed from' '$TMP/daemon.out'"

# --- bad traces: the exit status and the line ---------------------------------------------
bad() {
    name=$1
    pattern=$2
    printf '%b' "$3" >"$TMP/bad.trace"
    "$W" run -q --sensors replay --replay "$TMP/bad.trace" -- true 2>"$TMP/err"
    status=$?
    if [ $status -eq 125 ] && grep -q "cannot replay '$TMP/bad.trace': $pattern" "$TMP/err"; then
        ok "$name"
    else
        not_ok "$name" "status $status" "$(cat "$TMP/err")"
    fi
}
H='# wattprof trace 1\n# channel a kind=counter domain=cpu\n'
bad "missing magic" "line 1: not a wattprof trace" 't_s,a\n0,0\n1,1\n'
bad "unknown key" "line 2: unknown key 'colour'" '# wattprof trace 1\n# channel a kind=counter domain=cpu colour=red\n'
bad "a header that does not match the channels" "line 3: the header's column 2 is not 'a'" "${H}t_s,b\n0,0\n1,1\n"
bad "a value that is not a number" "line 5: column 2 is not a number" "${H}t_s,a\n0,0\n1,lots\n"
bad "time going backwards" "line 6: time goes backwards" "${H}t_s,a\n0,0\n2,1\n1,2\n"
bad "energy going down" "line 6: the energy of 'a' goes down" "${H}t_s,a\n0,0\n1,5\n2,4\n"
bad "fewer than 2 rows" "line 4: 1 row: a trace needs at least 2 rows" "${H}t_s,a\n0,0\n"
"$W" run -q --replay "$TMP/bad.trace" -- true 2>"$TMP/err"
check "a bad trace fails the run even when live sensors work (125)" test $? -eq 125
"$W" sensors --sensors replay --replay "$TMP/nonexistent.trace" >"$TMP/out" 2>&1
status=$?
check "a missing trace: wattprof sensors exits 1 and names the file" sh -c "
[ $status -eq 1 ] && grep -q \"cannot open the trace '$TMP/nonexistent.trace'\" '$TMP/out'"

# --- export refusals ----------------------------------------------------------------------
"$W" run -q --sensors model -- true
OTHER=$("$W" list --limit 1 | sed -n 2p | cut -d' ' -f1)
"$W" export "$REC" "$OTHER" --format trace >"$TMP/out" 2>"$TMP/err"
status=$?
check "export --format trace of two runs is a usage error" sh -c "
[ $status -eq 2 ] && grep -q 'exactly one RUN (2 given)' '$TMP/err' && [ ! -s '$TMP/out' ]"
"$W" gc --keep-samples 0 >/dev/null
"$W" export "$REC" --format trace >"$TMP/out" 2>"$TMP/err"
status=$?
check "after gc: an error that the raw samples are gone and the series is not a trace" sh -c "
[ $status -eq 1 ] && grep -q 'gc dropped them' '$TMP/err' &&
grep -q 'series that remains is not a trace' '$TMP/err' && [ ! -s '$TMP/out' ]"

finish
