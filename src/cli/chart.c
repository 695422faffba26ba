/* The text of the charts: HTML escaping of the caller's strings (which also repairs
 * invalid UTF-8, so a hostile byte sequence cannot break the document) and the number
 * format shared by the axes, the labels and the report's text (chart.h). */
#include "chart.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* The length of the valid UTF-8 sequence at s (1-4), or 0 if it is not valid: overlong
 * forms, surrogates, code points above U+10FFFF and the XML non-characters U+FFFE and
 * U+FFFF are refused. */
static size_t utf8_valid_len(const unsigned char *s)
{
    size_t len;
    uint32_t cp;
    uint32_t min;

    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1Fu;
        min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0Fu;
        min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return len;
}

/* One ASCII byte; control characters XML does not allow become U+FFFD. */
static void escape_ascii(FILE *f, unsigned char c)
{
    switch (c) {
    case '&':
        fputs("&amp;", f);
        break;
    case '<':
        fputs("&lt;", f);
        break;
    case '>':
        fputs("&gt;", f);
        break;
    case '"':
        fputs("&quot;", f);
        break;
    case '\'':
        fputs("&#39;", f);
        break;
    default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            fputs(replacement, f);
        else
            fputc(c, f);
    }
}

void html_escape(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!s)
        return;
    while (*p) {
        if (*p < 0x80) {
            escape_ascii(f, *p);
            p++;
            continue;
        }
        size_t len = utf8_valid_len(p);
        if (len == 0) {
            fputs(replacement, f); /* one U+FFFD per bad byte */
            p++;
        } else {
            fwrite(p, 1, len, f);
            p += len;
        }
    }
}

/* Drops the trailing zeros of a fixed-point number, and its point if nothing follows. */
static void strip_zeros(char *buf)
{
    char *dot = strchr(buf, '.');
    if (!dot)
        return;
    char *end = buf + strlen(buf);
    while (end > dot + 1 && end[-1] == '0')
        end--;
    if (end == dot + 1)
        end = dot;
    *end = '\0';
}

/* a > 0 and finite, below 1e9: 3 significant digits (4 up to 9999), fixed point. */
static void fmt_fixed(char *buf, size_t size, const char *sign, double a)
{
    if (a >= 999.5) {
        double r = a;
        if (a >= 9999.5) {
            double unit = pow(10.0, floor(log10(a)) - 2);
            r = round(a / unit) * unit;
        }
        snprintf(buf, size, "%s%.0f", sign, r);
        return;
    }
    int decimals = 2 - (int)floor(log10(a));
    double unit = pow(10.0, -decimals);
    if (round(a / unit) * unit >= pow(10.0, 3 - decimals))
        decimals--; /* 9.996 rounds up to 10.0: one digit fewer after the point */
    if (decimals < 0)
        decimals = 0;
    snprintf(buf, size, "%s%.*f", sign, decimals, a);
    strip_zeros(buf);
}

void chart_fmt_num(char *buf, size_t size, double v)
{
    if (!buf || size == 0)
        return;
    if (isnan(v)) {
        snprintf(buf, size, "-");
        return;
    }
    const char *sign = v < 0 ? "-" : "";
    double a = fabs(v);
    if (a == 0) {
        snprintf(buf, size, "0");
    } else if (isinf(v)) {
        snprintf(buf, size, "%sinf", sign);
    } else if (a < 1e-4 || a >= 1e9) {
        snprintf(buf, size, "%s%.3g", sign, a);
    } else {
        fmt_fixed(buf, size, sign, a);
    }
}
