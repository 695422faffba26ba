/* The analysis of a study (summaries, comparisons with the baseline, Holm, verdicts,
 * the Pareto front, the recommendation) and its text report. docs/study.md explains
 * every number. */
#include "study_run.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ALPHA 0.05

static const char *const quantity_names[SQ_COUNT] = {
    "duration_s", "energy_j", "energy_per_unit_j", "time_per_unit_s", "co2e_per_unit_g", "quality",
};

const char *study_quantity_name(enum study_quantity q)
{
    return quantity_names[q];
}

static double value_of(const struct study_run *run, enum study_quantity q)
{
    switch (q) {
    case SQ_DURATION:
        return run->duration_s;
    case SQ_ENERGY:
        return run->energy_j;
    case SQ_EPU:
        return run->energy_j / run->units;
    case SQ_TPU:
        return run->duration_s / run->units;
    case SQ_CO2PU:
        return run->co2e_g / run->units;
    case SQ_QUALITY:
    case SQ_COUNT:
        break;
    }
    return run->quality;
}

size_t study_samples(const struct study_results *r, size_t v, enum study_quantity q, double *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_runs; i++) {
        const struct study_run *run = &r->runs[i];
        if (run->variant != v || run->warmup || run->excluded[0])
            continue;
        double x = value_of(run, q);
        if (!isnan(x))
            out[n++] = x;
    }
    return n;
}

static int meets_bar(const struct study *st, const struct stats_summary *q)
{
    if (!st->quality_metric[0])
        return 1;
    if (q->n == 0)
        return 0;
    return !(q->mean < st->quality_at_least) && !(q->mean > st->quality_at_most);
}

/* Compares every variant with the baseline on quantity q; Holm across the variants. */
static void compare_quantity(struct study_results *r, enum study_quantity q, double *a, double *b)
{
    size_t na = study_samples(r, r->baseline, q, a);
    size_t first = r->n_cmp;
    double p[STUDY_MAX_VARIANTS], ph[STUDY_MAX_VARIANTS];
    for (size_t v = 0; v < r->n_variants; v++) {
        if (v == r->baseline)
            continue;
        struct study_comparison *c = &r->cmp[r->n_cmp++];
        c->variant = v;
        c->quantity = q;
        size_t nb = study_samples(r, v, q, b);
        stats_compare(a, na, b, nb, r->noise, r->seed ^ (v * 0x9e37u + q), &c->c);
        p[r->n_cmp - 1 - first] = c->c.p_value;
    }
    stats_holm(p, ph, r->n_cmp - first);
    for (size_t i = first; i < r->n_cmp; i++) {
        struct study_comparison *c = &r->cmp[i];
        c->p_holm = ph[i - first];
        int sig = c->p_holm < ALPHA && (c->c.ci_high < 1 || c->c.ci_low > 1) &&
                  fabs(c->c.ratio - 1) > r->noise;
        c->verdict = !sig ? "no-difference" : c->c.ratio < 1 ? "better" : "worse";
    }
}

/* a dominates b: no worse in energy and time per unit and quality, better in one. */
static int dominates(const struct study_results *r, size_t a, size_t b)
{
    const struct stats_summary *sa = r->v[a].s, *sb = r->v[b].s;
    double qa = sa[SQ_QUALITY].mean, qb = sb[SQ_QUALITY].mean;
    int hq = r->st->quality_metric[0] && !isnan(qa) && !isnan(qb);
    int le = sa[SQ_EPU].mean <= sb[SQ_EPU].mean && sa[SQ_TPU].mean <= sb[SQ_TPU].mean &&
             (!hq || qa >= qb);
    int lt =
        sa[SQ_EPU].mean < sb[SQ_EPU].mean || sa[SQ_TPU].mean < sb[SQ_TPU].mean || (hq && qa > qb);
    return le && lt;
}

static void pareto(struct study_results *r)
{
    for (size_t v = 0; v < r->n_variants; v++) {
        r->v[v].pareto = r->v[v].s[SQ_EPU].n > 0;
        for (size_t w = 0; r->v[v].pareto && w < r->n_variants; w++)
            if (w != v && r->v[w].s[SQ_EPU].n > 0 && dominates(r, w, v))
                r->v[v].pareto = 0;
    }
}

static const struct study_comparison *find_cmp(const struct study_results *r, size_t v,
                                               enum study_quantity q)
{
    for (size_t i = 0; i < r->n_cmp; i++)
        if (r->cmp[i].variant == v && r->cmp[i].quantity == q)
            return &r->cmp[i];
    return NULL;
}

/* Appends to r->reason. */
static void say(struct study_results *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct study_results *r, const char *fmt, ...)
{
    size_t len = strlen(r->reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason + len, sizeof(r->reason) - len, fmt, ap);
    va_end(ap);
}

