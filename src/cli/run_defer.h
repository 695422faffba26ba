/* `wattprof run --defer`: plans the start on an intensity forecast (as `wattprof
 * schedule`), says until when and why on stderr, and waits; Ctrl-C while waiting exits
 * without running the command. docs/schedule.md. */
#ifndef WATTPROF_RUN_DEFER_H
#define WATTPROF_RUN_DEFER_H

#include <stddef.h>

#include "wattprof.h"

struct run_defer_opts {
    int defer;                 /* --defer */
    const char *within;        /* --within W (default 12h) */
    const char *duration;      /* --duration D, the job's expected length (default 1h) */
    const char *now;           /* --now TIME: plan as if it were TIME (tests, replays) */
    const char *max_intensity; /* --max-intensity G */
    char *forecasts[WATTPROF_SCHEDULE_MAX_FORECASTS]; /* --forecast [REGION=]FILE */
    size_t n_forecasts;
    int too_many;
};

/* getopt_long values 600.. (cli.h uses 300.., run_accounting.h 400..). */
#define RUN_DEFER_OPT 600
#define RUN_DEFER_LONGOPTS                                                                         \
    { "defer", no_argument, NULL, RUN_DEFER_OPT + 0 },                                             \
        { "within", required_argument, NULL, RUN_DEFER_OPT + 1 },                                  \
        { "duration", required_argument, NULL, RUN_DEFER_OPT + 2 },                                \
        { "now", required_argument, NULL, RUN_DEFER_OPT + 3 },                                     \
        { "max-intensity", required_argument, NULL, RUN_DEFER_OPT + 4 },                           \
    {                                                                                              \
        "forecast", required_argument, NULL, RUN_DEFER_OPT + 5                                     \
    }

#define RUN_DEFER_USAGE                                                                            \
    "carbon-aware start (docs/schedule.md):\n"                                                     \
    "      --defer              wait for the cleanest start in --within on --forecast\n"           \
    "      --forecast [R=]FILE  an intensity forecast (repeatable; regions are reported)\n"        \
    "      --within W           start and finish within W (default 12h; e.g. 90m, 1d)\n"           \
    "      --duration D         how long COMMAND runs (default 1h)\n"                              \
    "      --max-intensity G    start at the first slot below G gCO2e/kWh\n"                       \
    "      --now TIME           plan as if it were TIME (RFC 3339 UTC; the wait is\n"              \
    "                           best start - TIME, on the real clock)\n"

/* Takes option c when it is one of these; returns 1 then, else 0. */
int run_defer_opt(struct run_defer_opts *o, int c, char *arg);

/* With --defer: checks the options, plans, prints the plan on stderr and waits. Returns -1
 * to run the command now, or an exit status: 2 for bad options or forecasts (nothing ran),
 * 128+N when signal N came while waiting, 125 for other failures. Without --defer: -1, or
 * 2 when a deferral option was given alone. */
int run_defer(const struct run_defer_opts *o);

#endif
