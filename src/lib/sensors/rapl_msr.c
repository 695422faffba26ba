/* RAPL read straight from the model-specific registers (/dev/cpu/N/msr, or LLNL msr-safe's
 * /dev/cpu/N/msr_safe): opt-in, for machines whose kernel has neither the perf power PMU
 * nor powercap for this CPU (a new CPU family, an old kernel). One CPU per package reads
 * its package's counters. The counters are 32 bits wide and wrap every few minutes to
 * hours, so this backend unwraps them itself at each read and reports a 64-bit
 * cumulative µJ value: the sampler sees a counter that never wraps. Channel names and
 * the totals follow rapl_common.h, as rapl-perf and rapl-powercap do. */
#include "sensor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "rapl_common.h"
#include "sysfs.h"

#define MSR_MAX_PKGS 16
#define MSR_N_DOMAINS 5 /* rapl_domains[], in its order */
#define MSR_COUNTER_MASK 0xffffffffull
#define MSR_INTEL_PKG_POWER_INFO 0x614 /* bits 14:0: TDP in power units */
#define MSR_WRAP_REF_W 100             /* power for the wrap period when TDP is unknown */

/* The registers of one vendor; 0 = the domain has no MSR there. */
struct msr_vendor {
    const char *vendor_id; /* /proc/cpuinfo */
    unsigned min_family;   /* first family with these MSRs */
    uint32_t unit_msr;     /* energy status unit (ESU) in bits 12:8: 1 count = 2^-ESU J */
    /* package, dram, psys, core, uncore (rapl_domains order). AMD's core energy MSR
     * (0xC001029A) counts the one core it is read on, not the package's cores: reading
     * it on one CPU per package would call one core "cpu-core:N", so it is left out. */
    uint32_t domain_msr[MSR_N_DOMAINS];
};

static const struct msr_vendor msr_vendors[] = {
    { "GenuineIntel", 6, 0x606, { 0x611, 0x619, 0x64D, 0x639, 0x641 } },
    { "AuthenticAMD", 0x17, 0xC0010299, { 0xC001029B, 0, 0, 0, 0 } },
    { "HygonGenuine", 0x18, 0xC0010299, { 0xC001029B, 0, 0, 0, 0 } },
};

/* Intel models whose domain ignores the ESU and uses a fixed unit (the kernel's
 * rapl_defaults_hsw_server / spr_server, perf's RAPL_UNIT_QUIRK_INTEL_HSW/SPR): server
 * DRAM counts 2^-16 J (15.3 µJ), Sapphire/Emerald Rapids psys counts 1 J. */
static const struct msr_unit_quirk {
    unsigned model; /* family 6 */
    const char *domain;
    unsigned esu;
} msr_unit_quirks[] = {
    { 0x3F, "dram", 16 },                       /* Haswell-X */
    { 0x4F, "dram", 16 },                       /* Broadwell-X */
    { 0x55, "dram", 16 },                       /* Skylake-X, Cascade/Cooper Lake */
    { 0x57, "dram", 16 },                       /* Xeon Phi KNL */
    { 0x85, "dram", 16 },                       /* Xeon Phi KNM */
    { 0x6A, "dram", 16 },                       /* Ice Lake-X */
    { 0x6C, "dram", 16 },                       /* Ice Lake-D */
    { 0x8F, "dram", 16 },                       /* Sapphire Rapids */
    { 0x8F, "psys", 0 },  { 0xCF, "dram", 16 }, /* Emerald Rapids */
    { 0xCF, "psys", 0 },
};

struct msr_pkg {
    unsigned id;  /* physical_package_id */
    unsigned cpu; /* the lowest CPU of the package: the one whose device is read */
    int fd;       /* /dev/cpu/<cpu>/msr or msr_safe, -1 when not open; owned here */
    char path[PATH_MAX];
    unsigned esu;
};

/* One channel's counter: the last 32-bit reading and the unwrapped sum of counts. */
struct msr_counter {
    size_t pkg;
    uint32_t msr;
    unsigned esu;
    uint32_t last;
    uint64_t acc; /* counts since boot (modulo what wrapped before open), 64-bit */
};

