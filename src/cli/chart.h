/* Charts for the reports (docs/report.md) as inline SVG: lines with min/max bands and
 * shaded spans, bars with error bars, a scatter with its Pareto front, stacked bars.
 * Pure: each writes one <svg> element to a FILE*, no network, no scripts, no fonts
 * beyond the reader's sans-serif. Every text that comes from the caller is escaped.
 * Series are told apart by colour (the Okabe-Ito palette, safe for colour-blind
 * readers) and by a second cue (dash pattern, marker shape), so a grey print still
 * reads. Numbers on axes and labels are formatted by chart_fmt_num(), which the report's
 * text uses too, so text and charts agree. The viewBox scales to the page width. */
#ifndef WATTPROF_CHART_H
#define WATTPROF_CHART_H

#include <stddef.h>
#include <stdio.h>

/* Escapes &, <, >, " and ' for HTML text and attribute values; NULL writes nothing.
 * Bytes that are not valid UTF-8 are written as U+FFFD. */
void html_escape(FILE *f, const char *s);

/* v with 3 significant digits, no exponent below 1e9: "1234" (4 digits kept for
 * integers up to 9999), "12.3", "0.0123", "1.23e-05" below 1e-4, "0" for 0, "-" for NAN. */
void chart_fmt_num(char *buf, size_t size, double v);

/* ---- line chart: one or more series over a shared x ----------------------------------- */
struct chart_line_series {
    const char *name;
    const double *y;     /* n values; NAN is a gap */
    const double *y_min; /* optional band (NULL): the min and max of each bucket */
    const double *y_max;
    int dashed; /* e.g. an estimated channel: drawn dashed, and said so in the legend */
};

/* A shaded span of x (a window of the run), labelled at its top. */
struct chart_span {
    double x0, x1;
    const char *label;
};

struct chart_line {
    const char *title;
    const char *x_label; /* with the unit: "time since start (s)" */
    const char *y_label; /* "power (W)" */
    const double *x;     /* n increasing values */
    size_t n;
    const struct chart_line_series *series;
    size_t n_series;
    const struct chart_span *spans;
    size_t n_spans;
};

/* ---- bar chart with 95 % CI error bars ------------------------------------------------ */
struct chart_bar {
    const char *label;
    double value;
    double err_low, err_high; /* absolute bounds of the error bar; NAN: none */
    int highlight;            /* the recommended candidate: outlined and marked */
};

struct chart_bars {
    const char *title;
    const char *y_label;
    const struct chart_bar *bars;
    size_t n;
};

/* ---- scatter: quality vs energy per unit, with the Pareto front ----------------------- */
struct chart_point {
    const char *label;
    double x, y;
    double x_low, x_high, y_low, y_high; /* CI whiskers; NAN: none */
    int pareto;                          /* on the front: filled marker, joined by the front line */
    int highlight;                       /* recommended */
};

struct chart_scatter {
    const char *title;
    const char *x_label;
    const char *y_label;
    const struct chart_point *points;
    size_t n;
};

/* ---- stacked bars: e.g. energy by channel for each window ----------------------------- */
struct chart_stacked {
    const char *title;
    const char *y_label;
    const char *const *bar_labels; /* n_bars */
    size_t n_bars;
    const char *const *series_names; /* n_series: the stacked parts, in the legend */
    size_t n_series;
    const double *values; /* n_bars x n_series, row-major, >= 0 (NAN counts as 0) */
};

/* Each returns 0, or -EINVAL (n == 0, a NULL array where values are required, x not
 * increasing), writing nothing then. Write errors are left to the caller's ferror().
 * Also -EINVAL: a bar value that is negative, NAN or infinite (bars start at 0; a bar
 * below the axis is refused rather than clamped), a negative or infinite stacked value,
 * a scatter point whose x or y is not finite, n_spans > 0 with spans NULL. Line y
 * values that are not finite are gaps. Labels and names may be NULL (drawn empty). */
int chart_line_svg(FILE *f, const struct chart_line *c);
int chart_bars_svg(FILE *f, const struct chart_bars *c);
int chart_scatter_svg(FILE *f, const struct chart_scatter *c);
int chart_stacked_svg(FILE *f, const struct chart_stacked *c);

#endif
