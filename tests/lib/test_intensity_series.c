/* Carbon-intensity series: each file format, exact integration across steps, durations,
 * extrapolation, gaps, malformed files (line and column) and locale independence. */
#include "intensity_series.h"

#include <errno.h>
#include <locale.h>
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

#define T_1100 1768474800000LL /* 2026-01-15T11:00:00Z in unix ms */
#define MIN_MS 60000LL
#define KWH_UJ 3600000000000ULL

static void assert_near(double a, double b)
{
    if (fabs(a - b) > 1e-9)
        fail_msg("%.12f != %.12f", a, b);
}

static struct intensity_series *load_fixture(const char *name)
{
    const char *dir = getenv("WATTPROF_FIXTURES");
    char path[512], err[512];
    struct intensity_series *s = NULL;
    snprintf(path, sizeof(path), "%s/series/%s", dir ? dir : "tests/fixtures", name);
    int r = intensity_series_load(path, &s, err, sizeof(err));
    if (r != 0)
        fail_msg("%s: %s", name, err);
    return s;
}

/* Loads a fixture that must fail; returns the message after the directory. */
static int load_bad(const char *name, char *err, size_t size)
{
    const char *dir = getenv("WATTPROF_FIXTURES");
    char path[512], full[500];
    struct intensity_series *s = NULL;
    snprintf(path, sizeof(path), "%s/series/%s", dir ? dir : "tests/fixtures", name);
    int r = intensity_series_load(path, &s, full, sizeof(full));
    assert_null(s);
    const char *base = strstr(full, name);
    snprintf(err, size, "%s", base ? base : full);
    return r;
}

/* Writes text to a temporary file with the given suffix and loads it. */
static struct intensity_series *load_text(const char *text, const char *suffix)
{
    char path[64], err[512];
    struct intensity_series *s = NULL;
    snprintf(path, sizeof(path), "/tmp/wattprof-series-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int r = intensity_series_load(path, &s, err, sizeof(err));
    unlink(path);
    if (r != 0)
        fail_msg("%s", err);
    return s;
}

static void test_csv_rfc3339_with_offsets(void **state)
{
    struct intensity_series *s = load_fixture("simple.csv");
    assert_int_equal(intensity_series_len(s), 3);
    assert_string_equal(intensity_series_kind(s), "average");
    assert_string_equal(intensity_series_source(s), "CSV file simple.csv");
    assert_true(intensity_series_mean(s, T_1100, T_1100 + 60 * MIN_MS) == 100.0);
    /* 14:00+01:00 is 13:00Z */
    assert_true(intensity_series_mean(s, T_1100 + 120 * MIN_MS, T_1100 + 120 * MIN_MS) == 250.5);
    assert_true(intensity_series_mean(s, T_1100 + 119 * MIN_MS, T_1100 + 119 * MIN_MS) == 300.0);
    intensity_series_free(s);
}

static void test_csv_unix_seconds_unsorted(void **state)
{
    struct intensity_series *s = load_fixture("unix_unsorted.csv");
    assert_int_equal(intensity_series_len(s), 3);
    assert_true(intensity_series_mean(s, T_1100, T_1100 + 60 * MIN_MS) == 100.0);
    int64_t t3 = T_1100 + 120 * MIN_MS;
    assert_true(intensity_series_mean(s, t3 + 499, t3 + 499) == 300.0);
    assert_true(intensity_series_mean(s, t3 + 500, t3 + 500) == 200.0);
    intensity_series_free(s);
}

static void test_electricity_maps_history(void **state)
{
    struct intensity_series *s = load_fixture("electricitymaps_history.json");
    assert_int_equal(intensity_series_len(s), 3);
    assert_string_equal(intensity_series_kind(s), "average");
    assert_string_equal(intensity_series_source(s), "Electricity Maps history, zone DE, lifecycle");
    int64_t t = T_1100 - 30 * MIN_MS; /* 10:30 .. 11:30 */
    assert_true(intensity_series_mean(s, t, t + 60 * MIN_MS) == (302.0 + 315.0) / 2);
    intensity_series_free(s);
}

static void test_watttime_moer_converted_marginal(void **state)
{
    struct intensity_series *s = load_fixture("watttime_historical.json");
    assert_int_equal(intensity_series_len(s), 3);
    assert_string_equal(intensity_series_kind(s), "marginal");
    assert_string_equal(intensity_series_source(s),
                        "WattTime historical, region CAISO_NORTH, co2_moer");
    int64_t t12 = T_1100 + 60 * MIN_MS;
    assert_near(intensity_series_mean(s, t12, t12), 453.59237);
    assert_near(intensity_series_mean(s, t12 + 5 * MIN_MS, t12 + 5 * MIN_MS), 950.5 * 0.45359237);
    /* data_point_period_seconds: the last point covers 12:10 .. 12:15 */
    int64_t t[] = { t12, t12 + 15 * MIN_MS };
    uint64_t e[] = { 0, KWH_UJ };
    struct intensity_coverage cov;
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, &cov), 0);
    assert_true(cov.covered_s == 900.0 && cov.after_s == 0 && cov.before_s == 0);
    assert_near(g, (1000.0 + 950.5 + 920.0) / 3 * 0.45359237);
    intensity_series_free(s);
}

