/* RAPL energy counters read through the perf `power` PMU (arch/x86/events/rapl.c): one
 * system-wide counting event per package (per die on Intel) and energy domain, opened on
 * the cpu the PMU's cpumask names. The kernel extends the 32-bit hardware counter to a
 * 64-bit count, so these channels never wrap (max_raw 0). Channel names match the
 * powercap backend so the two are interchangeable. */
#include "sensor.h"

#include <errno.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rapl_common.h"
#include "sysfs.h"

#define PMU_DIR "bus/event_source/devices/power"
/* cpumask entries handled: one per package (die); more than any machine has. */
#define MAX_UNITS 64
/* Longest path below the PMU directory: "events/energy-cores.scale" and the like. */
#define PMU_FILE_MAX 64
#define TWO_POW_32 4294967296.0

/* The energy events the power PMU may list, in the order channels are created, and the
 * RAPL domain each reads (its channel name and place in the total: rapl_common.h). */
static const struct rapl_perf_event {
    const char *event;  /* file name in events/ */
    const char *domain; /* one per cpumask cpu, or once on the first (psys) */
} rapl_perf_events[] = {
    { "energy-pkg", "package" }, { "energy-ram", "dram" },   { "energy-psys", "psys" },
    { "energy-cores", "core" },  { "energy-gpu", "uncore" },
};

/* s->priv. fds[i] belongs to channels[i]; only fds[0..n_fds) are meaningful, so a
 * zeroed (never opened) state closes nothing. */
struct rapl_perf {
    size_t n_fds;
    int fds[SENSOR_MAX_CHANNELS]; /* an open perf fd, or -1 */
};

/* One cpumask cpu: where a package's (die's) events are opened. */
struct pmu_unit {
    int cpu;
    char label[48]; /* "1", or "0-die:1" when dies share a package (as rapl-powercap) */
};

/* What open() learns from the PMU's directory; lives on open()'s stack. */
struct pmu_desc {
    char dir[PATH_MAX];
    uint32_t type;
    size_t n_units;
    struct pmu_unit units[MAX_UNITS];
};

/* One event's description from events/<name>{,.scale,.unit}. */
struct event_desc {
    uint64_t config;
    uint64_t scale_num; /* raw count × scale_num / scale_den = µJ */
    uint64_t scale_den;
    char scale_text[64]; /* "2^-32", or the PMU's text when not a power of two */
};

static const char *root_or(const char *root, const char *fallback)
{
    return root != NULL ? root : fallback;
}

/* perf_event_open(2), or the test's fake. Returns an fd or a negative errno. */
static int perf_open_fd(const struct sensor *s, struct perf_event_attr *attr, int cpu)
{
    unsigned long flags = PERF_FLAG_FD_CLOEXEC;
    if (s->sys != NULL && s->sys->perf_event_open != NULL)
        return s->sys->perf_event_open(attr, -1, cpu, -1, flags);
    long fd = syscall(SYS_perf_event_open, attr, -1, cpu, -1, flags);
    return fd < 0 ? -errno : (int)fd;
}

/* Reads one 64-bit count without allocating. Returns 0 or a negative errno. */
static int perf_read_fd(const struct sensor *s, int fd, uint64_t *count)
{
    if (s->sys != NULL && s->sys->perf_read != NULL)
        return s->sys->perf_read(fd, count);
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof(v));
    if (n < 0)
        return -errno;
    if (n != (ssize_t)sizeof(v))
        return -EIO;
    *count = v;
    return 0;
}

static int parse_cpu_number(const char **p, unsigned long *out)
{
    char *end;
    if (**p < '0' || **p > '9')
        return -EINVAL;
    errno = 0;
    *out = strtoul(*p, &end, 10);
    if (errno != 0 || *out > INT_MAX)
        return -EINVAL;
    *p = end;
    return 0;
}

