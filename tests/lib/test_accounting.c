/* Accounting: intensities read back from the shipped CSV, cloud regions, PUE applied
 * once, embodied amortisation (SCI's M), the world-average default, bad settings and a
 * malformed data file. */
#include "accounting.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctx.h"

#define KWH_UJ 3600000000000ull /* 1 kWh in µJ */
#define HOUR_NS 3600000000000ull

static const char *data_dir(void)
{
    const char *d = getenv("WATTPROF_DATA");
    return d ? d : "data";
}

static int resolve(const struct accounting_settings *set, struct accounting_plan *p, char *err,
                   char *warn)
{
    return accounting_resolve(set, data_dir(), p, err, 512, warn, 512);
}

/* g_per_kwh of iso3 in data/carbon/country_intensity.csv, read here independently. */
static double csv_intensity(const char *iso3)
{
    char path[4096], line[1024];
    snprintf(path, sizeof(path), "%s/carbon/country_intensity.csv", data_dir());
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    double v = NAN;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, iso3, 3) == 0 && line[3] == ',') {
            char *p = strchr(line + 4, ',');
            v = strtod(p + 1, NULL);
        }
    }
    fclose(f);
    return v;
}

static void test_accounting_countries_match_shipped_figures(void **state)
{
    (void)state;
    static const char *const countries[] = { "FRA", "DEU", "USA", "IND" };
    /* and the figures CodeCarbon's README names: the CSV is the OWID data unchanged */
    static const double expected[] = { 56.039, 380.95, 369.473, 713.441 };
    for (size_t i = 0; i < 4; i++) {
        struct accounting_settings set;
        struct accounting_plan p;
        struct wattprof_accounting a;
        char err[512], warn[512];
        memset(&set, 0, sizeof(set));
        snprintf(set.country, sizeof(set.country), "%s", countries[i]);
        assert_int_equal(resolve(&set, &p, err, warn), 0);
        assert_string_equal(warn, "");
        struct accounting_input in = { KWH_UJ, HOUR_NS, 1.0, 0, 0, NAN };
        accounting_compute(&p, &in, &a);
        assert_true(fabs(a.operational_g - csv_intensity(countries[i])) < 1e-9);
        assert_true(fabs(a.operational_g - expected[i]) < 1e-9);
        assert_string_equal(a.country_iso, countries[i]);
        assert_non_null(strstr(a.intensity_source, "Our World in Data"));
        assert_true(isnan(a.cost));
        assert_true(isnan(a.sci_g_per_unit));
        accounting_plan_release(&p);
    }
}

static void test_accounting_cloud_region(void **state)
{
    (void)state;
    struct accounting_settings set;
    struct accounting_plan p;
    struct wattprof_accounting a;
    char err[512], warn[512];
    memset(&set, 0, sizeof(set));
    snprintf(set.cloud, sizeof(set.cloud), "gcp:europe-west4");
    assert_int_equal(resolve(&set, &p, err, warn), 0);
    struct accounting_input in = { KWH_UJ, 0, 1.0, 0, 0, NAN };
    accounting_compute(&p, &in, &a);
    assert_true(fabs(a.intensity_g_per_kwh - 236) < 1e-9); /* impact.csv */
    assert_true(fabs(a.pue - 1.10) < 1e-12);               /* data/carbon/pue.csv */
    assert_true(fabs(a.operational_g - 236 * 1.10) < 1e-9);
    assert_string_equal(a.cloud_provider, "gcp");
    assert_string_equal(a.cloud_region, "europe-west4");
    assert_string_equal(a.country_iso, "NLD");
    assert_string_equal(a.location, "gcp:europe-west4");
    accounting_plan_release(&p);
}

/* Facility = IT × PUE; CO2e and cost both from the facility energy, PUE once. */
static void test_accounting_pue_applied_once(void **state)
{
    (void)state;
    struct accounting_settings set;
    struct accounting_plan p;
    struct wattprof_accounting a;
    char err[512], warn[512];
    memset(&set, 0, sizeof(set));
    snprintf(set.intensity, sizeof(set.intensity), "400");
    snprintf(set.pue, sizeof(set.pue), "1.5");
    snprintf(set.price, sizeof(set.price), "0.30EUR");
    snprintf(set.embodied_kg, sizeof(set.embodied_kg), "0");
    assert_int_equal(resolve(&set, &p, err, warn), 0);
    struct accounting_input in = { 2 * KWH_UJ, 0, 1.0, 0, 4, NAN };
    accounting_compute(&p, &in, &a);
    assert_true(fabs(a.facility_energy_j - 2 * 3.6e6 * 1.5) < 1e-6);
    assert_true(fabs(a.operational_g - 2 * 1.5 * 400) < 1e-9);
    assert_true(fabs(a.cost - 2 * 1.5 * 0.30) < 1e-12);
    assert_string_equal(a.currency, "EUR");
    assert_string_equal(a.pue_source, "user setting");
    assert_true(fabs(a.sci_g_per_unit - 1200.0 / 4) < 1e-9);
    accounting_plan_release(&p);
}

