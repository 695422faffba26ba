/* Statistics of a study: t-based confidence intervals, Welch's t-test, a seeded
 * bootstrap of the ratio of means, Hedges' g, Holm, sample size (docs/study.md). The
 * incomplete beta follows Numerical Recipes §6.4 (Lentz's continued fraction). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STATS_BOOT_N 2000         /* bootstrap resamples, at most */
#define STATS_BOOT_MIN 200        /* ... and at least */
#define STATS_BOOT_DRAWS 2000000u /* resamples × (na + nb) is kept under this */
#define BETACF_ITER 300
#define BETACF_EPS 1e-15
#define BETACF_TINY 1e-300

static double betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < BETACF_TINY)
        d = BETACF_TINY;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= BETACF_ITER; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < BETACF_TINY ? BETACF_TINY : d;
        c = 1.0 + aa / c;
        c = fabs(c) < BETACF_TINY ? BETACF_TINY : c;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < BETACF_TINY ? BETACF_TINY : d;
        c = 1.0 + aa / c;
        c = fabs(c) < BETACF_TINY ? BETACF_TINY : c;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < BETACF_EPS)
            break;
    }
    return h;
}

double stats_betai(double a, double b, double x)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    if (x < (a + 1.0) / (a + b + 2.0))
        return bt * betacf(a, b, x) / a;
    return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

double stats_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    double tail = 0.5 * stats_betai(df / 2.0, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0 ? 1.0 - tail : tail;
}

/* Bisection on the CDF: slow-ish (about 200 CDF calls) but exact to double precision. */
double stats_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p < 0.5)
        return -stats_t_quantile(1.0 - p, df);
    double lo = 0.0, hi = 1.0;
    while (stats_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (stats_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double stats_norm_quantile(double p)
{
    static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01 };
    static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00 };
    static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00 };
    if (!(p > 0 && p < 1))
        return NAN;
    if (p > 0.5)
        return -stats_norm_quantile(1.0 - p);
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double mean_of(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

/* Sample variance (n - 1), two-pass. */
static double var_of(const double *x, size_t n, double mean)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (x[i] - mean) * (x[i] - mean);
    return s / (double)(n - 1);
}

static double median_of(const double *x, size_t n)
{
    double *tmp = malloc(n * sizeof(*tmp));
    if (!tmp)
        return NAN;
    memcpy(tmp, x, n * sizeof(*tmp));
    qsort(tmp, n, sizeof(*tmp), cmp_double);
    double m = n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
    free(tmp);
    return m;
}

size_t stats_outliers(const double *x, size_t n, int *flag)
{
    for (size_t i = 0; i < n; i++)
        flag[i] = 0;
    if (n < 3)
        return 0;
    double *dev = malloc(n * sizeof(*dev));
    if (!dev)
        return 0;
    double med = median_of(x, n);
    for (size_t i = 0; i < n; i++)
        dev[i] = fabs(x[i] - med);
    double mad = median_of(dev, n);
    free(dev);
    if (!(mad > 0))
        return 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        flag[i] = fabs(x[i] - med) > 3.0 * 1.4826 * mad;
        count += (size_t)flag[i];
    }
    return count;
}

void stats_summarize(const double *x, size_t n, struct stats_summary *out)
{
    out->n = n;
    out->mean = out->sd = out->cv = out->median = out->ci_low = out->ci_high = NAN;
    if (n == 0)
        return;
    out->mean = mean_of(x, n);
    out->median = median_of(x, n);
    if (n < 2)
        return;
    out->sd = sqrt(var_of(x, n, out->mean));
    out->cv = out->mean != 0 ? out->sd / fabs(out->mean) : NAN;
    double half = stats_t_quantile(0.975, (double)(n - 1)) * out->sd / sqrt((double)n);
    out->ci_low = out->mean - half;
    out->ci_high = out->mean + half;
}

void stats_welch(const double *a, size_t na, const double *b, size_t nb, double *t, double *df,
                 double *p)
{
    *t = *df = *p = NAN;
    if (na < 2 || nb < 2)
        return;
    double ma = mean_of(a, na), mb = mean_of(b, nb);
    double va = var_of(a, na, ma) / (double)na, vb = var_of(b, nb, mb) / (double)nb;
    if (va + vb <= 0) {
        *p = ma == mb ? 1.0 : 0.0; /* no spread at all: equal or certainly different */
        return;
    }
    *t = (mb - ma) / sqrt(va + vb);
    *df = (va + vb) * (va + vb) / (va * va / (double)(na - 1) + vb * vb / (double)(nb - 1));
    *p = stats_betai(*df / 2.0, 0.5, *df / (*df + *t * *t));
}

/* Resamples for samples of na + nb: 2000, fewer when n is large so the work stays under
 * STATS_BOOT_DRAWS draws (never fewer than 200). */
static size_t boot_count(size_t na, size_t nb)
{
    size_t k = STATS_BOOT_DRAWS / (na + nb);
    return k > STATS_BOOT_N ? STATS_BOOT_N : k < STATS_BOOT_MIN ? STATS_BOOT_MIN : k;
}

