/* Reading the SQLite store: the list of runs, id prefixes, a run's JSON (the stored text
 * for a finished run; built from the tables for one that never finished), its
 * downsampled power series, and a stored study's JSON. */
#include "store_sqlite.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* The JSON of a run that never finished (wattprof was killed): what was saved. */
static const char incomplete_sql[] =
    "SELECT json_object('schema', 'wattprof.run/1', 'id', id, 'command', json(command_json),"
    " 'exit_code', NULL, 'complete', json('false'),"
    " 'started_at', strftime('%Y-%m-%dT%H:%M:%fZ', started_at_unix_ms / 1000.0, 'unixepoch'),"
    " 'duration_s', duration_ns / 1e9, 'energy_j', energy_uj / 1e6,"
    " 'energy_provenance', energy_provenance, 'host', json(host_json),"
    " 'sampler', json_object('interval_ms', interval_ns / 1000000, 'samples', samples,"
    "   'samples_dropped', samples_dropped, 'wattprof_version', wattprof_version),"
    " 'channels', (SELECT json_group_array(json_set(c.value, '$.energy_j',"
    "   json_extract(r.channel_energy_json, '$[' || c.key || ']')))"
    "   FROM json_each(r.channels_json) AS c),"
    " 'labels', (SELECT json_group_object(key, value) FROM labels WHERE run_id = r.id),"
    " 'warnings', json_array('incomplete: wattprof stopped before the run ended; what was"
    " saved up to its last flush is shown'))"
    " FROM runs AS r WHERE id = ?";

/* Runs one query with a text parameter and copies its first text column out. */
static int query_text(struct wattprof_store *st, const char *sql, const char *arg, char **out)
{
    sqlite3_stmt *q = NULL;
    *out = NULL;
    int r = sqlite3_prepare_v2(store_sqlite_db(st), sql, -1, &q, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
    if (r == SQLITE_OK)
        r = sqlite3_step(q);
    if (r == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *out = strdup((const char *)sqlite3_column_text(q, 0));
        r = *out ? SQLITE_ROW : SQLITE_NOMEM;
    }
    sqlite3_finalize(q);
    if (r == SQLITE_ROW || r == SQLITE_DONE)
        return r == SQLITE_ROW ? 1 : 0; /* 1: a row (maybe a NULL value), 0: none */
    return r == SQLITE_NOMEM ? -ENOMEM : store_sqlite_error(st, r, "cannot read");
}

int store_sqlite_run_json(struct wattprof_store *st, const char *id, char **json)
{
    int r = query_text(st, "SELECT json FROM runs WHERE id = ?", id, json);
    if (r == 1 && !*json)
        r = query_text(st, incomplete_sql, id, json);
    if (r == 0)
        return store_errorf(st, -ENOENT, "no run '%s' in '%s'", id, st->path);
    return r < 0 ? r : 0;
}

int store_sqlite_labels_json(struct wattprof_store *st, const char *id, char **json)
{
    int r = query_text(st,
                       "SELECT (SELECT json_group_object(key, value) FROM"
                       " (SELECT key, value FROM labels WHERE run_id = r.id ORDER BY key))"
                       " FROM runs AS r WHERE r.id = ?",
                       id, json);
    if (r == 0)
        return store_errorf(st, -ENOENT, "no run '%s' in '%s'", id, st->path);
    return r < 0 ? r : 0;
}

/* The ids in table starting with prefix: 0 and the one id, -ENOENT or -EINVAL (ambiguous,
 * errmsg lists up to 8). what: "run" or "study". */
static int resolve_in(struct wattprof_store *st, const char *table, const char *what,
                      const char *prefix, char id[16])
{
    char hi[16], sql[96];
    snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE id >= ? AND id < ? ORDER BY id LIMIT 8",
             table);
    snprintf(hi, sizeof(hi), "%s~", prefix); /* '~' sorts after every hex digit */
    sqlite3_stmt *q = NULL;
    int r = sqlite3_prepare_v2(store_sqlite_db(st), sql, -1, &q, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 1, prefix, -1, SQLITE_STATIC);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 2, hi, -1, SQLITE_STATIC);
    char list[STORE_ERRMSG_MAX / 2] = "";
    int n = 0;
    while (r == SQLITE_OK || r == SQLITE_ROW) {
        r = sqlite3_step(q);
        if (r != SQLITE_ROW)
            break;
        const char *v = (const char *)sqlite3_column_text(q, 0);
        if (n++ == 0)
            snprintf(id, 16, "%s", v);
        size_t len = strlen(list);
        snprintf(list + len, sizeof(list) - len, "%s%s", len ? " " : "", v);
    }
    sqlite3_finalize(q);
    if (r != SQLITE_DONE)
        return store_sqlite_error(st, r, "cannot read");
    if (n == 0)
        return store_errorf(st, -ENOENT, "no %s '%s' in '%s'", what, prefix, st->path);
    if (n > 1) {
        id[0] = '\0';
        return store_errorf(st, -EINVAL, "%s id '%s' is ambiguous: %s%s", what, prefix, list,
                            n == 8 ? " ..." : "");
    }
    return 0;
}

