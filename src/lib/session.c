/* A session measures one run: it starts the sampler on the context's sensors, reads the
 * machine's CPU time at both ends, and turns the channels' totals into the result
 * (the non-overlapping total, attribution, idle and dynamic energy, warnings). */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "replay.h"

#define NS_PER_S 1000000000ull
/* A run this long with a busy CPU must move any working energy counter. */
#define SESSION_DEAD_COUNTER_MIN_NS (200ull * 1000 * 1000)

WATTPROF_API int wattprof_session_new(struct wattprof_ctx *ctx, struct wattprof_session **out)
{
    *out = NULL;
    if (!ctx->opened)
        return ctx_errorf(ctx, -EINVAL, "open the sensors before creating a session");
    struct wattprof_session *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->sp = calloc(1, sizeof(*s->sp));
    if (!s->sp) {
        free(s);
        return -ENOMEM;
    }
    pthread_mutex_init(&s->wlock, NULL);
    s->ctx = ctx;
    s->interval_ns = 100ull * 1000 * 1000;
    s->stat_fd = -1;
    s->complete = 1;
    s->n_active = sensors_active(&ctx->sensors, s->active, SAMPLER_MAX_SENSORS);
    *out = s;
    return 0;
}

WATTPROF_API void wattprof_session_free(struct wattprof_session *s)
{
    if (!s)
        return;
    if (s->started && !s->stopped)
        wattprof_session_stop(s);
    wattprof_session_control_stop(s);
    session_store_free(s);
    if (s->started)
        sampler_release(s->sp);
    session_windows_free(s);
    session_accounting_free(s);
    pthread_mutex_destroy(&s->wlock);
    if (s->stat_fd >= 0)
        close(s->stat_fd);
    for (int i = 0; i < s->argc; i++)
        free(s->argv[i]);
    free(s->argv);
    free(s->sp);
    free(s);
}

WATTPROF_API int wattprof_session_set_interval_ms(struct wattprof_session *s, unsigned ms)
{
    if (ms == 0 || s->started)
        return ctx_errorf(s->ctx, -EINVAL, "the interval must be > 0 ms, set before start");
    s->interval_ns = (uint64_t)ms * 1000 * 1000;
    return 0;
}

/* Returns 0, or -EINTR when a signal handler ran: the caller decides whether to stop. */
static int sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S) };
    return nanosleep(&ts, &ts) < 0 ? -errno : 0;
}

WATTPROF_API int wattprof_session_idle_baseline(struct wattprof_session *s, unsigned ms)
{
    if (s->started)
        return ctx_errorf(s->ctx, -EBUSY, "the idle baseline is measured before start");
    struct sampler *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return -ENOMEM;
    int r = sampler_init(sp, s->active, s->n_active, s->interval_ns);
    if (r == 0)
        r = sampler_start(sp);
    if (r == 0) {
        r = sleep_ns((uint64_t)ms * 1000 * 1000);
        sampler_stop(sp);
        uint64_t dt = sp->last_t_ns - sp->start_t_ns;
        for (size_t i = 0; r == 0 && dt > 0 && i < sp->n_channels; i++)
            s->idle_channel_uw[i] =
                (uint64_t)((sampler_u128)sp->channels[i].energy_uj * NS_PER_S / dt);
        s->idle_measured = r == 0 && dt > 0;
    }
    sampler_release(sp);
    free(sp);
    if (r == -EINTR)
        return ctx_errorf(s->ctx, r, "interrupted while measuring the idle baseline");
    return r < 0 ? ctx_errorf(s->ctx, r, "cannot measure the idle baseline: %s", strerror(-r)) : 0;
}

