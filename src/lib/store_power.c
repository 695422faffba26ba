/* A stored run's power for charts (wattprof_store_power_json): equal time buckets over
 * the run, each with the mean, the lowest and the highest power of every channel in it
 * (min/max buckets: a spike survives the downsampling, a 24 h run stays a few thousand
 * points). From the raw samples while the run keeps them and they are few enough to read
 * quickly, else from the 1 s series (kept by gc). */
#include "store_sqlite.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Above this many raw samples the 1 s series is read instead: 2 M samples of 16 channels
 * are 272 MB of blobs, about half a second to read here (docs/performance.md). */
#define POWER_SAMPLES_MAX 2000000ULL
#define POWER_MAX_CHANNELS 256

struct power_acc {
    size_t n_buckets, n_ch;
    uint64_t bucket_ns;
    double *energy_j; /* n_buckets x n_ch */
    double *min_w, *max_w;
    double *seconds; /* n_buckets: time covered */
    uint64_t *t_lo, *t_hi;
    double *de; /* n_ch scratch: one interval's energy per channel, in µJ */
};

static void acc_free(struct power_acc *a)
{
    free(a->energy_j);
    free(a->min_w);
    free(a->max_w);
    free(a->seconds);
    free(a->t_lo);
    free(a->t_hi);
    free(a->de);
}

static int acc_init(struct power_acc *a, size_t n_buckets, size_t n_ch, uint64_t duration_ns)
{
    memset(a, 0, sizeof(*a));
    a->n_buckets = n_buckets;
    a->n_ch = n_ch;
    a->bucket_ns = duration_ns ? (duration_ns + n_buckets - 1) / n_buckets : 1;
    size_t cells = n_buckets * (n_ch ? n_ch : 1);
    a->energy_j = calloc(cells, sizeof(double));
    a->min_w = malloc(cells * sizeof(double));
    a->max_w = malloc(cells * sizeof(double));
    a->seconds = calloc(n_buckets, sizeof(double));
    a->t_lo = malloc(n_buckets * sizeof(uint64_t));
    a->t_hi = calloc(n_buckets, sizeof(uint64_t));
    a->de = calloc(n_ch ? n_ch : 1, sizeof(double));
    if (!a->energy_j || !a->min_w || !a->max_w || !a->seconds || !a->t_lo || !a->t_hi || !a->de) {
        acc_free(a);
        return -ENOMEM;
    }
    for (size_t i = 0; i < cells; i++) {
        a->min_w[i] = INFINITY;
        a->max_w[i] = -INFINITY;
    }
    for (size_t b = 0; b < n_buckets; b++)
        a->t_lo[b] = UINT64_MAX;
    return 0;
}

/* One interval [t0, t1) with a->de[c] µJ per channel, counted in t0's bucket. */
static void acc_add(struct power_acc *a, uint64_t t0, uint64_t t1)
{
    if (t1 <= t0)
        return;
    size_t b = (size_t)(t0 / a->bucket_ns);
    if (b >= a->n_buckets)
        b = a->n_buckets - 1;
    double dt = (double)(t1 - t0) / 1e9;
    double *e = a->energy_j + b * a->n_ch, *lo = a->min_w + b * a->n_ch,
           *hi = a->max_w + b * a->n_ch;
    for (size_t c = 0; c < a->n_ch; c++) {
        double p = a->de[c] / 1e6 / dt;
        e[c] += a->de[c] / 1e6;
        if (p < lo[c])
            lo[c] = p;
        if (p > hi[c])
            hi[c] = p;
    }
    a->seconds[b] += dt;
    if (t0 < a->t_lo[b])
        a->t_lo[b] = t0;
    if (t1 > a->t_hi[b])
        a->t_hi[b] = t1;
}

/* Feeds consecutive raw samples (t_ns, cumulative µJ per channel), across blob rows. */
struct feed {
    struct power_acc *a;
    unsigned char prev[8 * (1 + POWER_MAX_CHANNELS)];
    int have_prev;
    uint64_t duration_ns;
};

static void feed_samples(void *arg, sqlite3_stmt *row)
{
    struct feed *fd = arg;
    struct power_acc *a = fd->a;
    size_t width = 8 * (1 + a->n_ch);
    const unsigned char *blob = sqlite3_column_blob(row, 0);
    size_t len = (size_t)sqlite3_column_bytes(row, 0);
    for (size_t off = 0; off + width <= len; off += width) {
        const unsigned char *v = blob + off;
        if (fd->have_prev) {
            for (size_t c = 0; c < a->n_ch; c++) {
                uint64_t e1 = store_get_le(v + 8 * (1 + c)),
                         e0 = store_get_le(fd->prev + 8 * (1 + c));
                a->de[c] = e1 >= e0 ? (double)(e1 - e0) : 0;
            }
            acc_add(a, store_get_le(fd->prev), store_get_le(v));
        }
        memcpy(fd->prev, v, width);
        fd->have_prev = 1;
    }
}

