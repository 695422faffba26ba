/* The report of a study: a text table on stdout, or JSON "wattprof.study/1"
 * (docs/study.md). Numbers are printed in the "C" locale (the CLI never sets one). */
#include "study_run.h"

#include <math.h>
#include <string.h>

/* "mean ± half-width" of a summary, or "-" when empty. */
static void fmt_ci(char *buf, size_t size, const struct stats_summary *s)
{
    if (s->n == 0)
        snprintf(buf, size, "-");
    else if (s->n < 2)
        snprintf(buf, size, "%.4g", s->mean);
    else
        snprintf(buf, size, "%.4g ± %.2g", s->mean, (s->ci_high - s->ci_low) / 2);
}

static void print_variants(FILE *f, const struct study_results *r)
{
    fprintf(f, "%-32s %5s %4s  %-20s %-22s %-20s %s\n", "variant", "n", "out", "time/unit s",
            "energy/unit J", "CO2e/unit g", r->st->quality_metric[0] ? r->st->quality_metric : "");
    for (size_t v = 0; v < r->n_variants; v++) {
        const struct study_variant_result *x = &r->v[v];
        char t[64], e[64], c[64], q[64], n[32];
        fmt_ci(t, sizeof(t), &x->s[SQ_TPU]);
        fmt_ci(e, sizeof(e), &x->s[SQ_EPU]);
        fmt_ci(c, sizeof(c), &x->s[SQ_CO2PU]);
        fmt_ci(q, sizeof(q), &x->s[SQ_QUALITY]);
        snprintf(n, sizeof(n), "%zu/%zu", x->s[SQ_EPU].n, x->attempts);
        fprintf(f, "%-32s %5s %4zu  %-20s %-22s %-20s %s%s%s\n", x->name, n, x->outliers, t, e, c,
                r->st->quality_metric[0] ? q : "", x->meets_quality ? "" : " (below the bar)",
                v == r->baseline ? "  [baseline]" : "");
    }
    for (size_t i = 0; i < r->n_runs; i++)
        if (r->runs[i].excluded[0])
            fprintf(f, "excluded: %s %s%u: %s\n", r->v[r->runs[i].variant].name,
                    r->runs[i].warmup ? "warm-up " : "run ", r->runs[i].index, r->runs[i].excluded);
}

static void print_comparisons(FILE *f, const struct study_results *r)
{
    if (r->n_cmp)
        fprintf(f,
                "\nagainst the baseline %s (ratio of means, 95 %% bootstrap CI; Welch's "
                "t-test, Holm-corrected):\n",
                r->v[r->baseline].name);
    for (size_t i = 0; i < r->n_cmp; i++) {
        const struct study_comparison *c = &r->cmp[i];
        fprintf(f,
                "  %-32s %-17s ratio %.4f [%.4f, %.4f]  p %.3g  p_holm %.3g  p_mw %.3g%s  g %.2f  "
                "%s",
                r->v[c->variant].name, study_quantity_name(c->quantity), c->c.ratio, c->c.ci_low,
                c->c.ci_high, c->c.p_value, c->p_holm, c->c.p_mw,
                c->c.na < STATS_MW_MIN_N || c->c.nb < STATS_MW_MIN_N ? " (low n)" : "",
                c->c.hedges_g, c->verdict);
        if (strcmp(c->verdict, "no-difference") == 0 && !isnan(c->c.n_needed))
            fprintf(f,
                    " (no detectable difference at this n; ~%.0f runs per variant would "
                    "detect %.0f %%)",
                    c->c.n_needed, 100 * r->noise);
        fputc('\n', f);
    }
}

