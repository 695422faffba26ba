/* The SVG charts of the reports (src/cli/chart*.c): the structure of each chart kind
 * (one root, balanced groups, one polyline per series and gap, error bars, the Pareto
 * front in order of x, legend entries), "nice" ticks, the escaping of hostile text and
 * invalid UTF-8, the number format, the -EINVAL cases that write nothing, the size of a
 * large line chart, and that xmllint accepts every kind as XML. */
#include "chart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define HOSTILE "<script>alert(1)</script>\"onload=& \xff\xfe"

/* The chart's output as a string (the caller frees it) and the function's result. */
struct out {
    char *text;
    size_t size;
    int r;
};

enum kind { LINE, BARS, SCATTER, STACKED };

/* Draws chart c of the kind into a string. */
static struct out render(enum kind kind, const void *c)
{
    struct out o = { 0 };
    FILE *f = open_memstream(&o.text, &o.size);

    assert_non_null(f);
    switch (kind) {
    case LINE:
        o.r = chart_line_svg(f, c);
        break;
    case BARS:
        o.r = chart_bars_svg(f, c);
        break;
    case SCATTER:
        o.r = chart_scatter_svg(f, c);
        break;
    case STACKED:
        o.r = chart_stacked_svg(f, c);
        break;
    }
    assert_int_equal(fclose(f), 0);
    return o;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + strlen(needle), needle))
        n++;
    return n;
}

/* Each needle occurs exactly n times in svg. */
struct expect {
    const char *needle;
    int n;
};

static void assert_counts(const char *svg, const struct expect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int got = count(svg, e[i].needle);
        if (got != e[i].n)
            fail_msg("%s: %d times, want %d", e[i].needle, got, e[i].n);
    }
}

static char *escaped(const char *s)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    html_escape(f, s);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* One root, balanced groups, a title, scalable, readable fonts. */
static void assert_well_formed(const char *svg)
{
    assert_int_equal(count(svg, "<svg "), 1);
    assert_int_equal(count(svg, "</svg>"), 1);
    assert_int_equal(
        strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 ", 57), 0);
    assert_int_equal(count(svg, "<g"), count(svg, "</g>"));
    assert_int_equal(count(svg, "<text"), count(svg, "</text>"));
    assert_int_equal(count(svg, "<title id="), 1);
    assert_non_null(strstr(svg, "width=\"100%\""));
    assert_non_null(strstr(svg, "font-family=\"sans-serif\""));
    for (const char *p = strstr(svg, "font-size=\""); p; p = strstr(p + 1, "font-size=\""))
        assert_true(atoi(p + 11) >= 11);
}

/* The y tick labels, in order: a multiple of 1, 2 or 5 x 10^k apart, the first one `first`. */
static void assert_nice_y_ticks(const char *svg, double first)
{
    const char *p = strstr(svg, "<g class=\"axis-y\"");
    const char *end = strstr(p, "</g>");
    double prev = NAN;
    double step = NAN;
    int n = 0;

    for (p = strstr(p, "class=\"tick\">"); p && p < end; p = strstr(p + 1, "class=\"tick\">")) {
        double v = strtod(p + 13, NULL);
        if (n == 0)
            assert_true(v == first);
        if (n == 1)
            step = v - prev;
        if (n > 1)
            assert_true(fabs(v - prev - step) < 1e-9 * fabs(step));
        prev = v;
        n++;
    }
    assert_true(n >= 3);
    double m = step / pow(10, floor(log10(step)));
    assert_true(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9);
}

static void test_chart_fmt_num_table(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        { 0, "0" },
        { -0.0, "0" },
        { 1234, "1234" },
        { 1234.6, "1235" },
        { 9999, "9999" },
        { 12345, "12300" },
        { 12.345, "12.3" },
        { 0.012345, "0.0123" },
        { 1.5e-5, "1.5e-05" },
        { 1.2345e-5, "1.23e-05" },
        { 1e12, "1e+12" },
        { 123456789, "123000000" },
        { NAN, "-" },
        { -12.345, "-12.3" },
        { -0.5, "-0.5" },
        { 2.5, "2.5" },
        { 100, "100" },
        { 9.996, "10" },
        { 0.0001, "0.0001" },
        { 999.7, "1000" },
        { 1, "1" },
        { 20, "20" },
        { 0.1, "0.1" },
        { -1234, "-1234" },
    };
    char buf[32];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        chart_fmt_num(buf, sizeof(buf), cases[i].v);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("chart_fmt_num(%g) = \"%s\", want \"%s\"", cases[i].v, buf, cases[i].want);
    }
    chart_fmt_num(buf, 4, 123456.0); /* truncated, still terminated */
    assert_int_equal(strlen(buf), 3);
}

