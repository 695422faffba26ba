/* The SQLite store backend: its operations table and the writes (a run's row at start,
 * its samples and series batch by batch, its final state, delete, gc), each in one
 * BEGIN IMMEDIATE transaction so several processes can write one file (docs/store.md). */
#include "store_sqlite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sqlite3 *store_sqlite_db(const struct wattprof_store *st)
{
    return st->priv;
}

int store_sqlite_error(struct wattprof_store *st, int code, const char *what)
{
    sqlite3 *db = store_sqlite_db(st);
    int base = code & 0xff;
    store_errorf(st, -EIO, "%s '%s': %s", what, st->path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
    if (base == SQLITE_FULL)
        return -ENOSPC;
    return base == SQLITE_READONLY ? -EACCES : -EIO;
}

int store_sqlite_exec(struct wattprof_store *st, const char *sql)
{
    int r = sqlite3_exec(store_sqlite_db(st), sql, NULL, NULL, NULL);
    return r == SQLITE_OK ? 0 : store_sqlite_error(st, r, "cannot write");
}

/* A write transaction, unless the caller (a bulk load) already holds one. */
static int tx_begin(struct wattprof_store *st, int *own)
{
    *own = sqlite3_get_autocommit(store_sqlite_db(st));
    return *own ? store_sqlite_exec(st, "BEGIN IMMEDIATE") : 0;
}

static int tx_end(struct wattprof_store *st, int own, int r)
{
    if (!own)
        return r;
    if (r == 0)
        r = store_sqlite_exec(st, "COMMIT");
    if (r < 0)
        sqlite3_exec(store_sqlite_db(st), "ROLLBACK", NULL, NULL, NULL);
    return r;
}

/* Prepares, binds the arguments (fmt: 't' text, 'i' int64, 'd' double, 'b' blob with
 * its length next, 'n' null) and runs one statement without results. */
static int run_stmt(struct wattprof_store *st, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *q = NULL;
    int r = sqlite3_prepare_v3(store_sqlite_db(st), sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL);
    va_list ap;
    va_start(ap, fmt);
    for (int i = 1; r == SQLITE_OK && fmt[i - 1]; i++) {
        switch (fmt[i - 1]) {
        case 't':
            r = sqlite3_bind_text(q, i, va_arg(ap, const char *), -1, SQLITE_STATIC);
            break;
        case 'i':
            r = sqlite3_bind_int64(q, i, va_arg(ap, sqlite3_int64));
            break;
        case 'd':
            r = sqlite3_bind_double(q, i, va_arg(ap, double));
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            r = sqlite3_bind_blob64(q, i, p, va_arg(ap, sqlite3_uint64), SQLITE_STATIC);
            break;
        }
        default:
            r = sqlite3_bind_null(q, i);
        }
    }
    va_end(ap);
    if (r == SQLITE_OK)
        r = sqlite3_step(q);
    int rc = r == SQLITE_DONE ? 0 : store_sqlite_error(st, r, "cannot write");
    if ((r & 0xff) == SQLITE_CONSTRAINT)
        rc = -EEXIST;
    sqlite3_finalize(q);
    return rc;
}

static int sqlite_open(struct wattprof_store *st, const char *path)
{
    return store_sqlite_open_db(st, path);
}

static void sqlite_close(struct wattprof_store *st)
{
    sqlite3_close_v2(store_sqlite_db(st));
    st->priv = NULL;
}

static int insert_run(struct wattprof_store *st, const struct store_run_start *r)
{
    return run_stmt(st,
                    "INSERT INTO runs(id, started_at_unix_ms, command, command_json, labels,"
                    " hostname, host_json, wattprof_version, interval_ns, n_channels,"
                    " channels_json) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "titttttiiit", r->id, (sqlite3_int64)r->started_at_unix_ms, r->command_text,
                    r->command_json, r->labels_text, r->hostname, r->host_json, wattprof_version(),
                    (sqlite3_int64)r->interval_ns, (sqlite3_int64)r->n_channels, r->channels_json);
}

static int sqlite_run_begin(struct wattprof_store *st, const struct store_run_start *r)
{
    int own;
    int rc = tx_begin(st, &own);
    if (rc == 0)
        rc = insert_run(st, r);
    for (size_t i = 0; rc == 0 && i < r->n_labels; i++)
        rc = run_stmt(st, "INSERT OR REPLACE INTO labels(run_id, key, value) VALUES(?, ?, ?)",
                      "ttt", r->id, r->label_keys[i], r->label_values[i]);
    return tx_end(st, own, rc);
}

/* Packs rows of 1 + n_channels values into one little-endian blob (malloc'd). */
static unsigned char *pack(const uint64_t *v, size_t n_values)
{
    unsigned char *p = malloc(n_values ? n_values * 8 : 1);
    if (p)
        store_pack_le(p, v, n_values);
    return p;
}

static int write_buckets(struct wattprof_store *st, const struct store_batch *b)
{
    size_t width = 1 + b->n_channels;
    unsigned char *p = pack(b->buckets, b->n_buckets * width);
    if (!p)
        return store_errorf(st, -ENOMEM, "out of memory");
    int r = 0;
    for (size_t k = 0; r == 0 && k < b->n_buckets; k++)
        r = run_stmt(st, "INSERT OR REPLACE INTO series(run_id, bucket, power_uw) VALUES(?, ?, ?)",
                     "tib", b->id, (sqlite3_int64)b->buckets[k * width],
                     (const void *)(p + k * width * 8 + 8), (sqlite3_uint64)b->n_channels * 8);
    free(p);
    return r;
}

