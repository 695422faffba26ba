# Shared helpers for the CLI tests (TAP, in the style of git's t/).
# Needs: WATTPROF (the binary), WATTPROF_FIXTURES, TOOLS_DIR (test tools), PYTHON.

: "${WATTPROF:?set WATTPROF to the wattprof binary}"
: "${PYTHON:=/usr/bin/python3}"
test_count=0
test_failed=0
TMP=$(mktemp -d /tmp/wattprof-cli-XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
# Runs are stored: into this script's own database, never the real home directory.
export WATTPROF_DB="$TMP/wattprof.db"

ok() {
    test_count=$((test_count + 1))
    echo "ok $test_count - $1"
}

not_ok() {
    test_count=$((test_count + 1))
    test_failed=$((test_failed + 1))
    echo "not ok $test_count - $1"
    shift
    for line in "$@"; do
        echo "# $line"
    done
}

# check NAME COMMAND...: one test case from a command's status.
check() {
    name=$1
    shift
    if "$@" >"$TMP/check.out" 2>&1; then
        ok "$name"
    else
        not_ok "$name" "$(cat "$TMP/check.out")"
    fi
}

# json_get FILE EXPR: evaluates a Python expression on the parsed JSON `d`.
json_get() {
    "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# json_true FILE EXPR: succeeds when the Python expression is true for `d`.
json_true() {
    "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval("(" + sys.argv[2].strip() + ")") else 1)' "$1" "$2"
}

# wait_ready FILE: until a fake counter tool (fake_powercap, fake_hwmon, fake_msr) has
# printed "ready" into FILE after its first write; gives up after about 2 s.
wait_ready() {
    for _ in $(seq 100); do
        grep -q ready "$1" 2>/dev/null && break
        sleep 0.02
    done
}

finish() {
    echo "1..$test_count"
    [ "$test_failed" -eq 0 ]
}
