/* Per-cgroup energy attribution for wattprof serve: walks a cgroup hierarchy (v2
 * cpu.stat usage_usec, or v1 cpuacct.usage), bounded in depth and count, and gives each
 * cgroup shown its share of the CPU time times the energy measured (docs/daemon.md). */
#ifndef WATTPROF_CGROUPS_H
#define WATTPROF_CGROUPS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUPS_DEFAULT_DEPTH 3
#define CGROUPS_DEFAULT_MAX 256
#define CGROUPS_LIMIT_MAX 4096
#define CGROUPS_PATH_MAX 192 /* longer cgroup paths are folded into their parent */

enum cgroups_version { CGROUPS_NONE, CGROUPS_V1, CGROUPS_V2 };

/* One cgroup of a walk: its cumulative CPU usage and where it sits. */
struct cgroups_reading {
    char path[CGROUPS_PATH_MAX]; /* "/" or "/system.slice/foo.service" */
    int parent;                  /* index in the same walk, -1 for the root */
    unsigned depth;              /* 0 for the root */
    uint64_t usage_ns;
};

/* A cgroup shown in /metrics: the energy of the CPU time of its own processes and of
 * its descendants that are not shown themselves (so series never overlap). */
struct cgroups_entry {
    char path[CGROUPS_PATH_MAX];
    uint64_t usage_ns; /* at the last walk */
    double energy_uj;
    int gone;    /* no longer in the hierarchy since gone_ns */
    int scraped; /* gone, and shown by one scrape since: dropped at the next walk */
    int seen;    /* in the current walk */
    uint64_t gone_ns;
};

struct cgroups {
    enum cgroups_version version;
    char dir[PATH_MAX]; /* the hierarchy's top directory */
    unsigned max_depth, max_count;
    int truncated; /* the last walk met more cgroups than max_count */

    /* The walk: written by cgroups_walk only (no lock needed). */
    struct cgroups_reading *walk;
    size_t n_walk;
    int walk_truncated;
    int64_t *excl; /* per walked cgroup: its CPU time not shown by a child (ns) */
    int *match;    /* per walked cgroup: its entry, -1: new */

    /* What /metrics shows: cgroups_attribute writes, the scrape reads (caller's lock). */
    struct cgroups_entry *entries;
    size_t n_entries, cap_entries;
    int primed;
};

/* Finds the hierarchy under root (a cgroup2 mount, or /sys/fs/cgroup with "unified"
 * (v2, preferred) or "cpuacct" / "cpu,cpuacct" (v1)) and allocates for max_count
 * cgroups. Returns 0, -ENOENT when there is none (cg->version stays CGROUPS_NONE), or
 * -ENOMEM. */
int cgroups_open(struct cgroups *cg, const char *root, unsigned max_depth, unsigned max_count);
void cgroups_close(struct cgroups *cg);

/* Walks the hierarchy breadth first into cg->walk: at most max_count cgroups, none
 * deeper than max_depth. Returns 0, or -EIO when the top cannot be read. */
int cgroups_walk(struct cgroups *cg);

/* Attributes energy_uj (measured since the last call) to the cgroups of the last walk
 * by their CPU time since the last walk over max(their sum, busy_ns), the machine's
 * busy CPU time in that interval; so the sum never exceeds energy_uj. The first call
 * only primes. Cgroups gone from the walk are kept until one scrape showed them (or
 * for 10 minutes). */
void cgroups_attribute(struct cgroups *cg, uint64_t energy_uj, uint64_t busy_ns, uint64_t now_ns);

#endif
