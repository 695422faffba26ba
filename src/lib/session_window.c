/* Windows and metrics of a session: named intervals whose edges read every counter at
 * that instant, their units of work and metrics, and their results at the end of the
 * run (energy per channel, attributed energy, energy per unit). */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000ull

void session_warnf(struct wattprof_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sensor_vappend_line(s->warnings, sizeof(s->warnings), fmt, ap);
    va_end(ap);
}

int session_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= SESSION_NAME_MAX)
        return 0;
    for (const char *p = name; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 strchr("_.:/-", *p);
        if (!ok)
            return 0;
    }
    return 1;
}

static uint64_t rusage_ns(const struct rusage *ru)
{
    return (uint64_t)ru->ru_utime.tv_sec * NS_PER_S + (uint64_t)ru->ru_utime.tv_usec * 1000 +
           (uint64_t)ru->ru_stime.tv_sec * NS_PER_S + (uint64_t)ru->ru_stime.tv_usec * 1000;
}

/* utime + stime + cutime + cstime of one process from <proc>/<pid>/stat, and its parent. */
static int proc_stat_cpu(const char *proc_root, const char *pid, int *ppid, uint64_t *ticks)
{
    char path[PATH_MAX + 300], buf[1024];
    snprintf(path, sizeof(path), "%s/%s/stat", proc_root, pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut, st, cut, cst;
    if (!p || sscanf(p + 2, "%*c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu %llu %llu", ppid,
                     &ut, &st, &cut, &cst) != 5)
        return -1;
    *ticks = ut + st + cut + cst;
    return 0;
}

/* CPU time of the live process tree under root, plus what our reaped children used
 * (orphans we reaped as their subreaper). Walks /proc: window edges only. */
static uint64_t tree_cpu_ns(const char *proc_root, int root)
{
    enum { MAX = 16384 };
    int *pids = malloc(MAX * sizeof(int));
    int *ppids = malloc(MAX * sizeof(int));
    uint64_t *ticks = malloc(MAX * sizeof(uint64_t));
    DIR *d = pids && ppids && ticks ? opendir(proc_root) : NULL;
    size_t n = 0;
    for (struct dirent *e; d && n < MAX && (e = readdir(d));) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (pid > 0 && *end == '\0' &&
            proc_stat_cpu(proc_root, e->d_name, &ppids[n], &ticks[n]) == 0)
            pids[n++] = (int)pid;
    }
    if (d)
        closedir(d);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int p = pids[i];
        for (int depth = 0; depth < 64 && p > 1 && p != root; depth++) {
            size_t k = 0;
            while (k < n && pids[k] != p)
                k++;
            p = k < n ? ppids[k] : 0;
        }
        if (p == root)
            total += ticks[i];
    }
    free(pids);
    free(ppids);
    free(ticks);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return procstat_ticks_to_ns(total) + rusage_ns(&ru);
}

/* CPU time of the workload: the tracked tree, or this process and its children. */
static uint64_t workload_cpu_ns(const struct wattprof_session *s)
{
    if (s->workload_pid > 0)
        return tree_cpu_ns(s->ctx->proc_root, s->workload_pid);
    struct timespec ts;
    struct rusage ru;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    getrusage(RUSAGE_CHILDREN, &ru);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec + rusage_ns(&ru);
}

/* Records an edge: every counter read now (read_now), or the sampler's last reading.
 * Returns 0 or -ENOMEM. */