/* The evidence for the chosen variant against the baseline. */
static void evidence(struct study_results *r, size_t best)
{
    const struct study_comparison *c = find_cmp(r, best, SQ_EPU);
    if (best == r->baseline || !c) {
        say(r, "it is the baseline");
        return;
    }
    say(r,
        "energy per unit %.1f %% of the baseline (95 %% CI %.1f to %.1f %%, Welch p = %.3g, "
        "Holm p = %.3g, Hedges' g = %.2f)",
        100 * c->c.ratio, 100 * c->c.ci_low, 100 * c->c.ci_high, c->c.p_value, c->p_holm,
        c->c.hedges_g);
    if (strcmp(c->verdict, "worse") == 0)
        say(r, "; it uses more energy per unit than the baseline%s",
            r->v[r->baseline].meets_quality ? "" : ", which misses the quality bar");
    else if (strcmp(c->verdict, "better") != 0)
        say(r,
            "; no significant difference from the baseline at this n: about %.0f runs per "
            "variant would detect a %.0f %% difference",
            c->c.n_needed, 100 * r->noise);
}

/* (energy per unit)^(1 - eta) × (time per unit)^eta of the means; eta 0: energy alone. */
static double score(const struct study_results *r, size_t v)
{
    double e = r->v[v].s[SQ_EPU].mean, t = r->v[v].s[SQ_TPU].mean;
    if (r->eta <= 0)
        return e;
    if (r->eta >= 1)
        return t;
    return pow(e, 1 - r->eta) * pow(t, r->eta);
}

static void recommend(struct study_results *r)
{
    long best = -1;
    for (size_t v = 0; v < r->n_variants; v++) {
        if (!r->v[v].meets_quality || r->v[v].s[SQ_EPU].n < 2)
            continue;
        if (best < 0 || score(r, v) < score(r, (size_t)best))
            best = (long)v;
    }
    r->recommended = best;
    r->reason[0] = '\0';
    if (best < 0) {
        say(r, "%s",
            r->st->quality_metric[0]
                ? "no variant meets the quality bar with at least 2 runs that count"
                : "no variant has at least 2 runs that count");
        return;
    }
    if (r->eta > 0)
        say(r, "lowest (energy per unit)^%g x (time per unit)^%g of the means (--eta %g)",
            1 - r->eta, r->eta, r->eta);
    else
        say(r, "lowest mean energy per unit");
    if (r->st->quality_metric[0])
        say(r, " among the variants meeting the quality bar");
    say(r, "; ");
    evidence(r, (size_t)best);
    const struct stats_summary *b = &r->v[best].s[SQ_EPU];
    int first = 1;
    for (size_t v = 0; v < r->n_variants; v++) {
        const struct stats_summary *o = &r->v[v].s[SQ_EPU];
        if ((long)v == best || !r->v[v].meets_quality || o->n < 2 || o->ci_low > b->ci_high)
            continue;
        say(r, "%s%s", first ? "; tied (95 % CIs of energy per unit overlap): " : ", ",
            r->v[v].name);
        first = 0;
    }
}

/* Flags the outliers of variant v's energy per unit; x has room for every run. */
static void flag_outliers(struct study_results *r, size_t v, double *x)
{
    size_t n = study_samples(r, v, SQ_EPU, x), k = 0;
    int *flag = calloc(n ? n : 1, sizeof(*flag));
    r->v[v].outliers = flag ? stats_outliers(x, n, flag) : 0;
    for (size_t i = 0; i < r->n_runs; i++) {
        struct study_run *run = &r->runs[i];
        if (run->variant != v)
            continue;
        run->outlier = 0;
        if (run->warmup || run->excluded[0] || isnan(run->energy_j / run->units))
            continue;
        run->outlier = flag && k < n ? flag[k] : 0;
        k++;
    }
    free(flag);
}

void study_analyze(struct study_results *r)
{
    size_t cap = r->n_runs ? r->n_runs : 1;
    double *a = malloc(cap * sizeof(*a)), *b = malloc(cap * sizeof(*b));
    if (!a || !b) {
        free(a);
        free(b);
        snprintf(r->reason, sizeof(r->reason), "out of memory");
        r->recommended = -1;
        return;
    }
    for (size_t v = 0; v < r->n_variants; v++) {
        study_variant_name(r->st, v, r->v[v].name, sizeof(r->v[v].name));
        for (int q = 0; q < SQ_COUNT; q++)
            stats_summarize(a, study_samples(r, v, (enum study_quantity)q, a), &r->v[v].s[q]);
        r->v[v].meets_quality = meets_bar(r->st, &r->v[v].s[SQ_QUALITY]);
        flag_outliers(r, v, a);
        r->v[v].attempts = 0;
        for (size_t i = 0; i < r->n_runs; i++)
            r->v[v].attempts += r->runs[i].variant == v && !r->runs[i].warmup;
    }
    r->n_cmp = 0;
    compare_quantity(r, SQ_EPU, a, b);
    compare_quantity(r, SQ_TPU, a, b);
    free(a);
    free(b);
    pareto(r);
    recommend(r);
}
