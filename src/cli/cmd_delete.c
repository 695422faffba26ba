/* wattprof delete and wattprof gc: removing stored runs, and the samples of old runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "history.h"
#include "wattprof.h"

static const char delete_usage[] =
    "usage: wattprof delete [options] RUN...\n"
    "\n"
    "Deletes stored runs (ids or unique prefixes of them) with everything recorded about\n"
    "them. Nothing is deleted unless every RUN names exactly one run.\n"
    "\n" HISTORY_DB_USAGE "  -h, --help               this text\n";

static const char gc_usage[] =
    "usage: wattprof gc [options] --keep-samples DAYS\n"
    "\n"
    "Drops the samples (the power time series) of runs older than DAYS days; their\n"
    "summaries stay, so 'wattprof list', 'show' and 'compare' still work on them.\n"
    "\n"
    "      --keep-samples DAYS  keep the samples of the last DAYS days (0: drop "
    "all)\n" HISTORY_DB_USAGE "  -h, --help               this text\n";

enum { OPT_KEEP_SAMPLES = 500 };

/* Parses --db, --help and (for gc) --keep-samples. Returns -1 to go on, or an exit
 * status. */
static int parse_args(const char *who, const char *usage, int argc, char **argv, const char **db,
                      long *keep_days)
{
    static const struct option longopts[] = {
        HISTORY_DB_LONGOPT,
        { "keep-samples", required_argument, NULL, OPT_KEEP_SAMPLES },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    unsigned long days;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return cli_finish_stdout();
        }
        if (c == HISTORY_OPT_DB) {
            *db = optarg;
        } else if (c == OPT_KEEP_SAMPLES && keep_days) {
            if (cli_parse_uint(optarg, 0, 1000000, &days) < 0)
                return history_usage_error(who, usage, "invalid --keep-samples '%s'", optarg);
            *keep_days = (long)days;
        } else {
            return history_option_error(who, usage, c == OPT_KEEP_SAMPLES ? '?' : c, argv);
        }
    }
    return -1;
}

int cmd_delete(int argc, char **argv)
{
    const char *db = NULL;
    int code = parse_args("wattprof delete", delete_usage, argc, argv, &db, NULL);
    if (code >= 0)
        return code;
    if (optind >= argc)
        return history_usage_error("wattprof delete", delete_usage, "missing run id");
    struct wattprof_store *st = NULL;
    if (history_open(db, &st) < 0)
        return 1;
    size_t n = (size_t)(argc - optind);
    char(*ids)[16] = calloc(n, sizeof(*ids));
    code = ids ? 0 : 1;
    for (size_t i = 0; code == 0 && i < n; i++)
        if (history_resolve(st, argv[optind + (int)i], ids[i]) < 0)
            code = 1;
    for (size_t i = 0; code == 0 && i < n; i++) {
        if (wattprof_store_delete(st, ids[i]) < 0) {
            cli_error("%s", wattprof_store_errmsg(st));
            code = 1;
        } else {
            printf("deleted run %s\n", ids[i]);
        }
    }
    free(ids);
    wattprof_store_close(st);
    return cli_finish_stdout() || code ? 1 : 0;
}

int cmd_gc(int argc, char **argv)
{
    const char *db = NULL;
    long keep = -1;
    int code = parse_args("wattprof gc", gc_usage, argc, argv, &db, &keep);
    if (code >= 0)
        return code;
    if (optind < argc)
        return history_usage_error("wattprof gc", gc_usage, "unexpected argument '%s'",
                                   argv[optind]);
    if (keep < 0)
        return history_usage_error("wattprof gc", gc_usage, "missing --keep-samples DAYS");
    struct wattprof_store *st = NULL;
    if (history_open(db, &st) < 0)
        return 1;
    uint64_t pruned = 0;
    code = wattprof_store_gc(st, (unsigned)keep, &pruned);
    if (code < 0)
        cli_error("%s", wattprof_store_errmsg(st));
    else
        printf("dropped the samples of %llu run%s older than %ld day%s\n",
               (unsigned long long)pruned, pruned == 1 ? "" : "s", keep, keep == 1 ? "" : "s");
    wattprof_store_close(st);
    return cli_finish_stdout() || code < 0 ? 1 : 0;
}
