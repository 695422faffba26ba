/* A session: one measured run on a context's open sensors (see wattprof.h). Internal
 * layout shared by session.c (measuring, the result) and session_json.c (the JSON). */
#ifndef WATTPROF_SESSION_H
#define WATTPROF_SESSION_H

#include "ctx.h"
#include "host.h"
#include "procstat.h"
#include "sampler.h"
#include "wattprof.h"

#define SESSION_DETAIL_MAX 192
#define SESSION_NAME_MAX 65 /* window, metric and tag names: 64 bytes + NUL */
#define SESSION_MAX_METRICS 64
#define SESSION_MAX_LABELS 64
#define SESSION_LABEL_VALUE_MAX 256

struct session_label {
    char key[SESSION_NAME_MAX];
    char value[SESSION_LABEL_VALUE_MAX];
};

struct session_metric {
    char name[SESSION_NAME_MAX];
    double value;
};

/* The state at one edge of a window: counters read at that instant. */
struct session_edge {
    uint64_t t_ns;
    uint64_t machine_busy_ticks;
    uint64_t workload_cpu_ns;
    uint64_t *energy_uj;     /* per sampler channel */
    uint64_t *attributed_uj; /* per sampler channel (device shares) */
};

struct session_window {
    char name[SESSION_NAME_MAX];
    char tag[SESSION_NAME_MAX]; /* the control protocol's handle, "" from the C API */
    int ended;
    struct session_edge start;
    struct session_edge end;
    double units;
    char unit_name[64];
    size_t n_metrics;
    struct session_metric metrics[SESSION_MAX_METRICS];
};

struct session_control; /* control.c */
struct session_flusher; /* session_store.c */

struct wattprof_session {
    struct wattprof_ctx *ctx; /* borrowed */
    uint64_t interval_ns;
    struct sampler *sp; /* heap: large */
    struct sensor *active[SAMPLER_MAX_SENSORS];
    size_t n_active;
    int started;
    int stopped;

    int stat_fd; /* <proc_root>/stat, kept open */
    int have_cpu;
    struct procstat_cpu cpu_start;
    struct procstat_cpu cpu_end;
    uint64_t started_at_unix_ms;

    int idle_measured;
    uint64_t idle_channel_uw[SAMPLER_MAX_CHANNELS]; /* per channel, same order */
    int have_workload_cpu;
    uint64_t workload_cpu_ns;

    int argc;
    char **argv;
    int exit_code;
    int complete;
    double units;
    char unit_name[64];
    struct host_info host;

    /* Windows and metrics; guarded by wlock (the control server adds them from its
     * thread). */
    pthread_mutex_t wlock;
    struct session_window **windows;
    size_t n_windows;
    size_t cap_windows;
    struct session_metric run_metrics[SESSION_MAX_METRICS];
    size_t n_run_metrics;
    int workload_pid; /* root of the tracked tree, 0: this process is the workload */
    struct session_control *control;
    unsigned long protocol_errors;

    /* The store (session_store.c): borrowed handle, the run's id once recorded ("" when
     * not stored), labels, and the thread that writes the samples while the run goes on. */
    struct wattprof_store *store;
    char id[16];
    struct session_label labels[SESSION_MAX_LABELS];
    size_t n_labels;
    struct session_flusher *flusher;

    struct wattprof_channel_result channels[SAMPLER_MAX_CHANNELS];
    char details[SAMPLER_MAX_CHANNELS][SESSION_DETAIL_MAX];
    char warnings[2048];
    struct wattprof_result result;
    int have_result;
    struct wattprof_window_result *window_results; /* n_windows, after stop */
    struct wattprof_metric *metric_results;        /* all metrics, flat, after stop */

    /* Accounting (session_accounting.c): the resolved settings, and for an intensity
     * series the run's (t_unix_ms, cumulative µJ of the total) every second, appended by
     * the flusher thread while running, read after it is joined. */
    struct accounting_plan plan;
    int have_plan;
    int64_t *tl_ms;
    uint64_t *tl_uj;
    size_t tl_n, tl_cap;
    int series_done;
    double series_g;
};

/* Windows (session_window.c). */
int session_window_find_tag(struct wattprof_session *s, const char *tag, uint64_t *id);
int session_window_begin_tagged(struct wattprof_session *s, const char *name, const char *tag,
                                uint64_t *id);
int session_name_valid(const char *name);
void session_windows_close_all(struct wattprof_session *s);
int session_windows_results(struct wattprof_session *s);
void session_windows_free(struct wattprof_session *s);
/* The store (session_store.c). start: records the run (before the sampler starts; a
 * failure becomes a warning, the run goes on unstored). stop: the last flush, after the
 * sampler stopped. finish: the final row and JSON, after the result exists (again when
 * the exit status or units change). */
int session_store_start(struct wattprof_session *s);
void session_store_stop(struct wattprof_session *s);
void session_store_finish(struct wattprof_session *s);
void session_store_free(struct wattprof_session *s);
/* The host object of the run JSON alone (session_json.c); malloc'd, NULL on ENOMEM. */
char *session_host_json(const struct wattprof_session *s);

/* Accounting (session_accounting.c). start: resolves the settings (-EINVAL named in
 * errmsg). compute: the run's and windows' accounting, after the results exist. */
int session_accounting_start(struct wattprof_session *s);
void session_accounting_compute(struct wattprof_session *s);
void session_accounting_free(struct wattprof_session *s);
void session_timeline_append(struct wattprof_session *s, int64_t t_unix_ms, uint64_t energy_uj);

void session_warnf(struct wattprof_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