static void test_chart_html_escape(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        { "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
        { "\"onload=x' &", "&quot;onload=x&#39; &amp;" },
        { "a\xff"
          "b",
          "a\xEF\xBF\xBD"
          "b" },
        { "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD" },                 /* overlong '/' */
        { "\xE2\x82", "\xEF\xBF\xBD\xEF\xBF\xBD" },                 /* cut short */
        { "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" }, /* surrogate */
        { "\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" }, /* > 10FFFF */
        { "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x8B",
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x8B" },
        { "a\x01"
          "b\tc",
          "a\xEF\xBF\xBD"
          "b\tc" }, /* no control characters in XML */
        { "", "" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = escaped(cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    char *got = escaped(NULL);
    assert_string_equal(got, "");
    free(got);
}

static const double xs[] = { 0, 1, 2, 3, 4, 5 };
static const double ya[] = { 10, 40, 95, 30, 20, 50 };
static const double yb[] = { 5, 6, NAN, NAN, 8, 9 };
static const double yc[] = { 1, 2, 3, 4, 5, 6 };
static const double yc_lo[] = { 0, 1, 2, 3, 4, 5 };
static const double yc_hi[] = { 2, 3, 4, 5, 6, 7 };

static void test_chart_line_structure(void **state)
{
    const struct chart_line_series series[] = {
        { "GPU 0", ya, NULL, NULL, 0 },
        { "GPU 1", yb, NULL, NULL, 1 },
        { "package-0", yc, yc_lo, yc_hi, 0 },
    };
    const struct chart_span spans[] = { { 1, 2, "warm-up" }, { 3, 99, "epoch 2" } };
    const struct chart_line c = {
        "power", "time since start (s)", "power (W)", xs, 6, series, 3, spans, 2
    };
    struct out o = render(LINE, &c);
    (void)state;

    assert_int_equal(o.r, 0);
    assert_well_formed(o.text);
    /* GPU 1 has a gap: two polylines; the others one each */
    const struct expect want[] = {
        { "<polyline", 4 },      { "<g class=\"series\"", 3 },
        { "class=\"band\"", 1 }, { "<g class=\"key\">", 3 },
        { "(estimated)", 1 },    { "stroke-dasharray=\"1 3\"", 2 }, /* its line and its key */
        { "class=\"span\"", 2 },
    };
    assert_counts(o.text, want, sizeof(want) / sizeof(want[0]));
    assert_non_null(strstr(o.text, ">warm-up</text>"));
    assert_non_null(strstr(o.text, ">time since start (s)</text>"));
    assert_non_null(strstr(o.text, ">power (W)</text>"));
    assert_nice_y_ticks(o.text, 0); /* all >= 0: from 0 */
    assert_non_null(strstr(o.text, "class=\"tick\">100</text>"));
    free(o.text);
}

static void test_chart_line_negative_and_gaps(void **state)
{
    static const double y[] = { -3, NAN, 2, 4, NAN, 7 };
    const struct chart_line_series series[] = { { "delta", y, NULL, NULL, 0 } };
    const struct chart_line c = { "t", "x", "y", xs, 6, series, 1, NULL, 0 };
    struct out o = render(LINE, &c);
    (void)state;

    assert_int_equal(o.r, 0);
    assert_well_formed(o.text);
    /* -3 | gap | 2 4 | gap | 7: one polyline, two lone dots */
    assert_int_equal(count(o.text, "<polyline"), 1);
    assert_int_equal(count(o.text, "<circle"), 2);
    assert_nice_y_ticks(o.text, -5); /* -3..7: -5, 0, 5, 10 */
    free(o.text);
}

static void test_chart_line_invalid_writes_nothing(void **state)
{
    static const double x_bad[] = { 0, 1, 1, 2 };
    static const double y[] = { 1, 2, 3, 4 };
    const struct chart_line_series ok[] = { { "a", y, NULL, NULL, 0 } };
    const struct chart_line_series no_y[] = { { "a", NULL, NULL, NULL, 0 } };
    const struct chart_line cases[] = {
        { "t", "x", "y", x_bad, 4, ok, 1, NULL, 0 }, { "t", "x", "y", xs, 0, ok, 1, NULL, 0 },
        { "t", "x", "y", NULL, 4, ok, 1, NULL, 0 },  { "t", "x", "y", xs, 4, no_y, 1, NULL, 0 },
        { "t", "x", "y", xs, 4, NULL, 1, NULL, 0 },  { "t", "x", "y", xs, 4, ok, 0, NULL, 0 },
        { "t", "x", "y", xs, 4, ok, 1, NULL, 2 },
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct out o = render(LINE, &cases[i]);
        assert_int_equal(o.r, -EINVAL);
        assert_int_equal(o.size, 0);
        free(o.text);
    }
    struct out o = render(LINE, NULL);
    assert_int_equal(o.r, -EINVAL);
    assert_int_equal(o.size, 0);
    free(o.text);
}

static void test_chart_line_large_is_small_and_fast(void **state)
{
    enum { N = 2000, S = 16 };
    double *x = malloc(N * sizeof(*x));
    double *y = malloc((size_t)N * S * sizeof(*y));
    struct chart_line_series series[S];
    char names[S][16];
    (void)state;

    assert_non_null(x);
    assert_non_null(y);
    for (int i = 0; i < N; i++) {
        x[i] = i * 0.05;
        for (int s = 0; s < S; s++)
            y[s * N + i] = 100 + 50 * sin(i * 0.01 * (s + 1)) + (i * 7919 % 13);
    }
    for (int s = 0; s < S; s++) {
        snprintf(names[s], sizeof(names[s]), "channel %d", s);
        series[s] = (struct chart_line_series){ names[s], y + s * N, NULL, NULL, s == 15 };
    }
    const struct chart_line c = { "big", "time (s)", "power (W)", x, N, series, S, NULL, 0 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct out o = render(LINE, &c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;

    assert_int_equal(o.r, 0);
    assert_well_formed(o.text);
    assert_int_equal(count(o.text, "<polyline"), S);
    assert_int_equal(count(o.text, "<g class=\"key\">"), S);
    printf("# 16 x 2000 line chart: %zu bytes in %.1f ms\n", o.size, ms);
    assert_true(o.size < 300 * 1000);
    assert_true(ms < 500); /* generous: ASan and a busy machine */
    /* no two series drawn alike: (colour, dash) pairs differ */
    for (int a = 0; a < S; a++) {
        for (int b = a + 1; b < S; b++) {
            char ka[256], kb[256];
            const char *pa = strstr(o.text, "<g class=\"series\"");
            for (int i = 0; i < a; i++)
                pa = strstr(pa + 1, "<g class=\"series\"");
            const char *pb = strstr(o.text, "<g class=\"series\"");
            for (int i = 0; i < b; i++)
                pb = strstr(pb + 1, "<g class=\"series\"");
            snprintf(ka, sizeof(ka), "%.*s", (int)(strchr(pa, '>') - pa), pa);
            snprintf(kb, sizeof(kb), "%.*s", (int)(strchr(pb, '>') - pb), pb);
            assert_string_not_equal(ka, kb);
        }
    }
    free(o.text);
    free(x);
    free(y);
}

static void test_chart_bars_structure(void **state)
{
    const struct chart_bar bars[] = {
        { "batch 32", 12.345, 11.0, 13.5, 0 },
        { "batch 64", 9.8, 9.1, 10.4, 1 },
        { "batch 128", 15.0, NAN, NAN, 0 },
    };
    const struct chart_bars c = { "energy per sample", "energy per sample (mJ)", bars, 3 };
    struct out o = render(BARS, &c);
    (void)state;

    assert_int_equal(o.r, 0);
    assert_well_formed(o.text);
    const struct expect want[] = {
        { "class=\"bar\"", 3 },
        { "class=\"errbar\"", 2 },
        { "recommended", 1 },
        { "stroke-width=\"3\"", 1 },
    };
    assert_counts(o.text, want, sizeof(want) / sizeof(want[0]));
    assert_non_null(strstr(o.text, "class=\"value\">12.3</text>"));
    assert_non_null(strstr(o.text, "class=\"value\">9.8</text>"));
    assert_non_null(strstr(o.text, ">batch 128</text>"));
    assert_nice_y_ticks(o.text, 0);
    free(o.text);
}

static void test_chart_bars_invalid_writes_nothing(void **state)
{
    const struct chart_bar negative[] = { { "a", 1, NAN, NAN, 0 }, { "b", -1, NAN, NAN, 0 } };
    const struct chart_bar nan[] = { { "a", NAN, NAN, NAN, 0 } };
    const struct chart_bars cases[] = {
        { "t", "y", negative, 2 },
        { "t", "y", nan, 1 },
        { "t", "y", negative, 0 },
        { "t", "y", NULL, 2 },
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct out o = render(BARS, &cases[i]);
        assert_int_equal(o.r, -EINVAL);
        assert_int_equal(o.size, 0);
        free(o.text);
    }
}

/* The x values of the front line's points, in the order drawn. */
static int front_points(const char *svg, double *px, int max)
{
    const char *p = strstr(svg, "class=\"front\"");
    int n = 0;

    assert_non_null(p);
    p = strstr(p, "points=\"") + 8;
    while (*p != '"' && n < max) {
        char *end;
        px[n++] = strtod(p, &end);
        p = strchr(end, ' ');
        if (!p)
            break;
        p = strchr(end, '"') < p ? strchr(end, '"') : p + 1;
    }
    return n;
}

static void test_chart_scatter_structure(void **state)
{
    const struct chart_point pts[] = {
        { "c", 3.0, 0.95, 2.8, 3.2, 0.94, 0.96, 1, 0 },
        { "a", 1.0, 0.80, 0.9, 1.1, NAN, NAN, 1, 0 },
        { "x", 2.5, 0.70, NAN, NAN, NAN, NAN, 0, 0 },
        { "b", 2.0, 0.90, NAN, NAN, 0.88, 0.92, 1, 1 },
        { "y", 4.0, 0.85, NAN, NAN, NAN, NAN, 0, 0 },
    };
    const struct chart_scatter c = { "quality vs energy", "energy per sample (mJ)", "accuracy", pts,
                                     5 };
    struct out o = render(SCATTER, &c);
    double px[8];
    (void)state;

    assert_int_equal(o.r, 0);
    assert_well_formed(o.text);
    const struct expect want[] = {
        { "class=\"front\"", 1 },   { "class=\"pt front-pt\"", 3 }, { "class=\"pt\"", 2 },
        { "class=\"ring\"", 1 },    { "class=\"whisker\"", 4 }, /* c: x and y; a: x; b: y */
        { "<g class=\"key\">", 3 },
    };
    assert_counts(o.text, want, sizeof(want) / sizeof(want[0]));
    assert_non_null(strstr(o.text, ">Pareto front</text>"));
    int n = front_points(o.text, px, 8);
    assert_int_equal(n, 3); /* a, b, c: in order of x, not of the array */
    assert_true(px[0] < px[1] && px[1] < px[2]);
    /* the axes fit the data: the lowest x (0.9) is not drawn at 0 */
    assert_null(strstr(o.text, "class=\"tick\">0</text>"));
    free(o.text);

    const struct chart_scatter bad = { "t", "x", "y", pts, 0 };
    o = render(SCATTER, &bad);
    assert_int_equal(o.r, -EINVAL);
    assert_int_equal(o.size, 0);
    free(o.text);
    const struct chart_point nan_pt[] = { { "n", NAN, 1, NAN, NAN, NAN, NAN, 0, 0 } };
    const struct chart_scatter bad2 = { "t", "x", "y", nan_pt, 1 };
    o = render(SCATTER, &bad2);
    assert_int_equal(o.r, -EINVAL);
    assert_int_equal(o.size, 0);
    free(o.text);
}

static void test_chart_stacked_structure(void **state)
{
    const char *const bars[] = { "warm-up", "train" };
    const char *const names[] = { "package-0", "dram", "GPU 0" };
    const double values[] = { 10, 2, 30, 100, NAN, 300 };
    const struct chart_stacked c = { "energy by window", "energy (J)", bars, 2, names, 3, values };
    struct out o = render(STACKED, &c);
    (void)state;

    assert_int_equal(o.r, 0);
    assert_well_formed(o.text);
    assert_int_equal(count(o.text, "<g class=\"stack\""), 2);
    assert_int_equal(count(o.text, "<g class=\"key\">"), 3);
    assert_non_null(strstr(o.text, ">dram</text>"));
    assert_non_null(strstr(o.text, "class=\"value\">400</text>")); /* NAN counts as 0 */
    assert_nice_y_ticks(o.text, 0);
    free(o.text);

    /* labels and names may be NULL: drawn empty */
    const struct chart_stacked unnamed = { NULL, NULL, NULL, 2, NULL, 3, values };
    o = render(STACKED, &unnamed);
    assert_int_equal(o.r, 0);
    assert_well_formed(o.text);
    free(o.text);

    const double negative[] = { 1, -2, 3, 4, 5, 6 };
    const struct chart_stacked cases[] = {
        { "t", "y", bars, 2, names, 3, NULL },
        { "t", "y", bars, 0, names, 3, values },
        { "t", "y", bars, 2, names, 0, values },
        { "t", "y", bars, 2, names, 3, negative },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        o = render(STACKED, &cases[i]);
        assert_int_equal(o.r, -EINVAL);
        assert_int_equal(o.size, 0);
        free(o.text);
    }
}

/* Every kind with hostile text everywhere the caller gives text. */
static struct out render_hostile(int kind)
{
    static const double y[] = { 1, 2, 3, 4, 5, 6 };
    const struct chart_line_series series[] = { { HOSTILE, y, NULL, NULL, 1 } };
    const struct chart_span spans[] = { { 1, 2, HOSTILE } };
    const struct chart_line line = { HOSTILE, HOSTILE, HOSTILE, xs, 6, series, 1, spans, 1 };
    const struct chart_bar bar[] = { { HOSTILE, 1, 0.5, 1.5, 1 } };
    const struct chart_bars bars = { HOSTILE, HOSTILE, bar, 1 };
    const struct chart_point pt[] = { { HOSTILE, 1, 2, 0.5, 1.5, 1, 3, 1, 1 },
                                      { HOSTILE, 2, 1, NAN, NAN, NAN, NAN, 0, 0 } };
    const struct chart_scatter scatter = { HOSTILE, HOSTILE, HOSTILE, pt, 2 };
    const char *const labels[] = { HOSTILE };
    const double values[] = { 1, 2 };
    const struct chart_stacked stacked = { HOSTILE, HOSTILE, labels, 1, labels, 1, values };

    const void *charts[] = { &line, &bars, &scatter, &stacked };

    return render((enum kind)kind, charts[kind]);
}

static void test_chart_hostile_text_is_escaped(void **state)
{
    static const int min_count[] = { 5, 3, 5, 4 }; /* places each kind shows caller text */
    (void)state;

    for (int kind = 0; kind < 4; kind++) {
        struct out o = render_hostile(kind);
        assert_int_equal(o.r, 0);
        assert_well_formed(o.text);
        assert_null(strstr(o.text, "<script"));
        assert_null(strstr(o.text, "\"onload="));
        assert_null(strstr(o.text, "& "));
        assert_null(strchr(o.text, '\xff'));
        assert_null(strchr(o.text, '\xfe'));
        assert_true(count(o.text, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onload=&amp; "
                                  "\xEF\xBF\xBD\xEF\xBF\xBD") >= min_count[kind]);
        free(o.text);
    }
}

/* xmllint must accept every kind as XML (libxml2-utils, scripts/deps.sh test). */
static void test_chart_xmllint_accepts_every_kind(void **state)
{
    (void)state;

    for (int kind = 0; kind < 4; kind++) {
        char path[] = "/tmp/wattprof-chart-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        struct out o = render_hostile(kind);
        assert_int_equal(write(fd, o.text, o.size), (ssize_t)o.size);
        close(fd);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
        int r = system(cmd);
        unlink(path);
        free(o.text);
        if (r != 0)
            fail_msg("xmllint rejects chart kind %d (status %d; is libxml2-utils installed?)", kind,
                     r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart_fmt_num_table),
        cmocka_unit_test(test_chart_html_escape),
        cmocka_unit_test(test_chart_line_structure),
        cmocka_unit_test(test_chart_line_negative_and_gaps),
        cmocka_unit_test(test_chart_line_invalid_writes_nothing),
        cmocka_unit_test(test_chart_line_large_is_small_and_fast),
        cmocka_unit_test(test_chart_bars_structure),
        cmocka_unit_test(test_chart_bars_invalid_writes_nothing),
        cmocka_unit_test(test_chart_scatter_structure),
        cmocka_unit_test(test_chart_stacked_structure),
        cmocka_unit_test(test_chart_hostile_text_is_escaped),
        cmocka_unit_test(test_chart_xmllint_accepts_every_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
