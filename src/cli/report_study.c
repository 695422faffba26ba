/* The report of a stored study (wattprof.study/1): per-variant bars with 95 % CIs for
 * time, energy and CO2e per unit and the quality metric, quality against energy per unit
 * with the Pareto front, the recommendation and its evidence, every run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "report.h"

static const char *const fixed_quantities[] = { "duration_s",        "energy_j",
                                                "energy_per_unit_j", "time_per_unit_s",
                                                "co2e_per_unit_g",   NULL };

const struct json_parse_node *report_study_variant(const struct json_parse_node *study,
                                                   const char *name)
{
    const struct json_parse_node *vs = json_parse_get(study, "variants");
    for (const struct json_parse_node *v = vs ? vs->child : NULL; v; v = v->next)
        if (name && strcmp(json_parse_get_str(v, "name", ""), name) == 0)
            return v;
    return NULL;
}

double report_stat(const struct json_parse_node *variant, const char *quantity, const char *key)
{
    return json_parse_get_num(json_parse_get(json_parse_get(variant, "stats"), quantity), key, NAN);
}

const struct json_parse_node *report_comparison(const struct json_parse_node *study,
                                                const char *variant, const char *quantity)
{
    const struct json_parse_node *cs = json_parse_get(study, "comparisons");
    for (const struct json_parse_node *c = cs ? cs->child : NULL; c; c = c->next)
        if (strcmp(json_parse_get_str(c, "variant", ""), variant) == 0 &&
            strcmp(json_parse_get_str(c, "quantity", ""), quantity) == 0)
            return c;
    return NULL;
}

const char *report_quality_metric(const struct json_parse_node *study)
{
    const struct json_parse_node *vs = json_parse_get(study, "variants");
    for (const struct json_parse_node *v = vs ? vs->child : NULL; v; v = v->next) {
        const struct json_parse_node *st = json_parse_get(v, "stats");
        for (const struct json_parse_node *q = st ? st->child : NULL; q; q = q->next) {
            size_t i = 0;
            while (fixed_quantities[i] && strcmp(fixed_quantities[i], q->key) != 0)
                i++;
            if (!fixed_quantities[i])
                return q->key;
        }
    }
    return NULL;
}

static size_t n_variants(const struct json_parse_node *study)
{
    const struct json_parse_node *vs = json_parse_get(study, "variants");
    return vs ? vs->len : 0;
}

/* One bar chart of a quantity's mean and 95 % CI per variant. */
static void bars(FILE *f, const struct json_parse_node *study, const char *quantity,
                 const char *title, const char *base_unit, const char *recommended)
{
    size_t n = n_variants(study);
    struct chart_bar *b = calloc(n ? n : 1, sizeof(*b));
    if (!b)
        return;
    double max = 0;
    size_t k = 0;
    for (const struct json_parse_node *v = json_parse_get(study, "variants")->child; v;
         v = v->next, k++) {
        b[k].label = json_parse_get_str(v, "name", "?");
        b[k].value = report_stat(v, quantity, "mean");
        b[k].err_low = report_stat(v, quantity, "ci_low");
        b[k].err_high = report_stat(v, quantity, "ci_high");
        if (b[k].err_low < 0 && b[k].value >= 0)
            b[k].err_low = 0; /* a t interval of a positive quantity can dip below 0 */
        b[k].highlight = recommended && strcmp(b[k].label, recommended) == 0;
        max = fmax(max, fmax(fabs(b[k].value), fabs(b[k].err_high)));
    }
    struct report_scale sc;
    report_scale_pick(&sc, max, base_unit);
    for (k = 0; k < n; k++) {
        b[k].value *= sc.factor;
        b[k].err_low *= sc.factor;
        b[k].err_high *= sc.factor;
    }
    char ylabel[96];
    if (sc.unit[0])
        snprintf(ylabel, sizeof(ylabel), "%s (%s)", title, sc.unit);
    else
        snprintf(ylabel, sizeof(ylabel), "%s", title);
    struct chart_bars c = { .title = title, .y_label = ylabel, .bars = b, .n = n };
    fputs("<figure>\n", f);
    if (chart_bars_svg(f, &c) < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s: no values to chart (not recorded for every variant).",
                 title);
        report_html_note(f, "empty", msg);
    }
    fputs("</figure>\n", f);
    free(b);
}

