/* The one-page Markdown summaries: a run's figures, and a study's decision: per candidate
 * time, energy, CO2e and cost per task, the recommended candidate's saving against the
 * baseline with its CI and, given tasks per year, the yearly saving and the payback. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chart.h"
#include "history.h"
#include "report.h"

#define J_PER_KWH 3.6e6

/* Text from a user or a workload, inert in Markdown (and in the HTML it may become). */
static void md_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else {
            if (strchr("\\`*_[]|#!{}", *s))
                fputc('\\', f);
            fputc(*s, f);
        }
    }
}

static void money(char *buf, size_t size, double v, const char *currency)
{
    char num[32];
    chart_fmt_num(num, sizeof(num), v);
    snprintf(buf, size, isfinite(v) ? "%s %s" : "%s", num, currency);
}

void report_run_md(FILE *f, const struct stored_run *sr, const struct json_parse_node *labels)
{
    const struct wattprof_result *r = &sr->res;
    const struct wattprof_accounting *a = &r->accounting;
    char when[32], dur[32], v[64];
    fputs("# Run ", f);
    md_escape(f, sr->id);
    fputs("\n\nCommand: ", f);
    for (int i = 0; i < sr->argc; i++) {
        fputs(i ? " " : "", f);
        md_escape(f, sr->argv[i]);
    }
    history_fmt_time(when, sizeof(when), r->started_at_unix_ms);
    history_fmt_duration(dur, sizeof(dur), r->duration_ns);
    fprintf(f, "\n\n| | |\n|---|---|\n| started | %s UTC |\n| duration | %s |\n", when, dur);
    if (r->complete)
        fprintf(f, "| exit code | %d |\n", r->exit_code);
    else
        fputs("| status | incomplete: wattprof stopped before the command ended |\n", f);
    report_fmt_auto(v, sizeof(v), (double)r->energy_uj / 1e6, "J");
    fprintf(f, "| energy, machine total | %s (%s) |\n", v,
            r->total_provenance ? r->total_provenance : "?");
    report_fmt_auto(v, sizeof(v), (double)r->attributed_uj / 1e6, "J");
    fprintf(f, "| attributed to the command | %s |\n", v);
    if (r->units > 0) {
        report_fmt_auto(v, sizeof(v), (double)r->attributed_uj / 1e6 / r->units, "J");
        char unit[48];
        report_unit(unit, sizeof(unit), r->unit_name);
        fputs("| energy per ", f);
        md_escape(f, unit);
        fprintf(f, " | %s |\n", v);
    }
    if (a->computed) {
        report_fmt_auto(v, sizeof(v), a->total_g, "g");
        fprintf(f, "| CO2e (operational + embodied) | %s |\n", v);
        money(v, sizeof(v), a->cost, a->currency ? a->currency : "");
        fprintf(f, "| electricity cost | %s |\n", isfinite(a->cost) ? v : "- (no price given)");
    }
    if (r->n_windows)
        fprintf(f, "| windows | %zu |\n", r->n_windows);
    if (labels && labels->len > 0) {
        fputs("| labels |", f);
        for (const struct json_parse_node *l = labels->child; l; l = l->next) {
            fputs(l == labels->child ? " " : ", ", f);
            md_escape(f, l->key);
            fputs("=", f);
            md_escape(f, json_parse_str(l, ""));
        }
        fputs(" |\n", f);
    }
    if (r->total_provenance && strcmp(r->total_provenance, "measured") != 0)
        fputs("\nThe energy is not all measured: see each channel's provenance "
              "('wattprof show').\n",
              f);
    if (r->warnings && r->warnings[0]) {
        fputs("\nWarnings:\n\n", f);
        report_lines(f, r->warnings, "- ", "\n", md_escape);
    }
}

/* A mean with its CI in brackets, in sc: "36.7 µJ [35.1 to 38.2]". */
static void mean_ci(char *buf, size_t size, const struct json_parse_node *v, const char *q,
                    const struct report_scale *sc)
{
    char m[32], lo[32], hi[32];
    report_fmt(m, sizeof(m), report_stat(v, q, "mean"), sc);
    double l = report_stat(v, q, "ci_low"), h = report_stat(v, q, "ci_high");
    if (!isfinite(l) || !isfinite(h)) {
        snprintf(buf, size, "%s", m);
        return;
    }
    chart_fmt_num(lo, sizeof(lo), l * sc->factor);
    chart_fmt_num(hi, sizeof(hi), h * sc->factor);
    snprintf(buf, size, "%s [%s to %s]", m, lo, hi);
}

static double max_stat(const struct json_parse_node *study, const char *q)
{
    double max = 0;
    for (const struct json_parse_node *v = json_parse_get(study, "variants")->child; v; v = v->next)
        max = fmax(max, fabs(report_stat(v, q, "mean")));
    return max;
}