static void read_cpu(struct wattprof_session *s, struct procstat_cpu *out)
{
    if (s->stat_fd < 0) {
        char path[PATH_MAX + 8];
        snprintf(path, sizeof(path), "%s/stat", s->ctx->proc_root);
        s->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (s->stat_fd < 0 || procstat_read_fd(s->stat_fd, out) < 0)
        s->have_cpu = 0;
}

WATTPROF_API int wattprof_session_start(struct wattprof_session *s)
{
    if (s->started)
        return ctx_errorf(s->ctx, -EBUSY, "the session was already started");
    if (!s->have_plan) {
        int a = session_accounting_start(s);
        if (a < 0)
            return a;
    }
    host_read(s->ctx->proc_root, &s->host);
    int r = sampler_init(s->sp, s->active, s->n_active, s->interval_ns);
    if (r < 0)
        return ctx_errorf(s->ctx, r, "too many sensors or channels");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    s->started_at_unix_ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
    s->have_cpu = 1;
    read_cpu(s, &s->cpu_start);
    session_timeline_append(s, (int64_t)s->started_at_unix_ms, 0); /* before the flusher */
    r = session_store_start(s);
    if (r < 0)
        return ctx_errorf(s->ctx, r, "out of memory for the store's buffers");
    s->started = 1;
    r = sampler_start(s->sp);
    if (r < 0)
        return ctx_errorf(s->ctx, r, "cannot start the sampler: %s", strerror(-r));
    return 0;
}

/* Fills the per-channel results from the sampler. */
static void collect_channels(struct wattprof_session *s)
{
    const struct sampler *sp = s->sp;
    for (size_t i = 0; i < sp->n_channels; i++) {
        const struct sampler_channel *c = &sp->channels[i];
        struct wattprof_channel_result *r = &s->channels[i];
        memset(r, 0, sizeof(*r));
        ctx_channel_info(c->sensor, c->ch, &r->info);
        r->energy_uj = c->energy_uj;
        uint64_t end = c->lost ? c->lost_t_ns : c->last_t_ns;
        uint64_t dt = end > c->first_t_ns ? end - c->first_t_ns : 0;
        r->avg_power_uw = dt ? (uint64_t)((sampler_u128)c->energy_uj * NS_PER_S / dt) : 0;
        r->peak_power_uw = c->peak_power_uw;
        r->wraps = c->wraps;
        r->resets = c->resets;
        r->anomalies = c->anomalies;
        r->rejected_uj = c->rejected_uj;
        r->status = c->lost ? "lost" : "ok";
        s->details[i][0] = '\0';
        r->status_detail = s->details[i];
    }
}

static void report_channel_problems(struct wattprof_session *s)
{
    const struct sampler *sp = s->sp;
    for (size_t i = 0; i < sp->n_channels; i++) {
        const struct sampler_channel *c = &sp->channels[i];
        if (c->lost) {
            double at = (double)(c->lost_t_ns - sp->start_t_ns) / 1e9;
            snprintf(s->details[i], SESSION_DETAIL_MAX,
                     "stopped reading %.3f s into the run (%s); energy up to then is kept", at,
                     strerror(-c->lost_err));
            session_warnf(s, "%s: %s", c->ch->name, s->details[i]);
        }
        if (c->anomalies)
            session_warnf(s, "%s: %llu impossible reading(s) rejected (%.6f J not counted)",
                          c->ch->name, (unsigned long long)c->anomalies,
                          (double)c->rejected_uj / 1e6);
        if (c->resets)
            session_warnf(s, "%s: the counter restarted %llu time(s) (driver reload or resume)",
                          c->ch->name, (unsigned long long)c->resets);
    }
}

/* A measured counter that stays at zero while the CPU is busy is not working (seen in
 * VMs): it leaves the total, and the model, if present, takes its place. */
static void drop_dead_counters(struct wattprof_session *s, uint64_t duration_ns,
                               uint64_t machine_cpu_ns)
{
    size_t n = s->sp->n_channels, measured = 0, moved = 0, models = 0;
    for (size_t i = 0; i < n; i++) {
        const struct wattprof_channel_result *r = &s->channels[i];
        if (strcmp(r->info.provenance, "estimated") == 0) {
            models++;
        } else if (r->info.included_in_total) {
            measured++;
            moved += r->energy_uj > 0 || s->sp->channels[i].raw_total > 0;
        }
    }
    if (measured == 0 || moved > 0 || duration_ns < SESSION_DEAD_COUNTER_MIN_NS ||
        machine_cpu_ns == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        struct wattprof_channel_result *r = &s->channels[i];
        if (strcmp(r->info.provenance, "estimated") == 0) {
            r->info.included_in_total = 1;
        } else if (r->info.included_in_total) {
            r->info.included_in_total = 0;
            r->status = "not working";
            snprintf(s->details[i], SESSION_DETAIL_MAX,
                     "stayed at zero while the CPU was busy; not counted");
        }
    }
    session_warnf(s, "measured counters stayed at zero while the CPU was busy: %s",
                  models ? "the total is the model's estimate" : "no total can be given");
}

/* Was this backend asked for by name (--meter, --ptd, --hwmon; rapl-msr is opt-in, so
 * tried only when named)? */
static int requested(const struct sensor_config *cfg, const char *name)
{
    return strcmp(name, "rapl-msr") == 0 || (strcmp(name, "meter") == 0 && cfg->meter_cmd) ||
           (strcmp(name, "ptd") == 0 && cfg->ptd_addr) ||
           (strcmp(name, "hwmon") == 0 && cfg->hwmon) ||
           (strcmp(name, "replay") == 0 && cfg->replay_path);
}

/* A backend that exists but cannot be read, or that the user asked for and that failed,
 * is never silent: the figures may then be estimates while real counters are there
 * (energy_uj is root-only since Linux 5.10). Absent hardware (-ENODEV) is not news. */
static void report_unreadable_backends(struct wattprof_session *s)
{
    const struct sensors *set = &s->ctx->sensors;
    for (size_t i = 0; i < set->n; i++) {
        const struct sensors_entry *e = &set->entries[i];
        if (e->skipped || !e->sensor || e->status == 0)
            continue;
        if (e->status != -ENODEV || requested(&s->ctx->cfg, e->ops->name))
            session_warnf(s, "%s not used: %s", e->ops->name, e->sensor->errmsg);
    }
}

/* A replayed trace is the total (sensors.c): say so, and say when the run outlasted it. */
static void report_replay(struct wattprof_session *s)
{
    const struct sensors *set = &s->ctx->sensors;
    for (size_t i = 0; i < set->n; i++) {
        const struct sensors_entry *e = &set->entries[i];
        uint64_t end_ns, elapsed_ns;
        if (e->skipped || e->status != 0 || !e->sensor ||
            !replay_sensor_times(e->sensor, &end_ns, &elapsed_ns))
            continue;
        session_warnf(s,
                      "the total is a replayed trace (%s), not a live measurement; live "
                      "channels are listed but not included",
                      s->ctx->replay_path);
        if (elapsed_ns > end_ns)
            session_warnf(s,
                          "the replayed trace ended at %.3f s (%.3f s after its first "
                          "read): its channels held their last values after that",
                          (double)end_ns / 1e9, (double)elapsed_ns / 1e9);
    }
}

static const char *total_provenance(const struct wattprof_session *s)
{
    const char *p = NULL;
    for (size_t i = 0; i < s->sp->n_channels; i++) {
        const struct wattprof_channel_result *r = &s->channels[i];
        if (!r->info.included_in_total)
            continue;
        if (p && strcmp(p, r->info.provenance) != 0)
            return "mixed";
        p = r->info.provenance;
    }
    return p ? p : "none";
}

static void cpu_share(struct wattprof_session *s, struct wattprof_result *res)
{
    res->workload_cpu_ns = s->have_workload_cpu ? s->workload_cpu_ns : res->machine_cpu_ns;
    if (res->machine_cpu_ns > 0)
        res->cpu_share = (double)res->workload_cpu_ns / (double)res->machine_cpu_ns;
    else
        res->cpu_share = res->workload_cpu_ns > 0 ? 1.0 : 0.0;
    if (res->cpu_share > 1.0)
        res->cpu_share = 1.0; /* /proc/stat counts in ticks: short runs round down */
}

/* Idle and attributed energy per channel, then their sums over the total's channels.
 * A device that knows the tree's share of it (GPUs) uses that share; every other
 * channel uses the tree's CPU-time share. The idle part is never attributed. */
static void attribute(struct wattprof_session *s, struct wattprof_result *res)
{
    cpu_share(s, res);
    res->idle_measured = s->idle_measured;
    for (size_t i = 0; i < s->sp->n_channels; i++) {
        struct wattprof_channel_result *r = &s->channels[i];
        const struct sampler_channel *c = &s->sp->channels[i];
        uint64_t idle = 0;
        if (s->idle_measured) {
            r->idle_power_uw = s->idle_channel_uw[i];
            sampler_u128 e = (sampler_u128)r->idle_power_uw * res->duration_ns / NS_PER_S;
            idle = e > r->energy_uj ? r->energy_uj : (uint64_t)e;
        }
        uint64_t dynamic = r->energy_uj - idle;
        if (c->ch->has_share) {
            uint64_t a = c->attributed_uj > r->energy_uj ? r->energy_uj : c->attributed_uj;
            r->attributed_uj =
                r->energy_uj ? (uint64_t)((sampler_u128)a * dynamic / r->energy_uj) : 0;
            r->attribution = "device share of the process tree";
        } else {
            r->attributed_uj = (uint64_t)((double)dynamic * res->cpu_share);
            r->attribution = "cpu-time share of the process tree";
        }
        if (r->attributed_uj > dynamic)
            r->attributed_uj = dynamic;
        if (!r->info.included_in_total)
            continue;
        res->idle_power_uw += r->idle_power_uw;
        res->idle_energy_uj += idle;
        res->attributed_uj += r->attributed_uj;
    }
    res->dynamic_energy_uj = res->energy_uj - res->idle_energy_uj;
}

/* The node total: a channel that covers the whole node (wall meter, BMC), measured
 * before integrated, first in priority order. Never added to the component sum. */
static void node_total(struct wattprof_session *s, struct wattprof_result *res)
{
    const struct wattprof_channel_result *best = NULL;
    for (size_t i = 0; i < s->sp->n_channels; i++) {
        const struct wattprof_channel_result *r = &s->channels[i];
        if (!r->info.node_scope || strcmp(r->status, "ok") != 0)
            continue;
        if (!best || (strcmp(r->info.provenance, "measured") == 0 &&
                      strcmp(best->info.provenance, "measured") != 0))
            best = r;
    }
    if (!best)
        return;
    res->has_node = 1;
    res->node_energy_uj = best->energy_uj;
    res->node_channel = best->info.name;
    res->node_provenance = best->info.provenance;
}

static void compute_result(struct wattprof_session *s)
{
    struct wattprof_result *res = &s->result;
    memset(res, 0, sizeof(*res));
    res->started_at_unix_ms = s->started_at_unix_ms;
    res->duration_ns = s->sp->last_t_ns - s->sp->start_t_ns;
    if (s->have_cpu && s->cpu_end.busy_ticks >= s->cpu_start.busy_ticks)
        res->machine_cpu_ns = procstat_ticks_to_ns(s->cpu_end.busy_ticks - s->cpu_start.busy_ticks);
    collect_channels(s);
    drop_dead_counters(s, res->duration_ns, res->machine_cpu_ns);
    report_channel_problems(s);
    report_unreadable_backends(s);
    report_replay(s);
    for (size_t i = 0; i < s->sp->n_channels; i++)
        if (s->channels[i].info.included_in_total)
            res->energy_uj += s->channels[i].energy_uj;
    res->total_provenance = total_provenance(s);
    attribute(s, res);
    node_total(s, res);
    res->exit_code = s->exit_code;
    res->complete = s->complete;
    res->units = s->units;
    res->unit_name = s->unit_name[0] ? s->unit_name : NULL;
    res->n_channels = s->sp->n_channels;
    res->channels = s->channels;
    res->warnings = s->warnings;
    s->have_result = 1;
}

WATTPROF_API int wattprof_session_stop(struct wattprof_session *s)
{
    if (!s->started || s->stopped)
        return ctx_errorf(s->ctx, -EALREADY, "the session is not running");
    wattprof_session_control_stop(s);
    sampler_stop(s->sp);
    session_store_stop(s);
    read_cpu(s, &s->cpu_end);
    s->stopped = 1;
    session_windows_close_all(s);
    compute_result(s);
    if (session_windows_results(s) < 0)
        return ctx_errorf(s->ctx, -ENOMEM, "out of memory for the window results");
    if (s->protocol_errors)
        session_warnf(s, "%lu control message(s) could not be understood and were ignored",
                      s->protocol_errors);
    session_accounting_compute(s);
    session_store_finish(s);
    return 0;
}

WATTPROF_API int wattprof_session_set_command(struct wattprof_session *s, int argc,
                                              char *const argv[])
{
    char **v = calloc((size_t)argc + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (int i = 0; i < argc; i++) {
        v[i] = strdup(argv[i]);
        if (!v[i]) {
            for (int k = 0; k < i; k++)
                free(v[k]);
            free(v);
            return -ENOMEM;
        }
    }
    for (int i = 0; i < s->argc; i++)
        free(s->argv[i]);
    free(s->argv);
    s->argv = v;
    s->argc = argc;
    return 0;
}

WATTPROF_API int wattprof_session_set_exit(struct wattprof_session *s, int exit_code, int complete)
{
    s->exit_code = exit_code;
    s->complete = complete ? 1 : 0;
    if (s->have_result) {
        s->result.exit_code = s->exit_code;
        s->result.complete = s->complete;
        session_store_finish(s);
    }
    return 0;
}

WATTPROF_API int wattprof_session_set_units(struct wattprof_session *s, double units,
                                            const char *name)
{
    if (!(units > 0) || units > 1e18)
        return ctx_errorf(s->ctx, -EINVAL, "units must be a positive number");
    s->units = units;
    snprintf(s->unit_name, sizeof(s->unit_name), "%s", name && *name ? name : "units");
    if (s->have_result) {
        s->result.units = s->units;
        s->result.unit_name = s->unit_name;
        session_accounting_compute(s);
        session_store_finish(s);
    }
    return 0;
}

WATTPROF_API int wattprof_session_set_workload_cpu_ns(struct wattprof_session *s, uint64_t cpu_ns)
{
    if (s->stopped)
        return ctx_errorf(s->ctx, -EINVAL, "set the workload's CPU time before stop");
    s->have_workload_cpu = 1;
    s->workload_cpu_ns = cpu_ns;
    return 0;
}

WATTPROF_API int wattprof_session_set_workload_pid(struct wattprof_session *s, int pid)
{
    if (pid < 0)
        return ctx_errorf(s->ctx, -EINVAL, "invalid process id %d", pid);
    s->workload_pid = pid;
    for (size_t i = 0; i < s->n_active; i++)
        atomic_store(&s->active[i]->workload_pid, pid);
    return 0;
}

WATTPROF_API const struct wattprof_result *wattprof_session_result(const struct wattprof_session *s)
{
    return s->have_result ? &s->result : NULL;
}
