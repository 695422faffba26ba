/* Carbon-intensity series: loading (format detection, validation, sorting) and the
 * integration of measured energy over a piecewise-constant intensity. The file formats
 * themselves are read in intensity_series_formats.c. */
#include "intensity_series.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"

#define MAX_FILE_BYTES (64u << 20)

struct intensity_series {
    char kind[16];               /* "average" or "marginal" */
    char source[160];            /* human-readable: format and zone/region */
    struct intensity_point *pts; /* sorted by time, owned */
    size_t n, cap;
    int64_t step_ms;      /* the typical (median) step between values; 0 with one value */
    int64_t generated_ms; /* when the file says the data was made; 0 unknown */
};

int intensity_series_fail(struct series_loader *ld, size_t pos, const char *fmt, ...)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < ld->len; i++) {
        if (ld->text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ld->errsize > 0)
        snprintf(ld->err, ld->errsize, "%s:%zu:%zu: %s", ld->path, line, col, msg);
    return -EINVAL;
}

int intensity_series_add(struct series_loader *ld, size_t pos, int64_t t_ms, int64_t dur_ms,
                         double g_per_kwh, size_t value_pos)
{
    struct intensity_series *s = ld->s;
    if (!isfinite(g_per_kwh) || g_per_kwh < 0 || g_per_kwh > INTENSITY_SERIES_MAX_G_PER_KWH)
        return intensity_series_fail(ld, value_pos, "intensity out of range 0..5000 g/kWh");
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct intensity_point *p = realloc(s->pts, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->pts = p;
        s->cap = cap;
    }
    s->pts[s->n++] = (struct intensity_point){ t_ms, dur_ms, g_per_kwh, pos };
    return 0;
}

void intensity_series_set(struct series_loader *ld, const char *kind, const char *source)
{
    snprintf(ld->s->kind, sizeof(ld->s->kind), "%s", kind);
    snprintf(ld->s->source, sizeof(ld->s->source), "%s", source);
}

void intensity_series_set_generated(struct series_loader *ld, const char *s, size_t len)
{
    int64_t t_ms;
    if (s && intensity_series_parse_time(s, len, &t_ms) == 0)
        ld->s->generated_ms = t_ms;
}

/* Reads the whole file into a NUL-terminated buffer. */
static int read_file(struct series_loader *ld, char **text)
{
    int fd = open(ld->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int r = -errno;
        snprintf(ld->err, ld->errsize, "cannot open '%s': %s", ld->path, sysfs_strerror(r));
        return r;
    }
    struct stat st;
    char *buf = NULL;
    int r = fstat(fd, &st) < 0 ? -errno : 0;
    if (r == 0 && (st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES)) {
        snprintf(ld->err, ld->errsize, "'%s' is larger than 64 MiB", ld->path);
        r = -EINVAL;
    }
    if (r == 0) {
        buf = malloc((size_t)st.st_size + 1);
        r = buf ? 0 : -ENOMEM;
    }
    size_t got = 0;
    while (r == 0 && got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k < 0 && errno != EINTR)
            r = -errno;
        else if (k == 0)
            break;
        else if (k > 0)
            got += (size_t)k;
    }
    close(fd);
    if (r < 0) {
        free(buf);
        if (r != -EINVAL && ld->errsize > 0)
            snprintf(ld->err, ld->errsize, "cannot read '%s': %s", ld->path, sysfs_strerror(r));
        return r;
    }
    buf[got] = '\0';
    ld->len = got;
    *text = buf;
    return 0;
}

