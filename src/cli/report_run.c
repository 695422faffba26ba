/* The report of one stored run: key figures, power over time per channel (windows shaded,
 * estimated channels dashed), the energy by channel and by window, the accounting with
 * its sources, metrics and warnings; and its Markdown summary. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "history.h"
#include "report.h"

/* Above this many windows the chart's spans lose their labels and the tables keep the
 * first ones: a run with 10 000 steps stays readable. */
#define SPAN_LABELS_MAX 12
#define SPANS_MAX 400
#define WINDOW_ROWS_MAX 200
#define BREAKDOWN_BARS_MAX 12

static int estimated(const struct wattprof_channel_info *c)
{
    return c->provenance && strcmp(c->provenance, "estimated") == 0;
}

static void badge(FILE *f, const char *provenance)
{
    const char *p = provenance ? provenance : "unknown";
    const char *cls = strcmp(p, "estimated") == 0  ? "estimated"
                      : strcmp(p, "replayed") == 0 ? "replayed"
                                                   : "measured";
    fprintf(f, "<span class=\"badge %s\">", cls);
    html_escape(f, p);
    fputs("</span>", f);
}

static void card(FILE *f, const char *value, const char *what, const char *provenance)
{
    fputs("<div class=\"card\"><b>", f);
    html_escape(f, value);
    fputs("</b><span>", f);
    html_escape(f, what);
    fputs("</span>", f);
    if (provenance) {
        fputs(" ", f);
        badge(f, provenance);
    }
    fputs("</div>\n", f);
}

static void header(FILE *f, const struct stored_run *sr, const struct json_parse_node *labels)
{
    const struct wattprof_result *r = &sr->res;
    fputs("<header><h1>Run ", f);
    html_escape(f, sr->id);
    fputs("</h1>\n<p><code>", f);
    for (int i = 0; i < sr->argc; i++) {
        if (i)
            fputc(' ', f);
        html_escape(f, sr->argv[i]);
    }
    char when[32], dur[32];
    history_fmt_time(when, sizeof(when), r->started_at_unix_ms);
    history_fmt_duration(dur, sizeof(dur), r->duration_ns);
    const char *host =
        json_parse_get_str(json_parse_get(sr->root, "host"), "hostname", "unknown host");
    fprintf(f, "</code></p>\n<p class=\"meta\">started %s UTC · %s · ", when, dur);
    if (r->complete)
        fprintf(f, "exit code %d · ", r->exit_code);
    fputs("host ", f);
    html_escape(f, host);
    fputs("</p>\n", f);
    if (labels && labels->len > 0) {
        fputs("<p class=\"meta\">labels: ", f);
        for (const struct json_parse_node *l = labels->child; l; l = l->next) {
            fputs(l == labels->child ? "<code>" : ", <code>", f);
            html_escape(f, l->key);
            fputs("=", f);
            html_escape(f, json_parse_str(l, ""));
            fputs("</code>", f);
        }
        fputs("</p>\n", f);
    }
    fputs("</header>\n", f);
    if (!r->complete)
        report_html_note(f, "warn",
                         "Incomplete run: wattprof stopped before the command ended; what was "
                         "saved up to its last flush is shown.");
}

