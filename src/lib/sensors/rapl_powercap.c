/* RAPL through the powercap sysfs class (/sys/class/powercap/intel-rapl:*): discovers the
 * zones, turns each into one energy counter channel (µJ, wraps at max_energy_range_uj),
 * drops the zones that duplicate another one (intel-rapl-mmio, mirrored dies) and marks
 * which channels add up to a non-overlapping machine total. The core does the wrap
 * correction and the arithmetic (STYLE.md §5). */
#include "sensor.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rapl_common.h"
#include "sysfs.h"

#define POWERCAP_MAX_ZONES 64
#define POWERCAP_MAX_CONSTRAINTS 8 /* the kernel has at most 3: long, short, peak */
#define POWERCAP_ID_MAX 40         /* "intel-rapl-mmio:ffffffff:ffffffff" */

enum zone_state {
    ZONE_SKIPPED, /* not usable (no name, unknown domain, unreadable): a note says why */
    ZONE_KEPT,    /* becomes a channel */
    ZONE_DROPPED, /* a duplicate of another zone: a note says which */
};

/* A zone's `name` is one of the kernel's rapl_domain_names[] (rapl_common.h), or
 * "package-N[-die-M]" for a package. core, uncore and dram zones live under a package
 * zone. */
static int dom_is_child(const struct rapl_domain *d)
{
    return d->per_package && strcmp(d->domain, "package") != 0;
}

/* Control types whose zones are RAPL; the directory names are "<type>:<hex>[:<hex>]". */
static const struct {
    const char *prefix;
    int mmio;
} powercap_types[] = {
    { "intel-rapl:", 0 },
    { "intel-rapl-mmio:", 1 },
};

struct powercap_zone {
    char id[POWERCAP_ID_MAX]; /* directory entry: "intel-rapl:0:a" */
    char name[32];            /* contents of `name`: "package-0-die-1", "dram" */
    int fd;                   /* energy_uj, -1 when not open; owned here */
    int mmio;
    unsigned top, sub; /* idr ids, from the hex in the id */
    int has_sub;
    int parent; /* index of the parent zone, or -1 */
    const struct rapl_domain *dom;
    unsigned pkg; /* N of "package-N[-die-M]" */
    int die;      /* M, or -1 */
    enum zone_state state;
    char label[24];     /* "0", or "0-die:1" for real dies: the channel suffix */
    uint64_t energy_uj; /* read at open, to spot mirrors */
    uint64_t range_uj;  /* max_energy_range_uj, UINT64_MAX when unknown */
    int range_err;      /* why range_uj is unknown, or 0 */
    uint64_t max_power_uw;
};

struct powercap_priv {
    size_t n_zones; /* zones[0..n_zones) have a valid fd field (-1 or open) */
    struct powercap_zone zones[POWERCAP_MAX_ZONES];
    size_t chan_zone[SENSOR_MAX_CHANNELS]; /* channel i reads zones[chan_zone[i]].fd */
};

/* Parses 1..8 digits in base 10 or 16 at *p and advances *p. Returns 0 or -EINVAL. */
static int parse_uint(const char **p, unsigned base, unsigned *out)
{
    unsigned v = 0;
    int n = 0;
    for (const char *c = *p;; c++, n++) {
        unsigned d;
        if (*c >= '0' && *c <= '9')
            d = (unsigned)(*c - '0');
        else if (base == 16 && *c >= 'a' && *c <= 'f')
            d = (unsigned)(*c - 'a' + 10);
        else
            break;
        v = v * base + d;
    }
    if (n == 0 || n > 8)
        return -EINVAL;
    *p += n;
    *out = v;
    return 0;
}

/* Parses "intel-rapl:<hex>[:<hex>]" / "intel-rapl-mmio:..." (the kernel's "%s:%x").
 * Control-type directories ("intel-rapl") and other types do not parse. */
