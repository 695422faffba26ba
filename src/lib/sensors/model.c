/* The model backend: an estimate of CPU and memory energy for machines with nothing to
 * read (VMs, containers), from the CPU time in /proc/stat and a power model chosen once
 * in open() (docs/models.md): Cloud Carbon Footprint's per-vCPU figures for the CPU
 * family, else the Teads curve over the CPU's TDP on bare metal, else CCF's provider
 * average; memory at CCF's 0.392 W per GiB of MemTotal. Both channels are cumulative µJ
 * counters that never wrap, with provenance "estimated". */
#include "model.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_cpu.h"
#include "procstat.h"
#include "sensor.h"
#include "sysfs.h"

#define NS_PER_S 1000000000ull
#define MIN_PERIOD_NS 100000000ull /* reads closer than 100 ms add nothing to a model */
#define PPM 1000000ull
/* Cloud Carbon Footprint MEMORY_COEFFICIENT, 0.000392 kWh per GB-hour = 0.392 W per GB,
 * applied (as CCF does to instance sizes) per GiB: in µW per GiB, and KiB in a GiB. */
#define MEM_UW_PER_GIB 392000ull
#define KIB_PER_GIB 1048576ull
#define TDP_FILE "cpu-power/cpu_tdp.csv"
#define WATTS_MAX 24 /* "18446744073709551.62" and its NUL */

/* Teads' power as a fraction of TDP at 0, 10, 50 and 100 % CPU load (Benjamin Davy,
 * Teads engineering blog), linear in between; both in ppm. */
static const struct curve_point {
    uint64_t u_ppm;
    uint64_t f_ppm;
} teads_curve[] = {
    { 0, 120000 },
    { 100000, 320000 },
    { 500000, 750000 },
    { 1000000, 1020000 },
};

/* What open() learns from <proc_root>/cpuinfo. */
struct cpuinfo {
    int readable;
    char model_name[MODEL_CPU_NAME_MAX]; /* "" when there is none (arm64) */
    int hypervisor;                      /* the "hypervisor" flag: a VM */
    unsigned n_sockets;                  /* distinct "physical id"s, at least 1 */
};

/* floor(a * b / d) for 0 < d < 2^32, exact whenever the result fits in 64 bits: with
 * a = ah d + al and b = bh d + bl, a b / d = ah b + al bh + al bl / d, and al bl < d^2. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t d)
{
    uint64_t ah = a / d;
    uint64_t al = a % d;
    return ah * b + al * (b / d) + al * (b % d) / d;
}

/* Writes µW as watts with two decimals ("3.50"), independent of the locale. */
static const char *watts(char *buf, size_t size, uint64_t uw)
{
    uint64_t cw = (uw + 5000) / 10000;
    snprintf(buf, size, "%" PRIu64 ".%02" PRIu64, cw / 100, cw % 100);
    return buf;
}

/* Formats a channel's note; a note longer than SENSOR_NOTE_MAX is cut. */
static void channel_notef(struct sensor_channel *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void channel_notef(struct sensor_channel *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->note, sizeof(c->note), fmt, ap);
    va_end(ap);
}

static uint64_t teads_f_ppm(uint64_t u_ppm)
{
    size_t i = 1;
    while (i + 1 < sizeof(teads_curve) / sizeof(teads_curve[0]) && u_ppm > teads_curve[i].u_ppm)
        i++;
    const struct curve_point *a = &teads_curve[i - 1];
    const struct curve_point *b = &teads_curve[i];
    if (u_ppm >= b->u_ppm)
        return b->f_ppm;
    return a->f_ppm + (u_ppm - a->u_ppm) * (b->f_ppm - a->f_ppm) / (b->u_ppm - a->u_ppm);
}

/* Counts the "cpuN" lines of /proc/stat. Returns the count, or a negative errno. */
static int count_vcpus(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) >= 0)
        if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9')
            n++;
    free(line);
    fclose(f);
    return n;
}