struct msr_priv {
    size_t n_pkgs; /* pkgs[0..n_pkgs) have a valid fd field (-1 or open) */
    struct msr_pkg pkgs[MSR_MAX_PKGS];
    struct msr_counter ctr[SENSOR_MAX_CHANNELS]; /* ctr[i] is channels[i] */
    const struct msr_vendor *vendor;
    unsigned family, model;
};

/* One 8-byte MSR read: 0, -EIO when the register does not exist (the msr driver's
 * answer to a faulting rdmsr; a short read of a fake device), or a negative errno. */
static int msr_pread(int fd, uint32_t msr, uint64_t *out)
{
    ssize_t n = pread(fd, out, sizeof(*out), (off_t)msr);
    if (n < 0)
        return -errno;
    return n == (ssize_t)sizeof(*out) ? 0 : -EIO;
}

static uint64_t msr_uj(const struct msr_counter *c)
{
    __extension__ typedef unsigned __int128 u128;
    return (uint64_t)(((u128)c->acc * 1000000u) >> c->esu);
}

/* Vendor, family and model from <proc_root>/cpuinfo. */
static int msr_read_cpu(struct sensor *s, struct msr_priv *p)
{
    char path[PATH_MAX], vendor[64] = "", buf[32];
    uint64_t v;
    int r = sysfs_path(path, sizeof(path), s->proc_root, "cpuinfo");
    if (r < 0 || host_proc_field(path, "vendor_id", vendor, sizeof(vendor)) < 0)
        return sensor_errorf(s, -ENODEV, "cannot read the CPU vendor from '%s'", path);
    for (size_t i = 0; i < sizeof(msr_vendors) / sizeof(msr_vendors[0]); i++)
        if (strcmp(vendor, msr_vendors[i].vendor_id) == 0)
            p->vendor = &msr_vendors[i];
    if (p->vendor == NULL)
        return sensor_errorf(s, -ENODEV, "no RAPL MSRs known for CPU vendor '%s'", vendor);
    if (host_proc_field(path, "cpu family", buf, sizeof(buf)) == 0 && sysfs_parse_u64(buf, &v) == 0)
        p->family = (unsigned)v;
    if (host_proc_field(path, "model", buf, sizeof(buf)) == 0 && sysfs_parse_u64(buf, &v) == 0)
        p->model = (unsigned)v;
    if (p->family < p->vendor->min_family)
        return sensor_errorf(s, -ENODEV, "%s CPU family 0x%x has no RAPL MSRs (0x%x and later)",
                             vendor, p->family, p->vendor->min_family);
    return 0;
}

/* Keeps the lowest CPU of each package, sorted by package id. */
static void msr_add_cpu(struct sensor *s, struct msr_priv *p, unsigned cpu, unsigned pkg)
{
    size_t i = 0;
    while (i < p->n_pkgs && p->pkgs[i].id < pkg)
        i++;
    if (i < p->n_pkgs && p->pkgs[i].id == pkg) {
        if (cpu < p->pkgs[i].cpu)
            p->pkgs[i].cpu = cpu;
        return;
    }
    if (p->n_pkgs == MSR_MAX_PKGS) {
        sensor_notef(s, "more than %d packages: package %u ignored", MSR_MAX_PKGS, pkg);
        return;
    }
    memmove(&p->pkgs[i + 1], &p->pkgs[i], (p->n_pkgs - i) * sizeof(p->pkgs[0]));
    p->pkgs[i] = (struct msr_pkg){ .id = pkg, .cpu = cpu, .fd = -1 };
    p->n_pkgs++;
}