static void key_figures(FILE *f, const struct wattprof_result *r)
{
    char buf[64], what[96];
    fputs("<section class=\"cards\">\n", f);
    report_fmt_auto(buf, sizeof(buf), (double)r->energy_uj / 1e6, "J");
    card(f, buf, "machine total", r->total_provenance);
    report_fmt_auto(buf, sizeof(buf), (double)r->attributed_uj / 1e6, "J");
    snprintf(what, sizeof(what), "attributed to the command (%.1f %% of busy CPU time)",
             r->cpu_share * 100);
    card(f, buf, what, NULL);
    if (r->units > 0) {
        report_fmt_auto(buf, sizeof(buf), (double)r->attributed_uj / 1e6 / r->units, "J");
        char unit[48];
        report_unit(unit, sizeof(unit), r->unit_name);
        snprintf(what, sizeof(what), "per %s", unit);
        card(f, buf, what, NULL);
    }
    if (r->has_node) {
        report_fmt_auto(buf, sizeof(buf), (double)r->node_energy_uj / 1e6, "J");
        card(f, buf, "whole node (its own meter, not added)", r->node_provenance);
    }
    const struct wattprof_accounting *a = &r->accounting;
    if (a->computed) {
        report_fmt_auto(buf, sizeof(buf), a->total_g, "g");
        card(f, buf, "CO2e (operational + embodied)", NULL);
        if (isfinite(a->cost)) {
            char num[32];
            chart_fmt_num(num, sizeof(num), a->cost);
            snprintf(buf, sizeof(buf), "%s %s", num, a->currency ? a->currency : "");
            card(f, buf, "electricity cost", NULL);
        }
    }
    fputs("</section>\n", f);
    const char *tp = r->total_provenance ? r->total_provenance : "";
    if (strcmp(tp, "estimated") == 0)
        report_html_note(f, "warn",
                         "These energies are ESTIMATES from a model: no energy counter could be "
                         "read ('wattprof sensors' says why).");
    else if (strcmp(tp, "replayed") == 0)
        report_html_note(f, "warn",
                         "These energies were REPLAYED from a recorded trace (--replay), not "
                         "measured during this run.");
    else if (strcmp(tp, "measured") != 0)
        report_html_note(f, "warn",
                         "Part of this total is estimated, integrated or replayed, not read "
                         "from an energy counter during this run: see each channel's "
                         "provenance below.");
}

/* The chart's x unit: seconds, minutes or hours, by the run's length. */
static void x_scale(struct report_scale *sc, double duration_s)
{
    report_scale_pick(sc, duration_s, "s");
    if (sc->factor > 1) { /* ms for a short run reads worse than 0.2 s */
        sc->factor = 1;
        snprintf(sc->unit, sizeof(sc->unit), "s");
    }
}

struct timeline {
    size_t n, n_ch;
    double *x, *mean, *lo, *hi; /* mean/lo/hi: n_ch rows of n */
};

static void timeline_free(struct timeline *t)
{
    free(t->x);
    free(t->mean);
    free(t->lo);
    free(t->hi);
}

/* The power JSON's arrays into columns per channel, x in the chart's unit. */
static int timeline_read(struct timeline *t, const struct json_parse_node *power, size_t n_ch,
                         double xf)
{
    memset(t, 0, sizeof(*t));
    const struct json_parse_node *ts = json_parse_get(power, "t_s");
    t->n = ts ? ts->len : 0;
    t->n_ch = n_ch;
    if (t->n == 0 || n_ch == 0)
        return 0;
    t->x = malloc(t->n * sizeof(double));
    t->mean = malloc(t->n * n_ch * sizeof(double));
    t->lo = malloc(t->n * n_ch * sizeof(double));
    t->hi = malloc(t->n * n_ch * sizeof(double));
    if (!t->x || !t->mean || !t->lo || !t->hi)
        return -ENOMEM;
    static const char *const keys[] = { "mean_w", "min_w", "max_w" };
    double *cols[] = { t->mean, t->lo, t->hi };
    size_t i = 0;
    for (const struct json_parse_node *v = ts->child; v; v = v->next)
        t->x[i++] = json_parse_num(v, NAN) * xf;
    for (int k = 0; k < 3; k++) {
        const struct json_parse_node *row = json_parse_get(power, keys[k])->child;
        for (size_t b = 0; b < t->n; b++, row = row ? row->next : NULL) {
            const struct json_parse_node *cell = row ? row->child : NULL;
            for (size_t c = 0; c < n_ch; c++, cell = cell ? cell->next : NULL)
                cols[k][c * t->n + b] = json_parse_num(cell, NAN);
        }
    }
    return 0;
}

