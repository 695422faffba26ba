#!/bin/sh
# wattprof run and the run history: the id in the summary and the JSON, --db, --no-store,
# --label and the job's identity, 8 concurrent writers, SIGKILL mid-run, and files that
# must be refused (a directory, not SQLite, read-only, a newer schema) while the run goes on.
. "$(dirname "$0")/lib.sh"

# sql DB QUERY: prints the rows of a query, one per line, fields separated by '|'.
sql() {
    "$PYTHON" -c 'import sqlite3,sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(map(str, row)))' "$1" "$2"
}

# --- the id: summary, JSON, database -------------------------------------------------
"$WATTPROF" run --json "$TMP/a.json" --label team=ml --label run.kind=test -- true 2>"$TMP/err"
id=$(json_get "$TMP/a.json" 'd["id"]')
check "the run gets an 8-hex-digit id" sh -c "echo '$id' | grep -Eq '^[0-9a-f]{8}$'"
check "the summary's first line names the run" \
    sh -c "sed -n 2p '$TMP/err' | grep -q \"wattprof: run $id: 'true' ran\""
check "\"id\" comes right after \"schema\"" json_true "$TMP/a.json" 'list(d)[:2] == ["schema", "id"]'
check "the run is in \$WATTPROF_DB, complete, with its labels" test \
    "$(sql "$WATTPROF_DB" "select complete, exit_code, labels from runs where id = '$id'")" = \
    "1|0|team=ml,run.kind=test"
check "the stored JSON is what --json wrote" sh -c "
    '$PYTHON' -c 'import sqlite3,sys; sys.stdout.write(sqlite3.connect(sys.argv[1]).execute(
        \"select json from runs where id = ?\", (sys.argv[2],)).fetchone()[0])' \
        '$WATTPROF_DB' '$id' | cmp - '$TMP/a.json'"

"$WATTPROF" run -q --no-store --json "$TMP/b.json" -- true
check "--no-store: id is null" json_true "$TMP/b.json" 'd["id"] is None'
check "and nothing is added" test "$(sql "$WATTPROF_DB" 'select count(*) from runs')" = 1

"$WATTPROF" run -q --label 'bad key=1' -- true 2>"$TMP/err"
check "an invalid label key is a usage error" sh -c \
    "[ $? -eq 2 ] && grep -q \"invalid --label 'bad key=1'\" '$TMP/err'"

SLURM_JOB_ID=4242 SLURM_PROCID=3 "$WATTPROF" run -q --label slurm.procid=7 -- true
check "Slurm's job id is stored as a label, an explicit label wins" test \
    "$(sql "$WATTPROF_DB" "select key || '=' || value from labels where key like 'slurm.%' order by key")" = \
    "$(printf 'slurm.job_id=4242\nslurm.procid=7')"

# --- where the database is ------------------------------------------------------------
(unset WATTPROF_DB; "$WATTPROF" run -q --db "$TMP/other.db" -- true)
check "--db PATH when \$WATTPROF_DB is unset" test "$(sql "$TMP/other.db" 'select count(*) from runs')" = 1
"$WATTPROF" run -q --db "$TMP/ignored.db" -- true
check "\$WATTPROF_DB wins over --db" test ! -e "$TMP/ignored.db"
(unset WATTPROF_DB; XDG_DATA_HOME="$TMP/xdg" "$WATTPROF" run -q -- true)
check "the default is \$XDG_DATA_HOME/wattprof/wattprof.db, its directory 0700" sh -c "
    [ -s '$TMP/xdg/wattprof/wattprof.db' ] && [ \$(stat -c %a '$TMP/xdg/wattprof') = 700 ]"

# --- 8 concurrent writers on one file ---------------------------------------------------
for i in 1 2 3 4 5 6 7 8; do
    WATTPROF_DB="$TMP/many.db" WATTPROF_FLUSH_MS=20 "$WATTPROF" run -q -i 5 --json "$TMP/many$i.json" \
        --label n=$i -- sleep 0.3 &
done
wait
check "8 concurrent runs: all 8 stored, complete, none lost" test \
    "$(sql "$TMP/many.db" 'select count(*), sum(complete), count(distinct labels) from runs')" = "8|8|8"
check "and every one's samples are all there" test \
    "$(sql "$TMP/many.db" "select count(*) from runs r where samples != (select sum(n_samples)
        from samples where run_id = r.id) or samples < 3")" = 0