int store_sqlite_resolve(struct wattprof_store *st, const char *prefix, char id[16])
{
    return resolve_in(st, "runs", "run", prefix, id);
}

int store_sqlite_resolve_study(struct wattprof_store *st, const char *prefix, char id[16])
{
    return resolve_in(st, "studies", "study", prefix, id);
}

int store_sqlite_study_json(struct wattprof_store *st, const char *id, char **json)
{
    int r = query_text(st, "SELECT json FROM studies WHERE id = ?", id, json);
    if (r == 0)
        return store_errorf(st, -ENOENT, "no study '%s' in '%s'", id, st->path);
    return r < 0 ? r : 0;
}

static const char *static_provenance(const char *p)
{
    static const char *const known[] = { "measured", "integrated", "estimated",
                                         "replayed", "mixed",      "none" };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (p && strcmp(p, known[i]) == 0)
            return known[i];
    return "unknown";
}

static void text_col(sqlite3_stmt *q, int col, char *buf, size_t size)
{
    const unsigned char *v = sqlite3_column_text(q, col);
    snprintf(buf, size, "%s", v ? (const char *)v : "");
}

static void fill_row(sqlite3_stmt *q, struct wattprof_run_row *w)
{
    memset(w, 0, sizeof(*w));
    text_col(q, 0, w->id, sizeof(w->id));
    w->started_at_unix_ms = (uint64_t)sqlite3_column_int64(q, 1);
    w->duration_ns = (uint64_t)sqlite3_column_int64(q, 2);
    text_col(q, 3, w->command, sizeof(w->command));
    w->energy_uj = (uint64_t)sqlite3_column_int64(q, 4);
    w->energy_provenance = static_provenance((const char *)sqlite3_column_text(q, 5));
    w->complete = sqlite3_column_int(q, 6);
    w->exit_code = sqlite3_column_int(q, 7);
    w->units = sqlite3_column_double(q, 8);
    text_col(q, 9, w->unit_name, sizeof(w->unit_name));
    text_col(q, 10, w->labels, sizeof(w->labels));
    w->co2e_g = sqlite3_column_type(q, 11) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 11);
}

static int bind_filter(sqlite3_stmt *q, const struct wattprof_list_filter *f, char *key)
{
    const char *eq = f && f->label ? strchr(f->label, '=') : NULL;
    int r = sqlite3_bind_int64(q, 1, f ? (sqlite3_int64)f->since_unix_ms : 0);
    if (r == SQLITE_OK && eq)
        snprintf(key, 80, "%.*s", (int)(eq - f->label) > 70 ? 70 : (int)(eq - f->label), f->label);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int(q, 2, eq != NULL);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 3, eq ? key : "", -1, SQLITE_STATIC);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 4, eq ? eq + 1 : "", -1, SQLITE_STATIC);
    if (r == SQLITE_OK)
        r = sqlite3_bind_int64(q, 5, f && f->limit ? (sqlite3_int64)f->limit : -1);
    return r;
}

static int grow(struct wattprof_run_row **rows, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 32;
    struct wattprof_run_row *p = realloc(*rows, c * sizeof(*p));
    if (!p)
        return -ENOMEM;
    *rows = p;
    *cap = c;
    return 0;
}