void study_print_text(FILE *f, const struct study_results *r)
{
    fprintf(f, "study '%s': %zu variants, order %s, seed %llu", r->st->name, r->n_variants,
            study_order_name(r->st->order), (unsigned long long)r->seed);
    if (!isnan(r->idle_power_w))
        fprintf(f, ", idle power %.2f W", r->idle_power_w);
    fprintf(f, "%s\n\n", r->interrupted ? " (interrupted: partial results)" : "");
    print_variants(f, r);
    print_comparisons(f, r);
    fprintf(f, "\nPareto front (energy/unit, time/unit%s):",
            r->st->quality_metric[0] ? ", quality" : "");
    for (size_t v = 0; v < r->n_variants; v++)
        if (r->v[v].pareto)
            fprintf(f, " %s", r->v[v].name);
    if (r->recommended >= 0)
        fprintf(f, "\nrecommendation: %s: %s\n", r->v[r->recommended].name, r->reason);
    else
        fprintf(f, "\nrecommendation: none: %s\n", r->reason);
}

/* ---- JSON ---- */

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void jnum(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.10g", x);
    else
        fputs("null", f);
}

static void json_run(FILE *f, const struct study_results *r, const struct study_run *run)
{
    fprintf(f, "{\"index\": %u, \"warmup\": %s, \"id\": ", run->index,
            run->warmup ? "true" : "false");
    jstr(f, run->id);
    fputs(", \"duration_s\": ", f);
    jnum(f, run->duration_s);
    fputs(", \"energy_j\": ", f);
    jnum(f, run->energy_j);
    fputs(", \"dynamic_energy_j\": ", f);
    jnum(f, run->dynamic_energy_j);
    fputs(", \"units\": ", f);
    jnum(f, run->units);
    fputs(", \"co2e_g\": ", f);
    jnum(f, run->co2e_g);
    fputs(", \"metrics\": {", f);
    for (size_t i = 0; i < run->n_metrics; i++) {
        fputs(i ? ", " : "", f);
        jstr(f, run->metric_names[i]);
        fputs(": ", f);
        jnum(f, run->metric_values[i]);
    }
    fprintf(f, "}, \"exit_code\": %d, \"outlier\": %s, \"excluded\": ", run->exit_code,
            run->outlier ? "true" : "false");
    if (run->excluded[0])
        jstr(f, run->excluded);
    else
        fputs("null", f);
    fputc('}', f);
    (void)r;
}

static void json_summary(FILE *f, const char *name, const struct stats_summary *s, int comma)
{
    fprintf(f, "%s", comma ? ", " : "");
    jstr(f, name);
    fprintf(f, ": {\"n\": %zu, \"mean\": ", s->n);
    jnum(f, s->mean);
    fputs(", \"sd\": ", f);
    jnum(f, s->sd);
    fputs(", \"cv\": ", f);
    jnum(f, s->cv);
    fputs(", \"median\": ", f);
    jnum(f, s->median);
    fputs(", \"ci_low\": ", f);
    jnum(f, s->ci_low);
    fputs(", \"ci_high\": ", f);
    jnum(f, s->ci_high);
    fputc('}', f);
}

static void json_variant(FILE *f, const struct study_results *r, size_t v)
{
    const struct study_variant_result *x = &r->v[v];
    fputs("    {\"name\": ", f);
    jstr(f, x->name);
    fputs(", \"params\": {", f);
    for (size_t k = 0; k < r->st->n_keys; k++) {
        fputs(k ? ", " : "", f);
        jstr(f, r->st->keys[k].name);
        fputs(": ", f);
        jstr(f, study_variant_value(r->st, v, k));
    }
    fprintf(f, "}, \"baseline\": %s, \"meets_quality\": %s, \"pareto\": %s,\n     \"runs\": [",
            v == r->baseline ? "true" : "false", x->meets_quality ? "true" : "false",
            x->pareto ? "true" : "false");
    int first = 1;
    for (size_t i = 0; i < r->n_runs; i++) {
        if (r->runs[i].variant != v)
            continue;
        fputs(first ? "\n      " : ",\n      ", f);
        json_run(f, r, &r->runs[i]);
        first = 0;
    }
    fputs("],\n     \"stats\": {", f);
    for (int q = 0; q < SQ_COUNT; q++) {
        const char *name = q == SQ_QUALITY ? r->st->quality_metric : study_quantity_name(q);
        if (q != SQ_QUALITY || name[0])
            json_summary(f, name, &x->s[q], q > 0);
    }
    fputs("}}", f);
}