static void candidates(FILE *f, const struct json_parse_node *study,
                       const struct report_factors *fac, const char *metric, const char *rec)
{
    struct report_scale ts, es, cs, ms;
    report_scale_pick(&ts, max_stat(study, "time_per_unit_s"), "s");
    report_scale_pick(&es, max_stat(study, "energy_per_unit_j"), "J");
    report_scale_pick(&cs, max_stat(study, "co2e_per_unit_g"), "g");
    report_scale_pick(&ms, 0, "");
    int priced = isfinite(fac->price_per_kwh);
    fputs("| candidate | runs | time per task | energy per task | CO2e per task | cost per task |",
          f);
    if (metric) {
        fputc(' ', f);
        md_escape(f, metric);
        fputs(" |", f);
    }
    fputs(" Pareto |\n|---|--:|--:|--:|--:|--:|", f);
    fputs(metric ? "--:|---|\n" : "---|\n", f);
    for (const struct json_parse_node *v = json_parse_get(study, "variants")->child; v;
         v = v->next) {
        const char *name = json_parse_get_str(v, "name", "?");
        char t[128], e[128], c[128], cost[64], q[128];
        mean_ci(t, sizeof(t), v, "time_per_unit_s", &ts);
        mean_ci(e, sizeof(e), v, "energy_per_unit_j", &es);
        mean_ci(c, sizeof(c), v, "co2e_per_unit_g", &cs);
        double per_task =
            report_stat(v, "energy_per_unit_j", "mean") * fac->pue / J_PER_KWH * fac->price_per_kwh;
        money(cost, sizeof(cost), priced ? per_task : NAN, fac->currency);
        fputs("| ", f);
        md_escape(f, name);
        if (json_parse_bool(json_parse_get(v, "baseline"), 0))
            fputs(" (baseline)", f);
        if (rec && strcmp(rec, name) == 0)
            fputs(" **(recommended)**", f);
        fprintf(f, " | %.0f | %s | %s | %s | %s |", report_stat(v, "energy_per_unit_j", "n"), t, e,
                c, cost);
        if (metric) {
            mean_ci(q, sizeof(q), v, metric, &ms);
            fprintf(f, " %s%s |", q,
                    json_parse_bool(json_parse_get(v, "meets_quality"), 1) ? ""
                                                                           : " (below the bar)");
        }
        fprintf(f, " %s |\n", json_parse_bool(json_parse_get(v, "pareto"), 0) ? "yes" : "no");
    }
    fputs("\nMeans over the counted runs, 95 % confidence intervals in brackets.", f);
    if (!priced)
        fputs(" No cost: the runs were recorded without an electricity price (set "
              "WATTPROF_PRICE, e.g. 0.30EUR, or --price for 'wattprof run').",
              f);
    fputs("\n", f);
}

static const char *baseline_name(const struct json_parse_node *study)
{
    for (const struct json_parse_node *v = json_parse_get(study, "variants")->child; v; v = v->next)
        if (json_parse_bool(json_parse_get(v, "baseline"), 0))
            return json_parse_get_str(v, "name", NULL);
    return NULL;
}

static void yearly(FILE *f, const struct report_decision *d, const struct report_factors *fac,
                   const struct report_options *o)
{
    char n[32], v[64], lo[32], hi[32];
    if (o->tasks_per_year == floor(o->tasks_per_year) && o->tasks_per_year < 1e15)
        snprintf(n, sizeof(n), "%.0f", o->tasks_per_year);
    else
        chart_fmt_num(n, sizeof(n), o->tasks_per_year);
    fprintf(f, "\n## Per year, at %s tasks\n\n| | saving per year |\n|---|--:|\n", n);
    struct report_scale ks;
    report_scale_pick(&ks, fabs(d->kwh_per_year) * 1000, "Wh");
    report_fmt(v, sizeof(v), d->kwh_per_year * 1000, &ks);
    char pue[32];
    chart_fmt_num(pue, sizeof(pue), fac->pue);
    fprintf(f, "| energy (facility, PUE %s) | %s", pue, v);
    if (isfinite(d->kwh_low) && isfinite(d->kwh_high)) {
        chart_fmt_num(lo, sizeof(lo), d->kwh_low * 1000 * ks.factor);
        chart_fmt_num(hi, sizeof(hi), d->kwh_high * 1000 * ks.factor);
        fprintf(f, " [%s to %s]", lo, hi);
    }
    report_fmt_auto(v, sizeof(v), d->co2e_kg_per_year * 1000, "g");
    fprintf(f, " |\n| CO2e | %s |\n", v);
    money(v, sizeof(v), d->energy_cost_per_year, fac->currency);
    fprintf(f, "| electricity cost | %s |\n",
            isfinite(d->energy_cost_per_year) ? v : "- (no price)");
    if (isfinite(o->other_savings)) {
        money(v, sizeof(v), o->other_savings, fac->currency);
        fprintf(f, "| other savings (given) | %s |\n", v);
    }
    money(v, sizeof(v), d->total_savings_per_year, fac->currency);
    fprintf(f, "| **total** | **%s** |\n", v);
    if (!isfinite(o->investment))
        return;
    money(v, sizeof(v), o->investment, fac->currency);
    if (isnan(d->payback_years))
        fprintf(f,
                "\nPayback of the investment (%s): unknown without a price or other "
                "savings.\n",
                v);
    else if (isinf(d->payback_years))
        fprintf(f,
                "\nPayback of the investment (%s): never, the candidate saves nothing per "
                "year.\n",
                v);
    else {
        char y[32], m[32];
        chart_fmt_num(y, sizeof(y), d->payback_years);
        chart_fmt_num(m, sizeof(m), d->payback_years * 12);
        fprintf(f, "\nPayback of the investment (%s): **%s years** (%s months).\n", v, y, m);
    }
}