int store_sqlite_list(struct wattprof_store *st, const struct wattprof_list_filter *f,
                      struct wattprof_run_row **rows, size_t *n)
{
    if (f && f->label && !strchr(f->label, '='))
        return store_errorf(st, -EINVAL, "invalid label filter '%s': give KEY=VALUE", f->label);
    sqlite3_stmt *q = NULL;
    char key[80] = "";
    size_t cap = 0;
    int r = sqlite3_prepare_v2(
        store_sqlite_db(st),
        "SELECT id, started_at_unix_ms, duration_ns, command, energy_uj, energy_provenance,"
        " complete, coalesce(exit_code, -1), units, unit_name, labels, co2e_g FROM runs"
        " WHERE started_at_unix_ms >= ?1 AND (?2 = 0 OR id IN (SELECT run_id FROM labels"
        " WHERE key = ?3 AND value = ?4)) ORDER BY started_at_unix_ms DESC, id LIMIT ?5",
        -1, &q, NULL);
    if (r == SQLITE_OK)
        r = bind_filter(q, f, key);
    while (r == SQLITE_OK || r == SQLITE_ROW) {
        r = sqlite3_step(q);
        if (r != SQLITE_ROW)
            break;
        if (grow(rows, *n, &cap) < 0) {
            r = SQLITE_NOMEM;
            break;
        }
        fill_row(q, &(*rows)[(*n)++]);
    }
    sqlite3_finalize(q);
    if (r == SQLITE_DONE)
        return 0;
    free(*rows);
    *rows = NULL;
    *n = 0;
    return r == SQLITE_NOMEM ? store_errorf(st, -ENOMEM, "out of memory")
                             : store_sqlite_error(st, r, "cannot read");
}

int store_sqlite_channel_names(struct wattprof_store *st, const char *id, struct json *j)
{
    sqlite3_stmt *q = NULL;
    int r = sqlite3_prepare_v2(store_sqlite_db(st),
                               "SELECT json_extract(c.value, '$.name') FROM runs AS r,"
                               " json_each(r.channels_json) AS c WHERE r.id = ? ORDER BY c.key",
                               -1, &q, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    while (r == SQLITE_OK || r == SQLITE_ROW) {
        r = sqlite3_step(q);
        if (r == SQLITE_ROW)
            json_string(j, NULL, (const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    return r == SQLITE_DONE ? 0 : store_sqlite_error(st, r, "cannot read");
}

int store_sqlite_each_row(struct wattprof_store *st, const char *sql, const char *id,
                          void (*fn)(void *arg, sqlite3_stmt *row), void *arg)
{
    sqlite3_stmt *q = NULL;
    int r = sqlite3_prepare_v2(store_sqlite_db(st), sql, -1, &q, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    while (r == SQLITE_OK || r == SQLITE_ROW) {
        r = sqlite3_step(q);
        if (r == SQLITE_ROW)
            fn(arg, q);
    }
    sqlite3_finalize(q);
    return r == SQLITE_DONE ? 0 : store_sqlite_error(st, r, "cannot read");
}

const char store_sqlite_series_sql[] =
    "SELECT bucket, power_uw FROM series WHERE run_id = ? ORDER BY bucket";

static void series_t(void *arg, sqlite3_stmt *row)
{
    json_u64(arg, NULL, (uint64_t)sqlite3_column_int64(row, 0));
}

static void series_power(void *arg, sqlite3_stmt *row)
{
    const unsigned char *b = sqlite3_column_blob(row, 1);
    int len = sqlite3_column_bytes(row, 1);
    json_begin_array(arg, NULL);
    for (int k = 0; k + 8 <= len; k += 8)
        json_fixed(arg, NULL, store_get_le(b + k), 6);
    json_end_array(arg);
}

/* One pass over the buckets: their t_s (the bucket's first second, from the run's start)
 * when !power, else their mean power_w per channel. */
static int series_points(struct wattprof_store *st, const char *id, struct json *j, int power)
{
    json_begin_array(j, power ? "power_w" : "t_s");
    int r =
        store_sqlite_each_row(st, store_sqlite_series_sql, id, power ? series_power : series_t, j);
    json_end_array(j);
    return r;
}

int store_sqlite_series_json(struct wattprof_store *st, const char *id, char **json)
{
    char *exists = NULL;
    int r = query_text(st, "SELECT id FROM runs WHERE id = ?", id, &exists);
    free(exists);
    if (r == 0)
        return store_errorf(st, -ENOENT, "no run '%s' in '%s'", id, st->path);
    if (r < 0)
        return r;
    struct json j;
    json_init(&j);
    json_begin_object(&j, NULL);
    json_begin_array(&j, "channels");
    r = store_sqlite_channel_names(st, id, &j);
    json_end_array(&j);
    if (r == 0)
        r = series_points(st, id, &j, 0);
    if (r == 0)
        r = series_points(st, id, &j, 1);
    json_end_object(&j);
    *json = r == 0 ? json_take(&j) : NULL;
    json_release(&j);
    if (r == 0 && !*json)
        r = store_errorf(st, -ENOMEM, "out of memory");
    return r;
}
