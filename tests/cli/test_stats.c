/* The statistics of `wattprof bench` (src/cli/stats.c) against reference values.
 * The constants were computed once with SciPy 1.10.1 (Debian 12 python3-scipy):
 * scipy.stats.ttest_ind(b, a, equal_var=False), scipy.stats.t.ppf, scipy.stats.t.cdf,
 * scipy.special.betainc, scipy.stats.norm.ppf; Hedges' g and the sample size with the
 * formulas of docs/study.md evaluated in Python. Checked to 1e-6 relative. */
#include "stats.h"

#include <math.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const double set_a[] = { 10.1, 10.4, 9.8, 10.0, 10.3, 9.9 };
static const double set_b[] = { 11.0, 10.7, 11.3, 10.9, 11.2 };

static void assert_rel(double got, double want)
{
    double tol = 1e-6 * fabs(want) + 1e-12;
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.12g, want %.12g", got, want);
}

static void test_stats_t_quantiles_match_scipy(void **state)
{
    (void)state;
    assert_rel(stats_t_quantile(0.975, 1), 12.706204736432095);
    assert_rel(stats_t_quantile(0.975, 2), 4.302652729911275);
    assert_rel(stats_t_quantile(0.975, 5), 2.5705818366147395);
    assert_rel(stats_t_quantile(0.975, 29), 2.045229642132703);
    assert_rel(stats_t_quantile(0.995, 3.5), 5.085702223526865);
    assert_rel(stats_t_quantile(0.9, 100), 1.2900747613398769);
    assert_rel(stats_t_quantile(0.025, 5), -2.5705818366147395);
    assert_rel(stats_t_cdf(-2.1, 7.3), 0.03612335671242664);
}

static void test_stats_betai_matches_scipy(void **state)
{
    (void)state;
    assert_rel(stats_betai(2.5, 0.5, 0.3), 0.01892712407194565);
    assert_rel(stats_betai(10, 3, 0.8), 0.55834574848);
    assert_rel(stats_betai(0.5, 0.5, 0.01), 0.06376856085851987);
    assert_rel(stats_norm_quantile(0.975), 1.959963984540054);
    assert_rel(stats_norm_quantile(0.001), -3.090232306167813);
}

static void test_stats_welch_matches_scipy(void **state)
{
    (void)state;
    double t, df, p;
    stats_welch(set_a, 6, set_b, 5, &t, &df, &p);
    assert_rel(t, 6.5669263829481626);
    assert_rel(p, 0.00013118854850902994);
    static const double c[] = { 5.0, 5.1, 4.9, 5.05 }, d[] = { 5.02, 4.98, 5.07, 5.0, 4.95 };
    stats_welch(c, 4, d, 5, &t, &df, &p);
    assert_rel(t, -0.18004124600653565);
    assert_rel(p, 0.8652463472803608);
}

static void test_stats_summary_has_t_interval(void **state)
{
    (void)state;
    struct stats_summary s;
    stats_summarize(set_a, 6, &s);
    assert_int_equal(s.n, 6);
    assert_rel(s.mean, 10.083333333333332);
    assert_rel(s.sd, 0.23166067138525404);
    assert_rel(s.median, 10.05);
    assert_rel(s.ci_high - s.mean, 0.24311296500645205);
    assert_rel(s.mean - s.ci_low, 0.24311296500645205);
    stats_summarize(set_a, 1, &s);
    assert_true(isnan(s.sd) && isnan(s.ci_low));
}

static void test_stats_compare_effect_size_and_power(void **state)
{
    (void)state;
    struct stats_compare c, c2;
    stats_compare(set_a, 6, set_b, 5, 0.02, 42, &c);
    assert_rel(c.ratio, (11.02) / 10.083333333333332);
    assert_rel(c.hedges_g, 3.6467125559281133);
    assert_rel(c.n_needed, 22);
    assert_true(c.ci_low < c.ratio && c.ratio < c.ci_high);
    assert_true(c.ci_low > 1.0); /* clearly different: the CI excludes 1 */
    stats_compare(set_a, 6, set_b, 5, 0.02, 42, &c2);
    assert_true(c.ci_low == c2.ci_low && c.ci_high == c2.ci_high); /* seeded */
}

