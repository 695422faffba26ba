/* Bar charts (chart.h): bars with 95 % CI error bars and the recommended one outlined
 * and starred (chart_bars_svg), and stacked bars with a legend (chart_stacked_svg).
 * Both start y at 0 and label each bar below the axis, turned when the labels would
 * not fit side by side. Values must be >= 0: a bar below the axis is refused, not
 * clamped (-EINVAL). */
#include "chart.h"

#include "chart_svg.h"

#include <errno.h>
#include <math.h>

#define BARS_TOP 56.0 /* room above the highest bar for its value and mark */
#define BARS_PLOT_H 250.0
#define BARS_FILL "#56B4E9"
#define BARS_HIGHLIGHT "#E69F00"

typedef const char *bar_label_fn(const void *ctx, size_t i);

/* The frame of n bars reaching up to hi; turns the labels when they would overlap. */
static void bars_frame(struct chart_frame *fr, double hi, size_t n, bar_label_fn *label,
                       const void *ctx, int *turned, double *label_h)
{
    double widest = 0;

    for (size_t i = 0; i < n; i++)
        widest = fmax(widest, chart_text_width(label(ctx, i), 12));
    fr->left = 70;
    fr->right = CHART_W - 16;
    fr->top = BARS_TOP;
    fr->bottom = BARS_TOP + BARS_PLOT_H;
    *turned = widest + 8 > (fr->right - fr->left) / (double)n;
    *label_h = *turned ? fmin(widest * 0.6 + 24, 140) : 24;
    fr->x0 = 0;
    fr->x1 = (double)n;
    fr->y0 = 0;
    fr->y1 = hi;
    chart_range_nice(&fr->y0, &fr->y1, 5);
}

static void bars_labels(FILE *f, const struct chart_frame *fr, size_t n, bar_label_fn *label,
                        const void *ctx, int turned)
{
    fputs("<g class=\"axis-x\" font-size=\"12\">\n", f);
    for (size_t i = 0; i < n; i++) {
        double x = chart_px(fr, (double)i + 0.5);
        double y = fr->bottom + 17;
        if (turned) {
            fprintf(f,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                    "transform=\"rotate(-35 %.1f %.1f)\">",
                    x + 4, y, x + 4, y);
        } else {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
        }
        html_escape(f, label(ctx, i));
        fputs("</text>\n", f);
    }
    chart_svg_line(f, fr->left, fr->bottom, fr->right, fr->bottom, "#333");
    fputs("\n</g>\n", f);
}

static double bar_width(const struct chart_frame *fr, size_t n)
{
    return fmin((fr->right - fr->left) / (double)n * 0.6, 80);
}

/* ---- bars with error bars --------------------------------------------------------------- */

static const char *bar_label(const void *ctx, size_t i)
{
    return ((const struct chart_bars *)ctx)->bars[i].label;
}

static int has_err(const struct chart_bar *b)
{
    return isfinite(b->err_low) && isfinite(b->err_high);
}

static void error_bar(FILE *f, const struct chart_frame *fr, double x, const struct chart_bar *b)
{
    double lo = chart_py(fr, fmax(b->err_low, fr->y0));
    double hi = chart_py(fr, fmin(b->err_high, fr->y1));

    fputs("<g class=\"errbar\" stroke=\"#000\" stroke-width=\"1.5\">", f);
    chart_svg_line(f, x, lo, x, hi, NULL);
    chart_svg_line(f, x - 6, lo, x + 6, lo, NULL);
    chart_svg_line(f, x - 6, hi, x + 6, hi, NULL);
    fputs("</g>\n", f);
}

static void one_bar(FILE *f, const struct chart_frame *fr, size_t n, size_t i,
                    const struct chart_bar *b)
{
    double x = chart_px(fr, (double)i + 0.5);
    double w = bar_width(fr, n);
    double top = chart_py(fr, b->value);

    fprintf(f,
            "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"",
            x - w / 2, top, w, fr->bottom - top, b->highlight ? BARS_HIGHLIGHT : BARS_FILL);
    if (b->highlight)
        fputs(" stroke=\"#000\" stroke-width=\"3\"", f);
    fputs("/>\n", f);
    if (has_err(b))
        error_bar(f, fr, x, b);
    double label_y = fmin(top, has_err(b) ? chart_py(fr, fmin(b->err_high, fr->y1)) : top) - 6;
    chart_text_num(f, x, label_y, "middle", " class=\"value\"", b->value);
    if (b->highlight) {
        fprintf(f,
                "<text class=\"mark\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "font-size=\"12\" font-weight=\"bold\">\xE2\x98\x85 recommended</text>\n",
                x, label_y - 15);
    }
}

