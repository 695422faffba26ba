/* Carbon-aware scheduling: best windows on synthetic forecasts with known answers (steps,
 * ties, windows straddling samples, the Carbon Aware SDK's own examples), two regions with
 * different resolutions, gaps, chunks of interruptible jobs, energy profiles, and the public
 * wattprof_schedule_plan() with its errors. */
#include "schedule.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wattprof.h"

#define T0 1768435200000LL /* 2026-01-15T00:00:00Z in unix ms */
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL

static void assert_near(double a, double b)
{
    if (fabs(a - b) > 1e-9)
        fail_msg("%.12f != %.12f", a, b);
}

/* Writes a CSV forecast: values v[i] at T0 + i × step (skipping NAN) to a temp file. */
static void write_csv(char *path, size_t size, int64_t step_ms, const double *v, size_t n)
{
    snprintf(path, size, "/tmp/wattprof-schedule-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "timestamp,g_per_kwh\n");
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            fprintf(f, "%lld,%.3f\n", (long long)((T0 + (int64_t)i * step_ms) / 1000), v[i]);
    fclose(f);
}

static struct intensity_series *series_of(int64_t step_ms, const double *v, size_t n)
{
    char path[64], err[256];
    struct intensity_series *s = NULL;
    write_csv(path, sizeof(path), step_ms, v, n);
    if (intensity_series_load(path, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    unlink(path);
    return s;
}

/* Rates every candidate and returns the best (sorted first); *n gets the count. */
static struct schedule_window best_of(const struct schedule_input *in, size_t *n, size_t *excluded)
{
    struct schedule_window *c = NULL;
    assert_int_equal(schedule_candidates(in, in->duration_ms, 1, &c, n, excluded), 0);
    assert_true(*n > 0);
    schedule_sort(c, *n, in->profile_kwh != NULL);
    struct schedule_window w = c[0];
    free(c);
    return w;
}

static struct schedule_input input_of(const struct intensity_series *const *s, size_t n,
                                      int64_t duration, int64_t within)
{
    struct schedule_input in = { s, n, T0, duration, within, NAN, NULL, 0 };
    return in;
}

static void test_step_forecast_best_window(void **state)
{
    static const double v[] = { 300, 300, 100, 100, 300, 300, 300 };
    struct intensity_series *s = series_of(HOUR_MS, v, 7);
    struct schedule_input in =
        input_of((const struct intensity_series *const *)&s, 1, 2 * HOUR_MS, 6 * HOUR_MS);
    in.energy_kwh = 10;
    size_t n, ex;
    struct schedule_window w = best_of(&in, &n, &ex);
    assert_int_equal(w.start_ms, T0 + 2 * HOUR_MS);
    assert_int_equal(w.end_ms, T0 + 4 * HOUR_MS);
    assert_near(w.mean, 100);
    assert_near(w.grams, 1000);
    assert_int_equal(n, 5); /* starts 0h..4h end by 6h */
    assert_int_equal(ex, 0);
    intensity_series_free(s);
}

static void test_ties_go_to_earliest(void **state)
{
    static const double v[] = { 200, 100, 100, 200, 100, 100, 200 };
    struct intensity_series *s = series_of(HOUR_MS, v, 7);
    struct schedule_input in =
        input_of((const struct intensity_series *const *)&s, 1, 2 * HOUR_MS, 7 * HOUR_MS);
    size_t n, ex;
    struct schedule_window w = best_of(&in, &n, &ex);
    assert_int_equal(w.start_ms, T0 + HOUR_MS);
    assert_near(w.mean, 100);
    intensity_series_free(s);
}

/* The rolling averages in the docstring of the SDK's EmissionsDataExtensions.cs (5-minute
 * data, a 10-minute job), and the best it picks. */
static void test_agrees_with_carbon_aware_sdk_examples(void **state)
{
    static const double data[3][5] = { { 10, 20, 30, 40, 5 },
                                       { 5, 55, 10, 10, 10 },
                                       { 12, 11, 10, 12, 13 } };
    static const double rolling[3][4] = { { 15, 25, 35, 22.5 },
                                          { 30, 32.5, 10, 10 },
                                          { 11.5, 10.5, 11, 12.5 } };
    static const int64_t best_min[3] = { 0, 10, 5 };
    for (size_t k = 0; k < 3; k++) {
        struct intensity_series *s = series_of(5 * MIN_MS, data[k], 5);
        struct schedule_input in =
            input_of((const struct intensity_series *const *)&s, 1, 10 * MIN_MS, 25 * MIN_MS);
        struct schedule_window *c = NULL;
        size_t n, ex;
        assert_int_equal(schedule_candidates(&in, 10 * MIN_MS, 1, &c, &n, &ex), 0);
        assert_int_equal(n, 4);
        for (size_t i = 0; i < 4; i++)
            assert_near(c[i].mean, rolling[k][i]);
        schedule_sort(c, n, 0);
        assert_int_equal(c[0].start_ms, T0 + best_min[k] * MIN_MS);
        free(c);
        intensity_series_free(s);
    }
}

/* "Now" between samples: the window straddles three values, weighted by time. */
static void test_window_straddles_samples(void **state)
{
    static const double v[] = { 10, 20, 30, 40, 5 };
    struct intensity_series *s = series_of(5 * MIN_MS, v, 5);
    struct schedule_input in =
        input_of((const struct intensity_series *const *)&s, 1, 10 * MIN_MS, 20 * MIN_MS);
    in.now_ms = T0 + 150000; /* 00:02:30 */
    struct schedule_window w;
    assert_int_equal(schedule_rate(&in, 0, in.now_ms, 10 * MIN_MS, 1, &w), 0);
    assert_near(w.mean, (10 * 2.5 + 20 * 5 + 30 * 2.5) / 10);
    size_t n, ex;
    w = best_of(&in, &n, &ex);
    assert_int_equal(w.start_ms, in.now_ms); /* 20 beats 25 (at 5 min) and 35 (at 10 min) */
    assert_int_equal(n, 3);
    intensity_series_free(s);
}

static void test_two_regions_different_resolutions(void **state)
{
    static const double hourly[] = { 300, 300, 300, 300 };
    static const double half[] = { 250, 250, 250, 80, 60, 250, 250, 250 };
    struct intensity_series *s[2] = { series_of(HOUR_MS, hourly, 4),
                                      series_of(30 * MIN_MS, half, 8) };
    struct schedule_input in =
        input_of((const struct intensity_series *const *)s, 2, HOUR_MS, 4 * HOUR_MS);
    size_t n, ex;
    struct schedule_window w = best_of(&in, &n, &ex);
    assert_int_equal(w.series, 1);
    assert_int_equal(w.start_ms, T0 + 90 * MIN_MS); /* at the 30-minute resolution */
    assert_near(w.mean, 70);
    assert_int_equal(n, 4 + 7); /* 0h..3h hourly, 0:00..3:00 by 30 min */
    intensity_series_free(s[0]);
    intensity_series_free(s[1]);
}

static void test_gap_is_excluded_and_counted(void **state)
{
    static const double v[] = { 200, 200, 50, NAN, NAN, 100, 100 };
    struct intensity_series *s = series_of(HOUR_MS, v, 7);
    struct schedule_input in =
        input_of((const struct intensity_series *const *)&s, 1, 2 * HOUR_MS, 7 * HOUR_MS);
    size_t n, ex;
    struct schedule_window w = best_of(&in, &n, &ex);
    /* 50 held across the gap would win; the start at 2h needs 3h..4h, which is missing */
    assert_int_equal(w.start_ms, T0 + 5 * HOUR_MS);
    assert_near(w.mean, 100);
    assert_int_equal(ex, 1);
    assert_int_equal(n, 3);
    int64_t a = 0, b = 0;
    assert_int_equal(intensity_series_uncovered(s, T0, T0 + 7 * HOUR_MS, &a, &b), 2 * HOUR_MS);
    assert_int_equal(a, T0 + 3 * HOUR_MS);
    assert_int_equal(b, T0 + 5 * HOUR_MS);
    intensity_series_free(s);
}

static void test_chunks_pick_cleanest_separate_slots(void **state)
{
    static const double v[] = { 300, 100, 300, 50, 300, 200 };
    struct intensity_series *s = series_of(HOUR_MS, v, 6);
    struct schedule_input in =
        input_of((const struct intensity_series *const *)&s, 1, 2 * HOUR_MS, 6 * HOUR_MS);
    struct schedule_window *c = NULL, out[3];
    size_t n, ex;
    assert_int_equal(schedule_candidates(&in, HOUR_MS, 0, &c, &n, &ex), 0);
    schedule_sort(c, n, 0);
    assert_int_equal(schedule_pick(c, n, 0, out, 0, 2), 2);
    assert_int_equal(out[0].start_ms, T0 + 3 * HOUR_MS);
    assert_int_equal(out[1].start_ms, T0 + HOUR_MS);
    free(c);
    intensity_series_free(s);
}

static void test_energy_profile_weights_the_window(void **state)
{
    static const double v[] = { 300, 100, 300, 100, 200 };
    static const double first_half[] = { 1.0, 0.0 }; /* kWh per half of the job */
    struct intensity_series *s = series_of(HOUR_MS, v, 5);
    struct schedule_input in =
        input_of((const struct intensity_series *const *)&s, 1, 2 * HOUR_MS, 5 * HOUR_MS);
    size_t n, ex;
    struct schedule_window w = best_of(&in, &n, &ex);
    assert_int_equal(w.start_ms, T0 + 3 * HOUR_MS); /* flat: mean 150 */
    in.profile_kwh = first_half;
    in.n_profile = 2;
    in.energy_kwh = 1;
    w = best_of(&in, &n, &ex);
    assert_int_equal(w.start_ms, T0 + HOUR_MS); /* all energy in the 100 hour; ties: earliest */
    assert_near(w.grams, 100);
    assert_near(w.mean, 200);
    intensity_series_free(s);
}

static void test_first_below_threshold(void **state)
{
    static const double v[] = { 300, 250, 120, 50, 300 };
    struct intensity_series *s = series_of(HOUR_MS, v, 5);
    struct schedule_input in =
        input_of((const struct intensity_series *const *)&s, 1, HOUR_MS, 5 * HOUR_MS);
    struct schedule_window *c = NULL;
    size_t n, ex;
    assert_int_equal(schedule_candidates(&in, HOUR_MS, 1, &c, &n, &ex), 0);
    schedule_sort(c, n, 0);
    size_t k = schedule_first_below(&in, c, n, 200);
    assert_true(k < n);
    assert_int_equal(c[k].start_ms, T0 + 2 * HOUR_MS);
    assert_int_equal(schedule_first_below(&in, c, n, 10), n);
    free(c);
    intensity_series_free(s);
}

static struct wattprof_schedule_request request_of(const struct wattprof_schedule_forecast *f,
                                                   int64_t duration, int64_t within)
{
    struct wattprof_schedule_request q = { f, 1, T0, duration, within, NAN, NULL, 0, 3, 0, NAN };
    return q;
}

static void test_plan_best_now_saving_alternatives(void **state)
{
    static const double v[] = { 400, 400, 100, 100, 400, 200, 200, 400 };
    char path[64];
    write_csv(path, sizeof(path), HOUR_MS, v, 8);
    struct wattprof_schedule_forecast f = { path, "DE" };
    struct wattprof_schedule_request q = request_of(&f, 2 * HOUR_MS, 8 * HOUR_MS);
    q.energy_kwh = 2;
    struct wattprof_schedule_result *res = NULL;
    assert_int_equal(wattprof_schedule_plan(&q, &res), 0);
    assert_int_equal(res->best.start_unix_ms, T0 + 2 * HOUR_MS);
    assert_string_equal(res->best.region, "DE");
    assert_near(res->best.expected_g, 200);
    assert_true(res->now_known);
    assert_near(res->now.mean_g_per_kwh, 400);
    assert_near(res->saving_g, 600);
    assert_near(res->saving_pct, 75);
    assert_int_equal(res->n_alternatives, 2); /* 5h (200), 0h (400); the rest overlap */
    assert_int_equal(res->alternatives[0].start_unix_ms, T0 + 5 * HOUR_MS);
    assert_int_equal(res->alternatives[1].start_unix_ms, T0);
    assert_string_equal(res->forecasts[0].kind, "average");
    assert_int_equal(res->forecasts[0].step_ms, HOUR_MS);
    wattprof_free(res);
    q.chunks = 2;
    assert_int_equal(wattprof_schedule_plan(&q, &res), 0);
    assert_int_equal(res->n_chunks, 2);
    assert_int_equal(res->chunks[0].start_unix_ms, T0 + 2 * HOUR_MS);
    assert_int_equal(res->chunks[1].start_unix_ms, T0 + 3 * HOUR_MS);
    assert_near(res->best.mean_g_per_kwh, 100);
    wattprof_free(res);
    unlink(path);
}

static void test_plan_errors_say_what_is_wrong(void **state)
{
    static const double v[] = { 400, 400, 100 };
    char path[64];
    write_csv(path, sizeof(path), HOUR_MS, v, 3);
    struct wattprof_schedule_forecast f = { path, NULL };
    struct wattprof_schedule_request q = request_of(&f, 3 * HOUR_MS, 2 * HOUR_MS);
    struct wattprof_schedule_result *res = NULL;
    assert_int_equal(wattprof_schedule_plan(&q, &res), -EINVAL);
    assert_non_null(strstr(res->errmsg, "shorter than the job"));
    wattprof_free(res);
    q = request_of(&f, 2 * HOUR_MS, 6 * HOUR_MS);
    q.now_unix_ms = T0 + 2 * HOUR_MS; /* data end at 3h: 1 h left, the job needs 2 */
    assert_int_equal(wattprof_schedule_plan(&q, &res), -EINVAL);
    assert_non_null(strstr(res->errmsg, "no data from 2026-01-15T03:00:00Z to "
                                        "2026-01-15T08:00:00Z"));
    wattprof_free(res);
    f.path = "/nonexistent/forecast.csv";
    assert_int_equal(wattprof_schedule_plan(&q, &res), -ENOENT);
    assert_non_null(strstr(res->errmsg, "cannot open '/nonexistent/forecast.csv'"));
    wattprof_free(res);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_forecast_best_window),
        cmocka_unit_test(test_ties_go_to_earliest),
        cmocka_unit_test(test_agrees_with_carbon_aware_sdk_examples),
        cmocka_unit_test(test_window_straddles_samples),
        cmocka_unit_test(test_two_regions_different_resolutions),
        cmocka_unit_test(test_gap_is_excluded_and_counted),
        cmocka_unit_test(test_chunks_pick_cleanest_separate_slots),
        cmocka_unit_test(test_energy_profile_weights_the_window),
        cmocka_unit_test(test_first_below_threshold),
        cmocka_unit_test(test_plan_best_now_saving_alternatives),
        cmocka_unit_test(test_plan_errors_say_what_is_wrong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
