/* wattprof export: stored runs as JSON, tidy CSV, CodeCarbon's emissions.csv or
 * OpenMetrics text, or one run's raw samples as a replay trace, on stdout or into a file
 * that appears whole (temp + rename). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "export_fmt.h"
#include "history.h"
#include "run_output.h"
#include "wattprof.h"

static const char usage_text[] =
    "usage: wattprof export [options] [RUN...]\n"
    "\n"
    "Writes stored runs (all of them, oldest first, when no RUN is given) in a format\n"
    "other tools read; docs/export.md describes each.\n"
    "\n"
    "  -f, --format FORMAT      json (an array of the run JSONs, the default), csv (one\n"
    "                           row per run and channel), codecarbon (CodeCarbon's\n"
    "                           emissions.csv columns), openmetrics, or trace (one\n"
    "                           RUN's raw samples for --replay, docs/replay.md)\n"
    "  -o, --output FILE        write FILE (whole or not at all) instead of "
    "stdout\n" HISTORY_DB_USAGE "  -h, --help               this text\n";

enum export_format { FMT_JSON, FMT_CSV, FMT_CODECARBON, FMT_OPENMETRICS, FMT_TRACE };
static const char *const format_names[] = { "json", "csv", "codecarbon", "openmetrics", "trace" };

struct export_opts {
    enum export_format format;
    const char *output;
    const char *db;
};

static int parse_format(const char *s, enum export_format *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
        if (strcmp(s, format_names[i]) == 0) {
            *out = (enum export_format)i;
            return 0;
        }
    return -1;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(struct export_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        HISTORY_DB_LONGOPT,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (c == 'f' && parse_format(optarg, &o->format) < 0)
            return history_usage_error("wattprof export", usage_text, "invalid --format '%s'",
                                       optarg);
        if (c == 'o')
            o->output = optarg;
        else if (c == HISTORY_OPT_DB)
            o->db = optarg;
        else if (c != 'f')
            return history_option_error("wattprof export", usage_text, c, argv);
    }
    return -1;
}

static int by_start(const void *a, const void *b)
{
    const struct wattprof_run_row *x = a, *y = b;
    if (x->started_at_unix_ms != y->started_at_unix_ms)
        return x->started_at_unix_ms < y->started_at_unix_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The ids to export: those given (resolved), or every stored run, oldest first. */
static int collect_ids(struct wattprof_store *st, char **args, size_t nargs, char (**ids)[16],
                       size_t *n)
{
    struct wattprof_run_row *rows = NULL;
    if (nargs == 0) {
        struct wattprof_list_filter all = { 0 };
        if (wattprof_store_list(st, &all, &rows, &nargs) < 0) {
            cli_error("%s", wattprof_store_errmsg(st));
            return -1;
        }
        qsort(rows, nargs, sizeof(*rows), by_start);
    }
    *ids = calloc(nargs + 1, sizeof(**ids));
    int r = *ids ? 0 : -1;
    for (size_t i = 0; r == 0 && i < nargs; i++) {
        if (rows)
            memcpy((*ids)[i], rows[i].id, sizeof((*ids)[i]));
        else
            r = history_resolve(st, args[i], (*ids)[i]);
    }
    if (!*ids)
        cli_error("out of memory");
    wattprof_free(rows);
    *n = nargs;
    return r;
}

static void format_runs(FILE *f, enum export_format format, char **texts,
                        const struct stored_run *runs, size_t n)
{
    switch (format) {
    case FMT_JSON:
        export_json(f, (const char *const *)texts, n);
        break;
    case FMT_CSV:
        export_csv(f, runs, n);
        break;
    case FMT_CODECARBON:
        export_codecarbon(f, runs, n);
        break;
    case FMT_OPENMETRICS:
        export_openmetrics(f, runs, n);
        break;
    case FMT_TRACE:
        break; /* export_trace(): one run, from the raw samples */
    }
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* stdout, or the file written whole: a temporary file beside it, then renamed. */
static int write_output(const char *path, const char *text, size_t len)
{
    if (!path || strcmp(path, "-") == 0) {
        fwrite(text, 1, len, stdout);
        return cli_finish_stdout() ? -1 : 0;
    }
    struct run_output out;
    if (run_output_prepare(&out, path) < 0)
        return -1;
    int r = write_all(out.fd, text, len);
    if (r == 0 && fchmod(out.fd, 0644) < 0)
        r = -errno;
    if (r == 0 && close(out.fd) < 0)
        r = -errno;
    out.fd = -1;
    if (r == 0 && rename(out.tmp, path) < 0)
        r = -errno;
    if (r == 0)
        out.tmp[0] = '\0';
    else
        cli_error("cannot write '%s': %s", path, strerror(-r));
    run_output_release(&out);
    return r < 0 ? -1 : 0;
}

/* Loads the runs, formats them in memory and writes the result. */
static int export_ids(struct wattprof_store *st, const struct export_opts *o, char (*ids)[16],
                      size_t n)
{
    char **texts = calloc(n + 1, sizeof(*texts)), *out = NULL;
    struct stored_run *runs = calloc(n + 1, sizeof(*runs));
    size_t loaded = 0, len = 0;
    int r = texts && runs ? 0 : -1;
    if (r < 0)
        cli_error("out of memory");
    for (; r == 0 && loaded < n; loaded++)
        r = history_load(st, ids[loaded], &runs[loaded], &texts[loaded]);
    if (r < 0 && loaded > 0)
        loaded--; /* the failed one released itself */
    FILE *f = r == 0 ? open_memstream(&out, &len) : NULL;
    if (r == 0 && !f) {
        cli_error("out of memory");
        r = -1;
    }
    if (f) {
        format_runs(f, o->format, texts, runs, n);
        r = fclose(f) == 0 ? write_output(o->output, out, len) : -1;
    }
    for (size_t i = 0; i < loaded; i++) {
        stored_run_release(&runs[i]);
        wattprof_free(texts[i]);
    }
    free(out);
    free(runs);
    free(texts);
    return r;
}

/* --format trace: exactly one RUN's raw samples, as the library writes them. */
static int export_trace(struct wattprof_store *st, const struct export_opts *o, const char *arg)
{
    char id[16];
    char *text = NULL;
    if (history_resolve(st, arg, id) < 0)
        return 1;
    if (wattprof_store_trace(st, id, &text) < 0) {
        cli_error("%s", wattprof_store_errmsg(st));
        return 1;
    }
    int r = write_output(o->output, text, strlen(text));
    wattprof_free(text);
    return r == 0 ? 0 : 1;
}

int cmd_export(int argc, char **argv)
{
    struct export_opts o = { FMT_JSON, NULL, NULL };
    int code = parse_args(&o, argc, argv);
    if (code >= 0)
        return code;
    if (o.format == FMT_TRACE && argc - optind != 1)
        return history_usage_error("wattprof export", usage_text,
                                   "--format trace writes exactly one RUN (%d given)",
                                   argc - optind);
    struct wattprof_store *st = NULL;
    if (history_open(o.db, &st) < 0)
        return 1;
    if (o.format == FMT_TRACE) {
        code = export_trace(st, &o, argv[optind]);
        wattprof_store_close(st);
        return code;
    }
    char(*ids)[16] = NULL;
    size_t n = 0;
    code = 1;
    if (collect_ids(st, argv + optind, (size_t)(argc - optind), &ids, &n) == 0)
        code = export_ids(st, &o, ids, n) == 0 ? 0 : 1;
    free(ids);
    wattprof_store_close(st);
    return code;
}