/* Percentile bootstrap of mean(b) / mean(a): resamples both with replacement. */
static void boot_ratio(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
                       double *lo, double *hi)
{
    double r[STATS_BOOT_N] = { 0 };
    size_t m = boot_count(na, nb);
    uint64_t st = seed;
    for (size_t k = 0; k < m; k++) {
        double sa = 0, sb = 0;
        for (size_t i = 0; i < na; i++)
            sa += a[stats_rand_below(&st, na)];
        for (size_t i = 0; i < nb; i++)
            sb += b[stats_rand_below(&st, nb)];
        r[k] = (sb / (double)nb) / (sa / (double)na);
    }
    qsort(r, m, sizeof(r[0]), cmp_double);
    *lo = r[(size_t)(0.025 * (double)m)];
    *hi = r[(size_t)(0.975 * (double)m) - 1];
}

void stats_compare(const double *a, size_t na, const double *b, size_t nb, double rel,
                   uint64_t seed, struct stats_compare *out)
{
    out->ratio = out->ci_low = out->ci_high = out->hedges_g = out->n_needed = NAN;
    stats_welch(a, na, b, nb, &out->t, &out->df, &out->p_value);
    stats_mannwhitney(a, na, b, nb, &out->u, &out->p_mw);
    out->na = na;
    out->nb = nb;
    if (na < 2 || nb < 2)
        return;
    double ma = mean_of(a, na), mb = mean_of(b, nb);
    out->ratio = mb / ma;
    boot_ratio(a, na, b, nb, seed, &out->ci_low, &out->ci_high);
    double sp2 = ((double)(na - 1) * var_of(a, na, ma) + (double)(nb - 1) * var_of(b, nb, mb)) /
                 (double)(na + nb - 2);
    double sp = sqrt(sp2);
    double j = 1.0 - 3.0 / (4.0 * (double)(na + nb) - 9.0); /* Hedges' correction */
    out->hedges_g = sp > 0 ? (mb - ma) / sp * j : NAN;
    double delta = rel * fabs(ma);
    double z = stats_norm_quantile(0.975) + stats_norm_quantile(0.80);
    out->n_needed = delta > 0 ? ceil(2.0 * z * z * sp2 / (delta * delta)) : NAN;
    if (out->n_needed < 2)
        out->n_needed = 2;
}

/* How many of the sorted x[0..n) are < v (strict) or <= v (!strict). */
static size_t count_below(const double *x, size_t n, double v, int strict)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strict ? x[mid] < v : x[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Sum of the ranks of b in the pooled sample (mid-ranks for ties) and the tie term
 * sum(t^3 - t). */
static int rank_sum(const double *a, size_t na, const double *b, size_t nb, double *rb,
                    double *ties)
{
    size_t n = na + nb;
    double *x = malloc(n * sizeof(*x));
    if (!x)
        return -1;
    memcpy(x, a, na * sizeof(*x));
    memcpy(x + na, b, nb * sizeof(*x));
    qsort(x, n, sizeof(*x), cmp_double);
    *rb = *ties = 0;
    for (size_t j = 0; j < nb; j++) {
        size_t lo = count_below(x, n, b[j], 1), eq = count_below(x, n, b[j], 0) - lo;
        *rb += (double)lo + ((double)eq + 1.0) / 2.0;
    }
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k < n && x[k] == x[i])
            k++;
        double t = (double)(k - i);
        *ties += t * t * t - t;
        i = k;
    }
    free(x);
    return 0;
}

void stats_mannwhitney(const double *a, size_t na, const double *b, size_t nb, double *u, double *p)
{
    *u = *p = NAN;
    double rb, ties;
    if (na < 1 || nb < 1 || rank_sum(a, na, b, nb, &rb, &ties) < 0)
        return;
    double n1 = (double)na, n2 = (double)nb, n = n1 + n2;
    *u = rb - n2 * (n2 + 1) / 2;
    double mu = n1 * n2 / 2;
    double var = n1 * n2 / 12 * ((n + 1) - (n > 1 ? ties / (n * (n - 1)) : 0));
    if (!(var > 0)) {
        *p = 1.0; /* every value tied */
        return;
    }
    double big = *u > n1 * n2 - *u ? *u : n1 * n2 - *u;
    double z = (big - mu - 0.5) / sqrt(var);
    *p = erfc(z / sqrt(2.0));
    *p = *p > 1 ? 1 : *p;
}

void stats_holm(const double *p, double *p_holm, size_t m)
{
    size_t valid = 0;
    for (size_t i = 0; i < m; i++)
        valid += !isnan(p[i]);
    for (size_t i = 0; i < m; i++) {
        if (isnan(p[i])) {
            p_holm[i] = NAN;
            continue;
        }
        /* adjusted p_(k) = max over j <= k of (valid - j + 1) p_(j), capped at 1 */
        double adj = 0;
        for (size_t j = 0; j < m; j++) {
            if (isnan(p[j]) || p[j] > p[i])
                continue;
            size_t rank = 0; /* how many valid p-values come before p[j] */
            for (size_t k = 0; k < m; k++)
                rank += !isnan(p[k]) && (p[k] < p[j] || (k < j && p[k] == p[j]));
            double v = (double)(valid - rank) * p[j];
            adj = v > adj ? v : adj;
        }
        p_holm[i] = adj > 1 ? 1 : adj;
    }
}

uint64_t stats_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t stats_rand_below(uint64_t *state, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do {
        r = stats_rand(state);
    } while (r >= limit);
    return r % n;
}
