/* Per-cgroup attribution (cgroups.h): reads each cgroup's cumulative CPU usage, takes
 * the part of it not already shown by a child (so series never overlap), and shares the
 * measured energy by it. Bounded: depth, count and path length (docs/daemon.md). */
#include "cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

#define CGROUPS_GONE_MAX_NS 600000000000ull /* a gone cgroup nobody scrapes: dropped after */

/* "DIR/FILE" exists and is readable. */
static int has_file(const char *dir, const char *file)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    return access(path, R_OK) == 0;
}

/* Picks the hierarchy: v2 at root, v2 in root/unified (hybrid), or v1 cpuacct. */
static int find_hierarchy(struct cgroups *cg, const char *root)
{
    static const struct {
        const char *sub;
        const char *file;
        enum cgroups_version v;
    } candidates[] = {
        { "", "cgroup.controllers", CGROUPS_V2 },
        { "/unified", "cgroup.controllers", CGROUPS_V2 },
        { "/cpuacct", "cpuacct.usage", CGROUPS_V1 },
        { "/cpu,cpuacct", "cpuacct.usage", CGROUPS_V1 },
        { "", "cpuacct.usage", CGROUPS_V1 },
    };
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        int n = snprintf(cg->dir, sizeof(cg->dir), "%s%s", root, candidates[i].sub);
        if (n > 0 && (size_t)n < sizeof(cg->dir) && has_file(cg->dir, candidates[i].file) &&
            (candidates[i].v == CGROUPS_V1 || has_file(cg->dir, "cpu.stat"))) {
            cg->version = candidates[i].v;
            return 0;
        }
    }
    cg->dir[0] = '\0';
    return -ENOENT;
}

int cgroups_open(struct cgroups *cg, const char *root, unsigned max_depth, unsigned max_count)
{
    memset(cg, 0, sizeof(*cg));
    cg->max_depth = max_depth;
    cg->max_count = max_count ? max_count : 1;
    if (find_hierarchy(cg, root) < 0)
        return -ENOENT;
    cg->cap_entries = 2 * (size_t)cg->max_count; /* the live ones and as many gone */
    cg->walk = calloc(cg->max_count, sizeof(*cg->walk));
    cg->entries = calloc(cg->cap_entries, sizeof(*cg->entries));
    cg->excl = calloc(cg->max_count, sizeof(*cg->excl));
    cg->match = calloc(cg->max_count, sizeof(*cg->match));
    if (!cg->walk || !cg->entries || !cg->excl || !cg->match) {
        cgroups_close(cg);
        return -ENOMEM;
    }
    return 0;
}

void cgroups_close(struct cgroups *cg)
{
    free(cg->walk);
    free(cg->entries);
    free(cg->excl);
    free(cg->match);
    memset(cg, 0, sizeof(*cg));
}

/* The cumulative CPU usage of the cgroup at path (relative to cg->dir), in ns. */
static int read_usage(const struct cgroups *cg, const char *path, uint64_t *usage_ns)
{
    char file[PATH_MAX + CGROUPS_PATH_MAX + 32], buf[1024];
    const char *sep = strcmp(path, "/") == 0 ? "" : path;
    if (cg->version == CGROUPS_V1) {
        snprintf(file, sizeof(file), "%s%s/cpuacct.usage", cg->dir, sep);
        return sysfs_read_u64(file, usage_ns);
    }
    snprintf(file, sizeof(file), "%s%s/cpu.stat", cg->dir, sep);
    int r = sysfs_read_str(file, buf, sizeof(buf));
    if (r < 0)
        return r;
    const char *line = strstr(buf, "usage_usec ");
    unsigned long long us;
    if (!line || (line != buf && line[-1] != '\n') || sscanf(line + 11, "%llu", &us) != 1)
        return -EINVAL;
    *usage_ns = (uint64_t)us * 1000;
    return 0;
}

/* Appends the child cgroups of walk[i] that fit the limits. */
static void walk_children(struct cgroups *cg, size_t i)
{
    char dirpath[PATH_MAX + CGROUPS_PATH_MAX];
    const struct cgroups_reading *p = &cg->walk[i];
    const char *prefix = strcmp(p->path, "/") == 0 ? "" : p->path;
    snprintf(dirpath, sizeof(dirpath), "%s%s", cg->dir, prefix);
    DIR *dir = opendir(dirpath);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
            continue;
        if (cg->n_walk == cg->max_count) {
            cg->walk_truncated = 1;
            break;
        }
        struct cgroups_reading *c = &cg->walk[cg->n_walk];
        int n = snprintf(c->path, sizeof(c->path), "%s/%s", prefix, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(c->path) || read_usage(cg, c->path, &c->usage_ns) < 0)
            continue; /* too long for a label, or not a cgroup: counted in the parent */
        c->parent = (int)i;
        c->depth = p->depth + 1;
        cg->n_walk++;
    }
    if (dir)
        closedir(dir);
}

