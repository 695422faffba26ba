/* The accounting settings of `wattprof run` (docs/accounting.md): flags, then the
 * environment (read by the library), then the config file, and the summary's accounting
 * lines. */
#ifndef WATTPROF_RUN_ACCOUNTING_H
#define WATTPROF_RUN_ACCOUNTING_H

#include <stdio.h>

#include "wattprof.h"

#define RUN_ACCOUNTING_KEYS 9

struct run_accounting_opts {
    const char *value[RUN_ACCOUNTING_KEYS]; /* from the flags, NULL when not given */
};

/* getopt_long values 400 + i (cli.h uses 300..) for the keys of run_accounting_keys. */
#define RUN_ACCOUNTING_OPT 400
#define RUN_ACCOUNTING_LONGOPTS                                                                    \
    { "country", required_argument, NULL, RUN_ACCOUNTING_OPT + 0 },                                \
        { "region", required_argument, NULL, RUN_ACCOUNTING_OPT + 1 },                             \
        { "cloud", required_argument, NULL, RUN_ACCOUNTING_OPT + 2 },                              \
        { "pue", required_argument, NULL, RUN_ACCOUNTING_OPT + 3 },                                \
        { "intensity", required_argument, NULL, RUN_ACCOUNTING_OPT + 4 },                          \
        { "intensity-series", required_argument, NULL, RUN_ACCOUNTING_OPT + 5 },                   \
        { "price", required_argument, NULL, RUN_ACCOUNTING_OPT + 6 },                              \
        { "currency", required_argument, NULL, RUN_ACCOUNTING_OPT + 7 },                           \
    {                                                                                              \
        "embodied-kg", required_argument, NULL, RUN_ACCOUNTING_OPT + 8                             \
    }

#define RUN_ACCOUNTING_USAGE                                                                       \
    "carbon and cost (docs/accounting.md; also WATTPROF_<KEY> and the config file\n"               \
    "$XDG_CONFIG_HOME/wattprof/config, 'key = value'; flags win, then the environment):\n"         \
    "      --country ISO3       grid of this country (ISO 3166 alpha-3, e.g. DEU)\n"               \
    "      --region R           region within the country (recorded)\n"                            \
    "      --cloud P:REGION     cloud region, e.g. gcp:europe-west4 (intensity, PUE)\n"            \
    "      --pue X              power usage effectiveness, 1 to 3 (default: provider's, 1.0)\n"    \
    "      --intensity G        grid intensity in gCO2e/kWh, 0 to 2000\n"                          \
    "      --intensity-series FILE  intensity over time (CSV, Electricity Maps, WattTime,\n"       \
    "                           Carbon Aware SDK JSON)\n"                                          \
    "      --price P[CUR]       electricity price per kWh, 0 to 100, e.g. 0.30EUR\n"               \
    "      --currency CUR       currency of --price (ISO 4217)\n"                                  \
    "      --embodied-kg KG     embodied footprint of the server (default 2500 kgCO2e)\n"

/* Records a flag; returns 1 when c was one of ours. */
int run_accounting_opt(struct run_accounting_opts *o, int c, const char *arg);
/* Applies the config file (keys whose environment variable is unset) and the flags to
 * ctx. Returns 0, or EXIT_USAGE after printing the error (file and line). */
int run_accounting_apply(struct wattprof_ctx *ctx, const struct run_accounting_opts *o);
/* The four accounting lines of the summary. */
void run_accounting_print(FILE *f, const struct wattprof_result *r);

#endif
