/* Opening a SQLite store safely and bringing its schema up to date: refuse what is not
 * ours (a directory, a file that is not SQLite, a corrupt or read-only database, a newer
 * schema) without ever writing to it, then apply the forward migrations in order, in
 * one IMMEDIATE transaction (docs/store.md). */
#include "store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 10000

/* Version 0 is the pre-release layout: meta(schema_version '0') and
 * run_json(id, started_at_unix_ms, json), the whole run JSON per row. A new file starts
 * at 0 too (the CREATE ... IF NOT EXISTS make it one). migrations[i] goes from i to
 * i + 1. */
static const char *const migrations[] = {
    /* 0 -> 1: runs with their summary columns, labels, raw samples, the 1 s series. */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS run_json(id TEXT PRIMARY KEY,"
    "  started_at_unix_ms INTEGER NOT NULL, json TEXT NOT NULL);"
    "CREATE TABLE runs(id TEXT PRIMARY KEY, started_at_unix_ms INTEGER NOT NULL,"
    "  duration_ns INTEGER NOT NULL DEFAULT 0, command TEXT NOT NULL DEFAULT '',"
    "  command_json TEXT NOT NULL DEFAULT '[]', energy_uj INTEGER NOT NULL DEFAULT 0,"
    "  energy_provenance TEXT NOT NULL DEFAULT 'none', complete INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER, units REAL NOT NULL DEFAULT 0, unit_name TEXT NOT NULL DEFAULT '',"
    "  labels TEXT NOT NULL DEFAULT '', hostname TEXT NOT NULL DEFAULT '',"
    "  host_json TEXT NOT NULL DEFAULT 'null', wattprof_version TEXT NOT NULL DEFAULT '',"
    "  interval_ns INTEGER NOT NULL DEFAULT 0, n_channels INTEGER NOT NULL DEFAULT 0,"
    "  channels_json TEXT NOT NULL DEFAULT '[]', channel_energy_json TEXT NOT NULL DEFAULT '[]',"
    "  samples INTEGER NOT NULL DEFAULT 0,"
    "  samples_dropped INTEGER NOT NULL DEFAULT 0, raw_pruned INTEGER NOT NULL DEFAULT 0,"
    "  json TEXT);"
    "CREATE INDEX runs_started ON runs(started_at_unix_ms);"
    "CREATE TABLE labels(run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY(run_id, key)) WITHOUT ROWID;"
    "CREATE INDEX labels_kv ON labels(key, value);"
    "CREATE TABLE samples(run_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  n_samples INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(run_id, seq));"
    "CREATE TABLE series(run_id TEXT NOT NULL, bucket INTEGER NOT NULL,"
    "  power_uw BLOB NOT NULL, PRIMARY KEY(run_id, bucket));"
    "INSERT INTO runs(id, started_at_unix_ms, duration_ns, command, command_json, energy_uj,"
    "  energy_provenance, complete, exit_code, units, unit_name, hostname, host_json,"
    "  wattprof_version, json)"
    " SELECT id, started_at_unix_ms,"
    "  CAST(round(coalesce(json_extract(json, '$.duration_s'), 0) * 1e9) AS INTEGER),"
    "  coalesce((SELECT group_concat(value, ' ') FROM json_each(r.json, '$.command')), ''),"
    "  coalesce(json_extract(json, '$.command'), '[]'),"
    "  CAST(round(coalesce(json_extract(json, '$.energy_j'), 0) * 1e6) AS INTEGER),"
    "  coalesce(json_extract(json, '$.energy_provenance'), 'none'),"
    "  coalesce(json_extract(json, '$.complete'), 0), json_extract(json, '$.exit_code'),"
    "  coalesce(json_extract(json, '$.units'), 0),"
    "  coalesce(json_extract(json, '$.unit_name'), ''),"
    "  coalesce(json_extract(json, '$.host.hostname'), ''),"
    "  coalesce(json_extract(json, '$.host'), 'null'),"
    "  coalesce(json_extract(json, '$.sampler.wattprof_version'), ''),"
    "  replace(json, '\"schema\": \"wattprof.run/1\",',"
    "    '\"schema\": \"wattprof.run/1\",' || char(10) || '  \"id\": \"' || id || '\",')"
    " FROM run_json AS r;"
    "DROP TABLE run_json;",
    /* 1 -> 2: the run's total CO2e in grams (accounting.total_g), NULL when unknown. */
    "ALTER TABLE runs ADD COLUMN co2e_g REAL;"
    "UPDATE runs SET co2e_g = json_extract(json, '$.accounting.total_g') WHERE json IS NOT NULL;",
    /* 2 -> 3: studies (wattprof bench), each with its whole wattprof.study/1 JSON. */
    "CREATE TABLE studies(id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',"
    "  started_at_unix_ms INTEGER NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX studies_started ON studies(started_at_unix_ms);",
};

#define STORE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_sqlite_schema_version(void)
{
    return STORE_SCHEMA_VERSION;
}

/* A file we did not write must not be touched: an existing non-empty file must begin
 * with SQLite's header. */
static int check_file(struct wattprof_store *st, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return errno == ENOENT
                   ? 0
                   : store_errorf(st, -errno, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return store_errorf(st, -EINVAL, "cannot open '%s': Is a directory", path);
    if (!S_ISREG(sb.st_mode))
        return store_errorf(st, -EINVAL, "cannot open '%s': not a regular file", path);
    if (access(path, R_OK | W_OK) < 0)
        return store_errorf(st, -EACCES, "cannot open '%s' for writing: %s", path, strerror(errno));
    if (sb.st_size == 0)
        return 0;
    char head[16] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return store_errorf(st, -errno, "cannot open '%s': %s", path, strerror(errno));
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n != (ssize_t)sizeof(head) || memcmp(head, "SQLite format 3", 16) != 0)
        return store_errorf(st, -EINVAL,
                            "'%s' is not a wattprof database (not SQLite); "
                            "left unchanged",
                            path);
    return 0;
}

/* WAL pages (4 KiB) before an automatic checkpoint: a few runs' worth. */
#define STORE_WAL_CHECKPOINT_PAGES "64"

/* Creates the missing parent directories of path, 0700 (the runs are the user's). */
static int make_parents(struct wattprof_store *st, const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return store_errorf(st, -errno, "cannot create '%s': %s", dir, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* The version in meta; 0 when the file has no meta table yet. */
static int read_version(struct wattprof_store *st, int *version)
{
    sqlite3 *db = store_sqlite_db(st);
    sqlite3_stmt *q = NULL;
    *version = 0;
    int r =
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q, NULL);
    if (r != SQLITE_OK) {
        sqlite3_finalize(q);
        return 0; /* no meta table: a new file */
    }
    r = sqlite3_step(q);
    if (r == SQLITE_ROW)
        *version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return store_sqlite_error(st, r, "cannot read");
    return 0;
}

static int quick_check(struct wattprof_store *st)
{
    sqlite3_stmt *q = NULL;
    int r = sqlite3_prepare_v2(store_sqlite_db(st), "PRAGMA quick_check", -1, &q, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_step(q);
    int ok = r == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
    sqlite3_finalize(q);
    if (!ok)
        return store_errorf(st, -EIO, "'%s' is corrupt (quick_check failed); left unchanged",
                            st->path);
    return 0;
}

/* Applies migrations[version..] in one transaction (which also serializes two
 * processes opening a new file at once). */
static int migrate(struct wattprof_store *st)
{
    int version = 0;
    int r = store_sqlite_exec(st, "BEGIN IMMEDIATE");
    if (r == 0)
        r = read_version(st, &version);
    if (r == 0 && version > STORE_SCHEMA_VERSION)
        r = store_errorf(st, -EINVAL,
                         "'%s' was written by a newer wattprof (schema %d; this one knows up "
                         "to %d)",
                         st->path, version, STORE_SCHEMA_VERSION);
    if (r == 0 && version < STORE_SCHEMA_VERSION)
        r = quick_check(st);
    for (int v = version; r == 0 && v < STORE_SCHEMA_VERSION; v++)
        r = store_sqlite_exec(st, migrations[v]);
    if (r == 0 && version < STORE_SCHEMA_VERSION) {
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '%d')",
                 STORE_SCHEMA_VERSION);
        r = store_sqlite_exec(st, sql);
    }
    if (r == 0)
        return store_sqlite_exec(st, "COMMIT");
    sqlite3_exec(store_sqlite_db(st), "ROLLBACK", NULL, NULL, NULL);
    return r;
}

int store_sqlite_open_db(struct wattprof_store *st, const char *path)
{
    int r = check_file(st, path);
    if (r == 0)
        r = st->create_parents ? make_parents(st, path) : 0;
    if (r < 0)
        return r;
    sqlite3 *db = NULL;
    r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    st->priv = db;
    if (r != SQLITE_OK)
        return store_errorf(st, -EIO, "cannot open '%s': %s", path,
                            db ? sqlite3_errmsg(db) : "out of memory");
    if (sqlite3_db_readonly(db, "main") == 1)
        return store_errorf(st, -EACCES, "cannot open '%s' for writing: read-only", path);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* A checkpoint at every close would fsync on every `wattprof run` (about 2 ms here);
     * instead the WAL is checkpointed when it passes STORE_WAL_CHECKPOINT_PAGES, which
     * also bounds what the next opener reads to rebuild its index. */
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* Switching a new file to WAL can return SQLITE_BUSY without waiting (another process
     * is creating it at the same moment): try again for up to the busy timeout. */
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int tries = 0;; tries++) {
        r = store_sqlite_exec(st, "PRAGMA journal_mode=WAL");
        if (r == 0)
            r = store_sqlite_exec(st, "PRAGMA synchronous=NORMAL");
        if (r == 0)
            r = store_sqlite_exec(st, "PRAGMA wal_autocheckpoint=" STORE_WAL_CHECKPOINT_PAGES);
        if (r == 0)
            r = migrate(st);
        if (r == 0 || (sqlite3_errcode(db) & 0xff) != SQLITE_BUSY || tries * 10 >= BUSY_TIMEOUT_MS)
            return r;
        nanosleep(&pause, NULL);
    }
}
