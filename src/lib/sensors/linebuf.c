/* Bounded line splitting and locale-independent number parsing for the backends that
 * read text from external meters (see linebuf.h). */
#include "linebuf.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

void linebuf_init(struct linebuf *lb, size_t max)
{
    lb->len = 0;
    lb->overlong = 0;
    lb->max = max == 0 || max > LINEBUF_MAX ? LINEBUF_MAX : max;
    lb->buf[0] = '\0';
}

static void emit(struct linebuf *lb, void (*line)(void *arg, const char *text, int overlong),
                 void *arg)
{
    if (!lb->overlong && lb->len > 0 && lb->buf[lb->len - 1] == '\r')
        lb->len--;
    lb->buf[lb->len] = '\0';
    line(arg, lb->buf, lb->overlong);
    lb->len = 0;
    lb->overlong = 0;
}

void linebuf_feed(struct linebuf *lb, const char *data, size_t n,
                  void (*line)(void *arg, const char *text, int overlong), void *arg)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n')
            emit(lb, line, arg);
        else if (lb->len < lb->max)
            lb->buf[lb->len++] = data[i];
        else
            lb->overlong = 1;
    }
}

void linebuf_finish(struct linebuf *lb, void (*line)(void *arg, const char *text, int overlong),
                    void *arg)
{
    if (lb->len > 0 || lb->overlong)
        emit(lb, line, arg);
}

int linebuf_parse_milli(const char *s, locale_t c_locale, uint64_t max_milli, uint64_t *out,
                        const char **end)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    /* strtod also takes hex floats, "inf" and "nan": only decimal text is a reading. */
    const char *p = *s == '+' ? s + 1 : s;
    if ((*p < '0' || *p > '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
        return -EINVAL;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        return -EINVAL;
    errno = 0;
    double v = strtod_l(s, &e, c_locale);
    if (e == s || !isfinite(v) || v < 0)
        return -EINVAL;
    if (errno == ERANGE && v != 0)
        return -ERANGE;
    double milli = v * 1000.0;
    if (milli > (double)max_milli)
        return -ERANGE;
    *out = (uint64_t)llround(milli);
    *end = e;
    return 0;
}