static int take_edge(struct wattprof_session *s, struct session_edge *e, int read_now)
{
    size_t n = s->sp->n_channels;
    if (!e->energy_uj) {
        e->energy_uj = calloc(n ? n : 1, sizeof(uint64_t));
        e->attributed_uj = calloc(n ? n : 1, sizeof(uint64_t));
        if (!e->energy_uj || !e->attributed_uj)
            return -ENOMEM;
    }
    uint64_t t_edge = sensor_now_ns();
    if (read_now)
        sampler_sample(s->sp, 1);
    sampler_lock(s->sp);
    e->t_ns = s->sp->last_t_ns;
    for (size_t i = 0; i < n; i++) {
        e->energy_uj[i] = s->sp->channels[i].energy_uj;
        e->attributed_uj[i] = s->sp->channels[i].attributed_uj;
    }
    /* The machine's busy time as a sensor read it for this edge, or less than one
     * /proc/stat tick before it (the model reads /proc/stat; reading it again costs as
     * much as the rest of the edge, and cannot tell apart instants within a tick), else
     * read now. */
    int have_busy = 0;
    for (size_t i = 0; i < s->sp->n_sensors && !have_busy; i++) {
        const struct sensor *sn = s->sp->sensors[i];
        if (sn->machine_busy_read_ns &&
            sn->machine_busy_read_ns + procstat_ticks_to_ns(1) > t_edge) {
            e->machine_busy_ticks = sn->machine_busy_ticks;
            have_busy = 1;
        }
    }
    sampler_unlock(s->sp);
    struct procstat_cpu cpu = { 0 };
    if (!have_busy && s->stat_fd >= 0 && procstat_read_fd(s->stat_fd, &cpu) == 0)
        e->machine_busy_ticks = cpu.busy_ticks;
    e->workload_cpu_ns = workload_cpu_ns(s);
    return 0;
}

static void free_window(struct session_window *w)
{
    if (!w)
        return;
    free(w->start.energy_uj);
    free(w->start.attributed_uj);
    free(w->end.energy_uj);
    free(w->end.attributed_uj);
    free(w);
}

static int add_window(struct wattprof_session *s, struct session_window *w)
{
    if (s->n_windows == s->cap_windows) {
        size_t cap = s->cap_windows ? s->cap_windows * 2 : 16;
        struct session_window **v = realloc(s->windows, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->windows = v;
        s->cap_windows = cap;
    }
    s->windows[s->n_windows++] = w;
    return 0;
}

int session_window_begin_tagged(struct wattprof_session *s, const char *name, const char *tag,
                                uint64_t *id)
{
    if (!s->started || s->stopped)
        return ctx_errorf(s->ctx, -EINVAL, "windows begin while the session runs");
    if (!session_name_valid(name))
        return ctx_errorf(s->ctx, -EINVAL,
                          "invalid window name '%.80s': 1 to 64 of A-Z a-z 0-9 _ . : / -",
                          name ? name : "");
    struct session_window *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    snprintf(w->name, sizeof(w->name), "%s", name);
    snprintf(w->tag, sizeof(w->tag), "%s", tag ? tag : "");
    pthread_mutex_lock(&s->wlock);
    int r = take_edge(s, &w->start, 1);
    if (r == 0)
        r = add_window(s, w);
    if (r == 0)
        *id = s->n_windows;
    pthread_mutex_unlock(&s->wlock);
    if (r < 0)
        free_window(w);
    return r;
}

WATTPROF_API int wattprof_session_window_begin(struct wattprof_session *s, const char *name,
                                               uint64_t *id)
{
    return session_window_begin_tagged(s, name, NULL, id);
}

int session_window_find_tag(struct wattprof_session *s, const char *tag, uint64_t *id)
{
    pthread_mutex_lock(&s->wlock);
    size_t i = s->n_windows;
    while (i > 0 && strcmp(s->windows[i - 1]->tag, tag) != 0)
        i--;
    pthread_mutex_unlock(&s->wlock);
    *id = i;
    return i > 0 ? 0 : -ENOENT;
}

static struct session_window *window_get(struct wattprof_session *s, uint64_t id)
{
    return id >= 1 && id <= s->n_windows ? s->windows[id - 1] : NULL;
}

WATTPROF_API int wattprof_session_window_end(struct wattprof_session *s, uint64_t id)
{
    pthread_mutex_lock(&s->wlock);
    struct session_window *w = window_get(s, id);
    int r = !w ? -ENOENT : w->ended ? -EALREADY : s->stopped ? -EINVAL : 0;
    if (r == 0)
        r = take_edge(s, &w->end, 1);
    if (r == 0)
        w->ended = 1;
    pthread_mutex_unlock(&s->wlock);
    if (r == -ENOENT)
        return ctx_errorf(s->ctx, r, "no window %llu", (unsigned long long)id);
    if (r == -EALREADY)
        return ctx_errorf(s->ctx, r, "window %llu ('%s') has already ended", (unsigned long long)id,
                          w->name);
    return r;
}

WATTPROF_API int wattprof_session_window_units(struct wattprof_session *s, uint64_t id,
                                               double units, const char *name)
{
    if (!(units > 0) || !isfinite(units))
        return ctx_errorf(s->ctx, -EINVAL, "units must be a finite number > 0");
    if (name && *name && !session_name_valid(name))
        return ctx_errorf(s->ctx, -EINVAL, "invalid unit name '%.80s'", name);
    pthread_mutex_lock(&s->wlock);
    struct session_window *w = window_get(s, id);
    if (w) {
        w->units = units;
        snprintf(w->unit_name, sizeof(w->unit_name), "%s", name && *name ? name : "units");
    }
    pthread_mutex_unlock(&s->wlock);
    return w ? 0 : ctx_errorf(s->ctx, -ENOENT, "no window %llu", (unsigned long long)id);
}

static int set_metric(struct session_metric *m, size_t *n, const char *name, double value)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(m[i].name, name) == 0) {
            m[i].value = value;
            return 0;
        }
    }
    if (*n >= SESSION_MAX_METRICS)
        return -ENOSPC;
    snprintf(m[*n].name, sizeof(m[*n].name), "%s", name);
    m[(*n)++].value = value;
    return 0;
}

