/* Line charts (chart_line_svg, chart.h): one or more series over a shared increasing x,
 * each with an optional translucent min/max band, shaded spans of x behind them, and a
 * legend. A NAN breaks a series into separate polylines. Where there are more points
 * than pixel columns, each column keeps only its lowest and highest point (in their
 * order), so 16 series of 2000 points stay small and look the same. */
#include "chart.h"

#include "chart_svg.h"

#include <errno.h>
#include <math.h>

#define LINE_TOP 44.0
#define LINE_PLOT_H 260.0
#define ESTIMATED_DASH "1 3"

/* The points of one pixel column not yet written: its lowest and highest (viewBox y). */
struct column {
    long col;
    int have;
    double xa, ya, xb, yb;
    size_t ia, ib;
};

static int line_valid(const struct chart_line *c)
{
    if (!c || !c->x || c->n == 0 || !c->series || c->n_series == 0)
        return 0;
    if (!c->spans && c->n_spans > 0)
        return 0;
    for (size_t i = 0; i < c->n_series; i++)
        if (!c->series[i].y)
            return 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(c->x[i]) || (i > 0 && !(c->x[i] > c->x[i - 1])))
            return 0;
    }
    return 1;
}

static void widen(double v, double *lo, double *hi)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

static void line_frame(const struct chart_line *c, struct chart_frame *fr)
{
    double lo = INFINITY;
    double hi = -INFINITY;

    for (size_t s = 0; s < c->n_series; s++) {
        const struct chart_line_series *ser = &c->series[s];
        int band = ser->y_min && ser->y_max;
        for (size_t i = 0; i < c->n; i++) {
            widen(ser->y[i], &lo, &hi);
            if (band) {
                widen(ser->y_min[i], &lo, &hi);
                widen(ser->y_max[i], &lo, &hi);
            }
        }
    }
    if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
    }
    if (lo >= 0)
        lo = 0;
    chart_range_nice(&lo, &hi, 5);
    fr->left = 70;
    fr->right = CHART_W - 16;
    fr->top = LINE_TOP;
    fr->bottom = LINE_TOP + LINE_PLOT_H;
    fr->x0 = c->x[0];
    fr->x1 = c->x[c->n - 1];
    if (!(fr->x1 > fr->x0)) {
        fr->x0 -= 1;
        fr->x1 += 1;
    }
    fr->y0 = lo;
    fr->y1 = hi;
}

static void column_flush(FILE *f, struct column *k)
{
    if (!k->have)
        return;
    if (k->ia == k->ib) {
        fprintf(f, " %.1f,%.1f", k->xa, k->ya);
    } else if (k->ia < k->ib) {
        fprintf(f, " %.1f,%.1f %.1f,%.1f", k->xa, k->ya, k->xb, k->yb);
    } else {
        fprintf(f, " %.1f,%.1f %.1f,%.1f", k->xb, k->yb, k->xa, k->ya);
    }
    k->have = 0;
}

static void column_add(FILE *f, struct column *k, size_t i, double x, double y)
{
    long col = (long)floor(x);

    if (k->have && col != k->col)
        column_flush(f, k);
    if (!k->have) {
        *k = (struct column){
            .col = col, .have = 1, .xa = x, .ya = y, .xb = x, .yb = y, .ia = i, .ib = i
        };
        return;
    }
    if (y < k->ya) {
        k->xa = x;
        k->ya = y;
        k->ia = i;
    }
    if (y > k->yb) {
        k->xb = x;
        k->yb = y;
        k->ib = i;
    }
}

/* One polyline for the run [a, b) of finite values; a lone point is a dot. */
static void line_segment(FILE *f, const struct chart_frame *fr, const double *x, const double *y,
                         size_t a, size_t b)
{
    struct column k = { 0 };

    if (b - a == 1) {
        fprintf(
            f,
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\" stroke=\"none\" fill=\"currentColor\"/>\n",
            chart_px(fr, x[a]), chart_py(fr, y[a]));
        return;
    }
    fputs("<polyline points=\"", f);
    for (size_t i = a; i < b; i++)
        column_add(f, &k, i, chart_px(fr, x[i]), chart_py(fr, y[i]));
    column_flush(f, &k);
    fputs("\"/>\n", f);
}

