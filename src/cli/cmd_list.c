/* wattprof list: the stored runs, newest first, one line each. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "history.h"
#include "wattprof.h"

#define LIST_DEFAULT_LIMIT 50
#define LIST_COMMAND_WIDTH 40

static const char usage_text[] =
    "usage: wattprof list [options]\n"
    "\n"
    "Lists the stored runs, newest first: id, start (UTC), duration, energy and its\n"
    "provenance, CO2e, whether the run completed, and the command.\n"
    "\n"
    "  -n, --limit N            at most N runs (default 50; 0: all)\n"
    "      --label KEY=VALUE    only runs with this label\n"
    "      --since DATE         only runs started since DATE: YYYY-MM-DD,\n"
    "                           YYYY-MM-DDTHH:MM[:SS][Z] (UTC), or 30m, 2h, 3d, 1w "
    "ago\n" HISTORY_DB_USAGE "  -h, --help               this text\n";

struct list_opts {
    struct wattprof_list_filter filter;
    const char *db;
};

/* "2h" and friends: now minus that much. */
static int parse_relative(const char *s, uint64_t *unix_ms)
{
    static const struct {
        char unit;
        uint64_t ms;
    } units[] = { { 'm', 60000 }, { 'h', 3600000 }, { 'd', 86400000 }, { 'w', 604800000 } };
    size_t len = strlen(s);
    char num[32];
    unsigned long n;
    if (len < 2 || len >= sizeof(num))
        return -1;
    memcpy(num, s, len - 1);
    num[len - 1] = '\0';
    if (cli_parse_uint(num, 0, 1000000, &n) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
        if (s[len - 1] != units[i].unit)
            continue;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
        uint64_t ago = n * units[i].ms;
        *unix_ms = now_ms > ago ? now_ms - ago : 0;
        return 0;
    }
    return -1;
}

static int parse_since(const char *s, uint64_t *unix_ms)
{
    if (stored_run_parse_time(s, unix_ms) == 0)
        return 0;
    return parse_relative(s, unix_ms);
}

static int parse_one(struct list_opts *o, int c, const char *arg)
{
    unsigned long n;
    switch (c) {
    case 'n':
        if (cli_parse_uint(arg, 0, 1000000000, &n) < 0)
            return history_usage_error("wattprof list", usage_text, "invalid --limit '%s'", arg);
        o->filter.limit = n;
        return -1;
    case 'l':
        if (!strchr(arg, '=') || arg[0] == '=')
            return history_usage_error("wattprof list", usage_text,
                                       "invalid --label '%s': give KEY=VALUE", arg);
        o->filter.label = arg;
        return -1;
    case 's':
        if (parse_since(arg, &o->filter.since_unix_ms) < 0)
            return history_usage_error("wattprof list", usage_text, "invalid --since '%s'", arg);
        return -1;
    case HISTORY_OPT_DB:
        o->db = arg;
        return -1;
    }
    return history_usage_error("wattprof list", usage_text, "unknown option");
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(struct list_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "limit", required_argument, NULL, 'n' }, { "label", required_argument, NULL, 'l' },
        { "since", required_argument, NULL, 's' }, HISTORY_DB_LONGOPT,
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    int c;
    o->filter.limit = LIST_DEFAULT_LIMIT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (c == '?' || c == ':')
            return history_option_error("wattprof list", usage_text, c, argv);
        int r = parse_one(o, c, optarg);
        if (r >= 0)
            return r;
    }
    if (optind < argc)
        return history_usage_error("wattprof list", usage_text, "unexpected argument '%s'",
                                   argv[optind]);
    return -1;
}

static void print_row(const struct wattprof_run_row *w)
{
    char when[32], dur[32], e[32], energy[64], cmd[LIST_COMMAND_WIDTH + 4];
    history_fmt_time(when, sizeof(when), w->started_at_unix_ms);
    history_fmt_duration(dur, sizeof(dur), w->duration_ns);
    cli_fmt_energy(e, sizeof(e), w->energy_uj);
    snprintf(energy, sizeof(energy), "%s %s", e, w->energy_provenance ? w->energy_provenance : "?");
    if (strlen(w->command) > LIST_COMMAND_WIDTH)
        snprintf(cmd, sizeof(cmd), "%.*s...", LIST_COMMAND_WIDTH - 3, w->command);
    else
        snprintf(cmd, sizeof(cmd), "%.*s", LIST_COMMAND_WIDTH, w->command);
    char co2[32] = "-";
    if (!isnan(w->co2e_g) && w->co2e_g >= 1000)
        snprintf(co2, sizeof(co2), "%.3g kg", w->co2e_g / 1000);
    else if (!isnan(w->co2e_g))
        snprintf(co2, sizeof(co2), "%.3g g", w->co2e_g);
    printf("%-12s  %-16s  %10s  %-24s  %9s  %-10s  %s\n", w->id, when, dur, energy, co2,
           w->complete ? "complete" : "incomplete", cmd);
}

int cmd_list(int argc, char **argv)
{
    struct list_opts o;
    memset(&o, 0, sizeof(o));
    int code = parse_args(&o, argc, argv);
    if (code >= 0)
        return code;
    struct wattprof_store *st = NULL;
    if (history_open(o.db, &st) < 0)
        return 1;
    struct wattprof_run_row *rows = NULL;
    size_t n = 0;
    if (wattprof_store_list(st, &o.filter, &rows, &n) < 0) {
        cli_error("%s", wattprof_store_errmsg(st));
        wattprof_store_close(st);
        return 1;
    }
    if (n == 0)
        printf("no stored runs%s\n", o.filter.label || o.filter.since_unix_ms ? " match" : " yet");
    else
        printf("%-12s  %-16s  %10s  %-24s  %9s  %-10s  %s\n", "id", "started (UTC)", "duration",
               "energy", "CO2e*", "status", "command");
    for (size_t i = 0; i < n; i++)
        print_row(&rows[i]);
    if (n > 0)
        printf("* CO2e: operational + embodied, as recorded with the run ('-': unknown; "
               "'wattprof show ID' gives the factors)%s\n",
               o.filter.limit && n == o.filter.limit ? "; more runs may exist (--limit)" : "");
    wattprof_free(rows);
    wattprof_store_close(st);
    return cli_finish_stdout();
}
