/* wattprof_schedule_plan(): loads the forecasts, checks the request, and turns the
 * arithmetic of schedule.c into a plan (best start, "now", alternatives or chunks). */
#include "schedule.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wattprof.h"

static int fail(struct wattprof_schedule_result *res, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct wattprof_schedule_result *res, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->errmsg, sizeof(res->errmsg), fmt, ap);
    va_end(ap);
    return code;
}

/* RFC 3339 UTC to the second, from unix ms. */
static void fmt_time(char *buf, size_t size, int64_t ms)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "?");
}

static int check_request(const struct wattprof_schedule_request *q,
                         struct wattprof_schedule_result *res)
{
    if (q->n_forecasts < 1 || q->n_forecasts > WATTPROF_SCHEDULE_MAX_FORECASTS)
        return fail(res, -EINVAL, "give 1 to %d forecasts (got %zu)",
                    WATTPROF_SCHEDULE_MAX_FORECASTS, q->n_forecasts);
    if (q->duration_ms <= 0)
        return fail(res, -EINVAL, "the job's duration must be positive");
    if (q->within_ms < q->duration_ms)
        return fail(res, -EINVAL,
                    "the window (%" PRId64 " s) is shorter than the job (%" PRId64
                    " s): allow a longer window",
                    q->within_ms / 1000, q->duration_ms / 1000);
    if (q->chunks > WATTPROF_SCHEDULE_MAX_CHUNKS)
        return fail(res, -EINVAL, "at most %d chunks (got %u)", WATTPROF_SCHEDULE_MAX_CHUNKS,
                    q->chunks);
    if (q->chunks > 1 && q->duration_ms / q->chunks <= 0)
        return fail(res, -EINVAL, "the job is too short for %u chunks", q->chunks);
    if (q->n_alternatives > WATTPROF_SCHEDULE_MAX_ALTERNATIVES)
        return fail(res, -EINVAL, "at most %d alternatives (got %zu)",
                    WATTPROF_SCHEDULE_MAX_ALTERNATIVES, q->n_alternatives);
    if (!isnan(q->energy_kwh) && !(q->energy_kwh >= 0 && isfinite(q->energy_kwh)))
        return fail(res, -EINVAL, "the energy must be a number of kWh >= 0");
    if (q->n_profile > 0 && !q->profile_kwh)
        return fail(res, -EINVAL, "a profile of %zu slices without values", q->n_profile);
    return 0;
}

static int load_all(const struct wattprof_schedule_request *q, struct intensity_series **series,
                    struct wattprof_schedule_result *res)
{
    for (size_t i = 0; i < q->n_forecasts; i++) {
        int r = intensity_series_load(q->forecasts[i].path, &series[i], res->errmsg,
                                      sizeof(res->errmsg));
        if (r < 0)
            return r;
        struct wattprof_schedule_forecast_info *f = &res->forecasts[i];
        snprintf(f->source, sizeof(f->source), "%s", intensity_series_source(series[i]));
        snprintf(f->kind, sizeof(f->kind), "%s", intensity_series_kind(series[i]));
        f->generated_at_unix_ms = intensity_series_generated_at(series[i]);
        f->step_ms = intensity_series_step_ms(series[i]);
        f->first_unix_ms = intensity_series_first_ms(series[i]);
        f->end_unix_ms = intensity_series_end_ms(series[i]);
        res->n_forecasts = i + 1;
    }
    return 0;
}

/* No start fits: names the first forecast's missing span inside the window. */
static int no_fit(const struct wattprof_schedule_request *q, struct intensity_series *const *series,
                  struct wattprof_schedule_result *res)
{
    char a[32], b[32], w0[32], w1[32];
    int64_t ma = 0, mb = 0, t0 = q->now_unix_ms, t1 = q->now_unix_ms + q->within_ms;
    fmt_time(w0, sizeof(w0), t0);
    fmt_time(w1, sizeof(w1), t1);
    if (intensity_series_uncovered(series[0], t0, t1, &ma, &mb) == 0)
        return fail(res, -EINVAL, "no start between %s and %s fits a job of %" PRId64 " s in '%s'",
                    w0, w1, q->duration_ms / 1000, q->forecasts[0].path);
    fmt_time(a, sizeof(a), ma);
    fmt_time(b, sizeof(b), mb);
    return fail(res, -EINVAL,
                "the forecast '%s' does not cover the window %s to %s: no data from %s to %s%s; "
                "give a forecast that covers it or a shorter --within",
                q->forecasts[0].path, w0, w1, a, b,
                q->n_forecasts > 1 ? " (nor do the other forecasts fit)" : "");
}

static void to_public(const struct wattprof_schedule_request *q, const struct schedule_window *w,
                      struct wattprof_schedule_window *out)
{
    const char *region = q->forecasts[w->series].region;
    out->start_unix_ms = w->start_ms;
    out->end_unix_ms = w->end_ms;
    out->forecast = w->series;
    snprintf(out->region, sizeof(out->region), "%s", region ? region : "");
    out->mean_g_per_kwh = w->mean;
    out->expected_g = w->grams;
}

