/* Per-job attribution in wattprof serve: clients register the root of their process
 * tree with a job id ("register PID JOB"), or a process group ("register -PGID JOB":
 * every process in the group, wherever it is in the tree, even after its leader ended);
 * every walk the daemon gives each live tree or group its
 * share of the machine's busy CPU time (from /proc) times the energy the included
 * channels measured since the last tick. Shares are capped at 1 in total, so attributed
 * energy never exceeds measured energy (docs/daemon.md). */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctx.h"
#include "procstat.h"
#include "sysfs.h"

/* /proc is walked at most this often. Once a second: the walk reads every process's
 * stat file (most of the daemon's CPU with jobs registered), and CPU ticks of 10 ms give
 * a share that is finer over 1 s than over 100 ms; a tree's last second is lost when it
 * ends (docs/daemon.md). */
#define JOBS_PERIOD_NS 1000000000ull
#define JOBS_MAX_PROCS 32768
#define JOBS_GONE_MAX_NS 600000000000ull /* a gone job nobody scrapes is dropped after this */

struct jobs_proc {
    int pid, ppid, pgrp;
    uint64_t ticks; /* utime + stime + cutime + cstime */
    uint64_t start; /* starttime: tells a reused pid apart */
};

static int proc_cmp(const void *a, const void *b)
{
    const struct jobs_proc *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static int read_proc(const char *proc_root, const char *name, struct jobs_proc *p)
{
    char path[PATH_MAX + 300], buf[1024];
    snprintf(path, sizeof(path), "%s/%s/stat", proc_root, name);
    if (sysfs_read_str(path, buf, sizeof(buf)) < 0)
        return -1;
    const char *s = strrchr(buf, ')');
    unsigned long long ut, st, cut, cst, start;
    if (!s || sscanf(s + 2,
                     "%*c %d %d %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu %llu %llu %*s %*s "
                     "%*s %*s %llu",
                     &p->ppid, &p->pgrp, &ut, &st, &cut, &cst, &start) != 7)
        return -1;
    p->pid = atoi(name);
    p->ticks = ut + st + cut + cst;
    p->start = start;
    return 0;
}

/* Every process in <proc_root>, sorted by pid (heap, caller frees); NULL when none. */
static struct jobs_proc *scan_procs(const char *proc_root, size_t *n)
{
    struct jobs_proc *v = malloc(JOBS_MAX_PROCS * sizeof(*v));
    DIR *dir = v ? opendir(proc_root) : NULL;
    *n = 0;
    for (struct dirent *e; dir && *n < JOBS_MAX_PROCS && (e = readdir(dir));)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
            read_proc(proc_root, e->d_name, &v[*n]) == 0)
            (*n)++;
    if (dir)
        closedir(dir);
    if (v)
        qsort(v, *n, sizeof(*v), proc_cmp);
    return v;
}

static const struct jobs_proc *find_proc(const struct jobs_proc *v, size_t n, int pid)
{
    struct jobs_proc key = { .pid = pid };
    return bsearch(&key, v, n, sizeof(*v), proc_cmp);
}

/* A registered root as seen by one scan of /proc (pid < 0: the process group -pid). */
struct jobs_root {
    int pid;
    int found;
    uint64_t start; /* the root's starttime */
    uint64_t ticks; /* CPU ticks of its tree, itself included */
};

