/* Shared pieces of the command-line tool (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wattprof.h"

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

int cli_sensor_opt(struct cli_sensor_opts *o, int c, const char *arg)
{
    switch (c) {
    case CLI_OPT_SENSORS:
        o->sensors = arg;
        return 1;
    case CLI_OPT_METER:
        o->meter = arg;
        return 1;
    case CLI_OPT_PTD:
        o->ptd = arg;
        return 1;
    case CLI_OPT_HWMON:
        o->hwmon = arg;
        return 1;
    case CLI_OPT_REQUIRE:
        o->require = arg;
        return 1;
    case CLI_OPT_REPLAY:
        o->replay = arg;
        return 1;
    }
    return 0;
}

int cli_apply_sensor_opts(struct wattprof_ctx *ctx, const struct cli_sensor_opts *o,
                          const char *who)
{
    const struct {
        const char *key;
        const char *value;
    } settings[] = {
        { "meter", o->meter },   { "ptd", o->ptd },         { "hwmon", o->hwmon },
        { "replay", o->replay }, { "require", o->require },
    };
    int r = wattprof_ctx_set_backends(ctx, o->sensors);
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(settings); i++)
        if (settings[i].value)
            r = wattprof_ctx_set(ctx, settings[i].key, settings[i].value);
    if (r < 0)
        fprintf(stderr, "%s: %s\n", who, wattprof_ctx_errmsg(ctx));
    return r;
}