/* Quality (or, without one, time per unit) against energy per unit, the front joined. */
static void scatter(FILE *f, const struct json_parse_node *study, const char *metric,
                    const char *unit_name, const char *recommended)
{
    size_t n = n_variants(study);
    struct chart_point *p = calloc(n ? n : 1, sizeof(*p));
    if (!p)
        return;
    const char *yq = metric ? metric : "time_per_unit_s";
    double max_x = 0, max_y = 0;
    size_t k = 0;
    for (const struct json_parse_node *v = json_parse_get(study, "variants")->child; v;
         v = v->next, k++) {
        p[k].label = json_parse_get_str(v, "name", "?");
        p[k].x = report_stat(v, "energy_per_unit_j", "mean");
        p[k].x_low = report_stat(v, "energy_per_unit_j", "ci_low");
        p[k].x_high = report_stat(v, "energy_per_unit_j", "ci_high");
        p[k].y = report_stat(v, yq, "mean");
        p[k].y_low = report_stat(v, yq, "ci_low");
        p[k].y_high = report_stat(v, yq, "ci_high");
        p[k].pareto = json_parse_bool(json_parse_get(v, "pareto"), 0);
        p[k].highlight = recommended && strcmp(p[k].label, recommended) == 0;
        max_x = fmax(max_x, fabs(p[k].x));
        max_y = fmax(max_y, fabs(p[k].y));
    }
    struct report_scale xs, ys;
    report_scale_pick(&xs, max_x, "J");
    report_scale_pick(&ys, max_y, metric ? "" : "s");
    for (k = 0; k < n; k++) {
        p[k].x *= xs.factor;
        p[k].x_low *= xs.factor;
        p[k].x_high *= xs.factor;
        p[k].y *= ys.factor;
        p[k].y_low *= ys.factor;
        p[k].y_high *= ys.factor;
    }
    char xl[96], yl[96], title[160];
    snprintf(xl, sizeof(xl), "energy per %s (%s)", unit_name, xs.unit);
    if (metric)
        snprintf(yl, sizeof(yl), "%s", metric);
    else
        snprintf(yl, sizeof(yl), "time per %s (%s)", unit_name, ys.unit);
    snprintf(title, sizeof(title), "%s against energy per %s, Pareto front joined",
             metric ? metric : "time", unit_name);
    struct chart_scatter c = { .title = title, .x_label = xl, .y_label = yl, .points = p, .n = n };
    fputs("<figure>\n", f);
    if (chart_scatter_svg(f, &c) < 0)
        report_html_note(f, "empty", "No values to chart.");
    fputs("<figcaption class=\"note\">Filled markers are on the Pareto front (no other variant "
          "is at least as good in energy per unit, time per unit and quality, and better in "
          "one); whiskers are 95 % confidence intervals.</figcaption></figure>\n",
          f);
    free(p);
}

static void td_num(FILE *f, double v)
{
    char num[32];
    chart_fmt_num(num, sizeof(num), v);
    fprintf(f, "<td class=\"n\">%s</td>", num);
}

static void td_text(FILE *f, const char *s)
{
    fputs("<td>", f);
    html_escape(f, s);
    fputs("</td>", f);
}