/* SCI's M = TE × TiR/EL × RR/ToR; the spec's example: 1000 kg, 4 years, 1 h ≈ 28.5 g. */
static void test_accounting_embodied_amortisation(void **state)
{
    (void)state;
    struct accounting_settings set;
    struct accounting_plan p;
    struct wattprof_accounting a;
    char err[512], warn[512];
    memset(&set, 0, sizeof(set));
    snprintf(set.country, sizeof(set.country), "FRA");
    snprintf(set.embodied_kg, sizeof(set.embodied_kg), "1000");
    assert_int_equal(resolve(&set, &p, err, warn), 0);
    struct accounting_input in = { 0, HOUR_NS, 1.0, 0, 0, NAN };
    accounting_compute(&p, &in, &a);
    assert_true(fabs(a.embodied_g - 1e6 / (4 * 365 * 24.0)) < 1e-9); /* 28.538812785 g */
    accounting_plan_release(&p);
    /* defaults: server 2500 kg at half the CPU, two dedicated GPUs of 150 kg, 1 h */
    memset(&set, 0, sizeof(set));
    snprintf(set.country, sizeof(set.country), "FRA");
    assert_int_equal(resolve(&set, &p, err, warn), 0);
    struct accounting_input in2 = { 0, HOUR_NS, 0.5, 2, 0, NAN };
    accounting_compute(&p, &in2, &a);
    assert_true(fabs(a.embodied_g - 1e3 * (2500 * 0.5 + 150 * 2) / (4 * 365 * 24.0)) < 1e-9);
    assert_true(fabs(a.embodied_g - 44.235159817) < 1e-6);
    assert_true(fabs(a.total_g - a.embodied_g) < 1e-12); /* no energy */
    accounting_plan_release(&p);
}

static void test_accounting_unknown_location_is_world_average(void **state)
{
    (void)state;
    struct accounting_settings set;
    struct accounting_plan p;
    struct wattprof_accounting a;
    char err[512], warn[512];
    memset(&set, 0, sizeof(set));
    assert_int_equal(resolve(&set, &p, err, warn), 0);
    struct accounting_input in = { KWH_UJ, 0, 1.0, 0, 0, NAN };
    accounting_compute(&p, &in, &a);
    assert_string_equal(a.intensity_source, "world-average-default");
    assert_string_equal(a.location, "unknown");
    assert_null(a.country_iso);
    assert_true(fabs(a.operational_g - 475) < 1e-9);
    assert_non_null(strstr(warn, "world average"));
    accounting_plan_release(&p);
}

static void expect_invalid(const char *key, const char *value, const char *message)
{
    struct accounting_settings set;
    struct accounting_plan p;
    char err[512], warn[512];
    size_t size;
    memset(&set, 0, sizeof(set));
    char *dst = accounting_setting(&set, key, &size);
    snprintf(dst, size, "%s", value);
    assert_int_equal(resolve(&set, &p, err, warn), -EINVAL);
    if (!strstr(err, message))
        fail_msg("%s=%s: '%s' lacks '%s'", key, value, err, message);
}

static void test_accounting_bad_settings(void **state)
{
    (void)state;
    expect_invalid("country", "DUE", "close matches: DEU");
    expect_invalid("country", "XQZ", "invalid setting 'country': unknown code 'XQZ'");
    expect_invalid("cloud", "gcp:europe-west44", "europe-west4");
    expect_invalid("cloud", "ibm:x", "invalid setting 'cloud'");
    expect_invalid("pue", "0.9", "invalid setting 'pue'");
    expect_invalid("pue", "3.5", "invalid setting 'pue'");
    expect_invalid("pue", "-1", "invalid setting 'pue'");
    expect_invalid("intensity", "-1", "invalid setting 'intensity'");
    expect_invalid("intensity", "2001", "invalid setting 'intensity'");
    expect_invalid("price", "101", "invalid setting 'price'");
    expect_invalid("price", "-0.1", "invalid setting 'price'");
    expect_invalid("price", "0.3EURO", "invalid setting 'currency'");
    expect_invalid("embodied-kg", "lots", "invalid setting 'embodied-kg'");
    expect_invalid("intensity-series", "/nonexistent.csv", "invalid setting 'intensity-series'");
}

static void test_accounting_malformed_data_file_names_file_and_line(void **state)
{
    (void)state;
    char dir[4096], err[512], warn[512];
    snprintf(dir, sizeof(dir), "%s/carbon/malformed", getenv("WATTPROF_FIXTURES"));
    struct accounting_settings set;
    struct accounting_plan p;
    memset(&set, 0, sizeof(set));
    snprintf(set.country, sizeof(set.country), "FRA");
    assert_int_equal(accounting_resolve(&set, dir, &p, err, sizeof(err), warn, sizeof(warn)), -EIO);
    assert_non_null(strstr(err, "country_intensity.csv' line 3"));
}

static void test_accounting_settings_through_ctx(void **state)
{
    (void)state;
    struct wattprof_ctx *ctx;
    assert_int_equal(wattprof_ctx_new(&ctx), 0);
    assert_int_equal(wattprof_ctx_set(ctx, "country", "DEU"), 0);
    assert_int_equal(wattprof_ctx_set(ctx, "price", "0.30EUR"), 0);
    assert_string_equal(ctx->acc.country, "DEU");
    assert_int_equal(wattprof_ctx_set(ctx, "colour", "red"), -EINVAL);
    wattprof_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounting_countries_match_shipped_figures),
        cmocka_unit_test(test_accounting_cloud_region),
        cmocka_unit_test(test_accounting_pue_applied_once),
        cmocka_unit_test(test_accounting_embodied_amortisation),
        cmocka_unit_test(test_accounting_unknown_location_is_world_average),
        cmocka_unit_test(test_accounting_bad_settings),
        cmocka_unit_test(test_accounting_malformed_data_file_names_file_and_line),
        cmocka_unit_test(test_accounting_settings_through_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
