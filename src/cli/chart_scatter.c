/* The scatter of the study (chart_scatter_svg, chart.h): one point per candidate with
 * its CI whiskers, the Pareto front joined by a line in order of x, filled circles on
 * the front and hollow squares off it, a ring around the recommended one, and a label
 * next to each point. Both axes fit the data with a 5 % margin. */
#include "chart.h"

#include "chart_svg.h"

#include <errno.h>
#include <math.h>

#define SCATTER_TOP 44.0
#define SCATTER_PLOT_H 280.0
#define FRONT_COLOUR "#0072B2"
#define OTHER_COLOUR "#D55E00"

struct scatter_keys {
    struct chart_key keys[3];
    size_t n;
};

static void widen(double v, double *lo, double *hi)
{
    if (!isfinite(v))
        return;
    *lo = fmin(*lo, v);
    *hi = fmax(*hi, v);
}

static void scatter_frame(const struct chart_scatter *c, struct chart_frame *fr)
{
    fr->x0 = fr->y0 = INFINITY;
    fr->x1 = fr->y1 = -INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        const struct chart_point *p = &c->points[i];
        widen(p->x, &fr->x0, &fr->x1);
        widen(p->x_low, &fr->x0, &fr->x1);
        widen(p->x_high, &fr->x0, &fr->x1);
        widen(p->y, &fr->y0, &fr->y1);
        widen(p->y_low, &fr->y0, &fr->y1);
        widen(p->y_high, &fr->y0, &fr->y1);
    }
    chart_range_fit(&fr->x0, &fr->x1);
    chart_range_fit(&fr->y0, &fr->y1);
    fr->left = 70;
    fr->right = CHART_W - 16;
    fr->top = SCATTER_TOP;
    fr->bottom = SCATTER_TOP + SCATTER_PLOT_H;
}

static void whiskers(FILE *f, const struct chart_frame *fr, const struct chart_point *p)
{
    double x = chart_px(fr, p->x);
    double y = chart_py(fr, p->y);

    if (isfinite(p->x_low) && isfinite(p->x_high)) {
        double a = chart_px(fr, p->x_low);
        double b = chart_px(fr, p->x_high);
        fprintf(f,
                "<path class=\"whisker\" d=\"M%.1f,%.1fH%.1fM%.1f,%.1fV%.1fM%.1f,%.1fV%.1f\"/>\n",
                a, y, b, a, y - 4, y + 4, b, y - 4, y + 4);
    }
    if (isfinite(p->y_low) && isfinite(p->y_high)) {
        double a = chart_py(fr, p->y_low);
        double b = chart_py(fr, p->y_high);
        fprintf(f,
                "<path class=\"whisker\" d=\"M%.1f,%.1fV%.1fM%.1f,%.1fH%.1fM%.1f,%.1fH%.1f\"/>\n",
                x, a, b, x - 4, a, x + 4, x - 4, b, x + 4);
    }
}

/* The front point after `prev` in order of (x, index), or n when there is none.
 * O(n) per step and no allocation: fronts are short. */
static size_t front_next(const struct chart_scatter *c, size_t prev)
{
    size_t best = c->n;

    for (size_t i = 0; i < c->n; i++) {
        const struct chart_point *p = &c->points[i];
        if (!p->pareto)
            continue;
        if (prev < c->n && (p->x < c->points[prev].x || (p->x == c->points[prev].x && i <= prev)))
            continue;
        if (best == c->n || p->x < c->points[best].x)
            best = i;
    }
    return best;
}

static void front_line(FILE *f, const struct chart_frame *fr, const struct chart_scatter *c)
{
    size_t i = front_next(c, c->n);

    if (i == c->n)
        return;
    fprintf(f,
            "<polyline class=\"front\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
            "points=\"",
            FRONT_COLOUR);
    for (; i < c->n; i = front_next(c, i))
        fprintf(f, " %.1f,%.1f", chart_px(fr, c->points[i].x), chart_py(fr, c->points[i].y));
    fputs("\"/>\n", f);
}

static void point(FILE *f, const struct chart_frame *fr, const struct chart_point *p)
{
    double x = chart_px(fr, p->x);
    double y = chart_py(fr, p->y);

    if (p->pareto) {
        fprintf(f, "<circle class=\"pt front-pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n",
                x, y, FRONT_COLOUR);
    } else {
        fprintf(f,
                "<rect class=\"pt\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" "
                "fill=\"#fff\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                x - 4, y - 4, OTHER_COLOUR);
    }
    if (p->highlight) {
        fprintf(f,
                "<circle class=\"ring\" cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" "
                "stroke=\"#000\" stroke-width=\"2.5\"/>\n",
                x, y);
    }
    /* to the right of the point, or to its left where the chart ends */
    int left = x + 9 + chart_text_width(p->label, 11) + 14 > CHART_W - 4;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\"%s>%s", left ? x - 9 : x + 9, y - 7,
            left ? " text-anchor=\"end\"" : "", p->highlight ? "\xE2\x98\x85 " : "");
    html_escape(f, p->label);
    fputs("</text>\n", f);
}

static void scatter_key(const void *ctx, size_t i, struct chart_key *k)
{
    *k = ((const struct scatter_keys *)ctx)->keys[i];
}

static void scatter_keys_make(const struct chart_scatter *c, struct scatter_keys *k)
{
    int front = 0;
    int other = 0;
    int ring = 0;

    for (size_t i = 0; i < c->n; i++) {
        front |= c->points[i].pareto != 0;
        other |= c->points[i].pareto == 0;
        ring |= c->points[i].highlight != 0;
    }
    k->n = 0;
    if (front)
        k->keys[k->n++] =
            (struct chart_key){ "Pareto front", NULL, FRONT_COLOUR, NULL, CHART_SWATCH_DOT };
    if (other)
        k->keys[k->n++] =
            (struct chart_key){ "other candidates", NULL, OTHER_COLOUR, NULL, CHART_SWATCH_HOLLOW };
    if (ring)
        k->keys[k->n++] =
            (struct chart_key){ "recommended", NULL, "#000", NULL, CHART_SWATCH_RING };
}

int chart_scatter_svg(FILE *f, const struct chart_scatter *c)
{
    struct chart_frame fr;
    struct scatter_keys keys;

    if (!f || !c || !c->points || c->n == 0)
        return -EINVAL;
    for (size_t i = 0; i < c->n; i++)
        if (!isfinite(c->points[i].x) || !isfinite(c->points[i].y))
            return -EINVAL;
    scatter_frame(c, &fr);
    scatter_keys_make(c, &keys);
    double legend_y = fr.bottom + 64;
    size_t rows = chart_legend(NULL, scatter_key, &keys, keys.n, legend_y);
    chart_svg_begin(f, "scatter", c->title, legend_y + (double)rows * CHART_LEGEND_ROW);
    chart_axis_y(f, &fr, c->y_label);
    chart_axis_x(f, &fr, c->x_label);
    fputs("<g stroke=\"#555\" stroke-width=\"1.2\" fill=\"none\">\n", f);
    for (size_t i = 0; i < c->n; i++)
        whiskers(f, &fr, &c->points[i]);
    fputs("</g>\n", f);
    front_line(f, &fr, c);
    for (size_t i = 0; i < c->n; i++)
        point(f, &fr, &c->points[i]);
    chart_legend(f, scatter_key, &keys, keys.n, legend_y);
    chart_svg_end(f);
    return 0;
}