/* Feeds the 1 s series: each row is a second's mean power (µW) per channel. */
static void feed_series(void *arg, sqlite3_stmt *row)
{
    struct feed *fd = arg;
    struct power_acc *a = fd->a;
    uint64_t t0 = (uint64_t)sqlite3_column_int64(row, 0) * 1000000000ULL, t1 = t0 + 1000000000ULL;
    if (fd->duration_ns > t0 && fd->duration_ns < t1)
        t1 = fd->duration_ns; /* the last, partial second */
    const unsigned char *blob = sqlite3_column_blob(row, 1);
    size_t len = (size_t)sqlite3_column_bytes(row, 1);
    for (size_t c = 0; c < a->n_ch; c++)
        a->de[c] =
            8 * (c + 1) <= len ? (double)store_get_le(blob + 8 * c) * (double)(t1 - t0) / 1e9 : 0;
    acc_add(a, t0, t1);
}

/* Watts with µW resolution, locale-free. */
static void watts(struct json *j, double w)
{
    json_fixed(j, NULL, (uint64_t)llround(w > 0 ? w * 1e6 : 0), 6);
}

static void acc_json(const struct power_acc *a, struct json *j)
{
    json_begin_array(j, "t_s");
    for (size_t b = 0; b < a->n_buckets; b++)
        if (a->seconds[b] > 0)
            json_fixed(j, NULL, (a->t_lo[b] + a->t_hi[b]) / 2000, 6);
    json_end_array(j);
    static const char *const keys[] = { "mean_w", "min_w", "max_w" };
    for (int k = 0; k < 3; k++) {
        json_begin_array(j, keys[k]);
        for (size_t b = 0; b < a->n_buckets; b++) {
            if (a->seconds[b] <= 0)
                continue;
            json_begin_array(j, NULL);
            for (size_t c = 0; c < a->n_ch; c++) {
                size_t i = b * a->n_ch + c;
                watts(j, k == 0   ? a->energy_j[i] / a->seconds[b]
                         : k == 1 ? a->min_w[i]
                                  : a->max_w[i]);
            }
            json_end_array(j);
        }
        json_end_array(j);
    }
}

/* The run's duration, channel count, raw sample count and whether raw samples remain. */
static int run_facts(struct wattprof_store *st, const char *id, uint64_t *duration_ns, size_t *n_ch,
                     uint64_t *samples, int *have_raw)
{
    sqlite3_stmt *q = NULL;
    int r = sqlite3_prepare_v2(store_sqlite_db(st),
                               "SELECT duration_ns, n_channels, samples,"
                               " EXISTS(SELECT 1 FROM samples WHERE run_id = r.id)"
                               " FROM runs AS r WHERE id = ?",
                               -1, &q, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (r == SQLITE_OK)
        r = sqlite3_step(q);
    if (r == SQLITE_ROW) {
        *duration_ns = (uint64_t)sqlite3_column_int64(q, 0);
        *n_ch = (size_t)sqlite3_column_int64(q, 1);
        *samples = (uint64_t)sqlite3_column_int64(q, 2);
        *have_raw = sqlite3_column_int(q, 3);
    }
    sqlite3_finalize(q);
    if (r == SQLITE_DONE)
        return store_errorf(st, -ENOENT, "no run '%s' in '%s'", id, st->path);
    return r == SQLITE_ROW ? 0 : store_sqlite_error(st, r, "cannot read");
}

int store_sqlite_power_json(struct wattprof_store *st, const char *id, unsigned max_points,
                            char **json)
{
    uint64_t duration_ns = 0, samples = 0;
    size_t n_ch = 0;
    int have_raw = 0;
    int r = run_facts(st, id, &duration_ns, &n_ch, &samples, &have_raw);
    if (r < 0)
        return r;
    if (n_ch > POWER_MAX_CHANNELS)
        return store_errorf(st, -EIO, "run '%s' has %zu channels (at most %d are read)", id, n_ch,
                            POWER_MAX_CHANNELS);
    int raw = have_raw && samples <= POWER_SAMPLES_MAX;
    struct power_acc a;
    if (acc_init(&a, max_points, n_ch, duration_ns) < 0)
        return store_errorf(st, -ENOMEM, "out of memory");
    struct feed *fd = calloc(1, sizeof(*fd));
    if (!fd) {
        acc_free(&a);
        return store_errorf(st, -ENOMEM, "out of memory");
    }
    fd->a = &a;
    fd->duration_ns = duration_ns;
    r = raw ? store_sqlite_each_row(st, "SELECT data FROM samples WHERE run_id = ? ORDER BY seq",
                                    id, feed_samples, fd)
            : store_sqlite_each_row(st, store_sqlite_series_sql, id, feed_series, fd);
    free(fd);
    struct json j;
    json_init(&j);
    json_begin_object(&j, NULL);
    json_string(&j, "source", raw ? "samples" : "series");
    json_fixed(&j, "bucket_s", a.bucket_ns / 1000, 6);
    json_begin_array(&j, "channels");
    if (r == 0)
        r = store_sqlite_channel_names(st, id, &j);
    json_end_array(&j);
    if (r == 0)
        acc_json(&a, &j);
    json_end_object(&j);
    acc_free(&a);
    *json = r == 0 ? json_take(&j) : NULL;
    json_release(&j);
    if (r == 0 && !*json)
        r = store_errorf(st, -ENOMEM, "out of memory");
    return r;
}