/* The band of [a, b): along y_max forward, back along y_min, one point per column. */
static void band_segment(FILE *f, const struct chart_frame *fr, const struct chart_line *c,
                         const struct chart_line_series *s, size_t a, size_t b)
{
    long col = -1;

    fputs("<polygon class=\"band\" points=\"", f);
    for (size_t i = a; i < b; i++) {
        double px = chart_px(fr, c->x[i]);
        if ((long)floor(px) != col || i + 1 == b)
            fprintf(f, " %.1f,%.1f", px, chart_py(fr, s->y_max[i]));
        col = (long)floor(px);
    }
    col = -1;
    for (size_t i = b; i-- > a;) {
        double px = chart_px(fr, c->x[i]);
        if ((long)floor(px) != col || i == a)
            fprintf(f, " %.1f,%.1f", px, chart_py(fr, s->y_min[i]));
        col = (long)floor(px);
    }
    fputs("\"/>\n", f);
}

static int band_ok(const struct chart_line_series *s, size_t i)
{
    return isfinite(s->y_min[i]) && isfinite(s->y_max[i]);
}

static void line_bands(FILE *f, const struct chart_frame *fr, const struct chart_line *c)
{
    for (size_t s = 0; s < c->n_series; s++) {
        const struct chart_line_series *ser = &c->series[s];
        if (!ser->y_min || !ser->y_max)
            continue;
        fprintf(f, "<g fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\">\n", chart_line_colour(s));
        for (size_t i = 0; i < c->n;) {
            size_t b = i;
            while (b < c->n && band_ok(ser, b))
                b++;
            if (b > i)
                band_segment(f, fr, c, ser, i, b);
            i = b > i ? b : i + 1;
        }
        fputs("</g>\n", f);
    }
}

static void line_series(FILE *f, const struct chart_frame *fr, const struct chart_line *c, size_t s)
{
    const struct chart_line_series *ser = &c->series[s];
    const char *dash = ser->dashed ? ESTIMATED_DASH : chart_line_dash(s);

    fprintf(f,
            "<g class=\"series\" fill=\"none\" stroke=\"%s\" color=\"%s\" "
            "stroke-width=\"1.8\" stroke-linejoin=\"round\" stroke-linecap=\"round\"",
            chart_line_colour(s), chart_line_colour(s));
    if (dash)
        fprintf(f, " stroke-dasharray=\"%s\"", dash);
    fputs(">\n", f);
    for (size_t i = 0; i < c->n;) {
        size_t b = i;
        while (b < c->n && isfinite(ser->y[b]))
            b++;
        if (b > i)
            line_segment(f, fr, c->x, ser->y, i, b);
        i = b > i ? b : i + 1;
    }
    fputs("</g>\n", f);
}

static void line_spans(FILE *f, const struct chart_frame *fr, const struct chart_line *c)
{
    for (size_t i = 0; i < c->n_spans; i++) {
        double x0 = fmax(c->spans[i].x0, fr->x0);
        double x1 = fmin(c->spans[i].x1, fr->x1);
        if (!(x1 > x0))
            continue; /* outside the run, or NAN */
        double px = chart_px(fr, x0);
        fprintf(f,
                "<g class=\"span\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"#000\" fill-opacity=\"0.08\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#444\">",
                px, fr->top, chart_px(fr, x1) - px, fr->bottom - fr->top, px + 3, fr->top + 12);
        html_escape(f, c->spans[i].label);
        fputs("</text></g>\n", f);
    }
}

static void line_key(const void *ctx, size_t i, struct chart_key *k)
{
    const struct chart_line *c = ctx;

    k->name = c->series[i].name;
    k->suffix = c->series[i].dashed ? " (estimated)" : NULL;
    k->colour = chart_line_colour(i);
    k->dash = c->series[i].dashed ? ESTIMATED_DASH : chart_line_dash(i);
    k->swatch = CHART_SWATCH_LINE;
}

int chart_line_svg(FILE *f, const struct chart_line *c)
{
    struct chart_frame fr;

    if (!f || !line_valid(c))
        return -EINVAL;
    line_frame(c, &fr);
    double legend_y = fr.bottom + 64;
    size_t rows = chart_legend(NULL, line_key, c, c->n_series, legend_y);
    chart_svg_begin(f, "line", c->title, legend_y + (double)rows * CHART_LEGEND_ROW);
    line_spans(f, &fr, c);
    chart_axis_y(f, &fr, c->y_label);
    chart_axis_x(f, &fr, c->x_label);
    line_bands(f, &fr, c);
    for (size_t s = 0; s < c->n_series; s++)
        line_series(f, &fr, c, s);
    chart_legend(f, line_key, c, c->n_series, legend_y);
    chart_svg_end(f);
    return 0;
}
