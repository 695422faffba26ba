/* Shared pieces of `wattprof schedule` and `wattprof run --defer`: strict durations,
 * --forecast [REGION=]FILE, --now, --like RUN (a stored run's energy profile) and the
 * plan's text, JSON and sbatch output. docs/schedule.md describes them. */
#ifndef WATTPROF_SCHEDULE_CLI_H
#define WATTPROF_SCHEDULE_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "wattprof.h"

/* "3h", "90m", "1d", "2h30m", "45s": numbers with units d, h, m, s, each at most once and
 * in that order; nothing else (no blanks, signs, fractions). 1 s to 366 days. Returns 0 or
 * -EINVAL. */
int schedule_cli_parse_duration(const char *s, int64_t *ms);

/* "REGION=FILE" (REGION: 1 to 63 of A-Z a-z 0-9 _ . : -) or "FILE". Returns 0 or -EINVAL
 * (more than WATTPROF_SCHEDULE_MAX_FORECASTS). Pointers borrow from arg. */
int schedule_cli_add_forecast(struct wattprof_schedule_forecast *f, size_t *n, char *arg);

/* --now TIME: RFC 3339 in UTC ("2026-01-15T00:00:00Z", seconds optional) or unix seconds.
 * Returns 0 or -EINVAL. */
int schedule_cli_parse_now(const char *s, int64_t *unix_ms);
/* The wall clock in unix ms. */
int64_t schedule_cli_clock_ms(void);

/* The stored run's energy (kWh) and its per-second power as the energy of each second, for
 * --like RUN; *duration_ms gets the run's length (whole seconds, rounded up). Prints the
 * error and returns -1 when it cannot. *profile is malloc'd (may be NULL with *n 0). */
int schedule_cli_load_like(const char *db, const char *run, double *energy_kwh, double **profile,
                           size_t *n, int64_t *duration_ms);

/* "2026-01-15T02:00:00Z". */
void schedule_cli_fmt_time(char *buf, size_t size, int64_t unix_ms);

/* The plan as text, as JSON (schema wattprof.schedule/1), or as an sbatch line (with the
 * job's arguments, shell-quoted). */
void schedule_cli_print_text(FILE *f, const struct wattprof_schedule_request *q,
                             const struct wattprof_schedule_result *res);
void schedule_cli_print_json(FILE *f, const struct wattprof_schedule_request *q,
                             const struct wattprof_schedule_result *res);
void schedule_cli_print_sbatch(FILE *f, const struct wattprof_schedule_result *res, int argc,
                               char **argv);

#endif
