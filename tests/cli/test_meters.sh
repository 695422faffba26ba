#!/bin/sh
# Whole-node meters end to end: an external --meter command gives the node total beside
# the component sum (never added to it), a meter that dies loses its channel while the
# run goes on, --ptd to a port nobody listens on fails only with --require, and
# `wattprof sensors` explains a missing IPMI device. All network traffic is on 127.0.0.1.
. "$(dirname "$0")/lib.sh"

# A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
closed_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- a meter printing 42 W every 0.1 s ---------------------------------------------------
"$WATTPROF" run -q --meter 'while :; do echo 42.0; sleep 0.1; done' --json - -- sleep 1.5 \
    >"$TMP/meter.json"
check "a run with --meter exits 0" test $? -eq 0
check "the node total is within 3 % of 42 W x duration" json_true "$TMP/meter.json" '
abs(d["totals"]["node"]["energy_j"] - 42 * d["duration_s"]) <= 0.03 * 42 * d["duration_s"]
and d["totals"]["node"]["includes"] == ["node:meter"]
and d["totals"]["node"]["provenance"] == "integrated"'
check "the meter channel is a node-scope gauge out of the component sum" json_true "$TMP/meter.json" '
[(c["source"], c["kind"], c["domain"], c["node_scope"], c["included_in_total"], c["averaging"])
 for c in d["channels"] if c["name"] == "node:meter"]
== [("meter", "gauge", "node", True, False, "as the meter reports")]'
check "energy_j is the component sum, without the node total" json_true "$TMP/meter.json" '
abs(d["energy_j"] - sum(c["energy_j"] for c in d["channels"] if c["included_in_total"])) < 1e-5
and d["totals"]["components"]["energy_j"] == d["energy_j"]
and "node:meter" not in d["totals"]["components"]["includes"]'

# --- a meter that dies mid-run -------------------------------------------------------------
"$WATTPROF" run --meter 'echo 30; sleep 0.3' --json "$TMP/dies.json" -- sleep 1 2>"$TMP/dies.err"
check "a run whose meter dies still exits 0" test $? -eq 0
check "the meter channel is lost, its energy up to then kept" json_true "$TMP/dies.json" '
[(c["status"], c["energy_j"] > 0) for c in d["channels"] if c["name"] == "node:meter"]
== [("lost", True)]
and any(w.startswith("node:meter: stopped reading") for w in d["warnings"])
and d["totals"]["node"] is None'
check "the summary warns about it" grep -q "warning: node:meter: stopped reading" "$TMP/dies.err"

# --- a meter that never gives a reading ----------------------------------------------------
"$WATTPROF" run -q --meter 'echo nope' --require meter -- touch "$TMP/ran" 2>"$TMP/nope.err"
status=$?
check "--require meter with a meter that prints no reading exits 125" test $status -eq 125
check "and says why, without running the command" sh -c "
grep -q \"required sensor 'meter' cannot be used: the meter command exited before printing a reading\" '$TMP/nope.err' &&
grep -q \"e.g. 'nope'\" '$TMP/nope.err' && [ ! -e '$TMP/ran' ]"

# --- a PTDaemon address nobody listens on --------------------------------------------------
port=$(closed_port)
"$WATTPROF" run -q --ptd "127.0.0.1:$port" --require ptd -- touch "$TMP/ran" 2>"$TMP/ptd.err"
status=$?
check "--ptd to a closed port with --require ptd exits 125" test $status -eq 125
check "and names the daemon and the reason, without running the command" sh -c "
grep -q \"wattprof: required sensor 'ptd' cannot be used: cannot reach PTDaemon at 127.0.0.1:$port: Connection refused\" '$TMP/ptd.err' &&
[ ! -e '$TMP/ran' ]"
"$WATTPROF" run -q --ptd "127.0.0.1:$port" --json - -- true >"$TMP/ptd.json" 2>/dev/null
check "without --require the run goes on without it" test $? -eq 0
check "and has no ptd channel" json_true "$TMP/ptd.json" '
all(c["source"] != "ptd" for c in d["channels"]) and d["totals"]["node"] is None'

# --- wattprof sensors ------------------------------------------------------------------------
WATTPROF_IPMI_DEV=/nonexistent/ipmi0 "$WATTPROF" sensors --meter 'echo 5' \
    --ptd "127.0.0.1:$port" >"$TMP/sensors.out" 2>&1
check "sensors explains the missing IPMI device" grep -q \
    "^ipmi-dcmi .*no IPMI device '/nonexistent/ipmi0' (modprobe ipmi_devintf ipmi_si, or no BMC)" \
    "$TMP/sensors.out"
check "sensors shows the meter in use and the unreachable PTDaemon" sh -c "
grep -q '^meter  *in use, 1 channel' '$TMP/sensors.out' &&
grep -q '^ptd .*cannot reach PTDaemon at 127.0.0.1:$port' '$TMP/sensors.out'"

finish