static void json_comparison(FILE *f, const struct study_results *r,
                            const struct study_comparison *c)
{
    fputs("    {\"variant\": ", f);
    jstr(f, r->v[c->variant].name);
    fputs(", \"baseline\": ", f);
    jstr(f, r->v[r->baseline].name);
    fprintf(f, ", \"quantity\": \"%s\", \"ratio\": ", study_quantity_name(c->quantity));
    jnum(f, c->c.ratio);
    fputs(", \"ci_low\": ", f);
    jnum(f, c->c.ci_low);
    fputs(", \"ci_high\": ", f);
    jnum(f, c->c.ci_high);
    fputs(", \"p_value\": ", f);
    jnum(f, c->c.p_value);
    fputs(", \"p_holm\": ", f);
    jnum(f, c->p_holm);
    fputs(", \"p_mannwhitney\": ", f);
    jnum(f, c->c.p_mw);
    fputs(", \"mannwhitney_warning\": ", f);
    fputs(c->c.na < STATS_MW_MIN_N || c->c.nb < STATS_MW_MIN_N
              ? "\"Mann-Whitney below n = 9: low power\""
              : "null",
          f);
    fputs(", \"effect_size\": ", f);
    jnum(f, c->c.hedges_g);
    fprintf(f, ", \"verdict\": \"%s\", \"n_needed\": ", c->verdict);
    jnum(f, c->c.n_needed);
    fputc('}', f);
}

static void json_head(FILE *f, const struct study_results *r)
{
    fputs("{\n  \"schema\": \"wattprof.study/1\",\n  \"name\": ", f);
    jstr(f, r->st->name);
    fprintf(f, ",\n  \"seed\": %llu,\n  \"order_mode\": \"%s\",\n  \"noise_threshold\": ",
            (unsigned long long)r->seed, study_order_name(r->st->order));
    jnum(f, r->noise);
    fputs(",\n  \"eta\": ", f);
    jnum(f, r->eta);
    fputs(",\n  \"idle_power_w\": ", f);
    jnum(f, r->idle_power_w);
    fputs(",\n  \"unit_name\": ", f);
    jstr(f, r->st->unit_name);
    fprintf(f, ",\n  \"interrupted\": %s,\n  \"order\": [", r->interrupted ? "true" : "false");
    for (size_t i = 0; i < r->n_runs; i++) {
        fputs(i ? ", " : "", f);
        fprintf(f, "{\"variant\": ");
        jstr(f, r->v[r->runs[i].variant].name);
        fprintf(f, ", \"index\": %u, \"warmup\": %s}", r->runs[i].index,
                r->runs[i].warmup ? "true" : "false");
    }
    fputs("],\n", f);
}

void study_print_json(FILE *f, const struct study_results *r)
{
    json_head(f, r);
    fputs("  \"variants\": [\n", f);
    for (size_t v = 0; v < r->n_variants; v++) {
        json_variant(f, r, v);
        fputs(v + 1 < r->n_variants ? ",\n" : "\n", f);
    }
    fputs("  ],\n  \"comparisons\": [\n", f);
    for (size_t i = 0; i < r->n_cmp; i++) {
        json_comparison(f, r, &r->cmp[i]);
        fputs(i + 1 < r->n_cmp ? ",\n" : "\n", f);
    }
    fputs("  ],\n  \"pareto\": [", f);
    int first = 1;
    for (size_t v = 0; v < r->n_variants; v++) {
        if (!r->v[v].pareto)
            continue;
        fputs(first ? "" : ", ", f);
        jstr(f, r->v[v].name);
        first = 0;
    }
    fputs("],\n  \"recommendation\": ", f);
    if (r->recommended >= 0) {
        fputs("{\"variant\": ", f);
        jstr(f, r->v[r->recommended].name);
        fputs(", \"reason\": ", f);
        jstr(f, r->reason);
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"no_recommendation_reason\": ", f);
    if (r->recommended < 0)
        jstr(f, r->reason);
    else
        fputs("null", f);
    fputs("\n}\n", f);
}