/* Opens <proc>/stat for read() and counts the vCPUs. -ENODEV when it cannot be read. */
static int open_stat(struct sensor *s, struct model *m, const char *proc)
{
    char path[PATH_MAX];
    char err[128];
    struct procstat_cpu c;
    if (sysfs_path(path, sizeof(path), proc, "stat") < 0)
        return sensor_errorf(s, -ENODEV, "cannot read '%s/stat': path too long", proc);
    int r = sysfs_open(path);
    if (r >= 0) {
        m->stat_fd = r;
        r = procstat_read_fd(m->stat_fd, &c);
    }
    if (r == -EINVAL)
        return sensor_errorf(s, -ENODEV, "cannot read '%s': no aggregate 'cpu' line first", path);
    if (r < 0)
        return sensor_errorf(s, -ENODEV, "cannot read '%s': %s", path,
                             strerror_r(-r, err, sizeof(err)));
    r = count_vcpus(path);
    if (r <= 0)
        return sensor_errorf(s, -ENODEV, "cannot read '%s': %s", path,
                             r < 0 ? strerror_r(-r, err, sizeof(err)) : "no cpuN lines");
    m->n_vcpu = (unsigned)r;
    return 0;
}

/* The value of "key<tabs>: value" in line, without its newline, or NULL. */
static const char *cpuinfo_value(char *line, const char *key)
{
    size_t len = strlen(key);
    if (strncmp(line, key, len) != 0)
        return NULL;
    const char *v = line + len + strspn(line + len, " \t");
    if (*v != ':')
        return NULL;
    line[strcspn(line, "\n")] = '\0';
    return v + 1 + strspn(v + 1, " ");
}

static int has_word(const char *list, const char *word)
{
    size_t len = strlen(word);
    for (const char *w = strstr(list, word); w; w = strstr(w + 1, word))
        if ((w == list || w[-1] == ' ') && (w[len] == '\0' || w[len] == ' '))
            return 1;
    return 0;
}

/* Takes what matters from one "key : value" line of cpuinfo. */
static void cpuinfo_line(struct cpuinfo *ci, char *line, uint64_t seen[4])
{
    const char *name = cpuinfo_value(line, "model name");
    const char *flags = cpuinfo_value(line, "flags");
    const char *phys = cpuinfo_value(line, "physical id");
    uint64_t id;
    if (name && !ci->model_name[0])
        snprintf(ci->model_name, sizeof(ci->model_name), "%s", name);
    if (flags && has_word(flags, "hypervisor"))
        ci->hypervisor = 1;
    if (phys && sysfs_parse_u64(phys, &id) == 0 && id < 256)
        seen[id / 64] |= 1ull << (id % 64);
}

/* Reads model name, hypervisor flag and sockets; an unreadable file leaves them unknown. */
static void read_cpuinfo(const char *proc, struct cpuinfo *ci)
{
    char path[PATH_MAX];
    uint64_t seen[4] = { 0 };
    memset(ci, 0, sizeof(*ci));
    ci->n_sockets = 1;
    FILE *f = sysfs_path(path, sizeof(path), proc, "cpuinfo") == 0 ? fopen(path, "re") : NULL;
    if (!f)
        return;
    ci->readable = 1;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0)
        cpuinfo_line(ci, line, seen);
    free(line);
    fclose(f);
    unsigned n = 0;
    for (size_t i = 0; i < 4; i++)
        n += (unsigned)__builtin_popcountll(seen[i]);
    if (n > 0)
        ci->n_sockets = n;
}

/* What choose_cpu_model() picked, for the channel note. */
struct cpu_choice {
    const struct model_cpu_family *family; /* MODEL_CPU_LINEAR */
    struct model_cpu_tdp tdp;              /* MODEL_CPU_TDP_CURVE */
};

static void use_linear(struct model *m, struct cpu_choice *ch, const struct model_cpu_family *fam)
{
    m->kind = MODEL_CPU_LINEAR;
    m->min_uw = fam->min_uw;
    m->max_uw = fam->max_uw;
    ch->family = fam;
}

/* Model (3), CCF's provider average, with the reason it was chosen. */
static void use_generic(struct sensor *s, struct model *m, struct cpu_choice *ch, const char *why)
{
    char lo[WATTS_MAX];
    char hi[WATTS_MAX];
    use_linear(m, ch, &model_cpu_generic);
    sensor_notef(s, "cpu: model ccf-vcpu, generic: %s; %u vCPU x %s .. %s W (%s)", why, m->n_vcpu,
                 watts(lo, sizeof(lo), m->min_uw), watts(hi, sizeof(hi), m->max_uw),
                 model_cpu_generic.source);
}