static void power_section(FILE *f, const struct stored_run *sr, const struct json_parse_node *power)
{
    const struct wattprof_result *r = &sr->res;
    fputs("<section><h2>Power over time</h2>\n", f);
    struct report_scale xs;
    x_scale(&xs, (double)r->duration_ns / 1e9);
    struct timeline t;
    int rc = power ? timeline_read(&t, power, r->n_channels, xs.factor) : -ENOENT;
    if (rc < 0 || t.n == 0) {
        report_html_note(f, "empty",
                         rc == -ENOMEM ? "Out of memory while reading the power samples."
                         : !power      ? "The power samples of this run could not be read."
                         : r->complete
                             ? "No power samples were stored for this run (they were deleted), "
                               "so there is no timeline: the totals above come from its first "
                               "and last readings."
                             : "No power samples were stored for this run: wattprof stopped "
                               "before their first flush, so there is no timeline.");
        if (rc != -ENOENT)
            timeline_free(&t);
        fputs("</section>\n", f);
        return;
    }
    size_t n_in_total = 0, n_series = r->n_channels;
    for (size_t c = 0; c < r->n_channels; c++)
        n_in_total += r->channels[c].info.included_in_total != 0;
    if (n_in_total > 1)
        n_series++; /* the machine total's power, the sum of the channels in it */
    struct chart_line_series *series = calloc(n_series, sizeof(*series));
    double *total = n_in_total > 1 ? calloc(t.n, sizeof(double)) : NULL;
    size_t n_spans = r->n_windows < SPANS_MAX ? r->n_windows : SPANS_MAX;
    struct chart_span *spans = calloc(n_spans ? n_spans : 1, sizeof(*spans));
    if (!series || !spans || (n_in_total > 1 && !total)) {
        report_html_note(f, "empty", "Out of memory while drawing the power chart.");
    } else {
        for (size_t c = 0; c < r->n_channels; c++) {
            series[c].name = r->channels[c].info.name;
            series[c].y = t.mean + c * t.n;
            series[c].y_min = t.lo + c * t.n;
            series[c].y_max = t.hi + c * t.n;
            series[c].dashed = estimated(&r->channels[c].info);
            for (size_t b = 0; total && r->channels[c].info.included_in_total && b < t.n; b++)
                total[b] += t.mean[c * t.n + b];
        }
        if (total) { /* means add up; the lowest and highest of a sum are not known: no band */
            series[r->n_channels].name = "machine total (sum of the channels in it)";
            series[r->n_channels].y = total;
            series[r->n_channels].dashed =
                r->total_provenance && strcmp(r->total_provenance, "measured") != 0;
        }
        for (size_t w = 0; w < n_spans; w++) {
            spans[w].x0 = (double)r->windows[w].start_ns / 1e9 * xs.factor;
            spans[w].x1 = (double)r->windows[w].end_ns / 1e9 * xs.factor;
            spans[w].label = r->n_windows <= SPAN_LABELS_MAX ? r->windows[w].name : NULL;
        }
        char xlabel[48];
        snprintf(xlabel, sizeof(xlabel), "time since start (%s)", xs.unit);
        struct chart_line c = { .title =
                                    total ? "Power per channel and in total" : "Power per channel",
                                .x_label = xlabel,
                                .y_label = "power (W)",
                                .x = t.x,
                                .n = t.n,
                                .series = series,
                                .n_series = n_series,
                                .spans = spans,
                                .n_spans = n_spans };
        fputs("<figure>\n", f);
        if (chart_line_svg(f, &c) < 0)
            report_html_note(f, "empty", "The power samples could not be charted.");
        fputs("<figcaption class=\"note\">", f);
        char bucket[32];
        report_fmt_auto(bucket, sizeof(bucket), json_parse_get_num(power, "bucket_s", NAN), "s");
        const char *src = json_parse_get_str(power, "source", "");
        fprintf(f,
                "Each point is a channel's mean power over %s; the shaded band is the lowest "
                "and highest power within it (%s). Dashed lines are estimated channels.",
                bucket,
                strcmp(src, "samples") == 0
                    ? "from every sample interval"
                    : "from 1-second means: the raw samples were dropped by 'wattprof gc' or "
                      "are too many to read, so shorter spikes are averaged out");
        if (r->n_windows > 0)
            fprintf(f, " Grey spans are the run's %zu window%s%s.", r->n_windows,
                    r->n_windows == 1 ? "" : "s",
                    r->n_windows > SPANS_MAX ? " (the first 400 are drawn)" : "");
        fputs("</figcaption></figure>\n", f);
    }
    free(series);
    free(total);
    free(spans);
    timeline_free(&t);
    fputs("</section>\n", f);
}