/* One CPU per package from devices/system/cpu/cpuN/topology/physical_package_id. */
static int msr_scan_topology(struct sensor *s, struct msr_priv *p)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int r = sysfs_path(dir, sizeof(dir), s->sysfs_root, "devices/system/cpu");
    if (r < 0)
        return sensor_errorf(s, r, "sysfs root '%s' is too long", s->sysfs_root);
    DIR *d = opendir(dir);
    for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
        uint64_t cpu, pkg;
        const char *n = e->d_name;
        if (strncmp(n, "cpu", 3) != 0 || sysfs_parse_u64(n + 3, &cpu) < 0 || cpu > UINT_MAX ||
            strspn(n + 3, "0123456789") != strlen(n + 3))
            continue;
        if (sysfs_path(path, sizeof(path), dir, "%s/topology/physical_package_id", n) == 0 &&
            sysfs_read_u64(path, &pkg) == 0 && pkg <= UINT_MAX)
            msr_add_cpu(s, p, (unsigned)cpu, (unsigned)pkg);
    }
    if (d != NULL)
        closedir(d);
    if (p->n_pkgs == 0)
        return sensor_errorf(s, -ENODEV,
                             "no CPU topology under '%s' (cpuN/topology/"
                             "physical_package_id)",
                             dir);
    return 0;
}

/* Opens the package's msr device, or msr_safe when msr cannot be opened. */
static int msr_open_dev(struct sensor *s, struct msr_pkg *pk)
{
    static const char *const names[] = { "msr", "msr_safe" };
    const char *dev = s->dev_root != NULL ? s->dev_root : "/dev";
    char first[PATH_MAX], dir[PATH_MAX];
    int err[2];
    for (size_t i = 0; i < 2; i++) {
        if (sysfs_path(pk->path, sizeof(pk->path), dev, "cpu/%u/%s", pk->cpu, names[i]) < 0)
            return sensor_errorf(s, -ENAMETOOLONG, "device root '%s' is too long", dev);
        pk->fd = open(pk->path, O_RDONLY | O_CLOEXEC);
        if (pk->fd >= 0)
            return 0;
        err[i] = errno;
        if (i == 0)
            snprintf(first, sizeof(first), "%s", pk->path);
    }
    if (err[0] == EACCES || err[0] == EPERM || err[1] == EACCES || err[1] == EPERM)
        return sensor_errorf(s, -EACCES,
                             "cannot open '%s': %s (MSR access needs root, or CAP_SYS_RAWIO "
                             "with read access to the file; or LLNL msr-safe, "
                             "/dev/cpu/N/msr_safe, with an allowlist of the RAPL MSRs)",
                             first, strerror(err[0]));
    struct stat st;
    if (sysfs_path(dir, sizeof(dir), dev, "cpu") == 0 && stat(dir, &st) < 0)
        return sensor_errorf(s, -ENODEV, "no '%s': the msr driver is not loaded (modprobe msr)",
                             dir);
    return sensor_errorf(s, -ENODEV, "cannot open '%s': %s (modprobe msr)", first,
                         strerror(err[0]));
}

/* Reads the energy status unit of a package. */
static int msr_read_unit(struct sensor *s, const struct msr_priv *p, struct msr_pkg *pk)
{
    uint64_t v;
    int r = msr_pread(pk->fd, p->vendor->unit_msr, &v);
    if (r == -EIO)
        return sensor_errorf(s, -ENODEV,
                             "'%s': the RAPL unit register 0x%x does not exist (a CPU or a VM "
                             "without RAPL)",
                             pk->path, p->vendor->unit_msr);
    if (r < 0)
        return sensor_errorf(s, r == -EPERM ? -EACCES : r,
                             "cannot read MSR 0x%x from '%s': %s (with msr-safe, add the RAPL "
                             "MSRs to its allowlist)",
                             p->vendor->unit_msr, pk->path, strerror(-r));
    pk->esu = (unsigned)((v >> 8) & 0x1f);
    return 0;
}

static unsigned msr_domain_esu(const struct msr_priv *p, const struct msr_pkg *pk,
                               const char *domain)
{
    if (strcmp(p->vendor->vendor_id, "GenuineIntel") != 0 || p->family != 6)
        return pk->esu;
    for (size_t i = 0; i < sizeof(msr_unit_quirks) / sizeof(msr_unit_quirks[0]); i++)
        if (msr_unit_quirks[i].model == p->model && strcmp(msr_unit_quirks[i].domain, domain) == 0)
            return msr_unit_quirks[i].esu;
    return pk->esu;
}

