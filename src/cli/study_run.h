/* The runs of a study and what is computed from them (cmd_bench.c runs them,
 * study_run.c measures one, study_report.c analyses and prints, study_json.c writes
 * "wattprof.study/1"). */
#ifndef WATTPROF_STUDY_RUN_H
#define WATTPROF_STUDY_RUN_H

#include <stdio.h>

#include "stats.h"
#include "study.h"

#define STUDY_RUN_MAX_METRICS 8

struct wattprof_ctx;
struct wattprof_store;

/* One run of a variant, measured as `wattprof run` measures. */
struct study_run {
    size_t variant;
    unsigned index; /* 1, 2, ... per variant; warm-up runs count apart */
    int warmup;
    double duration_s, energy_j, dynamic_energy_j; /* dynamic: minus the idle power */
    double units, co2e_g, quality;                 /* NAN when not known */
    int exit_code;
    int outlier; /* energy per unit beyond median ± 3 scaled MADs of its variant (flag only) */
    char id[32]; /* the stored run's id, "" when not stored */
    char excluded[STUDY_ERR_SIZE +
                  64]; /* why the run is left out of the statistics; "" when it counts */
    size_t n_metrics;
    char metric_names[STUDY_RUN_MAX_METRICS][STUDY_NAME_SIZE];
    double metric_values[STUDY_RUN_MAX_METRICS];
};

/* The quantities summarised per variant. */
enum study_quantity { SQ_DURATION, SQ_ENERGY, SQ_EPU, SQ_TPU, SQ_CO2PU, SQ_QUALITY, SQ_COUNT };

struct study_variant_result {
    char name[STUDY_MAX_KEYS * (STUDY_NAME_SIZE + STUDY_VALUE_SIZE + 2)];
    size_t attempts;
    size_t outliers; /* runs flagged as outliers (still counted) */
    struct stats_summary s[SQ_COUNT];
    int meets_quality; /* 1 when there is no quality bar */
    int pareto;
};

struct study_comparison {
    size_t variant;
    enum study_quantity quantity;
    struct stats_compare c;
    double p_holm;
    const char *verdict; /* "better", "worse", "no-difference" */
};

struct study_results {
    const struct study *st;
    uint64_t seed;
    double noise;        /* --noise-threshold, relative */
    double eta;          /* --eta: the weight of time against energy, 0..1 (0: energy only) */
    double idle_power_w; /* NAN when not measured */
    size_t n_variants, baseline;
    struct study_run *runs; /* in the executed order, warm-ups included */
    size_t n_runs, cap;
    struct study_variant_result v[STUDY_MAX_VARIANTS];
    struct study_comparison cmp[2 * STUDY_MAX_VARIANTS];
    size_t n_cmp;
    long recommended; /* variant index, -1 when none */
    char reason[1024];
    int interrupted;
};

/* What study_run_one needs besides the study. */
struct study_runner {
    struct wattprof_ctx *ctx;     /* sensors open */
    struct wattprof_store *store; /* NULL: runs not stored */
    unsigned interval_ms;
};

/* Measures one run of variant v into *out (a session, its labels, the command, the
 * timeout). Returns 0 (the run happened, maybe failed: see out->excluded), or -1 when
 * the measurement itself failed (message printed). */
int study_run_one(const struct study_runner *rn, const struct study *st, size_t v, unsigned index,
                  int warmup, struct study_run *out);
/* Measures the idle power for st->idle_baseline_s seconds; NAN on failure (printed). */
double study_idle_power(const struct study_runner *rn, double seconds);
/* Installs the SIGINT/SIGTERM handler: the running workload's group is killed and
 * study_interrupted() turns true. */
void study_install_signals(void);
int study_interrupted(void);

/* The samples of a quantity for variant v: runs that count, in order. Returns n. */
size_t study_samples(const struct study_results *r, size_t v, enum study_quantity q, double *out);
/* Fills the summaries, comparisons, Pareto front and recommendation. */
void study_analyze(struct study_results *r);
const char *study_quantity_name(enum study_quantity q);
void study_print_text(FILE *f, const struct study_results *r);
void study_print_json(FILE *f, const struct study_results *r);
/* The --dry-run estimate of duration and energy from the stored runs of the same study
 * (store may be NULL): "estimate ...", or "no estimate (no earlier runs)". */
void study_print_estimate(FILE *f, const struct study *st, struct wattprof_store *store);

#endif