/* scipy.stats.mannwhitneyu(b, a, method="asymptotic", use_continuity=True), SciPy 1.10.1:
 * the statistic is U of the first argument, and the second case has ties. */
static void test_stats_mannwhitney_matches_scipy(void **state)
{
    (void)state;
    double u, p;
    stats_mannwhitney(set_a, 6, set_b, 5, &u, &p);
    assert_rel(u, 30.0);
    assert_rel(p, 0.00811311726556578);
    static const double c[] = { 1, 2, 2, 3, 3, 3, 4, 5, 9, 10 };
    static const double d[] = { 2, 3, 4, 4, 6, 7, 8, 8, 8, 11, 12 };
    stats_mannwhitney(c, 10, d, 11, &u, &p);
    assert_rel(u, 79.5);
    assert_rel(p, 0.08871195540702956);
    static const double e[] = { 5.0, 5.1, 4.9, 5.05 }, f[] = { 5.02, 4.98, 5.07, 5.0, 4.95 };
    stats_mannwhitney(e, 4, f, 5, &u, &p);
    assert_rel(u, 8.5);
    assert_rel(p, 0.8057007967202067);
    static const double g[] = { 1, 1, 1 };
    stats_mannwhitney(g, 3, g, 3, &u, &p);
    assert_rel(p, 1.0);
}

/* median 10.1, MAD 0.3: the fences are 10.1 ± 3 × 1.4826 × 0.3 = 10.1 ± 1.334 */
static void test_stats_outliers_flag_beyond_3_scaled_mads(void **state)
{
    (void)state;
    static const double x[] = { 10.1, 10.4, 9.8, 10.0, 10.3, 9.9, 14.0, 10.7, 8.5 };
    int flag[9];
    assert_int_equal(stats_outliers(x, 9, flag), 2);
    for (int i = 0; i < 9; i++)
        assert_int_equal(flag[i], i == 6 || i == 8);
    static const double same[] = { 1, 1, 1, 5 };
    assert_int_equal(stats_outliers(same, 4, flag), 0); /* MAD 0: no flags */
    assert_int_equal(stats_outliers(x, 2, flag), 0);
}

static void test_stats_holm_steps_down(void **state)
{
    (void)state;
    const double p[] = { 0.01, 0.04, 0.03, 0.005, NAN };
    double h[5];
    stats_holm(p, h, 5);
    assert_rel(h[0], 0.03);
    assert_rel(h[1], 0.06);
    assert_rel(h[2], 0.06);
    assert_rel(h[3], 0.02);
    assert_true(isnan(h[4]));
}

static void test_stats_identical_samples_not_different(void **state)
{
    (void)state;
    static const double x[] = { 1.0, 1.01, 0.99, 1.02, 0.98 };
    double t, df, p;
    stats_welch(x, 5, x, 5, &t, &df, &p);
    assert_rel(p, 1.0);
}

static void test_stats_rand_below_is_reproducible_and_bounded(void **state)
{
    (void)state;
    uint64_t s1 = 7, s2 = 7;
    for (int i = 0; i < 1000; i++) {
        uint64_t a = stats_rand_below(&s1, 3);
        assert_true(a < 3);
        assert_int_equal(a, stats_rand_below(&s2, 3));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_t_quantiles_match_scipy),
        cmocka_unit_test(test_stats_betai_matches_scipy),
        cmocka_unit_test(test_stats_welch_matches_scipy),
        cmocka_unit_test(test_stats_summary_has_t_interval),
        cmocka_unit_test(test_stats_compare_effect_size_and_power),
        cmocka_unit_test(test_stats_mannwhitney_matches_scipy),
        cmocka_unit_test(test_stats_outliers_flag_beyond_3_scaled_mads),
        cmocka_unit_test(test_stats_holm_steps_down),
        cmocka_unit_test(test_stats_identical_samples_not_different),
        cmocka_unit_test(test_stats_rand_below_is_reproducible_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