/* One contiguous run: the best (or the first below the threshold) and the alternatives. */
static void choose_best(const struct wattprof_schedule_request *q, const struct schedule_input *in,
                        const struct schedule_window *c, size_t n,
                        struct wattprof_schedule_result *res)
{
    struct schedule_window picked[1 + WATTPROF_SCHEDULE_MAX_ALTERNATIVES];
    size_t k = 0;
    if (!isnan(q->max_intensity))
        k = schedule_first_below(in, c, n, q->max_intensity);
    res->threshold_met = !isnan(q->max_intensity) && k < n;
    picked[0] = c[k < n ? k : 0];
    size_t got = schedule_pick(c, n, SIZE_MAX, picked, 1, 1 + q->n_alternatives);
    to_public(q, &picked[0], &res->best);
    for (size_t i = 1; i < got; i++)
        to_public(q, &picked[i], &res->alternatives[i - 1]);
    res->n_alternatives = got - 1;
}

static int cmp_start(const void *a, const void *b)
{
    const struct schedule_window *x = a, *y = b;
    return x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms;
}

/* Interruptible: the cleanest non-overlapping pieces, all in the forecast where their mean
 * is lowest (ties: the first forecast). */
static int choose_chunks(const struct wattprof_schedule_request *q, const struct schedule_window *c,
                         size_t n, struct wattprof_schedule_result *res)
{
    struct schedule_window best[WATTPROF_SCHEDULE_MAX_CHUNKS], tmp[WATTPROF_SCHEDULE_MAX_CHUNKS];
    double best_sum = INFINITY;
    size_t most = 0;
    for (size_t i = 0; i < q->n_forecasts; i++) {
        size_t got = schedule_pick(c, n, i, tmp, 0, q->chunks);
        double sum = 0;
        for (size_t j = 0; j < got; j++)
            sum += tmp[j].mean;
        most = got > most ? got : most;
        if (got == q->chunks && sum < best_sum - 1e-9 * fabs(sum)) {
            best_sum = sum;
            memcpy(best, tmp, sizeof(tmp[0]) * got);
        }
    }
    if (isinf(best_sum))
        return fail(res, -EINVAL,
                    "only %zu separate slots of %" PRId64 " s fit in the window for %u chunks: "
                    "use fewer chunks or a longer --within",
                    most, q->duration_ms / q->chunks / 1000, q->chunks);
    qsort(best, q->chunks, sizeof(best[0]), cmp_start);
    struct schedule_window all = best[0];
    all.end_ms = best[q->chunks - 1].end_ms;
    all.mean = best_sum / q->chunks;
    all.grams = 0;
    for (size_t j = 0; j < q->chunks; j++) {
        all.grams += best[j].grams;
        to_public(q, &best[j], &res->chunks[j]);
    }
    res->n_chunks = q->chunks;
    to_public(q, &all, &res->best);
    return 0;
}

/* Starting now, uninterrupted, in the first forecast; and the saving against it. */
static void compare_now(const struct wattprof_schedule_request *q, const struct schedule_input *in,
                        struct wattprof_schedule_result *res)
{
    struct schedule_window w;
    res->saving_g = NAN;
    res->saving_pct = NAN;
    if (schedule_rate(in, 0, q->now_unix_ms, q->duration_ms, 1, &w) < 0)
        return;
    res->now_known = 1;
    to_public(q, &w, &res->now);
    res->saving_g = res->now.expected_g - res->best.expected_g;
    int by_grams = q->chunks <= 1 && q->n_profile > 0;
    double now_key = by_grams ? res->now.expected_g : res->now.mean_g_per_kwh;
    double best_key = by_grams ? res->best.expected_g : res->best.mean_g_per_kwh;
    if (now_key > 0)
        res->saving_pct = (now_key - best_key) / now_key * 100.0;
}

static int plan(const struct wattprof_schedule_request *q, struct intensity_series *const *series,
                struct wattprof_schedule_result *res)
{
    struct schedule_input in = { (const struct intensity_series *const *)series,
                                 q->n_forecasts,
                                 q->now_unix_ms,
                                 q->duration_ms,
                                 q->within_ms,
                                 q->energy_kwh,
                                 q->n_profile > 0 ? q->profile_kwh : NULL,
                                 q->n_profile };
    int chunked = q->chunks > 1;
    int64_t len = chunked ? q->duration_ms / q->chunks : q->duration_ms;
    struct schedule_window *c = NULL;
    size_t n = 0;
    int r = schedule_candidates(&in, len, !chunked, &c, &n, &res->excluded);
    res->candidates = n;
    if (r == 0 && n == 0)
        r = no_fit(q, series, res);
    if (r == 0) {
        schedule_sort(c, n, !chunked && in.profile_kwh);
        if (chunked)
            r = choose_chunks(q, c, n, res);
        else
            choose_best(q, &in, c, n, res);
    }
    if (r == 0)
        compare_now(q, &in, res);
    free(c);
    return r;
}

int wattprof_schedule_plan(const struct wattprof_schedule_request *req,
                           struct wattprof_schedule_result **out)
{
    struct intensity_series *series[WATTPROF_SCHEDULE_MAX_FORECASTS] = { NULL };
    struct wattprof_schedule_result *res = calloc(1, sizeof(*res));
    *out = res;
    if (!res)
        return -ENOMEM;
    int r = check_request(req, res);
    if (r == 0)
        r = load_all(req, series, res);
    if (r == 0)
        r = plan(req, series, res);
    if (r == -ENOMEM)
        fail(res, r, "out of memory");
    for (size_t i = 0; i < WATTPROF_SCHEDULE_MAX_FORECASTS; i++)
        intensity_series_free(series[i]);
    return r;
}