/* Model (2), the TDP curve, when the data file has this CPU; (3) otherwise. Returns 0,
 * or -EINVAL, -EIO or -ENOMEM when the data file is broken. */
static int try_tdp_curve(struct sensor *s, struct model *m, struct cpu_choice *ch,
                         const struct cpuinfo *ci)
{
    char path[PATH_MAX];
    char why[PATH_MAX + 256];
    char err[128];
    char w[WATTS_MAX];
    const char *data = s->data_dir ? s->data_dir : WATTPROF_SOURCE_DATADIR;
    if (sysfs_path(path, sizeof(path), data, TDP_FILE) < 0)
        return sensor_errorf(s, -EINVAL, "data directory '%s': path too long", data);
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(why, sizeof(why),
                 "'%s' is in no Cloud Carbon Footprint family and '%s' cannot be read (%s)",
                 ci->model_name, path, strerror_r(errno, err, sizeof(err)));
        use_generic(s, m, ch, why);
        return 0;
    }
    int r = model_cpu_tdp_lookup(s, f, path, ci->model_name, &ch->tdp);
    fclose(f);
    if (r < 0)
        return r;
    if (r == 0) {
        snprintf(why, sizeof(why), "'%s' is in no Cloud Carbon Footprint family and not in '%s'",
                 ci->model_name, path);
        use_generic(s, m, ch, why);
        return 0;
    }
    m->kind = MODEL_CPU_TDP_CURVE;
    m->tdp_mw = ch->tdp.tdp_mw;
    sensor_notef(s,
                 "cpu: model teads-tdp: '%s' is in no Cloud Carbon Footprint family; %s W TDP x "
                 "%u socket(s) from '%s' line %u ('%s', matched by %s)",
                 ci->model_name, watts(w, sizeof(w), m->tdp_mw * 1000), m->n_sockets, path,
                 ch->tdp.line, ch->tdp.row, ch->tdp.by_token ? "model number" : "name");
    return 0;
}

/* Picks the CPU model: (1) CCF family, (2) TDP curve on bare metal, (3) CCF average. */
static int choose_cpu_model(struct sensor *s, struct model *m, struct cpu_choice *ch,
                            const struct cpuinfo *ci)
{
    const struct model_cpu_family *fam = model_cpu_ccf_family(ci->model_name);
    if (fam) {
        char lo[WATTS_MAX];
        char hi[WATTS_MAX];
        use_linear(m, ch, fam);
        sensor_notef(s, "cpu: model ccf-vcpu: '%s' is %s; %u vCPU x %s .. %s W (%s)",
                     ci->model_name, fam->label, m->n_vcpu, watts(lo, sizeof(lo), fam->min_uw),
                     watts(hi, sizeof(hi), fam->max_uw), fam->source);
        return 0;
    }
    if (!ci->model_name[0]) {
        use_generic(s, m, ch, ci->readable ? "no model name in cpuinfo" : "cpuinfo unreadable");
        return 0;
    }
    if (ci->hypervisor) {
        char why[MODEL_CPU_NAME_MAX + 128];
        snprintf(
            why, sizeof(why),
            "'%s' is in no Cloud Carbon Footprint family; a VM (hypervisor flag), so no TDP curve",
            ci->model_name);
        use_generic(s, m, ch, why);
        return 0;
    }
    return try_tdp_curve(s, m, ch, ci);
}

static struct sensor_channel *add_channel(struct sensor *s, const char *name, const char *domain)
{
    struct sensor_channel *c = sensor_add_channel(s, name);
    if (!c)
        return NULL;
    snprintf(c->domain, sizeof(c->domain), "%s", domain);
    c->kind = SENSOR_ENERGY_COUNTER; /* raw = µJ: scale 1/1 and max_raw 0 as added */
    c->provenance = SENSOR_ESTIMATED;
    c->included_in_total = 1;
    return c;
}

