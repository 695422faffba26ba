/* Per-cgroup energy in wattprof serve: the socket thread walks the cgroup hierarchy at
 * most every second without holding the lock (cgroups.c), then takes the lock only to
 * share the energy measured since the last walk; scrapes format the result. */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "procstat.h"

#define CGROUPS_PERIOD_NS 1000000000ull /* the hierarchy is walked at most this often */

int daemon_cgroups_open(struct wattprof_daemon *d, const struct wattprof_daemon_config *cfg)
{
    if (cfg->no_cgroups)
        return 0;
    unsigned depth = cfg->cgroup_depth ? cfg->cgroup_depth : CGROUPS_DEFAULT_DEPTH;
    unsigned max = cfg->cgroup_max ? cfg->cgroup_max : CGROUPS_DEFAULT_MAX;
    if (max > CGROUPS_LIMIT_MAX)
        return daemon_errorf(d, -EINVAL, "--cgroup-max %u: at most %u cgroups can be shown", max,
                             CGROUPS_LIMIT_MAX);
    int r = cgroups_open(&d->cgroups, d->ctx->cgroup_root, depth, max);
    if (r == -ENOMEM)
        return daemon_errorf(d, r, "out of memory for %u cgroups", max);
    if (r == 0)
        snprintf(d->cgroups_desc, sizeof(d->cgroups_desc), "%s at %s",
                 d->cgroups.version == CGROUPS_V2 ? "v2" : "v1", d->cgroups.dir);
    return 0; /* no hierarchy: no cgroup series */
}

WATTPROF_API const char *wattprof_daemon_cgroup_hierarchy(const struct wattprof_daemon *d)
{
    return d->cgroups_desc;
}

void daemon_cgroups_tick(struct wattprof_daemon *d, uint64_t now)
{
    if (d->cgroups.version == CGROUPS_NONE || now < d->cgroups_next_ns)
        return;
    d->cgroups_next_ns =
        now + (d->interval_ns > CGROUPS_PERIOD_NS ? d->interval_ns : CGROUPS_PERIOD_NS);
    int r = cgroups_walk(&d->cgroups); /* reads files: not under the lock */
    uint64_t busy = procstat_ticks_to_ns(daemon_busy_ticks(d));
    pthread_mutex_lock(&d->lock);
    uint64_t energy = daemon_included_energy(d);
    uint64_t d_energy = energy > d->cgroups_energy_uj ? energy - d->cgroups_energy_uj : 0;
    uint64_t d_busy = busy > d->cgroups_busy_ns ? busy - d->cgroups_busy_ns : 0;
    d->cgroups_energy_uj = energy; /* after a reload the counters restart: no delta */
    d->cgroups_busy_ns = busy;
    if (r == 0)
        cgroups_attribute(&d->cgroups, d_energy, d_busy, now);
    pthread_mutex_unlock(&d->lock);
}

size_t daemon_cgroups_format(struct wattprof_daemon *d, char *buf, size_t size)
{
    char label[2 * CGROUPS_PATH_MAX];
    struct cgroups *cg = &d->cgroups;
    size_t len = 0;
    if (cg->version == CGROUPS_NONE)
        return 0;
    len += (size_t)snprintf(buf, size,
                            "# HELP wattprof_cgroup_energy_joules_total Energy attributed to a "
                            "cgroup (and its descendants not shown) by its share of the busy CPU "
                            "time.\n# TYPE wattprof_cgroup_energy_joules_total counter\n");
    for (size_t i = 0; i < cg->n_entries && len < size; i++) {
        struct cgroups_entry *e = &cg->entries[i];
        daemon_label_escape(label, sizeof(label), e->path);
        if (e->gone)
            e->scraped = 1;
        len += (size_t)snprintf(buf + len, size - len,
                                "wattprof_cgroup_energy_joules_total{cgroup=\"%s\",source=\"cpu-"
                                "share\"} %.6f\n",
                                label, e->energy_uj / 1e6);
    }
    if (len < size)
        len += (size_t)snprintf(buf + len, size - len,
                                "# HELP wattprof_cgroup_truncated Whether the last walk met more "
                                "cgroups than --cgroup-max (the rest count in their parents).\n"
                                "# TYPE wattprof_cgroup_truncated gauge\n"
                                "wattprof_cgroup_truncated %d\n",
                                cg->truncated);
    return len < size ? len : size - 1;
}
