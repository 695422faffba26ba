/* What the chart kinds share (chart_svg.c): the <svg> root, the plot frame and its
 * mapping from data to viewBox units, "nice" axis ticks, the palette and dash patterns,
 * and the legend. Internal to the charts; the report uses chart.h. */
#ifndef WATTPROF_CHART_SVG_H
#define WATTPROF_CHART_SVG_H

#include <stddef.h>
#include <stdio.h>

#define CHART_W 720.0 /* viewBox width; font sizes >= 11 stay readable scaled to a phone */
#define CHART_LEGEND_ROW 20.0

/* The plot area in viewBox units and the data range drawn on it. */
struct chart_frame {
    double left, top, right, bottom;
    double x0, x1, y0, y1;
};

/* Ticks at first + i * step, i < count: multiples of 1, 2 or 5 x 10^k. */
struct chart_ticks {
    double first, step;
    int count;
};

enum chart_swatch {
    CHART_SWATCH_LINE,
    CHART_SWATCH_BOX,
    CHART_SWATCH_DOT,
    CHART_SWATCH_HOLLOW,
    CHART_SWATCH_RING
};

/* One legend entry: name is the caller's (escaped), suffix ours (" (estimated)"). */
struct chart_key {
    const char *name;
    const char *suffix;
    const char *colour;
    const char *dash; /* stroke-dasharray, or NULL: solid */
    enum chart_swatch swatch;
};

/* Fills *key with the legend entry i of a chart (ctx is the chart). */
typedef void chart_key_fn(const void *ctx, size_t i, struct chart_key *key);

void chart_svg_begin(FILE *f, const char *kind, const char *title, double height);
void chart_svg_end(FILE *f);

double chart_px(const struct chart_frame *fr, double x);
double chart_py(const struct chart_frame *fr, double y);

void chart_ticks_make(double lo, double hi, int target, struct chart_ticks *t);
double chart_tick(const struct chart_ticks *t, int i);
void chart_range_nice(double *lo, double *hi, int target);
void chart_range_fit(double *lo, double *hi);

void chart_axis_y(FILE *f, const struct chart_frame *fr, const char *label);
void chart_axis_x(FILE *f, const struct chart_frame *fr, const char *label);
void chart_svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke);
void chart_text_num(FILE *f, double x, double y, const char *anchor, const char *extra, double v);

const char *chart_fill_colour(size_t i);
const char *chart_line_colour(size_t i);
const char *chart_line_dash(size_t i);

size_t chart_legend(FILE *f, chart_key_fn *key, const void *ctx, size_t n, double y);
double chart_text_width(const char *s, double font_size);

#endif
