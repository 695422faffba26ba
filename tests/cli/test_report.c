/* Tests for the report's pieces: the decision arithmetic on a known case (savings, their
 * CI, the yearly figures and the payback), the Markdown summary of a known study
 * (tests/fixtures/studies/decision.json) line by line, hostile names escaped in the
 * Markdown and in the HTML, display units, and a run without samples. */
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

#include "json_parse.h"
#include "report.h"

#define CLOSE(a, b) assert_true(fabs((a) - (double)(b)) < 1e-9 * (fabs((double)(b)) + 1))

/* 0.5 J saved per task at PUE 1.2 over 6e9 tasks: 3.6e9 J facility = 1000 kWh; at 0.25
 * per kWh 250 a year, 50 of other savings, 600 invested: 2 years. */
static void test_decide_known_case(void **state)
{
    (void)state;
    struct report_decision_in in = { .base_energy_j = 2.0,
                                     .rec_energy_j = 1.5,
                                     .ratio_low = 0.70,
                                     .ratio_high = 0.80,
                                     .base_co2e_g = 0.5,
                                     .rec_co2e_g = 0.4,
                                     .pue = 1.2,
                                     .price_per_kwh = 0.25,
                                     .tasks_per_year = 6e9,
                                     .investment = 600,
                                     .other_savings = 50 };
    struct report_decision d;
    report_decide(&in, &d);
    CLOSE(d.saving, 0.25);
    CLOSE(d.saving_low, 0.20);
    CLOSE(d.saving_high, 0.30);
    CLOSE(d.kwh_per_year, 1000);
    CLOSE(d.kwh_low, 800);
    CLOSE(d.kwh_high, 1200);
    CLOSE(d.co2e_kg_per_year, 600000);
    CLOSE(d.energy_cost_per_year, 250);
    CLOSE(d.total_savings_per_year, 300);
    CLOSE(d.payback_years, 2);
}

static void test_decide_edges(void **state)
{
    (void)state;
    struct report_decision_in in = { .base_energy_j = 2.0,
                                     .rec_energy_j = 2.5, /* worse: it never pays back */
                                     .ratio_low = NAN,
                                     .ratio_high = NAN,
                                     .base_co2e_g = NAN,
                                     .rec_co2e_g = NAN,
                                     .pue = NAN, /* unknown: 1 */
                                     .price_per_kwh = 0.1,
                                     .tasks_per_year = 3.6e6,
                                     .investment = 10,
                                     .other_savings = NAN };
    struct report_decision d;
    report_decide(&in, &d);
    CLOSE(d.saving, -0.25);
    assert_true(isnan(d.saving_low) && isnan(d.kwh_low));
    CLOSE(d.kwh_per_year, -0.5);
    assert_true(isnan(d.co2e_kg_per_year));
    CLOSE(d.total_savings_per_year, -0.05);
    assert_true(isinf(d.payback_years));

    in.price_per_kwh = NAN; /* no price, no other savings: no payback figure */
    report_decide(&in, &d);
    assert_true(isnan(d.energy_cost_per_year) && isnan(d.payback_years));
    in.other_savings = 20; /* other savings alone */
    report_decide(&in, &d);
    CLOSE(d.total_savings_per_year, 20);
    CLOSE(d.payback_years, 0.5);
}

static void test_scale_and_units(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *unit, *want;
    } cases[] = {
        { 5.1e-05, "J", "51 µJ" }, { 0.0123, "J", "12.3 mJ" }, { 2500, "J", "2.5 kJ" },
        { 3.6e9, "J", "3.6 GJ" },  { 90, "s", "90 s" },        { 300, "s", "5 min" },
        { 9000, "s", "2.5 h" },    { 6e8, "g", "600 t" },      { 1500, "g", "1.5 kg" },
        { 0.9, "", "0.9" },        { NAN, "J", "-" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        report_fmt_auto(buf, sizeof(buf), cases[i].v, cases[i].unit);
        assert_string_equal(buf, cases[i].want);
    }
    char u[32];
    report_unit(u, sizeof(u), "samples");
    assert_string_equal(u, "sample");
    report_unit(u, sizeof(u), "units");
    assert_string_equal(u, "unit");
    report_unit(u, sizeof(u), "process");
    assert_string_equal(u, "process");
    report_unit(u, sizeof(u), NULL);
    assert_string_equal(u, "unit");
}

static struct json_parse_node *load_study(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/studies/decision.json", getenv("WATTPROF_FIXTURES"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    struct json_parse_node *root = NULL;
    struct json_parse_error err;
    assert_int_equal(json_parse(text, n, &root, &err), 0);
    return root;
}

static char *render_md(const struct json_parse_node *study, const struct report_options *o)
{
    struct report_factors fac = { .price_per_kwh = 0.25,
                                  .currency = "EUR",
                                  .pue = 1.2,
                                  .pue_source = "user setting",
                                  .intensity_g_per_kwh = 300,
                                  .intensity_source = "test",
                                  .provenance = "measured",
                                  .run_id = "abcd0123" };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(report_study_md(f, study, &fac, o), 0);
    fclose(f);
    return buf;
}

