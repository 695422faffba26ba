/* A study (`wattprof bench`): its description, read from YAML (study_yaml.c), its
 * variants and run order (study_plan.c). docs/study.md is the reference. */
#ifndef WATTPROF_STUDY_H
#define WATTPROF_STUDY_H

#include <stddef.h>
#include <stdint.h>

#define STUDY_MAX_KEYS 8
#define STUDY_MAX_VALUES 32
#define STUDY_MAX_VARIANTS 64
#define STUDY_MAX_ARGS 256
#define STUDY_VALUE_SIZE 128
#define STUDY_NAME_SIZE 64
#define STUDY_COMMAND_SIZE 4096
#define STUDY_ERR_SIZE 512

enum study_order { STUDY_ORDER_RANDOM_BLOCKS, STUDY_ORDER_ABBA, STUDY_ORDER_SEQUENTIAL };

struct study_key {
    char name[STUDY_NAME_SIZE];
    size_t n_values;
    char values[STUDY_MAX_VALUES][STUDY_VALUE_SIZE];
};

/* Everything the YAML file says; unset numbers hold their defaults (docs/study.md). */
struct study {
    char name[STUDY_VALUE_SIZE];
    char command[STUDY_COMMAND_SIZE];
    int shell;
    size_t n_keys;
    struct study_key keys[STUDY_MAX_KEYS];
    size_t baseline[STUDY_MAX_KEYS]; /* the baseline's value index of each key */
    unsigned rep_min, rep_max;
    double target_ci; /* relative CI half-width that stops a variant early; 0: never */
    unsigned warmup;
    double cooldown_s;
    enum study_order order;
    uint64_t seed;
    int seed_given;
    double idle_baseline_s;
    double units_per_run; /* 0: from the workload's windows */
    char unit_name[STUDY_NAME_SIZE];
    char quality_metric[STUDY_NAME_SIZE];     /* "" when no quality bar */
    double quality_at_least, quality_at_most; /* NAN when not given */
    double timeout_s;                         /* 0: none */
    char quality_regex[256];    /* quality.regex: ERE with one group, on stdout; "" none */
    char metrics_file[1024];    /* quality.metrics_file: JSON {"metric": number}; "" none */
    unsigned long quality_line; /* the YAML line of regex / metrics_file, for messages */
};

/* The quality metric of a run from its captured stdout (quality.regex: the last
 * match's first group) or from the JSON file it wrote (quality.metrics_file). Returns
 * 0 and *value, or -1 with a message naming the key and its YAML line in err.
 * study_metrics.c. */
int study_metric_from_output(const struct study *st, const char *text, double *value, char *err,
                             size_t errsize);
int study_metric_from_file(const struct study *st, double *value, char *err, size_t errsize);

/* Reads and validates a study file into *st (caller storage). Returns 0, or -1 with
 * "FILE:LINE:COLUMN: what is wrong; the fix" in err. Nothing is run. */
int study_parse_file(const char *path, struct study *st, char *err, size_t errsize);
/* The same from text in memory; fname names it in messages. */
int study_parse_text(const char *text, size_t len, const char *fname, struct study *st, char *err,
                     size_t errsize);

/* Number of variants: the product of the matrix keys' value counts. */
size_t study_variant_count(const struct study *st);
/* Index of the baseline variant. */
size_t study_baseline_index(const struct study *st);
/* The value of key k in variant v (borrowed from st). */
const char *study_variant_value(const struct study *st, size_t v, size_t k);
/* The variant's name, "k1=v1,k2=v2" in matrix order. */
void study_variant_name(const struct study *st, size_t v, char *buf, size_t size);

/* The variant's command line: {key} placeholders replaced, then split into argv by
 * study_split (or ["/bin/sh", "-c", line] when shell: true). *argv points into buf.
 * Returns argc, or -1 with a message in err. */
int study_variant_argv(const struct study *st, size_t v, char *buf, size_t size,
                       char *argv[STUDY_MAX_ARGS + 1], char *err, size_t errsize);
/* Substitutes {key} placeholders of line with the variant's values. Returns 0 or -1. */
int study_substitute(const struct study *st, size_t v, char *out, size_t size);
/* Splits a line in place into words: blanks separate; '...' is literal; "..." keeps
 * blanks and takes \" and \\; a backslash outside quotes escapes the next character.
 * No expansion of any kind. Returns the word count, or -1 (unterminated quote, too
 * many words) with a message in err. */
int study_split(char *line, char *argv[STUDY_MAX_ARGS + 1], char *err, size_t errsize);

/* The next block of the schedule: the active variants (active[i] != 0) in the order
 * the mode gives for block number `block` (0-based). random-blocks shuffles them with
 * the PRNG state *rng; abba alternates forward and backward order; sequential holds the
 * first active variant only. Returns the number written to out. */
size_t study_order_block(enum study_order mode, size_t block, const int *active, size_t n,
                         uint64_t *rng, size_t *out);
/* "random-blocks", "abba", "sequential". */
const char *study_order_name(enum study_order mode);

#endif
