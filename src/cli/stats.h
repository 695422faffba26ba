/* Statistics of a study (docs/study.md): summaries with t-based 95 % confidence
 * intervals, Welch's t-test, a seeded percentile bootstrap of the ratio of means,
 * Hedges' g, Holm's correction and a sample-size estimate. Pure functions, no I/O. */
#ifndef WATTPROF_STATS_H
#define WATTPROF_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Summary of a sample. Fields are NAN when undefined (sd and CI need n >= 2). */
struct stats_summary {
    size_t n;
    double mean, sd, cv, median;
    double ci_low, ci_high; /* 95 %, mean ± t(0.975, n-1) · sd / sqrt(n) */
};

/* One variant against the baseline (b against a). */
struct stats_compare {
    double ratio;           /* mean(b) / mean(a) */
    double ci_low, ci_high; /* 95 % percentile bootstrap of the ratio (seeded) */
    double t, df, p_value;  /* Welch's t-test, two-sided */
    double hedges_g;        /* (mean(b) - mean(a)) / pooled sd, small-sample corrected */
    double n_needed;        /* runs per variant to detect a relative difference `rel` */
    double u, p_mw;         /* Mann-Whitney U of b and its two-sided p (approximate) */
    size_t na, nb;          /* the sample sizes */
};

/* The regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double stats_betai(double a, double b, double x);
/* Student's t: P(T <= t) with df degrees of freedom (df > 0, not necessarily whole). */
double stats_t_cdf(double t, double df);
/* The t quantile: t with P(T <= t) = p, 0 < p < 1. */
double stats_t_quantile(double p, double df);
/* The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
double stats_norm_quantile(double p);

void stats_summarize(const double *x, size_t n, struct stats_summary *out);

/* Compares b with a. rel is the relative difference to power for (e.g. 0.02); seed
 * makes the bootstrap reproducible. Both samples need n >= 2, else fields are NAN. */
void stats_compare(const double *a, size_t na, const double *b, size_t nb, double rel,
                   uint64_t seed, struct stats_compare *out);

/* Welch's t-test alone: fills t, df and the two-sided p-value. */
void stats_welch(const double *a, size_t na, const double *b, size_t nb, double *t, double *df,
                 double *p);

/* Mann-Whitney U test (two-sided): *u is U of b, *p comes from the normal
 * approximation with the tie correction and the continuity correction (SciPy's
 * method="asymptotic", use_continuity=True). Approximate for all n, no exact small-n
 * p-value. Needs na, nb >= 1, else NAN. */
#define STATS_MW_MIN_N 9 /* below this per group the report warns of low power */
void stats_mannwhitney(const double *a, size_t na, const double *b, size_t nb, double *u,
                       double *p);

/* Flags outliers (never removes them): flag[i] = 1 when |x[i] - median| > 3 × 1.4826 ×
 * MAD (the median absolute deviation). No flags when n < 3 or MAD = 0. Returns the
 * number flagged, or 0 on out-of-memory (no flags). */
size_t stats_outliers(const double *x, size_t n, int *flag);

/* Holm's step-down correction of m p-values, in place order kept; NAN stays NAN. */
void stats_holm(const double *p, double *p_holm, size_t m);

/* splitmix64: the study's PRNG. Advances *state and returns 64 random bits. */
uint64_t stats_rand(uint64_t *state);
/* A uniform integer in [0, n), n > 0 (rejection sampling, no modulo bias). */
uint64_t stats_rand_below(uint64_t *state, uint64_t n);

#endif