/* Parses the kernel's cpu list format ("0", "0,28", "0-1,4") into cpus[0..*n). */
static int parse_cpumask(const char *text, int *cpus, size_t max, size_t *n)
{
    const char *p = text;
    *n = 0;
    while (*p != '\0') {
        unsigned long first;
        unsigned long last;
        if (parse_cpu_number(&p, &first) < 0)
            return -EINVAL;
        last = first;
        if (*p == '-') {
            p++;
            if (parse_cpu_number(&p, &last) < 0 || last < first)
                return -EINVAL;
        }
        for (unsigned long c = first; c <= last; c++) {
            if (*n >= max)
                return -E2BIG;
            cpus[(*n)++] = (int)c;
        }
        if (*p == ',' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            return -EINVAL;
    }
    return *n > 0 ? 0 : -EINVAL;
}

/* Reads type and cpumask. -ENODEV when there is no power PMU at all. */
static int read_pmu(struct sensor *s, struct pmu_desc *pmu)
{
    char path[PATH_MAX];
    char text[512];
    uint64_t type;
    int cpus[MAX_UNITS];

    /* Leaves room for the longest file name below the PMU directory, so the later
     * sysfs_path() joins onto pmu->dir cannot fail. */
    if (sysfs_path(pmu->dir, sizeof(pmu->dir) - PMU_FILE_MAX, root_or(s->sysfs_root, "/sys"),
                   PMU_DIR) < 0)
        return sensor_errorf(s, -EIO, "sysfs root '%s' is too long", s->sysfs_root);
    sysfs_path(path, sizeof(path), pmu->dir, "type");
    int r = sysfs_read_u64(path, &type);
    if (r == -ENOENT)
        return sensor_errorf(s, -ENODEV,
                             "no perf 'power' PMU at '%s' (kernel without RAPL perf support, "
                             "or a VM)",
                             pmu->dir);
    if (r < 0 || type > UINT32_MAX)
        return sensor_errorf(s, -EIO, "cannot read the PMU type from '%s': %s", path,
                             r < 0 ? strerror(-r) : "out of range");
    pmu->type = (uint32_t)type;

    sysfs_path(path, sizeof(path), pmu->dir, "cpumask");
    r = sysfs_read_str(path, text, sizeof(text));
    if (r < 0)
        return sensor_errorf(s, -EIO, "cannot read '%s': %s", path, strerror(-r));
    if (parse_cpumask(text, cpus, MAX_UNITS, &pmu->n_units) < 0)
        return sensor_errorf(s, -EIO, "cannot parse cpumask '%s' in '%s' (expected e.g. \"0,28\")",
                             text, path);
    for (size_t i = 0; i < pmu->n_units; i++)
        pmu->units[i].cpu = cpus[i];
    return 0;
}

/* Reads cpu<N>/topology/<file>; -1 when it is missing or unreadable. */
static long read_topology(const struct sensor *s, int cpu, const char *file)
{
    char path[PATH_MAX];
    uint64_t v;
    if (sysfs_path(path, sizeof(path), root_or(s->sysfs_root, "/sys"),
                   "devices/system/cpu/cpu%d/topology/%s", cpu, file) < 0)
        return -1;
    if (sysfs_read_u64(path, &v) < 0 || v > INT_MAX)
        return -1;
    return (long)v;
}

/* Labels each unit with its package id, or "P-die:D" when several cpumask cpus share
 * a package (Intel perf RAPL scope is the die). */
static void label_units(struct sensor *s, struct pmu_desc *pmu)
{
    long pkg[MAX_UNITS];
    int shared = 0;
    for (size_t i = 0; i < pmu->n_units; i++) {
        pkg[i] = read_topology(s, pmu->units[i].cpu, "physical_package_id");
        if (pkg[i] < 0) {
            sensor_notef(s, "no package id for cpu %d: its counters are named by cpumask position",
                         pmu->units[i].cpu);
            pkg[i] = (long)i;
        }
        for (size_t j = 0; j < i; j++)
            shared |= pkg[j] == pkg[i];
    }
    for (size_t i = 0; i < pmu->n_units; i++) {
        struct pmu_unit *u = &pmu->units[i];
        if (!shared) {
            snprintf(u->label, sizeof(u->label), "%ld", pkg[i]);
            continue;
        }
        long die = read_topology(s, u->cpu, "die_id");
        if (die < 0)
            die = (long)i; /* kernels before 5.2 have no die_id */
        snprintf(u->label, sizeof(u->label), "%ld-die:%ld", pkg[i], die);
    }
}

/* Parses an event file ("event=0x02") into attr.config. */
static int parse_event_config(const char *text, uint64_t *config)
{
    static const char prefix[] = "event=";
    char *end;
    if (strncmp(text, prefix, sizeof(prefix) - 1) != 0)
        return -EINVAL;
    const char *p = text + sizeof(prefix) - 1;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 0);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *config = v;
    return 0;
}