static int root_cmp(const void *a, const void *b)
{
    const struct jobs_root *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Scans <proc_root> and measures each root's tree: every process adds its ticks to each
 * registered ancestor (itself included). Without the lock. Returns 0 or -ENOMEM. */
static int measure_roots(const char *proc_root, struct jobs_root *roots, size_t n_roots)
{
    size_t n = 0;
    struct jobs_proc *v = scan_procs(proc_root, &n);
    if (!v)
        return -ENOMEM;
    qsort(roots, n_roots, sizeof(*roots), root_cmp);
    for (size_t k = 0; k < n_roots; k++) {
        const struct jobs_proc *p = roots[k].pid > 0 ? find_proc(v, n, roots[k].pid) : NULL;
        roots[k].found = p != NULL;
        roots[k].start = p ? p->start : 0;
        roots[k].ticks = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct jobs_root group = { .pid = -v[i].pgrp };
        struct jobs_root *g =
            v[i].pgrp > 0 ? bsearch(&group, roots, n_roots, sizeof(*roots), root_cmp) : NULL;
        if (g) { /* a group lives while any member does; it has no start time */
            g->found = 1;
            g->start = 1;
            g->ticks += v[i].ticks;
        }
        const struct jobs_proc *q = &v[i];
        for (int depth = 0; q && depth < 64; depth++) {
            struct jobs_root key = { .pid = q->pid };
            struct jobs_root *r = bsearch(&key, roots, n_roots, sizeof(*roots), root_cmp);
            if (r)
                r->ticks += v[i].ticks;
            q = q->pid > 1 ? find_proc(v, n, q->ppid) : NULL;
        }
    }
    free(v);
    return 0;
}

static void remove_job(struct wattprof_daemon *d, size_t i)
{
    d->jobs[i] = d->jobs[--d->n_jobs];
}

/* A tree that ended: its energy goes to a live entry of the same job, else it waits for
 * one scrape (daemon_jobs_format). Removing moves the last entry (and its delta) to i. */
static void job_gone(struct wattprof_daemon *d, size_t i, uint64_t now, uint64_t *delta)
{
    for (size_t k = 0; k < d->n_jobs; k++) {
        if (k != i && !d->jobs[k].gone && strcmp(d->jobs[k].name, d->jobs[i].name) == 0) {
            d->jobs[k].energy_uj += d->jobs[i].energy_uj;
            remove_job(d, i);
            delta[i] = delta[d->n_jobs];
            return;
        }
    }
    d->jobs[i].gone = 1;
    d->jobs[i].gone_ns = now;
}

/* Updates every live job's CPU ticks from the measured roots; returns the sum of their
 * new ticks. Gone jobs are marked, or folded into a live one (walk from the end). */
static uint64_t update_trees(struct wattprof_daemon *d, uint64_t now, const struct jobs_root *roots,
                             size_t n_roots, uint64_t *delta)
{
    uint64_t sum = 0;
    for (size_t i = d->n_jobs; i-- > 0;) {
        struct daemon_job *j = &d->jobs[i];
        struct jobs_root key = { .pid = j->pid };
        const struct jobs_root *r = bsearch(&key, roots, n_roots, sizeof(*roots), root_cmp);
        delta[i] = 0;
        if (j->gone || !r)
            continue; /* ended before, or registered since the scan */
        if (!r->found || (j->start && r->start != j->start)) {
            job_gone(d, i, now, delta);
            continue;
        }
        delta[i] = j->start && r->ticks > j->cpu_ticks ? r->ticks - j->cpu_ticks : 0;
        j->start = r->start;
        j->cpu_ticks = r->ticks;
        sum += delta[i];
    }
    return sum;
}

uint64_t daemon_included_energy(const struct wattprof_daemon *d)
{
    uint64_t e = 0;
    for (size_t i = 0; i < d->n_chans; i++)
        if (d->chans[i].included)
            e += d->snap.energy_uj[i];
    return e;
}

uint64_t daemon_busy_ticks(const struct wattprof_daemon *d)
{
    char path[PATH_MAX + 8], buf[4096];
    struct procstat_cpu cpu = { 0 };
    snprintf(path, sizeof(path), "%s/stat", d->ctx->proc_root);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return procstat_parse(buf, &cpu) == 0 ? cpu.busy_ticks : 0;
}

/* The live jobs' roots, under the lock; 0 when no attribution is due. */
static size_t due_roots(struct wattprof_daemon *d, uint64_t now, struct jobs_root *roots)
{
    size_t n = 0;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; now >= d->jobs_next_ns && i < d->n_jobs; i++)
        if (!d->jobs[i].gone)
            roots[n++] = (struct jobs_root){ .pid = d->jobs[i].pid };
    pthread_mutex_unlock(&d->lock);
    return n;
}

