/* Carbon-aware scheduling: the arithmetic. Given forecasts (piecewise-constant intensity
 * series), a job's duration, a window and "now", it rates every candidate start and picks
 * the best ones. The rule and its caveats: docs/schedule.md. Nothing here prints. */
#ifndef WATTPROF_SCHEDULE_H
#define WATTPROF_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "intensity_series.h"

struct schedule_input {
    const struct intensity_series *const *series; /* borrowed, n_series of them */
    size_t n_series;
    int64_t now_ms;            /* unix ms */
    int64_t duration_ms;       /* the job (all chunks together) */
    int64_t within_ms;         /* the job must end by now + within */
    double energy_kwh;         /* the job's energy; NAN when unknown */
    const double *profile_kwh; /* energy of equal slices of the job, in order; NULL: flat */
    size_t n_profile;
};

/* One candidate: [start, end) in forecast `series`. */
struct schedule_window {
    int64_t start_ms, end_ms;
    size_t series;
    double mean;  /* time-weighted mean intensity, g/kWh */
    double grams; /* expected g CO2e; NAN when the energy is unknown */
};

/* Every candidate start of every series for pieces of length len_ms (the duration, or one
 * chunk): "now" and each value's timestamp after now, such that the piece ends by
 * now + within. A candidate that needs data the series does not have (before it, after
 * it, in a gap) is left out and counted in *excluded. The profile applies when
 * use_profile. *out is malloc'd (NULL when none). Returns 0 or -ENOMEM. */
int schedule_candidates(const struct schedule_input *in, int64_t len_ms, int use_profile,
                        struct schedule_window **out, size_t *n, size_t *excluded);

/* Rates [start, start + len) in series i; returns 0, or -ERANGE when the data does not
 * cover it. The energy is in->energy_kwh × len / duration (flat) or the profile. */
int schedule_rate(const struct schedule_input *in, size_t i, int64_t start_ms, int64_t len_ms,
                  int use_profile, struct schedule_window *w);

/* Sorts best first: lowest grams when by_grams, else lowest mean; ties go to the earliest
 * start, then to the first series. */
void schedule_sort(struct schedule_window *w, size_t n, int by_grams);

/* Greedy choice from sorted candidates: out[0..taken) are already chosen; appends windows
 * in order, skipping any that overlaps one already chosen in the same series (different
 * series may overlap in time) and, unless only_series is SIZE_MAX, any of another series,
 * until out holds k. Returns the new count. */
size_t schedule_pick(const struct schedule_window *sorted, size_t n, size_t only_series,
                     struct schedule_window *out, size_t taken, size_t k);

/* The earliest candidate (ties: first series) whose intensity at its start is below
 * max_g; returns its index, or n when none. */
size_t schedule_first_below(const struct schedule_input *in, const struct schedule_window *w,
                            size_t n, double max_g);

#endif