/* Converts the PMU's scale (joules per count, e.g. "2.3283064365386962890625e-10") into
 * µJ per count = num / den: exact for a power of two, else den = 2^32 and num rounded.
 * The parse does not depend on the caller's locale. */
static int parse_scale(const char *text, struct event_desc *d)
{
    char *end;
    int exp;
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0)
        return -ENOMEM;
    errno = 0;
    double scale = strtod_l(text, &end, c_locale);
    int err = errno;
    freelocale(c_locale);
    if (end == text || *end != '\0' || err != 0 || !isfinite(scale) || scale <= 0)
        return -EINVAL;
    double mantissa = frexp(scale, &exp); /* scale = mantissa × 2^exp */
    if (mantissa == 0.5 && exp <= 1 && exp >= -62) {
        d->scale_num = 1000000;
        d->scale_den = 1ull << (1 - exp);
        snprintf(d->scale_text, sizeof(d->scale_text), "2^%d", exp - 1);
        return 0;
    }
    double num = scale * 1e6 * TWO_POW_32;
    if (num < 1.0 || num > 0x1p62)
        return -ERANGE;
    d->scale_num = (uint64_t)llround(num);
    d->scale_den = 1ull << 32;
    snprintf(d->scale_text, sizeof(d->scale_text), "%s", text);
    return 0;
}

/* Reads events/<name>{,.scale,.unit}. Returns 0, -ENOENT when the PMU does not list the
 * event (skipped quietly), or -EIO with errmsg. */
static int read_event(struct sensor *s, const struct pmu_desc *pmu, const char *name,
                      struct event_desc *d)
{
    char path[PATH_MAX];
    char text[64];
    sysfs_path(path, sizeof(path), pmu->dir, "events/%s", name);
    int r = sysfs_read_str(path, text, sizeof(text));
    if (r == -ENOENT)
        return -ENOENT;
    if (r < 0 || parse_event_config(text, &d->config) < 0)
        return sensor_errorf(s, -EIO, "cannot read event '%s': %s", path,
                             r < 0 ? strerror(-r) : "expected \"event=0x..\"");
    sysfs_path(path, sizeof(path), pmu->dir, "events/%s.unit", name);
    r = sysfs_read_str(path, text, sizeof(text));
    if (r < 0)
        return sensor_errorf(s, -EIO, "cannot read '%s': %s", path, strerror(-r));
    if (strcmp(text, "Joules") != 0)
        return sensor_errorf(s, -EIO, "unexpected unit '%s' in '%s' (expected \"Joules\")", text,
                             path);
    sysfs_path(path, sizeof(path), pmu->dir, "events/%s.scale", name);
    r = sysfs_read_str(path, text, sizeof(text));
    if (r < 0)
        return sensor_errorf(s, -EIO, "cannot read '%s': %s", path, strerror(-r));
    r = parse_scale(text, d);
    if (r == -ENOMEM)
        return sensor_errorf(s, -ENOMEM, "out of memory parsing '%s'", path);
    if (r < 0)
        return sensor_errorf(s, -EIO,
                             "cannot use scale '%s' in '%s' (expected joules per count, "
                             "e.g. 2.3283064365386962890625e-10)",
                             text, path);
    return 0;
}

