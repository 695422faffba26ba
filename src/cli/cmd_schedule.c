/* wattprof schedule: when (and where) to start a job so that the grid is cleanest, from
 * intensity forecasts (docs/schedule.md). The arithmetic is the library's. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "history.h"
#include "schedule_cli.h"
#include "wattprof.h"

static const char usage_text[] =
    "usage: wattprof schedule --duration D --within W --forecast [REGION=]FILE... [options]\n"
    "                         [-- JOB ARGS...]\n"
    "\n"
    "Finds the start in the next W where a job of length D meets the lowest mean carbon\n"
    "intensity (the Carbon Aware SDK's rule; ties: the earliest), in any of the forecasts.\n"
    "Durations: 3h, 90m, 1d, 2h30m, 45s.\n"
    "\n"
    "      --duration D         the job's length (default with --like: the run's)\n"
    "      --within W           the job must end within W from now\n"
    "      --forecast [R=]FILE  an intensity forecast (CSV, Electricity Maps, WattTime,\n"
    "                           Carbon Aware SDK), optionally for region R (repeatable)\n"
    "      --energy-kwh E       the job's energy, for grams of CO2e\n"
    "      --like RUN           use a stored run's energy and power profile\n"
    "      --now TIME           plan as if it were TIME (RFC 3339 UTC, or unix seconds)\n"
    "      --alternatives N     how many next-best starts, 0 to 16 (default 3)\n"
    "      --interruptible      the job may pause: run it in --chunks pieces\n"
    "      --chunks N           pieces of D/N each, 2 to 64 (default 4)\n"
    "      --max-intensity G    the first start below G gCO2e/kWh instead of the best\n"
    "      --format F           text (default), json, or sbatch (JOB ARGS follow --)\n"
    "      --json FILE          also write the plan as JSON to FILE ('-': "
    "stdout)\n" HISTORY_DB_USAGE "  -h, --help               this text\n";

struct schedule_opts {
    struct wattprof_schedule_forecast forecasts[WATTPROF_SCHEDULE_MAX_FORECASTS];
    struct wattprof_schedule_request q;
    const char *format, *json_path, *like, *db;
    int have_duration, interruptible, have_energy;
    int argc;
    char **argv;
};

enum {
    OPT_DURATION = 500,
    OPT_WITHIN,
    OPT_FORECAST,
    OPT_ENERGY,
    OPT_LIKE,
    OPT_NOW,
    OPT_ALT,
    OPT_INTERRUPTIBLE,
    OPT_CHUNKS,
    OPT_MAX,
    OPT_FORMAT,
    OPT_JSON,
};

static int bad(const char *what, const char *arg, const char *hint)
{
    return history_usage_error("wattprof schedule", usage_text, "invalid %s '%s': %s", what, arg,
                               hint);
}

static int parse_number_opt(struct schedule_opts *o, int c, const char *arg)
{
    unsigned long v;
    switch (c) {
    case OPT_ENERGY:
        o->have_energy = 1;
        return cli_parse_double(arg, 0, 1e9, &o->q.energy_kwh) < 0
                   ? bad("--energy-kwh", arg, "give kWh, 0 to 1e9")
                   : 0;
    case OPT_ALT:
        if (cli_parse_uint(arg, 0, WATTPROF_SCHEDULE_MAX_ALTERNATIVES, &v) < 0)
            return bad("--alternatives", arg, "give 0 to 16");
        o->q.n_alternatives = v;
        return 0;
    case OPT_CHUNKS:
        if (cli_parse_uint(arg, 2, WATTPROF_SCHEDULE_MAX_CHUNKS, &v) < 0)
            return bad("--chunks", arg, "give 2 to 64");
        o->q.chunks = (unsigned)v;
        return 0;
    case OPT_MAX:
        return cli_parse_double(arg, 0, 5000, &o->q.max_intensity) < 0
                   ? bad("--max-intensity", arg, "give gCO2e/kWh, 0 to 5000")
                   : 0;
    }
    return -1;
}

static int parse_one(struct schedule_opts *o, int c, char *arg)
{
    switch (c) {
    case OPT_DURATION:
        o->have_duration = 1;
        return schedule_cli_parse_duration(arg, &o->q.duration_ms) < 0
                   ? bad("--duration", arg, "give e.g. 3h, 90m, 1d, 2h30m (1s to 366d)")
                   : 0;
    case OPT_WITHIN:
        return schedule_cli_parse_duration(arg, &o->q.within_ms) < 0
                   ? bad("--within", arg, "give e.g. 24h, 12h, 2d (1s to 366d)")
                   : 0;
    case OPT_FORECAST:
        return schedule_cli_add_forecast(o->forecasts, &o->q.n_forecasts, arg) < 0
                   ? bad("--forecast", arg, "at most 16 forecasts")
                   : 0;
    case OPT_NOW:
        return schedule_cli_parse_now(arg, &o->q.now_unix_ms) < 0
                   ? bad("--now", arg, "give RFC 3339 UTC, e.g. 2026-01-15T00:00:00Z")
                   : 0;
    case OPT_LIKE:
        o->like = arg;
        return 0;
    case OPT_INTERRUPTIBLE:
        o->interruptible = 1;
        return 0;
    case OPT_FORMAT:
        o->format = arg;
        return strcmp(arg, "text") && strcmp(arg, "json") && strcmp(arg, "sbatch")
                   ? bad("--format", arg, "give text, json or sbatch")
                   : 0;
    case OPT_JSON:
        o->json_path = arg;
        return 0;
    case HISTORY_OPT_DB:
        o->db = arg;
        return 0;
    }
    return parse_number_opt(o, c, arg);
}

/* Checks what no single option can; returns 0 or the usage status. */
static int check(struct schedule_opts *o)
{
    if (o->q.n_forecasts == 0)
        return history_usage_error("wattprof schedule", usage_text, "missing --forecast FILE");
    if (!o->have_duration && !o->like)
        return history_usage_error("wattprof schedule", usage_text, "missing --duration (e.g. 3h)");
    if (o->q.within_ms == 0)
        return history_usage_error("wattprof schedule", usage_text, "missing --within (e.g. 24h)");
    if (o->have_duration && o->q.within_ms < o->q.duration_ms)
        return history_usage_error("wattprof schedule", usage_text,
                                   "--within is shorter than --duration: the job cannot fit");
    if (o->have_energy && o->like)
        return history_usage_error("wattprof schedule", usage_text,
                                   "give --energy-kwh or --like, not both");
    if (o->q.chunks && !o->interruptible)
        return history_usage_error("wattprof schedule", usage_text,
                                   "--chunks needs --interruptible");
    if (o->interruptible && !o->q.chunks)
        o->q.chunks = 4;
    if (o->argc > 0 && strcmp(o->format, "sbatch") != 0)
        return history_usage_error("wattprof schedule", usage_text,
                                   "job arguments ('%s') go with --format sbatch only", o->argv[0]);
    return 0;
}