int chart_bars_svg(FILE *f, const struct chart_bars *c)
{
    struct chart_frame fr;
    int turned;
    double label_h;
    double hi = 0;

    if (!f || !c || !c->bars || c->n == 0)
        return -EINVAL;
    for (size_t i = 0; i < c->n; i++) {
        const struct chart_bar *b = &c->bars[i];
        if (!isfinite(b->value) || b->value < 0)
            return -EINVAL;
        hi = fmax(hi, b->value);
        if (has_err(b))
            hi = fmax(hi, b->err_high);
    }
    bars_frame(&fr, hi, c->n, bar_label, c, &turned, &label_h);
    chart_svg_begin(f, "bars", c->title, fr.bottom + label_h + 8);
    chart_axis_y(f, &fr, c->y_label);
    for (size_t i = 0; i < c->n; i++)
        one_bar(f, &fr, c->n, i, &c->bars[i]);
    bars_labels(f, &fr, c->n, bar_label, c, turned);
    chart_svg_end(f);
    return 0;
}

/* ---- stacked bars ---------------------------------------------------------------------- */

static const char *stacked_label(const void *ctx, size_t i)
{
    const struct chart_stacked *c = ctx;
    return c->bar_labels ? c->bar_labels[i] : NULL;
}

static void stacked_key(const void *ctx, size_t i, struct chart_key *k)
{
    const struct chart_stacked *c = ctx;

    k->name = c->series_names ? c->series_names[i] : NULL;
    k->colour = chart_fill_colour(i);
    k->swatch = CHART_SWATCH_BOX;
}

static double stacked_value(const struct chart_stacked *c, size_t bar, size_t s)
{
    double v = c->values[bar * c->n_series + s];
    return isnan(v) ? 0 : v;
}

static void stacked_bar(FILE *f, const struct chart_frame *fr, const struct chart_stacked *c,
                        size_t bar)
{
    double x = chart_px(fr, (double)bar + 0.5);
    double w = bar_width(fr, c->n_bars);
    double sum = 0;

    fputs("<g class=\"stack\" stroke=\"#fff\" stroke-width=\"1\">\n", f);
    for (size_t s = 0; s < c->n_series; s++) {
        double v = stacked_value(c, bar, s);
        if (v <= 0)
            continue;
        double y_top = chart_py(fr, sum + v);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x - w / 2, y_top, w, chart_py(fr, sum) - y_top, chart_fill_colour(s));
        sum += v;
    }
    fputs("</g>\n", f);
    chart_text_num(f, x, chart_py(fr, sum) - 6, "middle", " class=\"value\"", sum);
}

int chart_stacked_svg(FILE *f, const struct chart_stacked *c)
{
    struct chart_frame fr;
    int turned;
    double label_h;
    double hi = 0;

    if (!f || !c || !c->values || c->n_bars == 0 || c->n_series == 0)
        return -EINVAL;
    for (size_t b = 0; b < c->n_bars; b++) {
        double sum = 0;
        for (size_t s = 0; s < c->n_series; s++) {
            double v = stacked_value(c, b, s);
            if (!isfinite(v) || v < 0)
                return -EINVAL;
            sum += v;
        }
        hi = fmax(hi, sum);
    }
    bars_frame(&fr, hi, c->n_bars, stacked_label, c, &turned, &label_h);
    double legend_y = fr.bottom + label_h + 14;
    size_t rows = chart_legend(NULL, stacked_key, c, c->n_series, legend_y);
    chart_svg_begin(f, "stacked", c->title, legend_y + (double)rows * CHART_LEGEND_ROW);
    chart_axis_y(f, &fr, c->y_label);
    for (size_t b = 0; b < c->n_bars; b++)
        stacked_bar(f, &fr, c, b);
    bars_labels(f, &fr, c->n_bars, stacked_label, c, turned);
    chart_legend(f, stacked_key, c, c->n_series, legend_y);
    chart_svg_end(f);
    return 0;
}