static int zone_parse_id(struct powercap_zone *z, const char *id)
{
    const char *p = NULL;
    for (size_t i = 0; i < sizeof(powercap_types) / sizeof(powercap_types[0]); i++) {
        size_t len = strlen(powercap_types[i].prefix);
        if (strncmp(id, powercap_types[i].prefix, len) == 0) {
            p = id + len;
            z->mmio = powercap_types[i].mmio;
        }
    }
    if (p == NULL || strlen(id) >= sizeof(z->id) || parse_uint(&p, 16, &z->top) < 0)
        return -EINVAL;
    z->has_sub = 0;
    z->sub = 0;
    if (*p == ':') {
        p++;
        if (parse_uint(&p, 16, &z->sub) < 0)
            return -EINVAL;
        z->has_sub = 1;
    }
    if (*p != '\0')
        return -EINVAL;
    snprintf(z->id, sizeof(z->id), "%s", id);
    return 0;
}

/* Deterministic order: intel-rapl before intel-rapl-mmio, then by numeric id, each parent
 * right before its children. */
static int zone_cmp(const void *a, const void *b)
{
    const struct powercap_zone *x = a, *y = b;
    uint64_t kx = ((uint64_t)x->top << 33) | ((uint64_t)x->has_sub << 32) | x->sub;
    uint64_t ky = ((uint64_t)y->top << 33) | ((uint64_t)y->has_sub << 32) | y->sub;
    if (x->mmio != y->mmio)
        return x->mmio - y->mmio;
    return kx < ky ? -1 : kx > ky;
}

/* Lists the RAPL zones under class/powercap into p->zones, sorted. */
static int powercap_scan(struct sensor *s, struct powercap_priv *p)
{
    char dir[PATH_MAX];
    int r = sysfs_path(dir, sizeof(dir), s->sysfs_root, "class/powercap");
    if (r < 0)
        return sensor_errorf(s, r, "sysfs root '%s' is too long", s->sysfs_root);
    DIR *d = opendir(dir);
    if (d == NULL && (errno == EACCES || errno == EPERM))
        return sensor_errorf(s, -EACCES, "cannot list '%s': Permission denied", dir);
    for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
        struct powercap_zone z = { .fd = -1 };
        if (zone_parse_id(&z, e->d_name) < 0)
            continue;
        if (p->n_zones == POWERCAP_MAX_ZONES) {
            sensor_notef(s, "more than %d RAPL zones: ignored %s", POWERCAP_MAX_ZONES, z.id);
            continue;
        }
        p->zones[p->n_zones++] = z;
    }
    if (d != NULL)
        closedir(d);
    if (p->n_zones == 0)
        return sensor_errorf(s, -ENODEV,
                             "no RAPL zones under '%s' (no intel_rapl driver: VMs and "
                             "containers usually have none)",
                             dir);
    qsort(p->zones, p->n_zones, sizeof(p->zones[0]), zone_cmp);
    return 0;
}

static int zone_path(const struct sensor *s, const struct powercap_zone *z, const char *file,
                     char *buf, size_t size)
{
    return sysfs_path(buf, size, s->sysfs_root, "class/powercap/%s/%s", z->id, file);
}

/* Maps `name` to a domain: "package-N" / "package-N-die-M" or a fixed name. */
static int zone_classify(struct powercap_zone *z)
{
    const char *p = z->name;
    z->die = -1;
    if (strncmp(p, "package-", 8) == 0) {
        p += 8;
        if (parse_uint(&p, 10, &z->pkg) < 0)
            return -EINVAL;
        if (strncmp(p, "-die-", 5) == 0) {
            unsigned die;
            p += 5;
            if (parse_uint(&p, 10, &die) < 0)
                return -EINVAL;
            z->die = (int)die;
        }
        if (*p != '\0')
            return -EINVAL;
        z->dom = rapl_domain_find("package");
        return 0;
    }
    const struct rapl_domain *d = rapl_domain_find(p);
    if (d == NULL || strcmp(d->domain, "package") == 0)
        return -EINVAL; /* a package zone is always "package-N" */
    z->dom = d;
    return 0;
}

/* The highest nonzero constraint_*_max_power_uw, or 0. */
static uint64_t zone_max_power(const struct sensor *s, const struct powercap_zone *z)
{
    uint64_t best = 0;
    for (int i = 0; i < POWERCAP_MAX_CONSTRAINTS; i++) {
        char path[PATH_MAX], file[40];
        uint64_t v;
        snprintf(file, sizeof(file), "constraint_%d_max_power_uw", i);
        if (zone_path(s, z, file, path, sizeof(path)) == 0 && sysfs_read_u64(path, &v) == 0 &&
            v > best)
            best = v;
    }
    return best;
}

