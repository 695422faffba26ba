/* Shared pieces of the command-line tool (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("wattprof: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    if (!s || !*s || ((*s < '0' || *s > '9') && *s != '.'))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_fmt_energy_j(char *buf, size_t size, double j)
{
    if (j < 1e-3)
        snprintf(buf, size, "%.3f µJ", j * 1e6);
    else if (j < 1)
        snprintf(buf, size, "%.3f mJ", j * 1e3);
    else
        cli_fmt_energy(buf, size, (uint64_t)(j * 1e6 + 0.5));
}

void cli_fmt_energy(char *buf, size_t size, uint64_t uj)
{
    double j = (double)uj / 1e6;
    if (j >= 1e6)
        snprintf(buf, size, "%.3f MJ", j / 1e6);
    else if (j >= 1e4)
        snprintf(buf, size, "%.3f kJ", j / 1e3);
    else
        snprintf(buf, size, "%.3f J", j);
}

void cli_fmt_power(char *buf, size_t size, uint64_t uw)
{
    snprintf(buf, size, "%.2f W", (double)uw / 1e6);
}

int cli_finish_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to standard output: %s", strerror(errno));
        return 1;
    }
    return 0;
}