static void test_carbon_aware_sdk_webapi(void **state)
{
    struct intensity_series *s = load_fixture("carbon_aware_sdk_emissions.json");
    assert_int_equal(intensity_series_len(s), 3);
    assert_string_equal(intensity_series_kind(s), "average");
    assert_string_equal(intensity_series_source(s), "Carbon Aware SDK emissions, location eastus");
    int64_t t14 = T_1100 + 180 * MIN_MS;
    int64_t t[] = { t14, t14 + 45 * MIN_MS };
    uint64_t e[] = { 0, 3 * KWH_UJ };
    struct intensity_coverage cov;
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, &cov), 0);
    assert_true(cov.covered_s == 1800.0 && cov.after_s == 900.0);
    assert_true(g == 3 * 150.25);
    assert_non_null(strstr(cov.note, "after the last value: extrapolated 900.000 s at 150.3"));
    intensity_series_free(s);
}

static void test_carbon_aware_sdk_json_source(void **state)
{
    struct intensity_series *s = load_fixture("carbon_aware_sdk_datasource.json");
    assert_int_equal(intensity_series_len(s), 2);
    assert_string_equal(intensity_series_source(s),
                        "Carbon Aware SDK emissions, location westeurope");
    int64_t t0 = T_1100 - 11 * 60 * MIN_MS; /* 00:00 */
    assert_true(intensity_series_mean(s, t0, t0 + 60 * MIN_MS) == 210.5);
    /* "1.00:00:00": the second value holds a whole day */
    int64_t t[] = { t0 + 60 * MIN_MS, t0 + 25 * 60 * MIN_MS };
    uint64_t e[] = { 0, KWH_UJ };
    struct intensity_coverage cov;
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, &cov), 0);
    assert_true(g == 205.0 && cov.after_s == 0 && cov.covered_s == 86400.0);
    intensity_series_free(s);
}

static const char step_csv[] = "timestamp,g_per_kwh\n"
                               "2026-01-15T11:00:00Z,100\n"
                               "2026-01-15T12:00:00Z,300\n"
                               "2026-01-15T13:00:00Z,300\n";

static void test_integrate_straddles_step_exactly(void **state)
{
    struct intensity_series *s = load_text(step_csv, ".csv");
    int64_t t12 = T_1100 + 60 * MIN_MS;
    int64_t t[] = { t12 - 30000, t12 + 30000 };
    uint64_t e[] = { 5, 5 + 2 * KWH_UJ };
    struct intensity_coverage cov;
    double g = -1;
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, &cov), 0);
    assert_true(g == 400.0);
    assert_true(cov.covered_s == 60.0 && cov.before_s == 0 && cov.after_s == 0);
    assert_string_equal(cov.note, "the series covers the whole run");
    assert_true(intensity_series_mean(s, t[0], t[1]) == 200.0);
    intensity_series_free(s);
}