static int parse_args(struct schedule_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "duration", required_argument, NULL, OPT_DURATION },
        { "within", required_argument, NULL, OPT_WITHIN },
        { "forecast", required_argument, NULL, OPT_FORECAST },
        { "energy-kwh", required_argument, NULL, OPT_ENERGY },
        { "like", required_argument, NULL, OPT_LIKE },
        { "now", required_argument, NULL, OPT_NOW },
        { "alternatives", required_argument, NULL, OPT_ALT },
        { "interruptible", no_argument, NULL, OPT_INTERRUPTIBLE },
        { "chunks", required_argument, NULL, OPT_CHUNKS },
        { "max-intensity", required_argument, NULL, OPT_MAX },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "json", required_argument, NULL, OPT_JSON },
        HISTORY_DB_LONGOPT,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (c == '?' || c == ':')
            return history_option_error("wattprof schedule", usage_text, c, argv);
        int r = parse_one(o, c, optarg);
        if (r != 0)
            return r;
    }
    o->argc = argc - optind;
    o->argv = argv + optind;
    int r = check(o);
    return r ? r : -1;
}

static int write_json_file(const struct schedule_opts *o,
                           const struct wattprof_schedule_result *res)
{
    FILE *f = fopen(o->json_path, "we");
    if (!f) {
        cli_error("cannot write '%s': %s", o->json_path, strerror(errno));
        return 1;
    }
    schedule_cli_print_json(f, &o->q, res);
    if (fclose(f) != 0) {
        cli_error("cannot write '%s': %s", o->json_path, strerror(errno));
        return 1;
    }
    return 0;
}

static int output(const struct schedule_opts *o, const struct wattprof_schedule_result *res)
{
    int json_stdout = o->json_path && strcmp(o->json_path, "-") == 0;
    if (strcmp(o->format, "json") == 0 || json_stdout)
        schedule_cli_print_json(stdout, &o->q, res);
    else if (strcmp(o->format, "sbatch") == 0)
        schedule_cli_print_sbatch(stdout, res, o->argc, o->argv);
    else
        schedule_cli_print_text(stdout, &o->q, res);
    if (o->json_path && !json_stdout && write_json_file(o, res) != 0)
        return 1;
    return cli_finish_stdout();
}

int cmd_schedule(int argc, char **argv)
{
    struct schedule_opts o;
    memset(&o, 0, sizeof(o));
    o.q.forecasts = o.forecasts;
    o.q.energy_kwh = NAN;
    o.q.max_intensity = NAN;
    o.q.n_alternatives = 3;
    o.q.now_unix_ms = -1;
    o.format = "text";
    int code = parse_args(&o, argc, argv);
    if (code >= 0)
        return code;
    if (o.q.now_unix_ms < 0)
        o.q.now_unix_ms = schedule_cli_clock_ms();
    double *profile = NULL;
    int64_t like_ms = 0;
    if (o.like && schedule_cli_load_like(o.db, o.like, &o.q.energy_kwh, &profile, &o.q.n_profile,
                                         &like_ms) < 0)
        return 1;
    o.q.profile_kwh = profile;
    if (!o.have_duration)
        o.q.duration_ms = like_ms > 0 ? like_ms : 1000;
    struct wattprof_schedule_result *res = NULL;
    int r = wattprof_schedule_plan(&o.q, &res);
    if (r < 0) {
        cli_error("%s", res ? res->errmsg : "out of memory");
        code = r == -EINVAL ? EXIT_USAGE : 1;
    } else {
        code = output(&o, res);
    }
    wattprof_free(res);
    free(profile);
    return code;
}
