/* The analysis of a study (src/cli/study_report.c) on synthetic runs: the --eta
 * weight of the recommendation and the outlier flags. */
#include "study_run.h"

#include <math.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define STUDY_TEXT                                                                                 \
    "name: synth\n"                                                                                \
    "command: ./work {v}\n"                                                                        \
    "matrix: { v: [slow, fast] }\n"

static struct study st;
static struct study_run runs[16];
static struct study_results res;

/* v=slow: 10 J in 2 s per unit; v=fast: 20 J in 1 s per unit; 4 runs each. */
static void setup_results(double eta)
{
    char err[STUDY_ERR_SIZE];
    assert_int_equal(
        study_parse_text(STUDY_TEXT, strlen(STUDY_TEXT), "s.yaml", &st, err, sizeof(err)), 0);
    memset(&res, 0, sizeof(res));
    memset(runs, 0, sizeof(runs));
    res.st = &st;
    res.noise = 0.02;
    res.eta = eta;
    res.idle_power_w = NAN;
    res.n_variants = 2;
    res.runs = runs;
    for (size_t i = 0; i < 8; i++) {
        struct study_run *run = &runs[res.n_runs++];
        double jitter = 1 + 0.01 * (double)(i % 4);
        run->variant = i / 4;
        run->index = (unsigned)(i % 4 + 1);
        run->units = 1;
        run->quality = run->co2e_g = NAN;
        run->energy_j = (run->variant ? 20 : 10) * jitter;
        run->duration_s = (run->variant ? 1 : 2) * jitter;
    }
    res.cap = res.n_runs;
}

static void test_report_eta_0_picks_least_energy(void **state)
{
    (void)state;
    setup_results(0);
    study_analyze(&res);
    assert_int_equal(res.recommended, 0);
    assert_non_null(strstr(res.reason, "lowest mean energy per unit"));
}

static void test_report_eta_1_picks_fastest(void **state)
{
    (void)state;
    setup_results(1);
    study_analyze(&res);
    assert_int_equal(res.recommended, 1);
    assert_non_null(strstr(res.reason, "--eta 1"));
    /* twice the energy of the baseline: said so, not "no significant difference" */
    assert_non_null(strstr(res.reason, "it uses more energy per unit than the baseline"));
    assert_null(strstr(res.reason, "no significant difference"));
}

/* 10^0.3 × 2^0.7 = 3.249 against 20^0.3 × 1^0.7 = 2.456: the fast one wins at 0.7;
 * at 0.3: 10^0.7 × 2^0.3 = 6.156 against 20^0.7 = 8.142: the slow one. */
static void test_report_eta_between_weighs_both(void **state)
{
    (void)state;
    setup_results(0.7);
    study_analyze(&res);
    assert_int_equal(res.recommended, 1);
    setup_results(0.3);
    study_analyze(&res);
    assert_int_equal(res.recommended, 0);
}

static void test_report_flags_outlier_runs(void **state)
{
    (void)state;
    setup_results(0);
    runs[2].energy_j = 100; /* v=slow run 3 */
    study_analyze(&res);
    assert_int_equal(res.v[0].outliers, 1);
    assert_int_equal(res.v[1].outliers, 0);
    for (size_t i = 0; i < res.n_runs; i++)
        assert_int_equal(runs[i].outlier, i == 2);
    assert_int_equal(res.v[0].s[SQ_EPU].n, 4); /* flagged, not removed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_eta_0_picks_least_energy),
        cmocka_unit_test(test_report_eta_1_picks_fastest),
        cmocka_unit_test(test_report_eta_between_weighs_both),
        cmocka_unit_test(test_report_flags_outlier_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