/* Channel 0. max_power_uw is twice the model's maximum: ticks are counted per tick of
 * each CPU, so a short interval can hold a little more busy time than wall time. */
static void add_cpu_channel(struct sensor *s, const struct model *m, const struct cpu_choice *ch)
{
    char a[WATTS_MAX];
    char b[WATTS_MAX];
    struct sensor_channel *c = add_channel(s, "cpu:estimated", "cpu");
    if (!c)
        return;
    if (m->kind == MODEL_CPU_LINEAR) {
        c->max_power_uw = 2 * m->n_vcpu * m->max_uw;
        channel_notef(c,
                      "model ccf-vcpu: %u vCPU x (%s W idle .. %s W busy), %s (%s); /proc/stat, "
                      "steal excluded",
                      m->n_vcpu, watts(a, sizeof(a), m->min_uw), watts(b, sizeof(b), m->max_uw),
                      ch->family->label, ch->family->source);
        return;
    }
    c->max_power_uw = 2 * m->n_sockets * m->tdp_mw * 1020;
    channel_notef(
        c,
        "model teads-tdp: %u socket(s) x %s W TDP x (0.12 idle .. 1.02 busy), TDP of '%.33s' "
        "(CodeCarbon); /proc/stat, steal excluded",
        m->n_sockets, watts(a, sizeof(a), m->tdp_mw * 1000), ch->tdp.row);
}

/* MemTotal in KiB from the start of <proc>/meminfo. Returns 0 or a negative errno. */
static int read_memtotal_kib(const char *path, uint64_t *kib)
{
    char buf[256];
    int r = sysfs_read_str(path, buf, sizeof(buf));
    if (r < 0)
        return r;
    const char *v = strstr(buf, "MemTotal:");
    if (!v)
        return -EINVAL;
    v += strlen("MemTotal:");
    size_t len = strspn(v, " ");
    size_t digits = strspn(v + len, "0123456789");
    if (digits == 0 || digits > 15 || strncmp(v + len + digits, " kB", 3) != 0)
        return -EINVAL;
    *kib = 0;
    for (size_t i = 0; i < digits; i++)
        *kib = *kib * 10 + (uint64_t)(v[len + i] - '0');
    return 0;
}

/* Channel 1, when MemTotal is known: MemTotal x 0.392 W/GiB. */
static void add_memory_channel(struct sensor *s, struct model *m, const char *proc)
{
    char path[PATH_MAX];
    char gib[WATTS_MAX];
    char w[WATTS_MAX];
    char err[128];
    uint64_t kib = 0;
    int r = sysfs_path(path, sizeof(path), proc, "meminfo");
    if (r == 0)
        r = read_memtotal_kib(path, &kib);
    if (r < 0 || kib == 0) {
        sensor_notef(s, "memory: no memory channel: no MemTotal in '%s' (%s)", path,
                     r < 0 ? strerror_r(-r, err, sizeof(err)) : "zero");
        return;
    }
    m->mem_uw = muldiv(kib, MEM_UW_PER_GIB, KIB_PER_GIB);
    uint64_t tenths = (kib * 10 + KIB_PER_GIB / 2) / KIB_PER_GIB;
    snprintf(gib, sizeof(gib), "%" PRIu64 ".%" PRIu64, tenths / 10, tenths % 10);
    struct sensor_channel *c = add_channel(s, "memory:estimated", "memory");
    if (!c)
        return;
    c->max_power_uw = 2 * m->mem_uw + 1;
    channel_notef(c,
                  "model memory: %s GiB x 0.392 W/GiB = %s W (Cloud Carbon Footprint); MemTotal "
                  "from /proc/meminfo",
                  gib, watts(w, sizeof(w), m->mem_uw));
    sensor_notef(
        s, "memory: model memory, %s GiB MemTotal x 0.392 W/GiB (Cloud Carbon Footprint) = %s W",
        gib, w);
}