static int write_samples(struct wattprof_store *st, const struct store_batch *b)
{
    if (b->n_samples == 0)
        return 0;
    size_t n_values = b->n_samples * (1 + b->n_channels);
    unsigned char *p = pack(b->samples, n_values);
    if (!p)
        return store_errorf(st, -ENOMEM, "out of memory");
    int r = run_stmt(st, "INSERT INTO samples(run_id, seq, n_samples, data) VALUES(?, ?, ?, ?)",
                     "tiib", b->id, (sqlite3_int64)b->seq, (sqlite3_int64)b->n_samples,
                     (const void *)p, (sqlite3_uint64)n_values * 8);
    free(p);
    return r;
}

static int sqlite_write_batch(struct wattprof_store *st, const struct store_batch *b)
{
    int own;
    int r = tx_begin(st, &own);
    if (r == 0)
        r = write_samples(st, b);
    if (r == 0)
        r = write_buckets(st, b);
    if (r == 0)
        r = run_stmt(st,
                     "UPDATE runs SET duration_ns = ?, energy_uj = ?, samples = samples + ?,"
                     " samples_dropped = ?, channel_energy_json = ? WHERE id = ?",
                     "iiiitt", (sqlite3_int64)b->duration_ns, (sqlite3_int64)b->energy_uj,
                     (sqlite3_int64)b->n_samples, (sqlite3_int64)b->dropped, b->channel_energy_json,
                     b->id);
    return tx_end(st, own, r);
}

static int sqlite_run_end(struct wattprof_store *st, const struct store_run_end *e)
{
    int own;
    int r = tx_begin(st, &own);
    if (r == 0)
        r = run_stmt(st,
                     "UPDATE runs SET duration_ns = ?, energy_uj = ?, energy_provenance = ?,"
                     " complete = ?, exit_code = ?, units = ?, unit_name = ?, json = ?, co2e_g = ?"
                     " WHERE id = ?",
                     "iitiidttdt", (sqlite3_int64)e->duration_ns, (sqlite3_int64)e->energy_uj,
                     e->energy_provenance, (sqlite3_int64)e->complete, (sqlite3_int64)e->exit_code,
                     e->units, e->unit_name ? e->unit_name : "", e->json, e->co2e_g, e->id);
    return tx_end(st, own, r);
}

static int sqlite_delete(struct wattprof_store *st, const char *id)
{
    static const char *const tables[] = { "labels", "samples", "series" };
    int own;
    int r = tx_begin(st, &own);
    if (r == 0)
        r = run_stmt(st, "DELETE FROM runs WHERE id = ?", "t", id);
    int gone = r == 0 ? sqlite3_changes(store_sqlite_db(st)) : 0;
    for (size_t i = 0; r == 0 && i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[64];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE run_id = ?", tables[i]);
        r = run_stmt(st, sql, "t", id);
    }
    if (r == 0 && gone == 0)
        r = store_errorf(st, -ENOENT, "no run '%s' in '%s'", id, st->path);
    return tx_end(st, own, r);
}

static int sqlite_gc(struct wattprof_store *st, uint64_t before_unix_ms, uint64_t *runs_pruned)
{
    int own;
    int r = tx_begin(st, &own);
    if (r == 0)
        r = run_stmt(st,
                     "UPDATE runs SET raw_pruned = 1 WHERE started_at_unix_ms < ? AND"
                     " id IN (SELECT DISTINCT run_id FROM samples)",
                     "i", (sqlite3_int64)before_unix_ms);
    if (r == 0)
        *runs_pruned = (uint64_t)sqlite3_changes(store_sqlite_db(st));
    if (r == 0)
        r = run_stmt(st,
                     "DELETE FROM samples WHERE run_id IN"
                     " (SELECT id FROM runs WHERE started_at_unix_ms < ?)",
                     "i", (sqlite3_int64)before_unix_ms);
    return tx_end(st, own, r);
}

static int sqlite_save_study(struct wattprof_store *st, const char *id, const char *name,
                             uint64_t started_at_unix_ms, const char *json)
{
    int own;
    int r = tx_begin(st, &own);
    if (r == 0)
        r = run_stmt(st,
                     "INSERT INTO studies(id, name, started_at_unix_ms, json) VALUES(?, ?, ?, ?)",
                     "ttit", id, name, (sqlite3_int64)started_at_unix_ms, json);
    return tx_end(st, own, r);
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .run_begin = sqlite_run_begin,
    .write_batch = sqlite_write_batch,
    .run_end = sqlite_run_end,
    .list = store_sqlite_list,
    .resolve = store_sqlite_resolve,
    .run_json = store_sqlite_run_json,
    .series_json = store_sqlite_series_json,
    .labels_json = store_sqlite_labels_json,
    .power_json = store_sqlite_power_json,
    .trace = store_sqlite_trace,
    .delete_run = sqlite_delete,
    .gc = sqlite_gc,
    .save_study = sqlite_save_study,
    .resolve_study = store_sqlite_resolve_study,
    .study_json = store_sqlite_study_json,
};