/* Opens energy_uj and reads it once. Returns 0 (zone usable or skipped with a note) or
 * -EACCES with the hint: the caller must stop. */
static int zone_open_energy(struct sensor *s, struct powercap_zone *z)
{
    char path[PATH_MAX];
    int r = zone_path(s, z, "energy_uj", path, sizeof(path));
    if (r == 0)
        r = sysfs_open(path);
    if (r >= 0) {
        z->fd = r;
        r = sysfs_pread_u64(z->fd, &z->energy_uj);
    }
    if (r == -EACCES || r == -EPERM)
        return sensor_errorf(s, -EACCES,
                             "cannot read '%s': %s (energy_uj is root-only since Linux 5.10, "
                             "CVE-2020-8694); run as root, or grant CAP_PERFMON to use the "
                             "perf power PMU instead",
                             path, sysfs_strerror(r));
    if (r < 0) {
        sensor_notef(s, "ignored %s (%s): energy_uj: %s", z->id, z->name, sysfs_strerror(r));
        z->state = ZONE_SKIPPED;
    }
    return 0;
}

/* Reads what open() needs of one zone. Returns 0, or -EACCES (fatal). */
static int zone_probe(struct sensor *s, struct powercap_zone *z)
{
    char path[PATH_MAX];
    z->state = ZONE_SKIPPED;
    z->parent = -1;
    if (zone_path(s, z, "name", path, sizeof(path)) < 0 ||
        sysfs_read_str(path, z->name, sizeof(z->name)) <= 0) {
        sensor_notef(s, "ignored %s: no readable name", z->id);
        return 0;
    }
    if (zone_classify(z) < 0) {
        sensor_notef(s, "ignored %s: unknown RAPL domain '%s'", z->id, z->name);
        return 0;
    }
    z->state = ZONE_KEPT;
    int r = zone_open_energy(s, z);
    if (r < 0 || z->state != ZONE_KEPT)
        return r;
    z->range_err = zone_path(s, z, "max_energy_range_uj", path, sizeof(path));
    if (z->range_err == 0)
        z->range_err = sysfs_read_u64(path, &z->range_uj);
    if (z->range_err < 0 || z->range_uj == 0) {
        z->range_err = z->range_err < 0 ? z->range_err : -EINVAL;
        z->range_uj = UINT64_MAX;
    }
    z->max_power_uw = zone_max_power(s, z);
    return 0;
}

/* Links each child zone to its parent ("intel-rapl:1:0" → "intel-rapl:1"): the package a
 * dram zone belongs to comes from there, never from its name. */
static void powercap_link_parents(struct powercap_priv *p)
{
    for (size_t i = 0; i < p->n_zones; i++) {
        struct powercap_zone *z = &p->zones[i];
        for (size_t j = 0; j < p->n_zones && z->has_sub; j++) {
            const struct powercap_zone *y = &p->zones[j];
            if (!y->has_sub && y->mmio == z->mmio && y->top == z->top)
                z->parent = (int)j;
        }
    }
}

static int zone_has_children(const struct powercap_priv *p, size_t idx)
{
    for (size_t i = 0; i < p->n_zones; i++)
        if (p->zones[i].parent == (int)idx)
            return 1;
    return 0;
}