static void test_integrate_multi_step(void **state)
{
    struct intensity_series *s = load_text("timestamp,g_per_kwh\n"
                                           "1768474800,100\n1768474810,200\n"
                                           "1768474820,400\n1768474840,50\n",
                                           ".csv");
    /* [5 s, 25 s]: 5 s at 100, 10 s at 200, 5 s at 400 -> 225 g/kWh for 1 kWh;
     * [25 s, 35 s]: 400 g/kWh for 0.5 kWh */
    int64_t t[] = { T_1100 + 5000, T_1100 + 25000, T_1100 + 35000 };
    uint64_t e[] = { 0, KWH_UJ, KWH_UJ + KWH_UJ / 2 };
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 3, &g, NULL), 0);
    assert_true(g == 425.0);
    intensity_series_free(s);
}

static void test_integrate_duration_values(void **state)
{
    struct intensity_series *s =
        load_text("[{\"location\":\"x\",\"time\":\"2026-01-15T11:00:00Z\",\"rating\":100,"
                  "\"duration\":\"00:10:00\"},"
                  "{\"location\":\"x\",\"time\":\"2026-01-15T11:10:00Z\",\"rating\":200,"
                  "\"duration\":\"00:10:00\"}]",
                  ".json");
    int64_t t[] = { T_1100 + 5 * MIN_MS, T_1100 + 25 * MIN_MS };
    uint64_t e[] = { 0, KWH_UJ };
    struct intensity_coverage cov;
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, &cov), 0);
    assert_true(g == (5 * 100.0 + 15 * 200.0) / 20);
    assert_true(cov.covered_s == 900.0 && cov.after_s == 300.0 && cov.before_s == 0);
    intensity_series_free(s);
}

static void test_extrapolation_before_and_after(void **state)
{
    struct intensity_series *s = load_text("timestamp,g_per_kwh\n"
                                           "2026-01-15T11:00:00Z,100\n"
                                           "2026-01-15T11:10:00Z,300\n"
                                           "2026-01-15T11:20:00Z,500\n",
                                           ".csv");
    int64_t t[] = { T_1100 - 5 * MIN_MS, T_1100 + 5 * MIN_MS };
    uint64_t e[] = { 0, KWH_UJ };
    struct intensity_coverage cov;
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, &cov), 0);
    assert_true(g == 100.0 && cov.before_s == 300.0 && cov.covered_s == 300.0);
    assert_string_equal(cov.note, "before the first value: extrapolated 300.000 s at 100.0 g/kWh");
    int64_t u[] = { T_1100 + 15 * MIN_MS, T_1100 + 25 * MIN_MS };
    assert_int_equal(intensity_series_integrate(s, u, e, 2, &g, &cov), 0);
    assert_true(g == 400.0 && cov.after_s == 300.0 && cov.covered_s == 300.0);
    assert_string_equal(cov.note, "after the last value: extrapolated 300.000 s at 500.0 g/kWh");
    intensity_series_free(s);
}

static void test_gap_holds_previous_value(void **state)
{
    struct intensity_series *s = load_text("timestamp,g_per_kwh\n"
                                           "2026-01-15T11:00:00Z,100\n"
                                           "2026-01-15T11:05:00Z,110\n"
                                           "2026-01-15T11:10:00Z,120\n"
                                           "2026-01-15T12:10:00Z,130\n"
                                           "2026-01-15T12:15:00Z,140\n",
                                           ".csv");
    int64_t t[] = { T_1100, T_1100 + 75 * MIN_MS };
    uint64_t e[] = { 0, KWH_UJ };
    struct intensity_coverage cov;
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, &cov), 0);
    assert_true(cov.covered_s == 4500.0);
    assert_string_equal(cov.note, "gaps in the series: previous value held for 3300.000 s");
    assert_true(intensity_series_mean(s, T_1100 + 10 * MIN_MS, T_1100 + 70 * MIN_MS) == 120.0);
    intensity_series_free(s);
}