void daemon_jobs_tick(struct wattprof_daemon *d, uint64_t now)
{
    uint64_t delta[DAEMON_MAX_JOBS];
    struct jobs_root roots[DAEMON_MAX_JOBS];
    size_t n_roots = due_roots(d, now, roots);
    /* /proc and /proc/stat are read without the lock: scrapes never wait for them */
    if (n_roots == 0 || measure_roots(d->ctx->proc_root, roots, n_roots) < 0)
        return;
    uint64_t busy = daemon_busy_ticks(d);
    pthread_mutex_lock(&d->lock);
    d->jobs_next_ns = now + JOBS_PERIOD_NS;
    uint64_t sum = update_trees(d, now, roots, n_roots, delta);
    uint64_t energy = daemon_included_energy(d);
    uint64_t d_busy = busy > d->jobs_busy ? busy - d->jobs_busy : 0;
    uint64_t d_energy = energy > d->jobs_energy_uj ? energy - d->jobs_energy_uj : 0;
    int primed = d->jobs_busy != 0;
    d->jobs_busy = busy;
    d->jobs_energy_uj = energy; /* after a reload the counters restart: no delta */
    if (primed && d_busy > 0) {
        double scale = sum > d_busy ? 1.0 / (double)sum : 1.0 / (double)d_busy;
        for (size_t i = 0; i < d->n_jobs; i++)
            d->jobs[i].energy_uj += (double)d_energy * (double)delta[i] * scale;
    }
    pthread_mutex_unlock(&d->lock);
}

int daemon_jobs_register(struct wattprof_daemon *d, int pid, const char *job, long peer_uid)
{
    char path[PATH_MAX + 32];
    struct stat st;
    /* a group (pid < 0) is checked through its leader, which must still run */
    snprintf(path, sizeof(path), "%s/%d", d->ctx->proc_root, pid < 0 ? -pid : pid);
    if (stat(path, &st) < 0)
        return -ESRCH;
    if (peer_uid != 0 && (uid_t)peer_uid != st.st_uid)
        return -EPERM; /* only your own processes, or root's claim */
    for (size_t i = 0; i < d->n_jobs; i++)
        if (d->jobs[i].pid == pid && !d->jobs[i].gone)
            return 0;
    for (size_t i = d->n_jobs; i-- > 0 && d->n_jobs == DAEMON_MAX_JOBS;)
        if (d->jobs[i].gone)
            remove_job(d, i);
    if (d->n_jobs == DAEMON_MAX_JOBS)
        return -ENOSPC;
    struct daemon_job *j = &d->jobs[d->n_jobs++];
    memset(j, 0, sizeof(*j));
    j->pid = pid;
    snprintf(j->name, sizeof(j->name), "%s", job);
    d->jobs_next_ns = 0;
    return 0;
}

/* Drops the gone jobs that one scrape has shown, or that nobody scraped for long. */
static void expire_jobs(struct wattprof_daemon *d, uint64_t now)
{
    for (size_t i = d->n_jobs; i-- > 0;)
        if (d->jobs[i].gone && (d->jobs[i].scraped || now - d->jobs[i].gone_ns > JOBS_GONE_MAX_NS))
            remove_job(d, i);
}

size_t daemon_jobs_format(struct wattprof_daemon *d, char *buf, size_t size, uint64_t now)
{
    size_t len = 0;
    expire_jobs(d, now);
    len += (size_t)snprintf(buf, size,
                            "# HELP wattprof_job_energy_joules_total Energy attributed to a "
                            "registered job by its share of the busy CPU time.\n"
                            "# TYPE wattprof_job_energy_joules_total counter\n");
    for (size_t i = 0; i < d->n_jobs && len < size; i++) {
        double e = 0;
        size_t first = 0;
        while (strcmp(d->jobs[first].name, d->jobs[i].name) != 0)
            first++;
        for (size_t k = i; k < d->n_jobs; k++)
            if (strcmp(d->jobs[k].name, d->jobs[i].name) == 0)
                e += d->jobs[k].energy_uj;
        if (d->jobs[i].gone)
            d->jobs[i].scraped = 1;
        if (first == i)
            len += (size_t)snprintf(buf + len, size - len,
                                    "wattprof_job_energy_joules_total{job=\"%s\",source=\"cpu-"
                                    "share\"} %.6f\n",
                                    d->jobs[i].name, e / 1e6);
    }
    return len < size ? len : size - 1;
}
