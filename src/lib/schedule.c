/* Carbon-aware scheduling, the arithmetic: rating candidate starts on forecasts and
 * choosing among them (the Carbon Aware SDK's rule: lowest time-weighted mean over the job,
 * ties to the earliest). The public entry point is in schedule_plan.c. */
#include "schedule.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* Expected grams with an energy profile: slice j of the job (equal lengths) uses
 * profile_kwh[j] at the mean intensity over that slice. */
static double profile_grams(const struct schedule_input *in, const struct intensity_series *s,
                            int64_t start)
{
    double g = 0;
    int64_t n = (int64_t)in->n_profile;
    for (int64_t j = 0; j < n; j++) {
        int64_t a = start + in->duration_ms * j / n;
        int64_t b = start + in->duration_ms * (j + 1) / n;
        g += in->profile_kwh[j] * intensity_series_mean(s, a, b);
    }
    return g;
}

int schedule_rate(const struct schedule_input *in, size_t i, int64_t start_ms, int64_t len_ms,
                  int use_profile, struct schedule_window *w)
{
    const struct intensity_series *s = in->series[i];
    int64_t a, b;
    if (len_ms <= 0 || intensity_series_uncovered(s, start_ms, start_ms + len_ms, &a, &b) > 0)
        return -ERANGE;
    w->start_ms = start_ms;
    w->end_ms = start_ms + len_ms;
    w->series = i;
    w->mean = intensity_series_mean(s, start_ms, start_ms + len_ms);
    w->grams = NAN;
    if (use_profile && in->profile_kwh && in->n_profile > 0)
        w->grams = profile_grams(in, s, start_ms);
    else if (!isnan(in->energy_kwh))
        w->grams = in->energy_kwh * ((double)len_ms / (double)in->duration_ms) * w->mean;
    return 0;
}

struct window_list {
    struct schedule_window *w;
    size_t n, cap;
    size_t excluded;
};

/* Rates one start and appends it, or counts it as excluded. 0 or -ENOMEM. */
static int consider(const struct schedule_input *in, size_t i, int64_t start, int64_t len,
                    int use_profile, struct window_list *l)
{
    struct schedule_window w;
    if (schedule_rate(in, i, start, len, use_profile, &w) < 0) {
        l->excluded++;
        return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct schedule_window *p = realloc(l->w, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        l->w = p;
        l->cap = cap;
    }
    l->w[l->n++] = w;
    return 0;
}

int schedule_candidates(const struct schedule_input *in, int64_t len_ms, int use_profile,
                        struct schedule_window **out, size_t *n, size_t *excluded)
{
    struct window_list l = { NULL, 0, 0, 0 };
    int64_t last_start = in->now_ms + in->within_ms - len_ms;
    int r = 0;
    for (size_t i = 0; i < in->n_series && r == 0 && last_start >= in->now_ms; i++) {
        const struct intensity_series *s = in->series[i];
        r = consider(in, i, in->now_ms, len_ms, use_profile, &l);
        for (size_t k = 0; k < intensity_series_len(s) && r == 0; k++) {
            int64_t t = intensity_series_time_ms(s, k);
            if (t > last_start)
                break;
            if (t > in->now_ms)
                r = consider(in, i, t, len_ms, use_profile, &l);
        }
    }
    if (r < 0) {
        free(l.w);
        l.w = NULL;
        l.n = 0;
    }
    *out = l.w;
    *n = l.n;
    *excluded = l.excluded;
    return r;
}

/* -1, 0 or 1; values within a relative 1e-9 are equal (sums in a different order). */
static int cmp_key(double x, double y)
{
    if (fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y)))
        return 0;
    return x < y ? -1 : 1;
}

static int cmp_tail(const struct schedule_window *x, const struct schedule_window *y)
{
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return x->series < y->series ? -1 : x->series > y->series;
}

static int cmp_mean(const void *a, const void *b)
{
    const struct schedule_window *x = a, *y = b;
    int c = cmp_key(x->mean, y->mean);
    return c ? c : cmp_tail(x, y);
}

static int cmp_grams(const void *a, const void *b)
{
    const struct schedule_window *x = a, *y = b;
    int c = cmp_key(x->grams, y->grams);
    return c ? c : cmp_tail(x, y);
}

void schedule_sort(struct schedule_window *w, size_t n, int by_grams)
{
    if (n > 1)
        qsort(w, n, sizeof(*w), by_grams ? cmp_grams : cmp_mean);
}

static int overlaps(const struct schedule_window *a, const struct schedule_window *b)
{
    return a->series == b->series && a->start_ms < b->end_ms && b->start_ms < a->end_ms;
}

size_t schedule_pick(const struct schedule_window *sorted, size_t n, size_t only_series,
                     struct schedule_window *out, size_t taken, size_t k)
{
    for (size_t i = 0; i < n && taken < k; i++) {
        if (only_series != SIZE_MAX && sorted[i].series != only_series)
            continue;
        int clash = 0;
        for (size_t j = 0; j < taken && !clash; j++)
            clash = overlaps(&sorted[i], &out[j]);
        if (!clash)
            out[taken++] = sorted[i];
    }
    return taken;
}

size_t schedule_first_below(const struct schedule_input *in, const struct schedule_window *w,
                            size_t n, double max_g)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        const struct intensity_series *s = in->series[w[i].series];
        if (!(intensity_series_mean(s, w[i].start_ms, w[i].start_ms) < max_g))
            continue;
        if (best == n || cmp_tail(&w[i], &w[best]) < 0)
            best = i;
    }
    return best;
}
