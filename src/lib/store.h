/* The run store (see wattprof.h): a handle with its error message, and the operations
 * of one storage backend behind a table (SQLite in store_sqlite.c; a server database can
 * be added beside it without touching the commands). */
#ifndef WATTPROF_STORE_H
#define WATTPROF_STORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "wattprof.h"

#define STORE_ID_LEN 8 /* lowercase hex characters */
#define STORE_ERRMSG_MAX 1024
#define STORE_FLUSH_MS_DEFAULT 5000

/* What a run records when it starts (the runs row, complete = 0). Strings borrowed. */
struct store_run_start {
    const char *id;
    uint64_t started_at_unix_ms;
    const char *command_json; /* JSON array of argv */
    const char *command_text; /* argv joined by spaces */
    const char *labels_text;  /* "k=v,k2=v2" */
    const char *const *label_keys;
    const char *const *label_values;
    size_t n_labels;
    const char *host_json;     /* the run JSON's host object */
    const char *channels_json; /* [{name, kind, domain, source, provenance, included}] */
    size_t n_channels;
    uint64_t interval_ns;
    const char *hostname;
};

/* One flush: n samples of 1 + n_channels uint64_t (t_ns from the run's start, then each
 * channel's cumulative energy_uj), and the 1 s series buckets completed since the last
 * flush (n_buckets rows of 1 + n_channels: bucket index, mean power_uw per channel). */
struct store_batch {
    const char *id;
    uint64_t seq;
    const uint64_t *samples;
    size_t n_samples;
    const uint64_t *buckets;
    size_t n_buckets;
    size_t n_channels;
    uint64_t duration_ns;            /* so far */
    uint64_t energy_uj;              /* so far, the channels in the total */
    uint64_t dropped;                /* samples lost to ring overflow, cumulative */
    const char *channel_energy_json; /* [energy_j per channel] so far */
};

/* The final state of a run (the runs row is then complete or not, with its JSON). */
struct store_run_end {
    const char *id;
    uint64_t duration_ns;
    uint64_t energy_uj;
    const char *energy_provenance;
    int complete;
    int exit_code;
    double units;
    const char *unit_name;
    double co2e_g; /* the accounting's total_g; NAN (stored NULL) when unknown */
    const char *json;
};

struct store_ops {
    const char *name;
    int (*open)(struct wattprof_store *st, const char *path);
    void (*close)(struct wattprof_store *st);
    int (*run_begin)(struct wattprof_store *st, const struct store_run_start *r);
    int (*write_batch)(struct wattprof_store *st, const struct store_batch *b);
    int (*run_end)(struct wattprof_store *st, const struct store_run_end *r);
    int (*list)(struct wattprof_store *st, const struct wattprof_list_filter *f,
                struct wattprof_run_row **rows, size_t *n);
    int (*resolve)(struct wattprof_store *st, const char *prefix, char id[16]);
    int (*run_json)(struct wattprof_store *st, const char *id, char **json);
    int (*series_json)(struct wattprof_store *st, const char *id, char **json);
    int (*labels_json)(struct wattprof_store *st, const char *id, char **json);
    int (*power_json)(struct wattprof_store *st, const char *id, unsigned max_points, char **json);
    int (*trace)(struct wattprof_store *st, const char *id, char **text);
    int (*delete_run)(struct wattprof_store *st, const char *id);
    int (*gc)(struct wattprof_store *st, uint64_t before_unix_ms, uint64_t *runs_pruned);
    int (*save_study)(struct wattprof_store *st, const char *id, const char *name,
                      uint64_t started_at_unix_ms, const char *json);
    int (*resolve_study)(struct wattprof_store *st, const char *prefix, char id[16]);
    int (*study_json)(struct wattprof_store *st, const char *id, char **json);
};

struct wattprof_store {
    const struct store_ops *ops;
    void *priv; /* the backend's state */
    char path[PATH_MAX];
    char errmsg[STORE_ERRMSG_MAX];
    unsigned flush_ms;  /* how often a running session writes its samples */
    int create_parents; /* the default path: its directories are made (0700) */
};

extern const struct store_ops store_sqlite_ops;

/* Formats st->errmsg and returns err. */
int store_errorf(struct wattprof_store *st, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A new random id: 8 lowercase hex characters from getrandom(2). Returns 0 or -errno. */
int store_new_id(char id[16]);

/* Packs n uint64_t little-endian into out (8 * n bytes), and back. */
void store_pack_le(unsigned char *out, const uint64_t *v, size_t n);
uint64_t store_get_le(const unsigned char *p);

#endif