/* The package's TDP in µW from MSR_PKG_POWER_INFO (Intel), or 0. */
static uint64_t msr_tdp_uw(const struct msr_priv *p, const struct msr_pkg *pk)
{
    uint64_t unit, info;
    if (p->vendor->unit_msr != 0x606 || msr_pread(pk->fd, 0x606, &unit) < 0 ||
        msr_pread(pk->fd, MSR_INTEL_PKG_POWER_INFO, &info) < 0)
        return 0;
    return ((info & 0x7fff) * 1000000u) >> (unit & 0xf);
}

/* Probes one domain's MSR on a package and adds its channel. A read error means the
 * domain does not exist; so does a zero, except for the package (as perf_msr_probe()
 * does: some parts read 0 from a domain they lack). Returns 0 or a negative errno. */
static int msr_add_domain(struct sensor *s, struct msr_priv *p, size_t pkg, size_t dom)
{
    const struct rapl_domain *d = &rapl_domains[dom];
    struct msr_pkg *pk = &p->pkgs[pkg];
    uint32_t msr = p->vendor->domain_msr[dom];
    char name[SENSOR_NAME_MAX], label[16];
    uint64_t v;
    if (msr == 0)
        return 0;
    int r = msr_pread(pk->fd, msr, &v);
    if (r == -EIO || (r == 0 && (v & MSR_COUNTER_MASK) == 0 && strcmp(d->domain, "package")))
        return 0;
    if (r < 0)
        return sensor_errorf(s, r == -EPERM ? -EACCES : r, "cannot read MSR 0x%x from '%s': %s",
                             msr, pk->path, strerror(-r));
    snprintf(label, sizeof(label), "%u", pk->id);
    rapl_channel_name(name, sizeof(name), d, label);
    struct sensor_channel *c = sensor_add_channel(s, name);
    if (c == NULL) {
        sensor_notef(s, "more than %d channels: '%s' left out", SENSOR_MAX_CHANNELS, name);
        return 0;
    }
    struct msr_counter *k = &p->ctr[s->n_channels - 1];
    *k = (struct msr_counter){ .pkg = pkg, .msr = msr, .esu = msr_domain_esu(p, pk, d->domain) };
    k->last = (uint32_t)v;
    k->acc = k->last;
    snprintf(c->domain, sizeof(c->domain), "%s", d->domain);
    c->kind = SENSOR_ENERGY_COUNTER;
    c->provenance = SENSOR_MEASURED;
    c->max_raw = 0; /* unwrapped here: a 64-bit µJ count */
    c->max_power_uw = strcmp(d->domain, "package") == 0 ? msr_tdp_uw(p, pk) : 0;
    snprintf(c->note, sizeof(c->note), "%.100s MSR 0x%x, 2^-%u J, 32-bit unwrapped at each read",
             pk->path, msr, k->esu);
    return 0;
}

/* Per package: package, dram, core, uncore; then psys once, on the first package. */
static int msr_add_channels(struct sensor *s, struct msr_priv *p)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < p->n_pkgs; i++)
        for (size_t dom = 0; r == 0 && dom < MSR_N_DOMAINS; dom++)
            if (rapl_domains[dom].per_package)
                r = msr_add_domain(s, p, i, dom);
    for (size_t dom = 0; r == 0 && dom < MSR_N_DOMAINS; dom++)
        if (!rapl_domains[dom].per_package)
            r = msr_add_domain(s, p, 0, dom);
    return r;
}

/* Unwraps one counter and gives its µJ; a failing read keeps the last value. */
static int msr_read_channel(struct sensor *s, size_t i, uint64_t *value)
{
    struct msr_priv *p = s->priv;
    struct msr_counter *k = &p->ctr[i];
    uint64_t v;
    int r = msr_pread(p->pkgs[k->pkg].fd, k->msr, &v);
    if (r == 0) {
        uint32_t now = (uint32_t)v;
        k->acc += (uint32_t)(now - k->last); /* one wrap at most between two reads */
        k->last = now;
    }
    *value = msr_uj(k);
    return r;
}