static void test_malformed_files_name_line_and_column(void **state)
{
    static const struct {
        const char *file, *msg;
    } cases[] = {
        { "bad_timestamp.csv", "bad_timestamp.csv:3:1: bad timestamp '2026-01-15T25:00:00Z'" },
        { "missing_column.csv", "missing_column.csv:3:21: missing column 2 (g_per_kwh)" },
        { "extra_column.csv", "extra_column.csv:3:25: unexpected column 3" },
        { "non_numeric.csv", "non_numeric.csv:2:22: not a number 'abc'" },
        { "duplicate.csv", "duplicate.csv:4:1: duplicate timestamp (also on line 2)" },
        { "negative.csv", "negative.csv:2:22: intensity out of range 0..5000 g/kWh" },
        { "too_large.csv", "too_large.csv:2:22: intensity out of range 0..5000 g/kWh" },
        { "no_header.csv", "no_header.csv:1:1: expected a header line 'timestamp,g_per_kwh'" },
        { "truncated.json", "truncated.json:5:30: unterminated string" },
        { "em_non_numeric.json", "em_non_numeric.json:4:26: \"carbonIntensity\" is not a number" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512];
        assert_int_equal(load_bad(cases[i].file, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, cases[i].msg);
    }
}

static void test_missing_file(void **state)
{
    struct intensity_series *s = NULL;
    char err[256];
    assert_int_equal(intensity_series_load("/nonexistent/x.csv", &s, err, sizeof(err)), -ENOENT);
    assert_null(s);
    assert_non_null(strstr(err, "'/nonexistent/x.csv'"));
}

static void test_integrate_rejects_bad_samples(void **state)
{
    struct intensity_series *s = load_text(step_csv, ".csv");
    int64_t t[] = { T_1100, T_1100 };
    uint64_t e[] = { 0, 1 };
    double g;
    assert_int_equal(intensity_series_integrate(s, t, e, 1, &g, NULL), -EINVAL);
    assert_int_equal(intensity_series_integrate(s, t, e, 2, &g, NULL), -EINVAL);
    intensity_series_free(s);
}

/* Decimal points must not follow LC_NUMERIC (a comma in de_DE). */
static void test_parsing_ignores_locale(void **state)
{
    const char *names[] = { "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (setlocale(LC_NUMERIC, names[i]))
            break;
    struct intensity_series *s = load_fixture("simple.csv");
    int64_t t13 = T_1100 + 120 * MIN_MS;
    assert_true(intensity_series_mean(s, t13, t13) == 250.5);
    intensity_series_free(s);
    s = load_fixture("carbon_aware_sdk_datasource.json");
    int64_t t0 = T_1100 - 11 * 60 * MIN_MS;
    assert_true(intensity_series_mean(s, t0, t0) == 210.5);
    intensity_series_free(s);
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_rfc3339_with_offsets),
        cmocka_unit_test(test_csv_unix_seconds_unsorted),
        cmocka_unit_test(test_electricity_maps_history),
        cmocka_unit_test(test_watttime_moer_converted_marginal),
        cmocka_unit_test(test_carbon_aware_sdk_webapi),
        cmocka_unit_test(test_carbon_aware_sdk_json_source),
        cmocka_unit_test(test_integrate_straddles_step_exactly),
        cmocka_unit_test(test_integrate_multi_step),
        cmocka_unit_test(test_integrate_duration_values),
        cmocka_unit_test(test_extrapolation_before_and_after),
        cmocka_unit_test(test_gap_holds_previous_value),
        cmocka_unit_test(test_malformed_files_name_line_and_column),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_integrate_rejects_bad_samples),
        cmocka_unit_test(test_parsing_ignores_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