int report_study_md(FILE *f, const struct json_parse_node *study, const struct report_factors *fac,
                    const struct report_options *o)
{
    const struct json_parse_node *vs = json_parse_get(study, "variants");
    if (!vs || vs->len == 0)
        return -EINVAL;
    const char *metric = report_quality_metric(study);
    const char *rec = json_parse_get_str(json_parse_get(study, "recommendation"), "variant", NULL);
    const char *base = baseline_name(study);
    fputs("# Decision summary: study ", f);
    md_escape(f, json_parse_get_str(study, "name", ""));
    fputs(" (", f);
    md_escape(f, json_parse_get_str(study, "id", ""));
    char unit[48];
    report_unit(unit, sizeof(unit), json_parse_get_str(study, "unit_name", NULL));
    fputs(")\n\nOne task is one ", f);
    md_escape(f, unit);
    fputs(strcmp(unit, "unit") == 0 ? " of work (one run when the workload reports no units)."
                                    : ".",
          f);
    if (fac->provenance[0] && strcmp(fac->provenance, "measured") != 0)
        fprintf(f, " Energy is **%s** (not read from an energy counter).", fac->provenance);
    fputs("\n\n", f);
    candidates(f, study, fac, metric, rec);
    if (!rec) {
        fputs("\n**No candidate is recommended:** ", f);
        md_escape(f, json_parse_get_str(study, "no_recommendation_reason", "no reason recorded"));
        fputs("\n", f);
        return 0;
    }
    fputs("\n**Recommended: ", f);
    md_escape(f, rec);
    fputs(".** ", f);
    md_escape(f, json_parse_get_str(json_parse_get(study, "recommendation"), "reason", ""));
    fputs("\n", f);
    if (!base || strcmp(base, rec) == 0) {
        fputs("\nThe recommended candidate is the baseline: there is no saving to report.\n", f);
        return 0;
    }
    const struct json_parse_node *rv = report_study_variant(study, rec),
                                 *bv = report_study_variant(study, base),
                                 *cmp = report_comparison(study, rec, "energy_per_unit_j");
    struct report_decision_in in = {
        .base_energy_j = report_stat(bv, "energy_per_unit_j", "mean"),
        .rec_energy_j = report_stat(rv, "energy_per_unit_j", "mean"),
        .ratio_low = json_parse_get_num(cmp, "ci_low", NAN),
        .ratio_high = json_parse_get_num(cmp, "ci_high", NAN),
        .base_co2e_g = report_stat(bv, "co2e_per_unit_g", "mean"),
        .rec_co2e_g = report_stat(rv, "co2e_per_unit_g", "mean"),
        .pue = fac->pue,
        .price_per_kwh = fac->price_per_kwh,
        .tasks_per_year = o->tasks_per_year,
        .investment = o->investment,
        .other_savings = o->other_savings,
    };
    struct report_decision d;
    report_decide(&in, &d);
    char s[32], lo[32], hi[32];
    chart_fmt_num(s, sizeof(s), fabs(d.saving) * 100);
    fputs("\n**Saving against the baseline (", f);
    md_escape(f, base);
    fprintf(f, "):** energy per task %s by %s %%", d.saving >= 0 ? "lower" : "HIGHER", s);
    if (isfinite(d.saving_low) && isfinite(d.saving_high)) {
        chart_fmt_num(lo, sizeof(lo), d.saving_low * 100);
        chart_fmt_num(hi, sizeof(hi), d.saving_high * 100);
        fprintf(f, " (95 %% CI of the saving: %s to %s %%; verdict: %s)", lo, hi,
                json_parse_get_str(cmp, "verdict", "?"));
    }
    fputs(".\n", f);
    if (isfinite(o->tasks_per_year))
        yearly(f, &d, fac, o);
    else
        fputs("\nGive --tasks-per-year N (and --investment, --other-savings) for the yearly "
              "saving and the payback.\n",
              f);
    if (fac->run_id[0]) {
        char price[64], pue[32];
        money(price, sizeof(price), fac->price_per_kwh, fac->currency);
        chart_fmt_num(pue, sizeof(pue), fac->pue);
        fprintf(f, "\nFactors, as recorded with run %s: price %s per kWh, PUE %s (", fac->run_id,
                isfinite(fac->price_per_kwh) ? price : "none", pue);
        md_escape(f, fac->pue_source);
        fputs("), grid intensity ", f);
        chart_fmt_num(price, sizeof(price), fac->intensity_g_per_kwh);
        fprintf(f, "%s g/kWh (", price);
        md_escape(f, fac->intensity_source);
        fputs(").\n", f);
    }
    return 0;
}