static void test_md_known_study(void **state)
{
    (void)state;
    struct json_parse_node *study = load_study();
    struct report_options o = { .tasks_per_year = 6e9, .investment = 600, .other_savings = 50 };
    char *md = render_md(study, &o);
    static const char *const want[] = {
        "# Decision summary: study precision &lt;b&gt;test&lt;/b&gt; (5eed0001)",
        "One task is one sample.",
        /* cost per task: 2 J x 1.2 / 3.6e6 x 0.25 = 1.67e-07 */
        "| fp32 (baseline) | 5 | 10 ms [9 to 11] | 2 J [1.9 to 2.1] | 500 mg [490 to 510] | "
        "1.67e-07 EUR | 0.95 [0.949 to 0.951] | no |",
        "| bf16 **(recommended)** | 5 | 8 ms [7 to 9] | 1.5 J [1.4 to 1.6] |",
        "| &lt;script&gt;alert(1)&lt;/script&gt;\\|x | 5 |",
        "(below the bar)",
        "**Recommended: bf16.**",
        "energy per task lower by 25 % (95 % CI of the saving: 20 to 30 %; verdict: better)",
        "## Per year, at 6000000000 tasks",
        "| energy (facility, PUE 1.2) | 1000 kWh [800 to 1200] |",
        "| CO2e | 600 t |",
        "| electricity cost | 250 EUR |",
        "| other savings (given) | 50 EUR |",
        "| **total** | **300 EUR** |",
        "Payback of the investment (600 EUR): **2 years** (24 months).",
        "Factors, as recorded with run abcd0123: price 0.25 EUR per kWh, PUE 1.2",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(md, want[i])) {
            fprintf(stderr, "# missing: %s\n# --- in:\n%s\n", want[i], md);
            fail();
        }
    assert_null(strstr(md, "<script>"));
    free(md);

    struct report_options none = { .tasks_per_year = NAN, .investment = NAN, .other_savings = NAN };
    md = render_md(study, &none);
    assert_non_null(strstr(md, "Give --tasks-per-year N"));
    assert_null(strstr(md, "Payback"));
    free(md);
    json_parse_free(study);
}

static void test_html_study_escaped(void **state)
{
    (void)state;
    struct json_parse_node *study = load_study();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_study_html(f, study, NULL);
    fclose(f);
    assert_null(strstr(buf, "<script>"));
    assert_null(strstr(buf, "<b>test"));
    assert_non_null(strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt;|x"));
    assert_non_null(strstr(buf, "Content-Security-Policy"));
    /* four bar charts and the scatter */
    size_t svgs = 0;
    for (const char *p = buf; (p = strstr(p, "<svg")); p++)
        svgs++;
    assert_int_equal(svgs, 5);
    assert_non_null(strstr(buf, "excluded: exit code 1"));
    assert_non_null(strstr(buf, "outlier (flagged, kept)"));
    assert_non_null(strstr(buf, "</html>"));
    free(buf);
    json_parse_free(study);
}

/* No quality metric, no recommendation: time per unit on the scatter's y axis, the reason
 * given instead of a saving. */
static void test_study_without_quality(void **state)
{
    (void)state;
    static const char text[] =
        "{\"schema\":\"wattprof.study/1\",\"id\":\"5eed0002\",\"name\":\"plain\","
        "\"unit_name\":\"units\",\"variants\":["
        "{\"name\":\"a\",\"baseline\":true,\"pareto\":true,\"runs\":[],\"stats\":{"
        "\"energy_per_unit_j\":{\"n\":1,\"mean\":3},\"time_per_unit_s\":{\"n\":1,\"mean\":1}}},"
        "{\"name\":\"b\",\"baseline\":false,\"pareto\":true,\"runs\":[],\"stats\":{"
        "\"energy_per_unit_j\":{\"n\":1,\"mean\":2},\"time_per_unit_s\":{\"n\":1,\"mean\":2}}}],"
        "\"comparisons\":[],\"recommendation\":null,"
        "\"no_recommendation_reason\":\"fewer than 2 runs per variant\"}";
    struct json_parse_node *study = NULL;
    struct json_parse_error err;
    assert_int_equal(json_parse(text, strlen(text), &study, &err), 0);
    assert_null(report_quality_metric(study));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_study_html(f, study, NULL);
    fclose(f);
    size_t svgs = 0;
    for (const char *p = buf; (p = strstr(p, "<svg")); p++)
        svgs++;
    assert_int_equal(svgs, 3); /* energy and time per unit, the scatter */
    assert_non_null(strstr(buf, "CO2e per unit: no values to chart"));
    assert_non_null(strstr(buf, "time per unit (s)"));
    assert_non_null(strstr(buf, "fewer than 2 runs per variant"));
    free(buf);
    struct report_factors fac = { .price_per_kwh = NAN, .pue = 1 };
    struct report_options o = { .tasks_per_year = 100, .investment = NAN, .other_savings = NAN };
    buf = NULL;
    f = open_memstream(&buf, &len);
    assert_int_equal(report_study_md(f, study, &fac, &o), 0);
    fclose(f);
    assert_non_null(strstr(buf, "**No candidate is recommended:** fewer than 2 runs per variant"));
    assert_non_null(strstr(buf, "No cost: the runs were recorded without an electricity price"));
    assert_null(strstr(buf, "Per year"));
    free(buf);
    json_parse_free(study);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_known_case),  cmocka_unit_test(test_decide_edges),
        cmocka_unit_test(test_scale_and_units),    cmocka_unit_test(test_md_known_study),
        cmocka_unit_test(test_html_study_escaped), cmocka_unit_test(test_study_without_quality),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
