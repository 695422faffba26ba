/* The parts every chart kind draws the same way (chart_svg.h): the <svg> root with its
 * accessible title, axes with ticks at 1/2/5 x 10^k, the Okabe-Ito palette with a dash
 * pattern per series, and the legend. Coordinates are printed with one decimal. */
#include "chart_svg.h"

#include "chart.h"

#include <math.h>
#include <stdint.h>

/* Okabe-Ito. Thin lines skip the yellow (#F0E442), which is too pale on white. */
static const char *const fill_colours[] = { "#E69F00", "#56B4E9", "#009E73", "#F0E442",
                                            "#0072B2", "#D55E00", "#CC79A7", "#000000" };
static const char *const line_colours[] = { "#0072B2", "#D55E00", "#009E73", "#E69F00",
                                            "#CC79A7", "#56B4E9", "#000000" };
/* 7 colours x 5 patterns, coprime: series i and j < 35 never share both. */
/* No dotted pattern here: dots mean "estimated" (chart_line.c). */
static const char *const line_dashes[] = { NULL, "9 4", "10 3 2 3", "4 3", "10 3 2 3 2 3" };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *chart_fill_colour(size_t i)
{
    return fill_colours[i % ARRAY_SIZE(fill_colours)];
}

const char *chart_line_colour(size_t i)
{
    return line_colours[i % ARRAY_SIZE(line_colours)];
}

const char *chart_line_dash(size_t i)
{
    return line_dashes[i % ARRAY_SIZE(line_dashes)];
}

/* FNV-1a over the kind and the title: ids stay stable from run to run, and differ
 * between the charts of one report as long as their titles do. */
static uint32_t chart_id(const char *kind, const char *title)
{
    uint32_t h = 2166136261u;
    for (const char *s = kind; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    for (const char *s = title ? title : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void chart_svg_begin(FILE *f, const char *kind, const char *title, double height)
{
    uint32_t id = chart_id(kind, title);

    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
            "width=\"100%%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" "
            "aria-labelledby=\"wpc-%s-%08x\" class=\"chart chart-%s\" "
            "style=\"max-width:100%%;height:auto\" font-family=\"sans-serif\" "
            "font-size=\"13\">\n<title id=\"wpc-%s-%08x\">",
            CHART_W, height, kind, (unsigned)id, kind, kind, (unsigned)id);
    html_escape(f, title);
    fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
          "<text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">",
          f);
    html_escape(f, title);
    fputs("</text>\n", f);
}

void chart_svg_end(FILE *f)
{
    fputs("</svg>\n", f);
}

double chart_px(const struct chart_frame *fr, double x)
{
    return fr->left + (x - fr->x0) / (fr->x1 - fr->x0) * (fr->right - fr->left);
}

double chart_py(const struct chart_frame *fr, double y)
{
    return fr->bottom - (y - fr->y0) / (fr->y1 - fr->y0) * (fr->bottom - fr->top);
}

void chart_ticks_make(double lo, double hi, int target, struct chart_ticks *t)
{
    double raw = (hi - lo) / target;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double step = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;

    t->step = step * mag;
    t->first = ceil(lo / t->step - 1e-9) * t->step;
    t->count = (int)floor((hi - t->first) / t->step + 1e-9) + 1;
    if (t->count < 0)
        t->count = 0;
}

double chart_tick(const struct chart_ticks *t, int i)
{
    double v = t->first + i * t->step;
    return fabs(v) < t->step * 1e-9 ? 0.0 : v; /* no "-0" from rounding */
}

/* Widens [lo, hi] to whole ticks; an empty range gets a width first. */
void chart_range_nice(double *lo, double *hi, int target)
{
    struct chart_ticks t;

    if (!(*hi > *lo)) {
        double pad = *lo == 0 ? 1.0 : fabs(*lo) * 0.1;
        *hi = *lo + pad;
        if (*lo != 0)
            *lo -= pad;
    }
    /* widening can change the step the axis will choose: repeat until it holds */
    for (int i = 0; i < 4; i++) {
        chart_ticks_make(*lo, *hi, target, &t);
        double step = t.step;
        *lo = floor(*lo / step + 1e-9) * step;
        *hi = ceil(*hi / step - 1e-9) * step;
        chart_ticks_make(*lo, *hi, target, &t);
        if (t.step == step)
            break;
    }
}

/* Widens [lo, hi] by 5 % on each side (scatter: the points keep off the axes). */
void chart_range_fit(double *lo, double *hi)
{
    double span = *hi - *lo;
    if (!(span > 0))
        span = *lo == 0 ? 1.0 : fabs(*lo) * 0.2;
    *lo -= span * 0.05;
    *hi += span * 0.05;
}

void chart_text_num(FILE *f, double x, double y, const char *anchor, const char *extra, double v)
{
    char num[32];

    chart_fmt_num(num, sizeof(num), v);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>%s</text>\n", x, y, anchor,
            extra ? extra : "", num);
}