static int msr_read(struct sensor *s, uint64_t *values)
{
    return sensor_read_each(s, values, msr_read_channel);
}

static int msr_read_strict(struct sensor *s, uint64_t *values)
{
    int r = msr_read(s, values);
    for (size_t i = 0; r == 0 && i < s->n_channels; i++)
        r = s->channels[i].read_err;
    return r;
}

/* Counters that all read zero must move while the CPU is busy (a VM may give zeros). */
static int msr_check_liveness(struct sensor *s)
{
    const struct msr_priv *p = s->priv;
    uint64_t base[SENSOR_MAX_CHANNELS];
    for (size_t i = 0; i < s->n_channels; i++)
        if (p->ctr[i].last != 0)
            return 0;
    int r = msr_read_strict(s, base);
    if (r == 0)
        r = sensor_counters_move(s, msr_read_strict, base);
    if (r != 0)
        return r < 0 ? sensor_errorf(s, -EIO, "cannot read the RAPL MSRs: %s", strerror(-r)) : 0;
    return sensor_errorf(s, -EIO,
                         "not working: the RAPL MSRs of '%s' stay at zero while the CPU is busy "
                         "(typical of a VM without RAPL pass-through)",
                         p->pkgs[0].path);
}

/* The wrap period users should know about: 2^32 counts at the TDP (or 100 W). */
static void msr_note_wrap(struct sensor *s)
{
    const struct msr_priv *p = s->priv;
    uint64_t tdp_uw = s->channels[0].max_power_uw;
    uint64_t ref_w = tdp_uw >= 1000000u ? tdp_uw / 1000000u : MSR_WRAP_REF_W;
    uint64_t range_j = (MSR_COUNTER_MASK + 1) >> p->ctr[0].esu;
    sensor_notef(s,
                 "32-bit counters: %s wraps after %llu J (%llu s at %llu W%s); unwrapped at "
                 "each read, so reads must come more often",
                 s->channels[0].name, (unsigned long long)range_j,
                 (unsigned long long)(range_j / ref_w), (unsigned long long)ref_w,
                 tdp_uw >= 1000000u ? ", the TDP" : "");
    if (p->vendor->domain_msr[3] == 0)
        sensor_notef(s, "no core channel: AMD's core energy MSR counts a single core");
}

static void msr_close(struct sensor *s)
{
    struct msr_priv *p = s->priv;
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_pkgs; i++) {
        if (p->pkgs[i].fd >= 0)
            close(p->pkgs[i].fd);
        p->pkgs[i].fd = -1;
    }
    p->n_pkgs = 0;
}

static int msr_open(struct sensor *s)
{
    struct msr_priv *p = s->priv;
    memset(p, 0, sizeof(*p));
    s->n_channels = 0;
    int r = msr_read_cpu(s, p);
    if (r == 0)
        r = msr_scan_topology(s, p);
    for (size_t i = 0; r == 0 && i < p->n_pkgs; i++)
        r = msr_open_dev(s, &p->pkgs[i]);
    for (size_t i = 0; r == 0 && i < p->n_pkgs; i++)
        r = msr_read_unit(s, p, &p->pkgs[i]);
    if (r == 0)
        r = msr_add_channels(s, p);
    if (r == 0 && s->n_channels == 0)
        r = sensor_errorf(s, -ENODEV, "no RAPL energy MSR readable on '%s'", p->pkgs[0].path);
    if (r == 0)
        r = msr_check_liveness(s);
    if (r < 0)
        goto fail;
    rapl_mark_totals(s);
    msr_note_wrap(s);
    return 0;
fail:
    msr_close(s); /* keeps errmsg */
    s->n_channels = 0;
    return r;
}

const struct sensor_ops rapl_msr_sensor_ops = {
    .name = "rapl-msr",
    .priv_size = sizeof(struct msr_priv),
    .open = msr_open,
    .read = msr_read,
    .close = msr_close,
};
