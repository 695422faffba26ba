#!/bin/sh
# wattprof run forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT to the command and still writes
# its summary and JSON, marked incomplete.
. "$(dirname "$0")/lib.sh"

# Background jobs of a non-interactive shell start with SIGINT ignored; env gives the
# signals back their default disposition, as an interactive start would.
start_run() {
    json=$1
    shift
    env --default-signal=INT,TERM,HUP,QUIT "$WATTPROF" run -q --json "$json" -- "$@" &
    wpid=$!
    # wait until the command runs (it writes its ready file)
    for _ in $(seq 100); do
        [ -e "$TMP/ready" ] && break
        sleep 0.05
    done
}

rm -f "$TMP/ready" "$TMP/marker"
start_run "$TMP/int.json" sh -c "trap 'echo got >$TMP/marker; exit 3' INT; touch $TMP/ready; while :; do sleep 0.05; done"
kill -INT "$wpid"
wait "$wpid"
status=$?
check "SIGINT to wattprof reaches the command" test -s "$TMP/marker"
check "the command's own exit status is passed on" test "$status" -eq 3
check "the JSON is written and marked incomplete" json_true "$TMP/int.json" '
d["complete"] is False and d["exit_code"] == 3 and d["duration_s"] > 0'

rm -f "$TMP/ready"
start_run "$TMP/term.json" sh -c "touch $TMP/ready; exec sleep 30"
kill -TERM "$wpid"
wait "$wpid"
status=$?
check "SIGTERM is forwarded: the command dies of it (143)" test "$status" -eq 143
check "and the partial JSON says so" json_true "$TMP/term.json" '
d["complete"] is False and d["exit_code"] == 143'

rm -f "$TMP/ready" "$TMP/hup"
start_run "$TMP/hup.json" sh -c "trap 'echo hup >$TMP/hup; exit 0' HUP; touch $TMP/ready; while :; do sleep 0.05; done"
kill -HUP "$wpid"
wait "$wpid"
check "SIGHUP is forwarded too" test -s "$TMP/hup"

rm -f "$TMP/ran"
env --default-signal=INT "$WATTPROF" run -q --idle-baseline 10 -- touch "$TMP/ran" 2>"$TMP/err" &
wpid=$!
sleep 0.5
kill -INT "$wpid"
wait "$wpid"
status=$?
check "SIGINT during the idle baseline exits 130 without running the command" \
    sh -c "[ $status -eq 130 ] && [ ! -e '$TMP/ran' ] && grep -q 'interrupted while measuring the idle baseline' '$TMP/err'"

finish