/* The path of the running program when it is wattprof, for the setcap hint. */
static void wattprof_exe(const struct sensor *s, char *buf, size_t size)
{
    char link[PATH_MAX];
    char target[PATH_MAX];
    snprintf(buf, size, "<path of wattprof>");
    if (sysfs_path(link, sizeof(link), root_or(s->proc_root, "/proc"), "self/exe") < 0)
        return;
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    if (strncmp(base != NULL ? base + 1 : target, "wattprof", 8) == 0)
        snprintf(buf, size, "%s", target);
}

/* EACCES/EPERM from perf_event_open: says what the kernel allows now and how to fix it. */
static int permission_error(struct sensor *s, int err, const char *event, int cpu)
{
    char path[PATH_MAX];
    char paranoid[32];
    char exe[PATH_MAX];
    if (sysfs_path(path, sizeof(path), root_or(s->proc_root, "/proc"),
                   "sys/kernel/perf_event_paranoid") < 0 ||
        sysfs_read_str(path, paranoid, sizeof(paranoid)) < 0)
        snprintf(paranoid, sizeof(paranoid), "unknown");
    wattprof_exe(s, exe, sizeof(exe));
    return sensor_errorf(s, -EACCES,
                         "cannot open perf event power/%s/ on cpu %d: %s "
                         "(kernel.perf_event_paranoid = %s); system-wide perf events need "
                         "CAP_PERFMON (Linux 5.8+) or kernel.perf_event_paranoid <= 0: run "
                         "'sudo setcap cap_perfmon+ep %s' or 'sudo sysctl "
                         "kernel.perf_event_paranoid=0', or run as root",
                         event, cpu, strerror(-err), paranoid, exe);
}

/* Maps a perf_event_open failure to our codes: -ENODEV when the kernel or CPU lacks the
 * event, -EACCES when not allowed, -EIO otherwise (e.g. EINVAL: it refused the event). */
static int open_error(struct sensor *s, int err, const char *event, int cpu)
{
    if (err == -EACCES || err == -EPERM)
        return permission_error(s, err, event, cpu);
    int code = (err == -ENOENT || err == -ENODEV || err == -EOPNOTSUPP) ? -ENODEV : -EIO;
    return sensor_errorf(s, code, "cannot open perf event power/%s/ on cpu %d: %s", event, cpu,
                         strerror(-err));
}

/* Opens one event on one cpu and adds its channel. Returns 0 or a negative errno. */
static int add_channel(struct sensor *s, const struct pmu_desc *pmu,
                       const struct rapl_perf_event *ev, const struct event_desc *d,
                       const struct pmu_unit *u)
{
    struct rapl_perf *st = s->priv;
    struct perf_event_attr attr;
    char name[SENSOR_NAME_MAX + 64]; /* truncated to SENSOR_NAME_MAX when added */
    rapl_channel_name(name, sizeof(name), rapl_domain_find(ev->domain), u->label);
    if (s->n_channels >= SENSOR_MAX_CHANNELS) {
        sensor_notef(s, "channel limit reached: '%s' not opened", name);
        return 0;
    }
    memset(&attr, 0, sizeof(attr));
    attr.type = pmu->type;
    attr.size = sizeof(attr);
    attr.config = d->config;
    int fd = perf_open_fd(s, &attr, u->cpu);
    if (fd < 0)
        return open_error(s, fd, ev->event, u->cpu);
    struct sensor_channel *c = sensor_add_channel(s, name);
    st->fds[st->n_fds++] = fd;
    snprintf(c->domain, sizeof(c->domain), "%s", ev->domain);
    c->kind = SENSOR_ENERGY_COUNTER;
    c->provenance = SENSOR_MEASURED;
    c->scale_num = d->scale_num;
    c->scale_den = d->scale_den;
    c->max_raw = 0;
    snprintf(c->note, sizeof(c->note), "perf power/%s/ on cpu %d (kernel-handled wrap, %s J)",
             ev->event, u->cpu, d->scale_text);
    return 0;
}