int cgroups_walk(struct cgroups *cg)
{
    cg->n_walk = 0;
    cg->walk_truncated = 0;
    if (cg->version == CGROUPS_NONE)
        return -ENOENT;
    struct cgroups_reading *top = &cg->walk[0];
    snprintf(top->path, sizeof(top->path), "/");
    top->parent = -1;
    top->depth = 0;
    if (read_usage(cg, "/", &top->usage_ns) < 0)
        return -EIO;
    cg->n_walk = 1;
    for (size_t i = 0; i < cg->n_walk; i++)
        if (cg->walk[i].depth < cg->max_depth)
            walk_children(cg, i);
    return 0;
}

static void remove_entry(struct cgroups *cg, size_t i)
{
    cg->entries[i] = cg->entries[--cg->n_entries];
}

/* The entry of path, looked for at *hint first (walks mostly keep their order). */
static int find_entry(struct cgroups *cg, const char *path, size_t *hint)
{
    if (*hint < cg->n_entries && strcmp(cg->entries[*hint].path, path) == 0)
        return (int)(*hint)++;
    for (size_t k = 0; k < cg->n_entries; k++) {
        if (strcmp(cg->entries[k].path, path) == 0) {
            *hint = k + 1;
            return (int)k;
        }
    }
    return -1;
}

/* Each walked cgroup's CPU time since the last walk, minus its walked children's: the
 * time of its own processes and of the descendants not shown. Returns the sum. */
static uint64_t exclusive_usage(struct cgroups *cg)
{
    uint64_t sum = 0;
    size_t hint = 0;
    for (size_t i = 0; i < cg->n_walk; i++) {
        int m = find_entry(cg, cg->walk[i].path, &hint);
        const struct cgroups_entry *e = m >= 0 ? &cg->entries[m] : NULL;
        cg->match[i] = m;
        cg->excl[i] = e && cg->walk[i].usage_ns >= e->usage_ns
                          ? (int64_t)(cg->walk[i].usage_ns - e->usage_ns)
                          : 0; /* new (or re-created) since the last walk */
    }
    /* ascending: a child comes after its parent, so excl[i] is still its whole delta */
    for (size_t i = 1; i < cg->n_walk; i++)
        cg->excl[cg->walk[i].parent] -= cg->excl[i];
    for (size_t i = 0; i < cg->n_walk; i++) {
        if (cg->excl[i] < 0)
            cg->excl[i] = 0; /* the child was read a moment after its parent */
        sum += (uint64_t)cg->excl[i];
    }
    return sum;
}

static void expire(struct cgroups *cg, uint64_t now_ns)
{
    for (size_t i = cg->n_entries; i-- > 0;) {
        const struct cgroups_entry *e = &cg->entries[i];
        if (e->gone && (e->scraped || now_ns - e->gone_ns > CGROUPS_GONE_MAX_NS))
            remove_entry(cg, i);
    }
}

void cgroups_attribute(struct cgroups *cg, uint64_t energy_uj, uint64_t busy_ns, uint64_t now_ns)
{
    expire(cg, now_ns);
    uint64_t sum = exclusive_usage(cg);
    double denom = (double)(sum > busy_ns ? sum : busy_ns);
    for (size_t k = 0; k < cg->n_entries; k++)
        cg->entries[k].seen = 0;
    for (size_t i = 0; i < cg->n_walk; i++) {
        struct cgroups_entry *e = cg->match[i] >= 0 ? &cg->entries[cg->match[i]] : NULL;
        if (!e && cg->n_entries == cg->cap_entries)
            continue; /* full of gone cgroups waiting for a scrape */
        if (!e) {
            e = &cg->entries[cg->n_entries++];
            memset(e, 0, sizeof(*e));
            snprintf(e->path, sizeof(e->path), "%s", cg->walk[i].path);
        }
        if (cg->primed && denom > 0)
            e->energy_uj += (double)energy_uj * (double)cg->excl[i] / denom;
        e->usage_ns = cg->walk[i].usage_ns;
        e->gone = 0;
        e->scraped = 0;
        e->seen = 1;
    }
    for (size_t k = 0; k < cg->n_entries; k++) {
        if (!cg->entries[k].seen && !cg->entries[k].gone) {
            cg->entries[k].gone = 1;
            cg->entries[k].gone_ns = now_ns;
        }
    }
    cg->truncated = cg->walk_truncated;
    cg->primed = 1;
}