static void evidence(FILE *f, const struct json_parse_node *study)
{
    const struct json_parse_node *cs = json_parse_get(study, "comparisons");
    if (!cs || cs->len == 0)
        return;
    fputs("<h3>Each variant against the baseline</h3>\n<div class=\"tbl\"><table><thead><tr>"
          "<th>variant</th><th>quantity</th><th class=\"n\">ratio</th>"
          "<th class=\"n\">95 % CI</th><th class=\"n\">Welch p</th><th class=\"n\">Holm p</th>"
          "<th class=\"n\">Mann-Whitney p</th><th class=\"n\">Hedges' g</th><th>verdict</th>"
          "<th class=\"n\">runs for 2 %</th></tr></thead><tbody>\n",
          f);
    for (const struct json_parse_node *c = cs->child; c; c = c->next) {
        fputs("<tr>", f);
        td_text(f, json_parse_get_str(c, "variant", "?"));
        td_text(f, json_parse_get_str(c, "quantity", "?"));
        td_num(f, json_parse_get_num(c, "ratio", NAN));
        char lo[32], hi[32];
        chart_fmt_num(lo, sizeof(lo), json_parse_get_num(c, "ci_low", NAN));
        chart_fmt_num(hi, sizeof(hi), json_parse_get_num(c, "ci_high", NAN));
        fprintf(f, "<td class=\"n\">%s to %s</td>", lo, hi);
        td_num(f, json_parse_get_num(c, "p_value", NAN));
        td_num(f, json_parse_get_num(c, "p_holm", NAN));
        td_num(f, json_parse_get_num(c, "p_mannwhitney", NAN));
        td_num(f, json_parse_get_num(c, "effect_size", NAN));
        td_text(f, json_parse_get_str(c, "verdict", "?"));
        td_num(f, json_parse_get_num(c, "n_needed", NAN));
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div>\n<p class=\"note\">Ratio = variant / baseline (below 1 is "
          "less); the CI is a seeded percentile bootstrap of the ratio of means; 'no-difference' "
          "means none detectable at this number of runs, not equality.</p>\n",
          f);
}

static void runs_table(FILE *f, const struct json_parse_node *study, const char *metric)
{
    fputs("<section><h2>Every run</h2>\n<div class=\"tbl\"><table><thead><tr><th>variant</th>"
          "<th class=\"n\">#</th><th>run id</th><th class=\"n\">duration (s)</th>"
          "<th class=\"n\">energy (J)</th><th class=\"n\">units</th>"
          "<th class=\"n\">CO2e (g)</th>",
          f);
    if (metric) {
        fputs("<th class=\"n\">", f);
        html_escape(f, metric);
        fputs("</th>", f);
    }
    fputs("<th class=\"n\">exit</th><th>notes</th></tr></thead><tbody>\n", f);
    for (const struct json_parse_node *v = json_parse_get(study, "variants")->child; v;
         v = v->next) {
        const struct json_parse_node *runs = json_parse_get(v, "runs");
        for (const struct json_parse_node *r = runs ? runs->child : NULL; r; r = r->next) {
            fputs("<tr class=\"run\">", f);
            td_text(f, json_parse_get_str(v, "name", "?"));
            td_num(f, json_parse_get_num(r, "index", NAN));
            td_text(f, json_parse_get_str(r, "id", ""));
            td_num(f, json_parse_get_num(r, "duration_s", NAN));
            td_num(f, json_parse_get_num(r, "energy_j", NAN));
            td_num(f, json_parse_get_num(r, "units", NAN));
            td_num(f, json_parse_get_num(r, "co2e_g", NAN));
            if (metric)
                td_num(f, json_parse_get_num(json_parse_get(r, "metrics"), metric, NAN));
            td_num(f, json_parse_get_num(r, "exit_code", NAN));
            fputs("<td>", f);
            const char *excluded = json_parse_get_str(r, "excluded", NULL);
            const char *sep = "";
            if (json_parse_bool(json_parse_get(r, "warmup"), 0)) {
                fputs("warm-up (not counted)", f);
                sep = "; ";
            }
            if (json_parse_bool(json_parse_get(r, "outlier"), 0)) {
                fprintf(f, "%soutlier (flagged, kept)", sep);
                sep = "; ";
            }
            if (excluded) {
                fprintf(f, "%sexcluded: ", sep);
                html_escape(f, excluded);
            }
            fputs("</td></tr>\n", f);
        }
    }
    fputs("</tbody></table></div></section>\n", f);
}

