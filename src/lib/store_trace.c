/* A stored run's raw samples as a replay trace (docs/replay.md): the channel lines from
 * channels_json (and node_scope from the run JSON), then one CSV row per sample, time in
 * seconds and cumulative joules, both exact (ns and µJ), locale-free. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor.h"
#include "store_sqlite.h"

/* The channel lines and the CSV header, from the run's channels. */
static const char channels_sql[] =
    "SELECT json_extract(c.value, '$.name'), json_extract(c.value, '$.domain'),"
    " json_extract(c.value, '$.provenance'), json_extract(c.value, '$.included_in_total'),"
    " COALESCE(json_extract(r.json, '$.channels[' || c.key || '].node_scope'), 0),"
    " json_extract(c.value, '$.source'), r.raw_pruned, r.n_channels"
    " FROM runs AS r, json_each(r.channels_json) AS c WHERE r.id = ? ORDER BY c.key";

struct trace_out {
    FILE *f;
    size_t n_channels;
    size_t rows;
    int raw_pruned;
    int bad; /* a name or value that the trace format cannot hold */
    char header[8192];
    size_t header_len;
    char bad_name[SENSOR_NAME_MAX];
};

static const char *text_or(sqlite3_stmt *row, int col, const char *fallback)
{
    const unsigned char *v = sqlite3_column_text(row, col);
    return v && *v ? (const char *)v : fallback;
}

/* A name or value in the trace: no space, comma, '=' or line break. */
static int plain(const char *s)
{
    return strcspn(s, " ,=\r\n\t") == strlen(s);
}

static void channel_line(void *arg, sqlite3_stmt *row)
{
    struct trace_out *o = arg;
    const char *name = text_or(row, 0, "");
    const char *domain = text_or(row, 1, "unknown");
    const char *prov = text_or(row, 2, "unknown");
    const char *source = text_or(row, 5, "unknown");
    o->raw_pruned = sqlite3_column_int(row, 6);
    if (!*name || !plain(name) || !plain(domain) || !plain(source) ||
        strlen(name) >= SENSOR_NAME_MAX) {
        o->bad = 1;
        snprintf(o->bad_name, sizeof(o->bad_name), "%s", name);
    }
    fprintf(o->f,
            "# channel %s kind=counter domain=%s provenance=%s included=%d node=%d source=%s\n",
            name, domain, prov, sqlite3_column_int(row, 3) != 0, sqlite3_column_int(row, 4) != 0,
            source);
    int n = snprintf(o->header + o->header_len, sizeof(o->header) - o->header_len, ",%s", name);
    if (n > 0)
        o->header_len += (size_t)n;
    if (o->header_len >= sizeof(o->header))
        o->bad = 1;
    o->n_channels++;
}

/* One CSV row per raw sample: seconds (9 decimals) and joules (6 decimals). */
static void sample_rows(void *arg, sqlite3_stmt *row)
{
    struct trace_out *o = arg;
    size_t width = 8 * (1 + o->n_channels);
    const unsigned char *blob = sqlite3_column_blob(row, 0);
    size_t len = (size_t)sqlite3_column_bytes(row, 0);
    for (size_t off = 0; off + width <= len; off += width) {
        uint64_t t = store_get_le(blob + off);
        fprintf(o->f, "%llu.%09llu", (unsigned long long)(t / 1000000000u),
                (unsigned long long)(t % 1000000000u));
        for (size_t c = 0; c < o->n_channels; c++) {
            uint64_t uj = store_get_le(blob + off + 8 * (1 + c));
            fprintf(o->f, ",%llu.%06llu", (unsigned long long)(uj / 1000000u),
                    (unsigned long long)(uj % 1000000u));
        }
        fputc('\n', o->f);
        o->rows++;
    }
}

/* Checks what the channel pass found; returns 0 or a negative errno with errmsg set. */
static int check_channels(struct wattprof_store *st, const char *id, const struct trace_out *o)
{
    if (o->n_channels == 0)
        return store_errorf(st, -ENOENT, "no run '%s' with channels in '%s'", id, st->path);
    if (o->raw_pruned)
        return store_errorf(st, -ENODATA,
                            "run '%s' has no raw samples any more (gc dropped them); the 1 s "
                            "series that remains is not a trace",
                            id);
    if (o->n_channels > SENSOR_MAX_CHANNELS)
        return store_errorf(st, -EINVAL, "run '%s' has %zu channels; a trace replays at most %d",
                            id, o->n_channels, SENSOR_MAX_CHANNELS);
    if (o->bad)
        return store_errorf(st, -EINVAL,
                            "channel '%s' of run '%s' has a name a trace cannot hold (a space, "
                            "',' or '=')",
                            o->bad_name, id);
    return 0;
}

int store_sqlite_trace(struct wattprof_store *st, const char *id, char **text)
{
    size_t len = 0;
    *text = NULL;
    struct trace_out *o = calloc(1, sizeof(*o));
    if (!o)
        return store_errorf(st, -ENOMEM, "out of memory");
    o->f = open_memstream(text, &len);
    int r = o->f ? 0 : store_errorf(st, -ENOMEM, "out of memory");
    if (r == 0) {
        fputs("# wattprof trace 1\n", o->f);
        r = store_sqlite_each_row(st, channels_sql, id, channel_line, o);
    }
    if (r == 0)
        r = check_channels(st, id, o);
    if (r == 0) {
        fprintf(o->f, "t_s%s\n", o->header);
        r = store_sqlite_each_row(st, "SELECT data FROM samples WHERE run_id = ? ORDER BY seq", id,
                                  sample_rows, o);
    }
    if (r == 0 && o->rows < 2)
        r = store_errorf(st, -ENODATA, "run '%s' has %zu raw sample%s; a trace needs at least 2",
                         id, o->rows, o->rows == 1 ? "" : "s");
    if (o->f && fclose(o->f) != 0 && r == 0)
        r = store_errorf(st, -ENOMEM, "out of memory");
    if (r < 0) {
        free(*text);
        *text = NULL;
    }
    free(o);
    return r;
}