/* One <line>; stroke NULL: the enclosing group's. */
void chart_svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", x1, y1, x2, y2);
    if (stroke)
        fprintf(f, " stroke=\"%s\"", stroke);
    fputs("/>", f);
}

/* Grid lines and tick labels of y, the axis line, and the label turned upright. */
void chart_axis_y(FILE *f, const struct chart_frame *fr, const char *label)
{
    struct chart_ticks t;

    chart_ticks_make(fr->y0, fr->y1, 5, &t);
    fputs("<g class=\"axis-y\" font-size=\"12\">\n", f);
    for (int i = 0; i < t.count; i++) {
        double y = chart_py(fr, chart_tick(&t, i));
        chart_svg_line(f, fr->left, y, fr->right, y, "#ddd");
        chart_text_num(f, fr->left - 6, y + 4, "end", " class=\"tick\"", chart_tick(&t, i));
    }
    chart_svg_line(f, fr->left, fr->top, fr->left, fr->bottom, "#333");
    fprintf(f,
            "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
            "transform=\"rotate(-90 16 %.1f)\">",
            (fr->top + fr->bottom) / 2, (fr->top + fr->bottom) / 2);
    html_escape(f, label);
    fputs("</text>\n</g>\n", f);
}

/* A numeric x axis: ticks inside [x0, x1], the axis line and the label below. */
void chart_axis_x(FILE *f, const struct chart_frame *fr, const char *label)
{
    struct chart_ticks t;

    chart_ticks_make(fr->x0, fr->x1, 6, &t);
    fputs("<g class=\"axis-x\" font-size=\"12\">\n", f);
    for (int i = 0; i < t.count; i++) {
        double x = chart_px(fr, chart_tick(&t, i));
        chart_svg_line(f, x, fr->bottom, x, fr->bottom + 5, "#333");
        chart_text_num(f, x, fr->bottom + 19, "middle", " class=\"tick\"", chart_tick(&t, i));
    }
    chart_svg_line(f, fr->left, fr->bottom, fr->right, fr->bottom, "#333");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">",
            (fr->left + fr->right) / 2, fr->bottom + 38);
    html_escape(f, label);
    fputs("</text>\n</g>\n", f);
}

/* A guess of the width of s in viewBox units: code points x 0.6 em. */
double chart_text_width(const char *s, double font_size)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        chars += (*p & 0xC0) != 0x80;
    return (double)chars * font_size * 0.6;
}

static void legend_swatch(FILE *f, const struct chart_key *k, double x, double y)
{
    switch (k->swatch) {
    case CHART_SWATCH_LINE:
        fprintf(f, "<g stroke-width=\"2.5\" stroke-dasharray=\"%s\">", k->dash ? k->dash : "none");
        chart_svg_line(f, x, y, x + 26, y, k->colour);
        fputs("</g>", f);
        break;
    case CHART_SWATCH_BOX:
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>", x + 6,
                y - 5, k->colour);
        break;
    case CHART_SWATCH_DOT:
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>", x + 13, y, k->colour);
        break;
    case CHART_SWATCH_HOLLOW:
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"#fff\" "
                "stroke=\"%s\" stroke-width=\"1.5\"/>",
                x + 9, y - 4, k->colour);
        break;
    case CHART_SWATCH_RING:
        fprintf(f,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"2.5\"/>",
                x + 13, y, k->colour);
        break;
    }
}

/* Lays the n keys out in rows from y down, wrapping at the chart's width; writes them
 * when f is not NULL (NULL: only counts). Returns the number of rows. */
size_t chart_legend(FILE *f, chart_key_fn *key, const void *ctx, size_t n, double y)
{
    double x = 12;
    size_t rows = n > 0;

    if (f && n > 0)
        fputs("<g class=\"legend\" font-size=\"12\">\n", f);
    for (size_t i = 0; i < n; i++) {
        struct chart_key k = { 0 };
        key(ctx, i, &k);
        double w = 34 + chart_text_width(k.name, 12) + chart_text_width(k.suffix, 12) + 16;
        if (x > 12 && x + w > CHART_W - 8) {
            x = 12;
            y += CHART_LEGEND_ROW;
            rows++;
        }
        if (f) {
            fputs("<g class=\"key\">", f);
            legend_swatch(f, &k, x, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 32, y + 4);
            html_escape(f, k.name);
            html_escape(f, k.suffix);
            fputs("</text></g>\n", f);
        }
        x += w;
    }
    if (f && n > 0)
        fputs("</g>\n", f);
    return rows;
}
