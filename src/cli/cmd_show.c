/* wattprof show: the summary of a stored run, in the layout of the live one. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "history.h"
#include "run_output.h"
#include "wattprof.h"

static const char usage_text[] =
    "usage: wattprof show [options] RUN\n"
    "\n"
    "Prints the summary of a stored run (an id or a unique prefix of one, see\n"
    "'wattprof list'): channels with their provenance, totals, attribution, idle power,\n"
    "units, windows, metrics and warnings.\n"
    "\n"
    "      --json               print the stored JSON instead\n" HISTORY_DB_USAGE
    "  -h, --help               this text\n";

enum { OPT_JSON = 500 };

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, const char **db, int *json)
{
    static const struct option longopts[] = {
        HISTORY_DB_LONGOPT,
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (c == HISTORY_OPT_DB)
            *db = optarg;
        else if (c == OPT_JSON)
            *json = 1;
        else
            return history_option_error("wattprof show", usage_text, c, argv);
    }
    if (optind >= argc)
        return history_usage_error("wattprof show", usage_text, "missing run id");
    if (optind + 1 < argc)
        return history_usage_error("wattprof show", usage_text, "unexpected argument '%s'",
                                   argv[optind + 1]);
    return -1;
}

static void show_run(const struct stored_run *sr, const char *text, int json)
{
    if (json) {
        fputs(text, stdout);
        return;
    }
    char when[32];
    history_fmt_time(when, sizeof(when), sr->res.started_at_unix_ms);
    printf("stored run %s, started %s UTC\n", sr->id, when);
    run_output_print(stdout, &sr->res, sr->id, sr->argv, sr->argc);
}

int cmd_show(int argc, char **argv)
{
    const char *db = NULL;
    int json = 0;
    int code = parse_args(argc, argv, &db, &json);
    if (code >= 0)
        return code;
    struct wattprof_store *st = NULL;
    if (history_open(db, &st) < 0)
        return 1;
    char id[16], *text = NULL;
    struct stored_run sr;
    code = 1;
    if (history_resolve(st, argv[optind], id) == 0 && history_load(st, id, &sr, &text) == 0) {
        show_run(&sr, text, json);
        code = cli_finish_stdout();
        stored_run_release(&sr);
    }
    wattprof_free(text);
    wattprof_store_close(st);
    return code;
}
