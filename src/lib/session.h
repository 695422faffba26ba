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

    struct wattprof_channel_result channels[SAMPLER_MAX_CHANNELS];
    char details[SAMPLER_MAX_CHANNELS][SESSION_DETAIL_MAX];
    char warnings[2048];
    struct wattprof_result result;
    int have_result;
};

#endif
