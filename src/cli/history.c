/* Shared pieces of the run-history commands (see history.h). */
#include "history.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int history_usage_error(const char *who, const char *usage, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", who);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return EXIT_USAGE;
}

int history_option_error(const char *who, const char *usage, int c, char **argv)
{
    const char *what = c == ':' ? "missing value for option" : "unknown option";
    return history_usage_error(who, usage, "%s '%s'", what, argv[optind - 1]);
}

int history_open(const char *db, struct wattprof_store **st)
{
    char path[PATH_MAX];
    const char *env = getenv("WATTPROF_DB");
    int r = 0;
    if (env && *env)
        db = env;
    if (!db || !*db) {
        r = wattprof_store_default_path(path, sizeof(path));
        db = path;
    }
    if (r < 0) {
        cli_error("no run store: set WATTPROF_DB or give --db PATH (%s)", strerror(-r));
        return -1;
    }
    r = wattprof_store_open(db, st);
    if (r == -ENOMEM && !*st) {
        cli_error("out of memory");
        return -1;
    }
    if (r < 0) {
        cli_error("%s", wattprof_store_errmsg(*st));
        wattprof_store_close(*st);
        *st = NULL;
        return -1;
    }
    return 0;
}

int history_resolve(struct wattprof_store *st, const char *prefix, char id[16])
{
    if (wattprof_store_resolve(st, prefix, id) < 0) {
        cli_error("%s", wattprof_store_errmsg(st));
        return -1;
    }
    return 0;
}

int history_load(struct wattprof_store *st, const char *id, struct stored_run *sr, char **json)
{
    char *text = NULL, msg[160];
    memset(sr, 0, sizeof(*sr));
    if (wattprof_store_run_json(st, id, &text) < 0) {
        cli_error("%s", wattprof_store_errmsg(st));
        return -1;
    }
    int r = stored_run_parse(sr, text, msg, sizeof(msg));
    if (r < 0) {
        cli_error("run '%s': %s", id, msg);
        stored_run_release(sr);
    }
    if (r < 0 || !json)
        wattprof_free(text);
    else
        *json = text;
    return r < 0 ? -1 : 0;
}

void history_fmt_time(char *buf, size_t size, uint64_t unix_ms)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, size, "?");
}

void history_fmt_duration(char *buf, size_t size, uint64_t ns)
{
    double s = (double)ns / 1e9;
    unsigned long whole = (unsigned long)s;
    if (s < 10)
        snprintf(buf, size, "%.3f s", s);
    else if (s < 60)
        snprintf(buf, size, "%.1f s", s);
    else if (s < 3600)
        snprintf(buf, size, "%lu m %02lu s", whole / 60, whole % 60);
    else
        snprintf(buf, size, "%lu h %02lu m", whole / 3600, whole / 60 % 60);
}