void report_study_html(FILE *f, const struct json_parse_node *study,
                       const struct report_factors *fac)
{
    const char *id = json_parse_get_str(study, "id", "");
    const char *name = json_parse_get_str(study, "name", "");
    char unit[48];
    report_unit(unit, sizeof(unit), json_parse_get_str(study, "unit_name", NULL));
    const char *metric = report_quality_metric(study);
    const struct json_parse_node *rec = json_parse_get(study, "recommendation");
    const char *recommended = json_parse_get_str(rec, "variant", NULL);
    char title[160];
    snprintf(title, sizeof(title), "wattprof: study %s %s", id, name);
    report_html_begin(f, title);
    fputs("<header><h1>Study ", f);
    html_escape(f, name);
    fputs("</h1>\n<p class=\"meta\">id ", f);
    html_escape(f, id);
    fprintf(f, " · %zu variants · seed ", n_variants(study));
    char num[32];
    chart_fmt_num(num, sizeof(num), json_parse_get_num(study, "seed", NAN));
    fprintf(f, "%s · order ", num);
    html_escape(f, json_parse_get_str(study, "order_mode", "?"));
    fputs(" · one unit of work is one ", f);
    html_escape(f, unit);
    fputs("</p></header>\n", f);
    if (json_parse_bool(json_parse_get(study, "interrupted"), 0))
        report_html_note(f, "warn",
                         "The study was interrupted: it holds the runs done until then.");

    fputs("<section><h2>Recommendation</h2>\n", f);
    if (recommended) {
        fputs("<p class=\"rec\">", f);
        html_escape(f, recommended);
        fputs("</p>\n", f);
        report_html_note(f, "note", json_parse_get_str(rec, "reason", ""));
    } else {
        report_html_note(
            f, "warn",
            json_parse_get_str(study, "no_recommendation_reason", "No variant is recommended."));
    }
    evidence(f, study);
    fputs("</section>\n", f);

    fputs("<section><h2>Per variant, mean and 95 % CI</h2>\n", f);
    char t[96];
    snprintf(t, sizeof(t), "energy per %s", unit);
    bars(f, study, "energy_per_unit_j", t, "J", recommended);
    snprintf(t, sizeof(t), "time per %s", unit);
    bars(f, study, "time_per_unit_s", t, "s", recommended);
    snprintf(t, sizeof(t), "CO2e per %s", unit);
    bars(f, study, "co2e_per_unit_g", t, "g", recommended);
    if (metric)
        bars(f, study, metric, metric, "", recommended);
    fputs("<p class=\"note\">The outlined bar is the recommended variant; whiskers are 95 % "
          "t-intervals of the mean over the counted runs (warm-ups and excluded runs left "
          "out); a whisker that would reach below zero is cut at zero.</p>\n",
          f);
    scatter(f, study, metric, unit, recommended);
    fputs("</section>\n", f);
    if (fac && fac->run_id[0]) {
        char buf[512], in[32], pue[32];
        chart_fmt_num(in, sizeof(in), fac->intensity_g_per_kwh);
        chart_fmt_num(pue, sizeof(pue), fac->pue);
        snprintf(buf, sizeof(buf),
                 "CO2e per unit uses the factors recorded with the runs (for example run %s: "
                 "intensity %s g/kWh, %s; PUE %s, %s).",
                 fac->run_id, in, fac->intensity_source, pue, fac->pue_source);
        report_html_note(f, "note", buf);
    }
    runs_table(f, study, metric);
    char source[64];
    snprintf(source, sizeof(source), "stored study %s", id);
    report_html_end(f, source);
}