static void channel_table(FILE *f, const struct wattprof_result *r)
{
    double max_e = 0;
    for (size_t c = 0; c < r->n_channels; c++)
        max_e = fmax(max_e, (double)r->channels[c].energy_uj / 1e6);
    struct report_scale es;
    report_scale_pick(&es, max_e, "J");
    fputs("<h3>By channel</h3>\n<div class=\"tbl\"><table><thead><tr><th>channel</th>"
          "<th>domain</th><th>provenance</th><th>source</th><th class=\"n\">energy</th>"
          "<th class=\"n\">share of total</th><th class=\"n\">mean power</th>"
          "<th class=\"n\">peak power</th><th>in total</th><th>status</th></tr></thead>"
          "<tbody>\n",
          f);
    for (size_t c = 0; c < r->n_channels; c++) {
        const struct wattprof_channel_result *ch = &r->channels[c];
        char e[32], share[32], avg[32], peak[32];
        report_fmt(e, sizeof(e), (double)ch->energy_uj / 1e6, &es);
        if (ch->info.included_in_total && r->energy_uj > 0)
            chart_fmt_num(share, sizeof(share),
                          100.0 * (double)ch->energy_uj / (double)r->energy_uj);
        else
            snprintf(share, sizeof(share), "-");
        report_fmt_auto(avg, sizeof(avg), (double)ch->avg_power_uw / 1e6, "W");
        report_fmt_auto(peak, sizeof(peak), (double)ch->peak_power_uw / 1e6, "W");
        fputs("<tr><td>", f);
        html_escape(f, ch->info.name);
        fputs("</td><td>", f);
        html_escape(f, ch->info.domain);
        fputs("</td><td>", f);
        badge(f, ch->info.provenance);
        fputs("</td><td>", f);
        html_escape(f, ch->info.source);
        fprintf(f,
                "</td><td class=\"n\">%s</td><td class=\"n\">%s%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s</td><td>%s</td><td>",
                e, share, strcmp(share, "-") ? " %" : "", avg, peak,
                ch->info.node_scope          ? "node total"
                : ch->info.included_in_total ? "yes"
                                             : "no");
        html_escape(f, ch->status);
        if (ch->status_detail && ch->status_detail[0]) {
            fputs(": ", f);
            html_escape(f, ch->status_detail);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></div>\n<p class=\"note\">How each channel is read:</p><ul "
          "class=\"note\">\n",
          f);
    for (size_t c = 0; c < r->n_channels; c++) {
        fputs("<li><code>", f);
        html_escape(f, r->channels[c].info.name);
        fputs("</code>: ", f);
        html_escape(f, r->channels[c].info.how);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

/* Stacked bars: the whole run, then each window (or each window name, summed, when there
 * are many), split by the channels in the total. */
static void breakdown_chart(FILE *f, const struct wattprof_result *r)
{
    size_t nc = 0;
    for (size_t c = 0; c < r->n_channels; c++)
        nc += r->channels[c].info.included_in_total != 0;
    if (nc == 0)
        return;
    size_t cap = 1 + (r->n_windows < BREAKDOWN_BARS_MAX ? r->n_windows : BREAKDOWN_BARS_MAX);
    const char **labels = calloc(cap, sizeof(*labels));
    const char **names = calloc(nc, sizeof(*names));
    double *v = calloc(cap * nc, sizeof(double));
    size_t nb = 0;
    if (!labels || !names || !v)
        goto out;
    size_t k = 0;
    for (size_t c = 0; c < r->n_channels; c++)
        if (r->channels[c].info.included_in_total) {
            names[k] = r->channels[c].info.name;
            v[k++] = (double)r->channels[c].energy_uj / 1e6;
        }
    labels[nb++] = "whole run";
    int by_name = r->n_windows > BREAKDOWN_BARS_MAX - 1;
    for (size_t w = 0; w < r->n_windows; w++) {
        const struct wattprof_window_result *win = &r->windows[w];
        size_t b = nb;
        if (by_name)
            for (b = 1; b < nb && strcmp(labels[b], win->name) != 0; b++)
                ;
        if (b == nb) {
            if (nb == cap)
                continue; /* more names than bars: the table lists them */
            labels[nb++] = win->name;
        }
        k = 0;
        for (size_t c = 0; c < r->n_channels && c < win->n_channels; c++)
            if (r->channels[c].info.included_in_total)
                v[b * nc + k++] += (double)win->channel_uj[c] / 1e6;
    }
    double max = 0;
    for (size_t b = 0; b < nb; b++) {
        double s = 0;
        for (k = 0; k < nc; k++)
            s += v[b * nc + k];
        max = fmax(max, s);
    }
    if (max <= 0)
        goto out; /* nothing measured: the tables say so */
    struct report_scale es;
    report_scale_pick(&es, max, "J");
    for (size_t i = 0; i < nb * nc; i++)
        v[i] *= es.factor;
    char ylabel[48];
    snprintf(ylabel, sizeof(ylabel), "energy (%s)", es.unit);
    struct chart_stacked s = { .title = by_name        ? "Energy by channel, windows summed by name"
                                        : r->n_windows ? "Energy by channel, run and windows"
                                                       : "Energy by channel",
                               .y_label = ylabel,
                               .bar_labels = labels,
                               .n_bars = nb,
                               .series_names = names,
                               .n_series = nc,
                               .values = v };
    fputs("<figure>\n", f);
    chart_stacked_svg(f, &s);
    fputs("</figure>\n", f);
out:
    free(labels);
    free(names);
    free(v);
}

static void window_table(FILE *f, const struct wattprof_result *r)
{
    if (r->n_windows == 0)
        return;
    double max_e = 0;
    for (size_t w = 0; w < r->n_windows; w++)
        max_e = fmax(max_e, (double)r->windows[w].energy_uj / 1e6);
    struct report_scale es;
    report_scale_pick(&es, max_e, "J");
    fputs("<h3>By window</h3>\n<div class=\"tbl\"><table><thead><tr><th class=\"n\">#</th>"
          "<th>window</th><th class=\"n\">start</th><th class=\"n\">duration</th>"
          "<th class=\"n\">energy</th><th class=\"n\">attributed</th><th class=\"n\">units</th>"
          "<th class=\"n\">per unit</th><th>metrics</th></tr></thead><tbody>\n",
          f);
    size_t n = r->n_windows < WINDOW_ROWS_MAX ? r->n_windows : WINDOW_ROWS_MAX;
    for (size_t w = 0; w < n; w++) {
        const struct wattprof_window_result *win = &r->windows[w];
        char start[32], dur[32], e[32], a[32], units[32], per[32];
        report_fmt_auto(start, sizeof(start), (double)win->start_ns / 1e9, "s");
        report_fmt_auto(dur, sizeof(dur), (double)(win->end_ns - win->start_ns) / 1e9, "s");
        report_fmt(e, sizeof(e), (double)win->energy_uj / 1e6, &es);
        report_fmt(a, sizeof(a), (double)win->attributed_uj / 1e6, &es);
        chart_fmt_num(units, sizeof(units), win->units > 0 ? win->units : NAN);
        report_fmt_auto(per, sizeof(per),
                        win->units > 0 ? (double)win->attributed_uj / 1e6 / win->units : NAN, "J");
        fprintf(f, "<tr><td class=\"n\">%llu</td><td>", (unsigned long long)win->id);
        html_escape(f, win->name);
        if (!win->complete)
            fputs(" (open at the end)", f);
        fprintf(f,
                "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>",
                start, dur, e, a, units, per);
        for (size_t m = 0; m < win->n_metrics; m++) {
            char num[32];
            chart_fmt_num(num, sizeof(num), win->metrics[m].value);
            fputs(m ? ", " : "", f);
            html_escape(f, win->metrics[m].name);
            fprintf(f, " = %s", num);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
    if (n < r->n_windows)
        fprintf(f,
                "<p class=\"note\">The first %zu of %zu windows are listed; 'wattprof export "
                "--format csv' has all of them.</p>\n",
                n, r->n_windows);
}

static void row(FILE *f, const char *what, const char *value, const char *source)
{
    fputs("<tr><th>", f);
    html_escape(f, what);
    fputs("</th><td class=\"n\">", f);
    html_escape(f, value);
    fputs("</td><td>", f);
    html_escape(f, source ? source : "");
    fputs("</td></tr>\n", f);
}

static void accounting_section(FILE *f, const struct wattprof_result *r)
{
    const struct wattprof_accounting *a = &r->accounting;
    fputs("<section><h2>Carbon and cost</h2>\n", f);
    if (!a->computed) {
        report_html_note(f, "empty", "No carbon or cost accounting was recorded with this run.");
        fputs("</section>\n", f);
        return;
    }
    char v[64], src[256], num[32];
    fputs("<div class=\"tbl\"><table><thead><tr><th>quantity</th><th class=\"n\">value</th>"
          "<th>source</th></tr></thead><tbody>\n",
          f);
    chart_fmt_num(v, sizeof(v), a->pue);
    row(f, "PUE (facility / IT energy)", v, a->pue_source);
    report_fmt_auto(v, sizeof(v), a->facility_energy_j, "J");
    row(f, "facility energy", v, "IT energy × PUE");
    chart_fmt_num(num, sizeof(num), a->intensity_g_per_kwh);
    snprintf(v, sizeof(v), "%s g/kWh", num);
    snprintf(src, sizeof(src), "%s, %s (location %s)", a->intensity_kind ? a->intensity_kind : "?",
             a->intensity_source ? a->intensity_source : "?", a->location ? a->location : "?");
    row(f, "grid carbon intensity", v, src);
    report_fmt_auto(v, sizeof(v), a->operational_g, "g");
    row(f, "operational CO2e", v, "facility energy × intensity");
    report_fmt_auto(v, sizeof(v), a->embodied_g, "g");
    row(f, "embodied CO2e", v, a->embodied_source);
    report_fmt_auto(v, sizeof(v), a->total_g, "g");
    row(f, "total CO2e", v, "operational + embodied");
    if (isfinite(a->price_per_kwh)) {
        chart_fmt_num(num, sizeof(num), a->price_per_kwh);
        snprintf(v, sizeof(v), "%s %s/kWh", num, a->currency ? a->currency : "");
        row(f, "electricity price", v, "user setting");
        chart_fmt_num(num, sizeof(num), a->cost);
        snprintf(v, sizeof(v), "%s %s", num, a->currency ? a->currency : "");
        row(f, "cost", v, "facility kWh × price");
    } else {
        row(f, "cost", "-", "no price was given (--price, e.g. 0.30EUR)");
    }
    if (isfinite(a->sci_g_per_unit)) {
        report_fmt_auto(v, sizeof(v), a->sci_g_per_unit, "g");
        char unit[48];
        report_unit(unit, sizeof(unit), r->unit_name);
        snprintf(src, sizeof(src), "total CO2e per %s", unit);
        row(f, "SCI", v, src);
    }
    fputs("</tbody></table></div>\n</section>\n", f);
}

static void metrics_and_warnings(FILE *f, const struct wattprof_result *r)
{
    if (r->n_metrics > 0) {
        fputs("<section><h2>Metrics</h2><ul>\n", f);
        for (size_t m = 0; m < r->n_metrics; m++) {
            char num[32];
            chart_fmt_num(num, sizeof(num), r->metrics[m].value);
            fputs("<li>", f);
            html_escape(f, r->metrics[m].name);
            fprintf(f, " = %s</li>\n", num);
        }
        fputs("</ul></section>\n", f);
    }
    if (r->warnings && r->warnings[0]) {
        fputs("<section><h2>Warnings</h2><ul class=\"warn\">\n", f);
        report_lines(f, r->warnings, "<li>", "</li>\n", html_escape);
        fputs("</ul></section>\n", f);
    }
}

void report_run_html(FILE *f, const struct stored_run *sr, const struct json_parse_node *labels,
                     const struct json_parse_node *power)
{
    char title[64];
    snprintf(title, sizeof(title), "wattprof: run %s", sr->id);
    report_html_begin(f, title);
    header(f, sr, labels);
    key_figures(f, &sr->res);
    power_section(f, sr, power);
    fputs("<section><h2>Energy breakdown</h2>\n", f);
    breakdown_chart(f, &sr->res);
    channel_table(f, &sr->res);
    window_table(f, &sr->res);
    fputs("</section>\n", f);
    accounting_section(f, &sr->res);
    metrics_and_warnings(f, &sr->res);
    char source[64];
    snprintf(source, sizeof(source), "stored run %s", sr->id);
    report_html_end(f, source);
}