WATTPROF_API int wattprof_session_metric(struct wattprof_session *s, uint64_t id, const char *name,
                                         double value)
{
    if (!session_name_valid(name))
        return ctx_errorf(s->ctx, -EINVAL,
                          "invalid metric name '%.80s': 1 to 64 of A-Z a-z 0-9 _ . : / -",
                          name ? name : "");
    if (!isfinite(value))
        return ctx_errorf(s->ctx, -EINVAL, "metric '%s' is not a finite number", name);
    pthread_mutex_lock(&s->wlock);
    struct session_window *w = id ? window_get(s, id) : NULL;
    int r = id && !w ? -ENOENT
            : w      ? set_metric(w->metrics, &w->n_metrics, name, value)
                     : set_metric(s->run_metrics, &s->n_run_metrics, name, value);
    pthread_mutex_unlock(&s->wlock);
    if (r == -ENOENT)
        return ctx_errorf(s->ctx, r, "no window %llu", (unsigned long long)id);
    if (r == -ENOSPC)
        return ctx_errorf(s->ctx, -EINVAL, "more than %d metrics", SESSION_MAX_METRICS);
    return r;
}

/* Windows still open when the run ends close at its end, marked incomplete. Called
 * after the sampler's final read, so the edge is the run's last reading. */
void session_windows_close_all(struct wattprof_session *s)
{
    pthread_mutex_lock(&s->wlock);
    for (size_t i = 0; i < s->n_windows; i++) {
        struct session_window *w = s->windows[i];
        if (w->ended || take_edge(s, &w->end, 0) < 0)
            continue;
        session_warnf(s,
                      "window %zu ('%s') was still open at the end: closed there, marked "
                      "incomplete",
                      i + 1, w->name);
    }
    pthread_mutex_unlock(&s->wlock);
}

void session_windows_free(struct wattprof_session *s)
{
    for (size_t i = 0; i < s->n_windows; i++)
        free_window(s->windows[i]);
    free(s->windows);
    if (s->window_results)
        for (size_t i = 0; i < s->n_windows; i++)
            free((void *)s->window_results[i].channel_uj);
    free(s->window_results);
    free(s->metric_results);
    s->windows = NULL;
    s->window_results = NULL;
    s->metric_results = NULL;
    s->n_windows = 0;
}