/* Marks a zone as a duplicate (its subzones follow it) and says why in the notes. */
static void zone_drop(struct sensor *s, struct powercap_priv *p, size_t idx, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void zone_drop(struct sensor *s, struct powercap_priv *p, size_t idx, const char *fmt, ...)
{
    struct powercap_zone *z = &p->zones[idx];
    char why[SENSOR_NOTE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    z->state = ZONE_DROPPED;
    sensor_notef(s, "dropped %s (%s)%s: %s", z->id, z->name,
                 zone_has_children(p, idx) ? " and its subzones" : "", why);
}

/* intel-rapl-mmio:N repeats the intel-rapl package of the same name (client CPUs). */
static void powercap_drop_mmio_duplicates(struct sensor *s, struct powercap_priv *p)
{
    for (size_t i = 0; i < p->n_zones; i++) {
        struct powercap_zone *z = &p->zones[i];
        if (!z->mmio || z->has_sub || z->state != ZONE_KEPT)
            continue;
        for (size_t j = 0; j < p->n_zones && z->state == ZONE_KEPT; j++) {
            const struct powercap_zone *y = &p->zones[j];
            if (!y->mmio && !y->has_sub && y->state == ZONE_KEPT && strcmp(y->name, z->name) == 0)
                zone_drop(s, p, i, "duplicate of %s", y->id);
        }
    }
}

static int is_die_of(const struct powercap_zone *z, unsigned pkg, int mmio)
{
    return z->state == ZONE_KEPT && z->die >= 0 && !z->has_sub && z->pkg == pkg && z->mmio == mmio;
}

/* Same counter when the ranges match and b equals a reading of a taken just before or
 * just after it (the counter may tick between two reads). */
static int zone_mirrors(struct powercap_zone *a, const struct powercap_zone *b)
{
    uint64_t before, mid, after;
    if (a->range_uj != b->range_uj)
        return 0;
    if (sysfs_pread_u64(a->fd, &before) < 0 || sysfs_pread_u64(b->fd, &mid) < 0 ||
        sysfs_pread_u64(a->fd, &after) < 0)
        return 0;
    return mid == before || mid == after;
}

/* "package-N-die-M" zones of one package: mirrors of one counter (AMD Zen 1/2,
 * codecarbon#1274) keep only the lowest die as package N; real dies each count. */
static void powercap_resolve_dies(struct sensor *s, struct powercap_priv *p)
{
    for (size_t i = 0; i < p->n_zones; i++) {
        struct powercap_zone *ref = &p->zones[i];
        if (!is_die_of(ref, ref->pkg, ref->mmio) || ref->label[0] != '\0')
            continue;
        for (size_t j = 0; j < p->n_zones; j++)
            if (is_die_of(&p->zones[j], ref->pkg, ref->mmio) && p->zones[j].die < ref->die)
                ref = &p->zones[j];
        int mirrored = 1;
        for (size_t j = 0; j < p->n_zones; j++)
            if (is_die_of(&p->zones[j], ref->pkg, ref->mmio) && &p->zones[j] != ref)
                mirrored = mirrored && zone_mirrors(ref, &p->zones[j]);
        for (size_t j = 0; j < p->n_zones; j++) {
            struct powercap_zone *z = &p->zones[j];
            if (!is_die_of(z, ref->pkg, ref->mmio))
                continue;
            if (!mirrored)
                snprintf(z->label, sizeof(z->label), "%u-die:%d", z->pkg, z->die);
            else if (z == ref)
                snprintf(z->label, sizeof(z->label), "%u", z->pkg);
            else
                zone_drop(s, p, j, "same counter as %s (identical energy_uj and range)", ref->id);
        }
    }
}

/* Sets each kept zone's label (the package it belongs to) or drops it with its parent. */
static void powercap_label_zones(struct sensor *s, struct powercap_priv *p)
{
    for (size_t i = 0; i < p->n_zones; i++) {
        struct powercap_zone *z = &p->zones[i];
        if (z->state != ZONE_KEPT || z->label[0] != '\0')
            continue;
        if (!dom_is_child(z->dom)) {
            snprintf(z->label, sizeof(z->label), "%u", z->pkg);
            continue;
        }
        const struct powercap_zone *parent = z->parent >= 0 ? &p->zones[z->parent] : NULL;
        if (parent == NULL || parent->dom == NULL || dom_is_child(parent->dom) ||
            strcmp(parent->dom->domain, "package") != 0) {
            sensor_notef(s, "ignored %s (%s): not under a package zone", z->id, z->name);
            z->state = ZONE_SKIPPED;
        } else if (parent->state != ZONE_KEPT) {
            z->state = parent->state; /* its parent's note covers it */
        } else {
            snprintf(z->label, sizeof(z->label), "%s", parent->label);
        }
    }
}

static int powercap_has_channel(const struct sensor *s, const char *name)
{
    for (size_t i = 0; i < s->n_channels; i++)
        if (strcmp(s->channels[i].name, name) == 0)
            return 1;
    return 0;
}

static void powercap_add_channel(struct sensor *s, struct powercap_priv *p, size_t idx)
{
    struct powercap_zone *z = &p->zones[idx];
    char name[SENSOR_NAME_MAX];
    rapl_channel_name(name, sizeof(name), z->dom, z->label);
    if (powercap_has_channel(s, name)) {
        zone_drop(s, p, idx, "channel '%s' already exists", name);
        return;
    }
    struct sensor_channel *c = sensor_add_channel(s, name);
    if (c == NULL) {
        zone_drop(s, p, idx, "more than %d channels", SENSOR_MAX_CHANNELS);
        return;
    }
    p->chan_zone[s->n_channels - 1] = idx;
    snprintf(c->domain, sizeof(c->domain), "%s", z->dom->domain);
    c->kind = SENSOR_ENERGY_COUNTER;
    c->provenance = SENSOR_MEASURED;
    c->max_raw = z->range_uj;
    c->max_power_uw = z->max_power_uw;
    snprintf(c->note, sizeof(c->note), "class/powercap/%s/energy_uj, ~1 ms update", z->id);
    if (z->range_err < 0)
        sensor_notef(s, "%s (%s): max_energy_range_uj: %s: wraps cannot be corrected", z->id,
                     z->name, sysfs_strerror(z->range_err));
}

/* One channel per kept zone, in zone order; psys counts only without packages. */
static int powercap_add_channels(struct sensor *s, struct powercap_priv *p)
{
    for (size_t i = 0; i < p->n_zones; i++)
        if (p->zones[i].state == ZONE_KEPT)
            powercap_add_channel(s, p, i);
    for (size_t i = 0; i < p->n_zones; i++) {
        struct powercap_zone *z = &p->zones[i];
        if (z->state != ZONE_KEPT && z->fd >= 0) {
            close(z->fd);
            z->fd = -1;
        }
    }
    rapl_mark_totals(s);
    if (s->n_channels == 0)
        return sensor_errorf(s, -EIO,
                             "RAPL zones under '%s/class/powercap' give no usable energy "
                             "counter (%zu zones ignored or dropped, see notes)",
                             s->sysfs_root, p->n_zones);
    return 0;
}

static void powercap_close(struct sensor *s)
{
    struct powercap_priv *p = s->priv;
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_zones; i++) {
        if (p->zones[i].fd >= 0)
            close(p->zones[i].fd);
        p->zones[i].fd = -1;
    }
    p->n_zones = 0;
}

static int powercap_open(struct sensor *s)
{
    struct powercap_priv *p = s->priv;
    memset(p, 0, sizeof(*p));
    s->n_channels = 0;
    int r = powercap_scan(s, p);
    for (size_t i = 0; r == 0 && i < p->n_zones; i++)
        r = zone_probe(s, &p->zones[i]);
    if (r < 0)
        goto fail;
    powercap_link_parents(p);
    powercap_drop_mmio_duplicates(s, p);
    powercap_resolve_dies(s, p);
    powercap_label_zones(s, p);
    r = powercap_add_channels(s, p);
    if (r < 0)
        goto fail;
    return 0;
fail:
    powercap_close(s); /* keeps errmsg */
    s->n_channels = 0;
    return r;
}

static int powercap_read_channel(struct sensor *s, size_t i, uint64_t *value)
{
    const struct powercap_priv *p = s->priv;
    int r = sysfs_pread_u64(p->zones[p->chan_zone[i]].fd, value);
    if (r < 0)
        *value = 0;
    return r;
}

/* One pread per channel; no allocation. A vanished or garbled zone fails alone. */
static int powercap_read(struct sensor *s, uint64_t *values)
{
    return sensor_read_each(s, values, powercap_read_channel);
}

const struct sensor_ops rapl_powercap_sensor_ops = {
    .name = "rapl-powercap",
    .priv_size = sizeof(struct powercap_priv),
    .open = powercap_open,
    .read = powercap_read,
    .close = powercap_close,
};
