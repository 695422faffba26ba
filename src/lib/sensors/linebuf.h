/* Text lines from a pipe or a socket, split in a fixed buffer (no allocation, bounded
 * line length), and the numbers in them, parsed without depending on the locale. Used by
 * the backends that read external meters (meter.c, ptd.c). */
#ifndef WATTPROF_LINEBUF_H
#define WATTPROF_LINEBUF_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

#define LINEBUF_MAX 1024

struct linebuf {
    char buf[LINEBUF_MAX + 1];
    size_t len;   /* bytes of the current, unfinished line */
    size_t max;   /* longest line kept whole (<= LINEBUF_MAX) */
    int overlong; /* the current line is longer than max: the rest is dropped */
};

/* Starts empty, keeping lines of up to max bytes (LINEBUF_MAX when 0 or larger). */
void linebuf_init(struct linebuf *lb, size_t max);

/* Splits data[0..n) into lines. For each complete line, calls line(arg, text, overlong)
 * with the text NUL-terminated, without its "\n" or "\r\n"; an overlong line is given
 * as its first max bytes with overlong set. */
void linebuf_feed(struct linebuf *lb, const char *data, size_t n,
                  void (*line)(void *arg, const char *text, int overlong), void *arg);

/* At end of input: hands over the last line when it has no "\n". */
void linebuf_finish(struct linebuf *lb, void (*line)(void *arg, const char *text, int overlong),
                    void *arg);

/* Parses a finite, non-negative decimal number at s ("42", " 4.25e1", "+0.5"; white
 * space before it is skipped) into thousandths, rounded, with c_locale a "C" locale.
 * Sets *end after the number. Returns 0, -EINVAL when there is no number or it is
 * negative, infinite or NaN, or -ERANGE when it is above max_milli. */
int linebuf_parse_milli(const char *s, locale_t c_locale, uint64_t max_milli, uint64_t *out,
                        const char **end);

#endif