/* The tree's CPU-time share between two edges (ticks make short windows coarse). */
static double edge_cpu_share(const struct session_edge *a, const struct session_edge *b)
{
    uint64_t machine = procstat_ticks_to_ns(b->machine_busy_ticks - a->machine_busy_ticks);
    uint64_t work =
        b->workload_cpu_ns > a->workload_cpu_ns ? b->workload_cpu_ns - a->workload_cpu_ns : 0;
    double share = machine ? (double)work / (double)machine : work ? 1.0 : 0.0;
    return share > 1.0 ? 1.0 : share;
}

/* Energy, per-channel energy and attributed energy of one window. */
static int window_energy(struct wattprof_session *s, const struct session_window *w,
                         struct wattprof_window_result *r)
{
    size_t nc = s->sp->n_channels;
    uint64_t *per = calloc(nc ? nc : 1, sizeof(uint64_t));
    if (!per)
        return -ENOMEM;
    double share = edge_cpu_share(&w->start, &w->end);
    uint64_t dt = w->end.t_ns - w->start.t_ns;
    for (size_t c = 0; c < nc; c++) {
        uint64_t d = w->end.energy_uj[c] - w->start.energy_uj[c];
        per[c] = d;
        if (!s->channels[c].info.included_in_total)
            continue;
        uint64_t idle = 0;
        if (s->idle_measured) {
            sampler_u128 e = (sampler_u128)s->idle_channel_uw[c] * dt / NS_PER_S;
            idle = e > d ? d : (uint64_t)e;
        }
        uint64_t dyn = d - idle, a;
        if (s->sp->channels[c].ch->has_share) {
            uint64_t da = w->end.attributed_uj[c] - w->start.attributed_uj[c];
            a = d ? (uint64_t)((sampler_u128)(da > d ? d : da) * dyn / d) : 0;
        } else {
            a = (uint64_t)((double)dyn * share);
        }
        r->energy_uj += d;
        r->attributed_uj += a > dyn ? dyn : a;
    }
    r->n_channels = nc;
    r->channel_uj = per;
    return 0;
}

static const struct wattprof_metric *copy_metrics(struct wattprof_metric *dst,
                                                  const struct session_metric *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i].name = m[i].name;
        dst[i].value = m[i].value;
    }
    return dst;
}

int session_windows_results(struct wattprof_session *s)
{
    size_t nm = s->n_run_metrics;
    for (size_t i = 0; i < s->n_windows; i++)
        nm += s->windows[i]->n_metrics;
    s->window_results = calloc(s->n_windows ? s->n_windows : 1, sizeof(*s->window_results));
    s->metric_results = calloc(nm ? nm : 1, sizeof(*s->metric_results));
    if (!s->window_results || !s->metric_results)
        return -ENOMEM;
    struct wattprof_metric *m = s->metric_results;
    s->result.metrics = copy_metrics(m, s->run_metrics, s->n_run_metrics);
    s->result.n_metrics = s->n_run_metrics;
    m += s->n_run_metrics;
    uint64_t t0 = s->sp->start_t_ns;
    for (size_t i = 0; i < s->n_windows; i++) {
        const struct session_window *w = s->windows[i];
        struct wattprof_window_result *r = &s->window_results[i];
        r->id = i + 1;
        r->name = w->name;
        r->start_ns = w->start.t_ns > t0 ? w->start.t_ns - t0 : 0;
        r->end_ns = w->end.t_ns > t0 ? w->end.t_ns - t0 : 0;
        r->complete = w->ended;
        r->units = w->units;
        r->unit_name = w->unit_name[0] ? w->unit_name : NULL;
        r->metrics = copy_metrics(m, w->metrics, w->n_metrics);
        r->n_metrics = w->n_metrics;
        m += w->n_metrics;
        if (window_energy(s, w, r) < 0)
            return -ENOMEM;
    }
    s->result.windows = s->window_results;
    s->result.n_windows = s->n_windows;
    return 0;
}