static int cmp_point(const void *a, const void *b)
{
    const struct intensity_point *x = a, *y = b;
    if (x->t_ms != y->t_ms)
        return x->t_ms < y->t_ms ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median step between values (0 with fewer than two). */
static int find_step(struct intensity_series *s)
{
    s->step_ms = 0;
    if (s->n < 2)
        return 0;
    int64_t *d = malloc((s->n - 1) * sizeof(*d));
    if (!d)
        return -ENOMEM;
    for (size_t i = 0; i + 1 < s->n; i++)
        d[i] = s->pts[i + 1].t_ms - s->pts[i].t_ms;
    qsort(d, s->n - 1, sizeof(*d), cmp_i64);
    s->step_ms = d[(s->n - 1) / 2];
    free(d);
    return 0;
}

/* Sorts by time and rejects duplicate timestamps, naming both lines. */
static int finish(struct series_loader *ld)
{
    struct intensity_series *s = ld->s;
    if (s->n == 0)
        return intensity_series_fail(ld, ld->len, "no intensity values in the file");
    qsort(s->pts, s->n, sizeof(*s->pts), cmp_point);
    for (size_t i = 0; i + 1 < s->n; i++) {
        if (s->pts[i].t_ms != s->pts[i + 1].t_ms)
            continue;
        size_t line = 1;
        for (size_t k = 0; k < s->pts[i].pos; k++)
            line += ld->text[k] == '\n';
        return intensity_series_fail(ld, s->pts[i + 1].pos,
                                     "duplicate timestamp (also on line %zu)", line);
    }
    return find_step(s);
}

static int detect_and_parse(struct series_loader *ld)
{
    size_t i = 0;
    if (ld->len >= 3 && memcmp(ld->text, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* a UTF-8 byte order mark */
    while (i < ld->len && strchr(" \t\r\n", ld->text[i]))
        i++;
    if (i < ld->len && (ld->text[i] == '{' || ld->text[i] == '['))
        return intensity_series_parse_json(ld);
    return intensity_series_parse_csv(ld);
}

int intensity_series_load(const char *path, struct intensity_series **out, char *err,
                          size_t errsize)
{
    char dummy[1];
    struct series_loader ld = { .path = path,
                                .err = errsize ? err : dummy,
                                .errsize = errsize ? errsize : sizeof(dummy) };
    char *text = NULL;
    ld.err[0] = '\0';
    *out = NULL;
    ld.s = calloc(1, sizeof(*ld.s));
    ld.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    int r = ld.s && ld.c_locale ? read_file(&ld, &text) : -ENOMEM;
    if (r == 0) {
        ld.text = text;
        snprintf(ld.s->kind, sizeof(ld.s->kind), "average");
        r = detect_and_parse(&ld);
    }
    if (r == 0)
        r = finish(&ld);
    if (r == -ENOMEM)
        snprintf(ld.err, ld.errsize, "'%s': out of memory", path);
    free(text);
    if (ld.c_locale)
        freelocale(ld.c_locale);
    if (r < 0) {
        intensity_series_free(ld.s);
        return r;
    }
    *out = ld.s;
    return 0;
}

void intensity_series_free(struct intensity_series *s)
{
    if (!s)
        return;
    free(s->pts);
    free(s);
}

const char *intensity_series_kind(const struct intensity_series *s)
{
    return s->kind;
}

const char *intensity_series_source(const struct intensity_series *s)
{
    return s->source;
}

size_t intensity_series_len(const struct intensity_series *s)
{
    return s->n;
}

int64_t intensity_series_generated_at(const struct intensity_series *s)
{
    return s->generated_ms;
}

int64_t intensity_series_step_ms(const struct intensity_series *s)
{
    return s->step_ms;
}

int64_t intensity_series_first_ms(const struct intensity_series *s)
{
    return s->pts[0].t_ms;
}

int64_t intensity_series_end_ms(const struct intensity_series *s)
{
    const struct intensity_point *last = &s->pts[s->n - 1];
    return last->t_ms + (last->dur_ms > 0 ? last->dur_ms : s->step_ms);
}

int64_t intensity_series_time_ms(const struct intensity_series *s, size_t i)
{
    return s->pts[i].t_ms;
}

/* The index of the value in force at t: the last one at or before t, else the first. */
static size_t index_at(const struct intensity_series *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->pts[mid].t_ms <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The integral of the intensity over [a, b), in g/kWh x ms: each value holds until the
 * next one; before the first and after the last the nearest value holds. */
static double integral(const struct intensity_series *s, int64_t a, int64_t b)
{
    double acc = 0;
    int64_t x = a;
    for (size_t i = index_at(s, a); x < b; i++) {
        int64_t next = i + 1 < s->n ? s->pts[i + 1].t_ms : b;
        if (next > b)
            next = b;
        acc += s->pts[i].g_per_kwh * (double)(next - x);
        x = next;
    }
    return acc;
}

/* The end of the data: the last value's stated duration, else its timestamp. */
static int64_t data_end(const struct intensity_series *s)
{
    return s->pts[s->n - 1].t_ms + s->pts[s->n - 1].dur_ms;
}

/* Where value i's own validity ends: its stated duration, else one typical step; a gap
 * is what lies between that and the next value when the next value comes later than
 * the duration, or more than two typical steps later. Returns 1 with the gap in [*a, *b). */
static int gap_span(const struct intensity_series *s, size_t i, int64_t *a, int64_t *b)
{
    const struct intensity_point *p = &s->pts[i];
    int64_t next = s->pts[i + 1].t_ms;
    int64_t own_end = p->t_ms + (p->dur_ms > 0 ? p->dur_ms : s->step_ms);
    if (p->dur_ms > 0 ? next <= own_end : next - p->t_ms <= 2 * s->step_ms)
        return 0;
    *a = own_end;
    *b = next;
    return 1;
}

/* The held time of gap i inside [t0, t1), in ms. */
static int64_t gap_overlap(const struct intensity_series *s, size_t i, int64_t t0, int64_t t1)
{
    int64_t a, b;
    if (!gap_span(s, i, &a, &b))
        return 0;
    a = a > t0 ? a : t0;
    b = b < t1 ? b : t1;
    return b > a ? b - a : 0;
}

/* Adds [a, b) clipped to [t0, t1) to *total, and remembers the first such span. */
static void add_span(int64_t a, int64_t b, int64_t t0, int64_t t1, int64_t *total, int64_t *fa,
                     int64_t *fb)
{
    a = a > t0 ? a : t0;
    b = b < t1 ? b : t1;
    if (b <= a)
        return;
    if (*total == 0 || a < *fa) {
        *fa = a;
        *fb = b;
    }
    *total += b - a;
}

int64_t intensity_series_uncovered(const struct intensity_series *s, int64_t t0, int64_t t1,
                                   int64_t *a, int64_t *b)
{
    int64_t total = 0, fa = 0, fb = 0, ga, gb;
    add_span(INT64_MIN, s->pts[0].t_ms, t0, t1, &total, &fa, &fb);
    for (size_t i = 0; i + 1 < s->n; i++)
        if (gap_span(s, i, &ga, &gb))
            add_span(ga, gb, t0, t1, &total, &fa, &fb);
    add_span(intensity_series_end_ms(s), INT64_MAX, t0, t1, &total, &fa, &fb);
    if (total > 0) {
        *a = fa;
        *b = fb;
    }
    return total;
}

static double seconds(int64_t ms)
{
    return (double)ms / 1000.0;
}

/* Appends "text" to the note; numbers are printed from integers (no locale). */
static void note_add(char *note, size_t size, const char *what, int64_t ms, double g)
{
    size_t used = strlen(note);
    long long tenths = llround(g * 10.0);
    snprintf(note + used, size - used, "%s%s %" PRId64 ".%03" PRId64 " s at %lld.%lld g/kWh",
             used ? "; " : "", what, ms / 1000, ms % 1000, tenths / 10, tenths % 10);
}

static void coverage(const struct intensity_series *s, int64_t t0, int64_t t1,
                     struct intensity_coverage *cov)
{
    int64_t first = s->pts[0].t_ms, end = data_end(s);
    int64_t before = (first < t1 ? first : t1) - t0;
    int64_t after = t1 - (end > t0 ? end : t0);
    before = before > 0 ? before : 0;
    after = after > 0 ? after : 0;
    int64_t held = 0;
    for (size_t i = 0; i + 1 < s->n; i++)
        held += gap_overlap(s, i, t0, t1);
    cov->before_s = seconds(before);
    cov->after_s = seconds(after);
    cov->covered_s = seconds(t1 - t0 - before - after);
    cov->note[0] = '\0';
    if (before > 0)
        note_add(cov->note, sizeof(cov->note), "before the first value: extrapolated", before,
                 s->pts[0].g_per_kwh);
    if (after > 0)
        note_add(cov->note, sizeof(cov->note), "after the last value: extrapolated", after,
                 s->pts[s->n - 1].g_per_kwh);
    if (held > 0) {
        size_t used = strlen(cov->note);
        snprintf(cov->note + used, sizeof(cov->note) - used,
                 "%sgaps in the series: previous value held for %" PRId64 ".%03" PRId64 " s",
                 used ? "; " : "", held / 1000, held % 1000);
    }
    if (!cov->note[0])
        snprintf(cov->note, sizeof(cov->note), "the series covers the whole run");
}

int intensity_series_integrate(const struct intensity_series *s, const int64_t *t_unix_ms,
                               const uint64_t *energy_uj, size_t n, double *grams,
                               struct intensity_coverage *cov)
{
    if (!s || s->n == 0 || n < 2)
        return -EINVAL;
    for (size_t i = 0; i + 1 < n; i++)
        if (t_unix_ms[i + 1] <= t_unix_ms[i] || energy_uj[i + 1] < energy_uj[i])
            return -EINVAL;
    double g = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t a = t_unix_ms[i], b = t_unix_ms[i + 1];
        double kwh = (double)(energy_uj[i + 1] - energy_uj[i]) / 3.6e12;
        g += kwh * (integral(s, a, b) / (double)(b - a));
    }
    *grams = g;
    if (cov)
        coverage(s, t_unix_ms[0], t_unix_ms[n - 1], cov);
    return 0;
}

double intensity_series_mean(const struct intensity_series *s, int64_t t0_unix_ms,
                             int64_t t1_unix_ms)
{
    if (!s || s->n == 0)
        return NAN;
    if (t1_unix_ms <= t0_unix_ms)
        return s->pts[index_at(s, t0_unix_ms)].g_per_kwh;
    return integral(s, t0_unix_ms, t1_unix_ms) / (double)(t1_unix_ms - t0_unix_ms);
}