# --- SIGKILL mid-run: the run stays, incomplete, with its samples up to the last flush --
t_launch=$(date +%s%N)
WATTPROF_DB="$TMP/killed.db" WATTPROF_FLUSH_MS=200 "$WATTPROF" run -q -i 20 -- sleep 30 &
pid=$!
sleep 1.5
child=$(pgrep -P $pid)
kill -KILL $pid
t_killed=$(( $(date +%s%N) - t_launch ))
wait $pid 2>/dev/null
[ -n "$child" ] && kill $child 2>/dev/null # the orphaned command
"$PYTHON" - "$TMP/killed.db" "$t_killed" >"$TMP/killed.out" 2>&1 <<'EOF'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("pragma integrity_check").fetchone()[0] == "ok", "integrity"
runs = db.execute("select id, complete, n_channels, samples, duration_ns from runs").fetchall()
assert len(runs) == 1 and runs[0][1] == 0, runs
rid, _, nch, nsamples, duration = runs[0]
rows = db.execute("select n_samples, data from samples where run_id = ? order by seq", (rid,))
total, last_t = 0, 0
for n, data in rows:
    vals = struct.unpack("<%dQ" % (len(data) // 8), data)
    assert len(vals) == n * (1 + nch)
    total += n
    last_t = vals[-(1 + nch)]
assert total == nsamples and total > 0, (total, nsamples)
# killed t_killed ns after launch (the run started a little later), flushing every
# 0.2 s: at most one interval (plus a tick and the start-up) is lost
killed = int(sys.argv[2])
assert killed - 0.5e9 <= last_t <= killed and duration == last_t, (last_t, duration, killed)
EOF
check "SIGKILL: the database is intact, the run incomplete, samples up to the last flush" \
    sh -c "[ $? -eq 0 ] || { cat '$TMP/killed.out'; false; }"
WATTPROF_DB="$TMP/killed.db" "$WATTPROF" run -q -- true
check "and the next run writes the same file" test "$(sql "$TMP/killed.db" 'select count(*) from runs')" = 2

# --- bad databases: a warning naming the file, the run goes on, the file is unchanged ----
expect_unstored() {
    name=$1
    pattern=$2
    db=$3
    WATTPROF_DB=$db "$WATTPROF" run --json "$TMP/u.json" -- sh -c 'exit 3' 2>"$TMP/err"
    status=$?
    if [ $status -eq 3 ] && grep -q "warning: the run is not stored: .*$pattern" "$TMP/err" &&
        grep -q "machine total" "$TMP/err" && json_true "$TMP/u.json" 'd["id"] is None'; then
        ok "$name"
    else
        not_ok "$name" "status $status" "$(cat "$TMP/err")"
    fi
}
mkdir "$TMP/dir.db"
expect_unstored "a directory" "cannot open '$TMP/dir.db': Is a directory" "$TMP/dir.db"

head -c 8192 /dev/urandom >"$TMP/garbage.db"
before=$(cksum <"$TMP/garbage.db")
expect_unstored "a file that is not SQLite" "'$TMP/garbage.db' is not a wattprof database" "$TMP/garbage.db"
check "and is left unchanged" test "$before" = "$(cksum <"$TMP/garbage.db")"

cp "$TMP/other.db" "$TMP/newer.db"
"$PYTHON" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("update meta set value=99 where key=\"schema_version\""); c.commit()' "$TMP/newer.db"
before=$(cksum <"$TMP/newer.db")
expect_unstored "a database from a newer wattprof" \
    "'$TMP/newer.db' was written by a newer wattprof (schema 99; this one knows up to 3)" "$TMP/newer.db"
check "and is left unchanged" test "$before" = "$(cksum <"$TMP/newer.db")"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    cp "$TMP/other.db" "$TMP/ro.db"
    chmod 644 "$TMP/ro.db"
    before=$(cksum <"$TMP/ro.db")
    WATTPROF_DB="$TMP/ro.db" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$WATTPROF" run --json - -- true 2>"$TMP/err" >"$TMP/ro.json"
    check "a read-only database: the run goes on, a warning names the file" sh -c "
        [ $? -eq 0 ] && grep -q \"not stored: cannot open '$TMP/ro.db' for writing\" '$TMP/err' &&
        grep -q 'machine total' '$TMP/err'"
    check "and is left unchanged" test "$before" = "$(cksum <"$TMP/ro.db")"
else
    chmod 444 "$TMP/other.db"
    WATTPROF_DB="$TMP/other.db" "$WATTPROF" run -q -- true 2>"$TMP/err"
    check "a read-only database: the run goes on, a warning names the file" \
        grep -q "cannot open '$TMP/other.db' for writing" "$TMP/err"
fi

# --- a full disk mid-run (a file size limit): warnings, the run and its summary go on --
WATTPROF_DB="$TMP/full.db" "$WATTPROF" run -q -- true
# the WAL is kept between runs (no checkpoint at close): empty it so that it must grow
"$PYTHON" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$TMP/full.db"
sh -c 'trap "" XFSZ; ulimit -f 100; exec "$@"' sh env WATTPROF_DB="$TMP/full.db" \
    WATTPROF_FLUSH_MS=100 "$WATTPROF" run --sensors model -- sleep 2 2>"$TMP/err"
status=$?
if [ $status -eq 0 ] && grep -q "warning: store: .* write(s) of samples failed: cannot write '$TMP/full.db'" "$TMP/err" &&
    grep -q "machine total" "$TMP/err"; then
    ok "a write failure mid-run is a warning; the run and its summary go on"
else
    not_ok "a write failure mid-run is a warning; the run and its summary go on" "status $status" "$(cat "$TMP/err")"
fi

finish