static int model_open(struct sensor *s)
{
    struct model *m = s->priv;
    struct cpuinfo ci;
    struct cpu_choice ch;
    const char *proc = s->proc_root ? s->proc_root : "/proc";
    memset(m, 0, sizeof(*m));
    memset(&ch, 0, sizeof(ch));
    m->stat_fd = -1;
    m->now_ns = sensor_now_ns;
    int r = open_stat(s, m, proc);
    if (r < 0)
        return r;
    long hz = sysconf(_SC_CLK_TCK);
    m->clk_tck = hz > 0 ? (uint64_t)hz : 100;
    read_cpuinfo(proc, &ci);
    m->n_sockets = ci.n_sockets;
    r = choose_cpu_model(s, m, &ch, &ci);
    if (r < 0)
        return r;
    add_cpu_channel(s, m, &ch);
    add_memory_channel(s, m, proc);
    sensor_notef(s, "inputs: %s/{stat,cpuinfo,meminfo}; %s", proc,
                 ci.hypervisor ? "a VM (hypervisor flag)" : "no hypervisor flag");
    s->min_period_ns = MIN_PERIOD_NS;
    return 0;
}

/* TDP curve energy in µJ: each interval between reads at its own utilisation; an
 * interval without ticks keeps the last one. */
static uint64_t curve_uj(struct model *m, uint64_t now, uint64_t busy, uint64_t idle)
{
    uint64_t d_busy = busy - m->last_busy_ticks;
    uint64_t d_idle = idle - m->last_idle_ticks;
    if (d_busy + d_idle > 0)
        m->curve_f_ppm = teads_f_ppm(d_busy * PPM / (d_busy + d_idle));
    uint64_t p_uw = m->tdp_mw * m->n_sockets * m->curve_f_ppm / 1000;
    m->curve_nj += muldiv(p_uw, now - m->last_ns, 1000000);
    return m->curve_nj / 1000;
}

/* Linear model energy in µJ, exact for any two reads: idle power over wall time plus
 * the busy increment over busy CPU time. */
static uint64_t linear_uj(const struct model *m, uint64_t now, uint64_t busy)
{
    return muldiv(m->n_vcpu * m->min_uw, now - m->t0_ns, NS_PER_S) +
           muldiv(m->max_uw - m->min_uw, busy - m->busy0_ticks, m->clk_tck);
}

static int model_read(struct sensor *s, uint64_t *values)
{
    struct model *m = s->priv;
    uint64_t now = m->now_ns();
    if (!m->have_stat || now - m->stat_read_ns >= NS_PER_S / m->clk_tck) {
        int r = procstat_read_fd(m->stat_fd, &m->last_stat);
        if (r < 0)
            return r;
        m->have_stat = 1;
        m->stat_read_ns = now;
        s->machine_busy_ticks = m->last_stat.busy_ticks;
        s->machine_busy_read_ns = sensor_now_ns();
    }
    const struct procstat_cpu c = m->last_stat;
    if (!m->started) {
        m->started = 1;
        m->t0_ns = m->last_ns = now;
        m->busy0_ticks = m->last_busy_ticks = c.busy_ticks;
        m->last_idle_ticks = c.idle_ticks;
        m->curve_f_ppm = teads_curve[0].f_ppm;
    }
    /* Keep time and ticks monotonic: iowait, for one, may step back. */
    now = now > m->last_ns ? now : m->last_ns;
    uint64_t busy = c.busy_ticks > m->last_busy_ticks ? c.busy_ticks : m->last_busy_ticks;
    uint64_t idle = c.idle_ticks > m->last_idle_ticks ? c.idle_ticks : m->last_idle_ticks;
    if (m->kind == MODEL_CPU_LINEAR)
        values[0] = linear_uj(m, now, busy);
    else
        values[0] = curve_uj(m, now, busy, idle);
    if (s->n_channels > 1)
        values[1] = muldiv(m->mem_uw, now - m->t0_ns, NS_PER_S);
    m->last_ns = now;
    m->last_busy_ticks = busy;
    m->last_idle_ticks = idle;
    return 0;
}

static void model_close(struct sensor *s)
{
    struct model *m = s->priv;
    if (m && m->stat_fd >= 0) {
        close(m->stat_fd);
        m->stat_fd = -1;
    }
}

const struct sensor_ops model_sensor_ops = {
    .name = "model",
    .priv_size = sizeof(struct model),
    .open = model_open,
    .read = model_read,
    .close = model_close,
};
