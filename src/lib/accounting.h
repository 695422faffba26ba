/* Carbon, cost and SCI accounting (docs/accounting.md): the settings as given, their
 * resolution against the data files in data/carbon/ at session start, and the arithmetic
 * for a run or a window. */
#ifndef WATTPROF_ACCOUNTING_H
#define WATTPROF_ACCOUNTING_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "wattprof.h"

#define ACCOUNTING_TEXT 256

/* The settings as given to wattprof_ctx_set(); "" when not set. */
struct accounting_settings {
    char country[16];
    char region[64];
    char cloud[96];
    char pue[32];
    char intensity[32];
    char series[PATH_MAX];
    char price[32];
    char currency[16];
    char embodied_kg[32];
};

struct intensity_series;

/* What the settings resolved to; owned by the session. */
struct accounting_plan {
    double pue;
    char pue_source[ACCOUNTING_TEXT];
    double intensity; /* g/kWh; for a series, the mean is known only after the run */
    char intensity_kind[16];
    char intensity_source[ACCOUNTING_TEXT];
    char location[128];
    int world_default;
    double price; /* NAN when none */
    char currency[8];
    double server_kg, gpu_kg, lifetime_s;
    char embodied_source[ACCOUNTING_TEXT];
    char country_iso[8];
    char country_name[64];
    char region[64];
    char cloud_provider[16];
    char cloud_region[64];
    struct intensity_series *series; /* NULL without --intensity-series */
};

/* The table a setting key belongs to: its buffer in set, or NULL when key is not one of
 * the accounting settings. */
char *accounting_setting(struct accounting_settings *set, const char *key, size_t *size);

/* Checks the settings and reads the data files of data_dir/carbon. Returns 0 or -EINVAL
 * (-ENOENT, -EIO for data files) with a one-line message in err naming the setting, or
 * the file and line. *warn receives a warning to show ("" when none). */
int accounting_resolve(const struct accounting_settings *set, const char *data_dir,
                       struct accounting_plan *p, char *err, size_t errsize, char *warn,
                       size_t warnsize);
void accounting_plan_release(struct accounting_plan *p);

/* The inputs of one run or window. series_g is the IT energy's grams from the intensity
 * series (NAN: use the plan's intensity). */
struct accounting_input {
    uint64_t energy_uj;
    uint64_t duration_ns;
    double cpu_share;
    size_t n_gpus;
    double units;
    double series_g;
};
void accounting_compute(const struct accounting_plan *p, const struct accounting_input *in,
                        struct wattprof_accounting *out);

/* Grams of the IT energy of the samples (t_unix_ms, cumulative µJ) under the plan's
 * series; NAN without a series or when integration fails (note in cov_note). */
double accounting_series_grams(const struct accounting_plan *p, const int64_t *t_unix_ms,
                               const uint64_t *energy_uj, size_t n, char *note, size_t notesize);

/* Edit distance of two short strings, case-insensitive (close matches in messages). */
size_t accounting_distance(const char *a, const char *b);

#endif