/* Opens every listed energy event: per unit, or once on the first cpumask cpu. */
static int open_events(struct sensor *s, const struct pmu_desc *pmu)
{
    for (size_t i = 0; i < sizeof(rapl_perf_events) / sizeof(rapl_perf_events[0]); i++) {
        const struct rapl_perf_event *ev = &rapl_perf_events[i];
        struct event_desc d;
        int r = read_event(s, pmu, ev->event, &d);
        if (r == -ENOENT)
            continue;
        if (r < 0)
            return r;
        size_t n = rapl_domain_find(ev->domain)->per_package ? pmu->n_units : 1;
        for (size_t j = 0; j < n; j++) {
            r = add_channel(s, pmu, ev, &d, &pmu->units[j]);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* Reads every channel; any failure fails the whole read. */
static int read_all_strict(struct sensor *s, uint64_t *values)
{
    struct rapl_perf *st = s->priv;
    for (size_t i = 0; i < s->n_channels; i++) {
        int r = perf_read_fd(s, st->fds[i], &values[i]);
        if (r < 0)
            return sensor_errorf(s, -EIO, "cannot read perf counter '%s': %s", s->channels[i].name,
                                 strerror(-r));
    }
    return 0;
}

/* A VM's power PMU opens fine but counts nothing: the counters must move while the CPU
 * is kept busy (sensor_counters_move). */
static int check_liveness(struct sensor *s)
{
    uint64_t base[SENSOR_MAX_CHANNELS];
    int r = read_all_strict(s, base);
    if (r == 0)
        r = sensor_counters_move(s, read_all_strict, base);
    if (r != 0)
        return r < 0 ? r : 0;
    return sensor_errorf(s, -EIO,
                         "perf power PMU opens but its counters stay at zero while the CPU is "
                         "busy (typical of a VM without RAPL pass-through); not used");
}

static void rapl_perf_close(struct sensor *s)
{
    struct rapl_perf *st = s->priv;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_fds; i++) {
        if (st->fds[i] >= 0)
            close(st->fds[i]);
        st->fds[i] = -1;
    }
    st->n_fds = 0;
}

static int rapl_perf_open(struct sensor *s)
{
    struct rapl_perf *st = s->priv;
    struct pmu_desc pmu;
    for (size_t i = 0; i < SENSOR_MAX_CHANNELS; i++)
        st->fds[i] = -1;
    st->n_fds = 0;
    s->n_channels = 0;
    int r = read_pmu(s, &pmu);
    if (r < 0)
        goto fail;
    label_units(s, &pmu);
    r = open_events(s, &pmu);
    if (r < 0)
        goto fail;
    rapl_mark_totals(s);
    if (s->n_channels == 0) {
        r = sensor_errorf(s, -ENODEV, "perf 'power' PMU at '%s' lists no energy events", pmu.dir);
        goto fail;
    }
    r = check_liveness(s);
    if (r < 0)
        goto fail;
    return 0;
fail:
    rapl_perf_close(s);
    s->n_channels = 0;
    return r;
}

static int read_channel(struct sensor *s, size_t i, uint64_t *value)
{
    const struct rapl_perf *st = s->priv;
    return perf_read_fd(s, st->fds[i], value);
}

/* One raw 64-bit count per channel; a failing channel is flagged in read_err. */
static int rapl_perf_read(struct sensor *s, uint64_t *values)
{
    return sensor_read_each(s, values, read_channel);
}

const struct sensor_ops rapl_perf_sensor_ops = {
    .name = "rapl-perf",
    .priv_size = sizeof(struct rapl_perf),
    .open = rapl_perf_open,
    .read = rapl_perf_read,
    .close = rapl_perf_close,
};
