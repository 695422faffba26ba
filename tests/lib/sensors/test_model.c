/* Tests for the model backend: which model each kind of machine gets, and the exact
 * energy arithmetic over synthetic /proc/stat sequences under a fake clock. Fake proc
 * trees come from $WATTPROF_FIXTURES/proc/<case>, the TDP table from $WATTPROF_DATA. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "model.h"
#include "model_cpu.h"
#include "sensor.h"

#define S_NS 1000000000ull

/* The fake clock the tests give the model after open(). */
static uint64_t fake_now_ns;

static uint64_t fake_clock(void)
{
    return fake_now_ns;
}

static const char *env_dir(const char *name)
{
    const char *v = getenv(name);
    assert_non_null(v);
    return v;
}

static void fixture_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/proc/%s", env_dir("WATTPROF_FIXTURES"), name);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w"); /* truncates in place: the model's open fd sees it */
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Reads a small file into a heap buffer the caller frees. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    assert_true(n > 0 && n < 65535);
    fclose(f);
    return buf;
}

static char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/wattprof-model-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *dir = strdup(tmpl);
    assert_non_null(dir);
    return dir;
}

/* A copy of fixtures/proc/<name> in a new temp dir that the test may rewrite. */
static char *copy_case(const char *name)
{
    static const char *const files[] = { "stat", "cpuinfo", "meminfo" };
    char src[PATH_MAX];
    char dst[PATH_MAX];
    char *dir = make_temp_dir();
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(src, sizeof(src), "%s/proc/%s/%s", env_dir("WATTPROF_FIXTURES"), name, files[i]);
        snprintf(dst, sizeof(dst), "%s/%s", dir, files[i]);
        char *text = read_text(src);
        write_text(dst, text);
        free(text);
    }
    return dir;
}

/* Rewrites path with the first occurrence of from replaced by to. */
static void replace_in_file(const char *path, const char *from, const char *to)
{
    char *text = read_text(path);
    char *at = strstr(text, from);
    assert_non_null(at);
    size_t size = strlen(text) + strlen(to) + 1;
    char *out = malloc(size);
    assert_non_null(out);
    snprintf(out, size, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    write_text(path, out);
    free(out);
    free(text);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_dir(char *dir)
{
    assert_int_equal(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(dir);
}

/* Writes <dir>/stat with the aggregate line f[] (user nice system idle iowait irq softirq
 * steal guest guest_nice, ticks) and n_cpu per-CPU lines. */
static void write_stat(const char *dir, const uint64_t f[10], unsigned n_cpu)
{
    char path[PATH_MAX];
    char text[4096];
    size_t len = 0;
    for (unsigned c = 0; c <= n_cpu; c++) {
        len += (size_t)snprintf(text + len, sizeof(text) - len, c == 0 ? "cpu " : "cpu%u", c - 1);
        for (int i = 0; i < 10; i++)
            len += (size_t)snprintf(text + len, sizeof(text) - len, " %" PRIu64,
                                    c == 0 ? f[i] : f[i] / n_cpu);
        len += (size_t)snprintf(text + len, sizeof(text) - len, "\n");
    }
    snprintf(text + len, sizeof(text) - len,
             "intr 1932001 0 9 0\nctxt 6779001\nbtime 1795302297\nprocesses 17270\n");
    snprintf(path, sizeof(path), "%s/stat", dir);
    write_text(path, text);
}

static int open_model(struct sensor *s, struct model *m, const char *proc, const char *data)
{
    memset(s, 0, sizeof(*s));
    memset(m, 0, sizeof(*m));
    s->ops = &model_sensor_ops;
    s->proc_root = proc;
    s->data_dir = data;
    s->priv = m;
    return model_sensor_ops.open(s);
}

/* Opens the model on a fixture copy, with the fake clock. */
static void open_copy(struct sensor *s, struct model *m, const char *dir)
{
    assert_int_equal(open_model(s, m, dir, env_dir("WATTPROF_DATA")), 0);
    m->now_ns = fake_clock;
}

static void read_at(struct sensor *s, uint64_t t_ns, uint64_t *values)
{
    fake_now_ns = t_ns;
    assert_int_equal(model_sensor_ops.read(s, values), 0);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("'%s' not in '%s'", part, text);
}

static void test_model_kvm_epyc_generic_channels(void **state)
{
    (void)state;
    char proc[PATH_MAX];
    struct sensor s;
    struct model m;
    fixture_path(proc, sizeof(proc), "kvm-epyc-generic");
    assert_int_equal(model_sensor_ops.priv_size, sizeof(struct model));
    assert_string_equal(model_sensor_ops.name, "model");
    assert_int_equal(open_model(&s, &m, proc, env_dir("WATTPROF_DATA")), 0);
    assert_int_equal(s.n_channels, 2);
    assert_true(s.min_period_ns == 100000000ull);
    const char *names[] = { "cpu:estimated", "memory:estimated" };
    const char *domains[] = { "cpu", "memory" };
    for (size_t i = 0; i < 2; i++) {
        const struct sensor_channel *c = &s.channels[i];
        assert_string_equal(c->name, names[i]);
        assert_string_equal(c->domain, domains[i]);
        assert_int_equal(c->kind, SENSOR_ENERGY_COUNTER);
        assert_int_equal(c->provenance, SENSOR_ESTIMATED);
        assert_true(c->scale_num == 1 && c->scale_den == 1 && c->max_raw == 0);
        assert_int_equal(c->included_in_total, 1);
    }
    assert_string_equal(s.channels[0].note,
                        "model ccf-vcpu: 2 vCPU x (0.58 W idle .. 2.09 W busy), AMD EPYC, "
                        "generation unknown (Cloud Carbon Footprint, mean of gen 1-3); "
                        "/proc/stat, steal excluded");
    assert_contains(s.channels[1].note, "model memory: 23.5 GiB x 0.392 W/GiB = 9.23 W");
    assert_contains(s.notes, "cpu: model ccf-vcpu: 'AMD EPYC' is AMD EPYC, generation unknown");
    assert_contains(s.notes, "a VM (hypervisor flag)");
    assert_int_equal(m.n_vcpu, 2);
    assert_true(m.min_uw == 580000 && m.max_uw == 2086667); /* EPYC 1-3 means */
    model_sensor_ops.close(&s);
    assert_int_equal(m.stat_fd, -1);
}

/* Linear model, 2 vCPU, 0.58 .. 2.086667 W: E = 2 x 580000 µW x dt + 1506667 µW x busy s,
 * floored to the µJ; steal and guest ticks must change nothing. */
static void test_model_linear_energy_is_exact(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    uint64_t v[2];
    char *dir = copy_case("kvm-epyc-generic");
    uint64_t f[10] = { 1000, 10, 300, 5000, 50, 5, 20, 100, 200, 0 };
    write_stat(dir, f, 2);
    open_copy(&s, &m, dir);
    read_at(&s, 1 * S_NS, v);
    assert_true(v[0] == 0 && v[1] == 0);
    /* +2.5 s; busy +210 (user +150 of which guest +40, nice +20, system +30, irq +5,
     * softirq +5); idle +100, iowait +50; steal +400. */
    uint64_t g[10] = { 1150, 30, 330, 5100, 100, 10, 25, 500, 240, 0 };
    write_stat(dir, g, 2);
    read_at(&s, 3500000000ull, v);
    /* 1160000 x 2.5 = 2900000; 1506667 x 2.10 = 3164000.7 */
    assert_true(v[0] == 2900000 + 3164000);
    /* memory: floor(24684092 KiB x 392000 / 1048576) = 9227909 µW, x 2.5 s */
    assert_true(v[1] == 23069772);
    /* +0.333333333 s, busy +1, steal +1000: since the origin 2.833333333 s, 211 ticks. */
    g[0] += 1;
    g[7] += 1000;
    write_stat(dir, g, 2);
    read_at(&s, 3833333333ull, v);
    /* 1160000 x 2.833333333 = 3286666.66; 1506667 x 2.11 = 3179067.37 */
    assert_true(v[0] == 3286666 + 3179067);
    assert_true(v[1] == 26145742);
    /* +1 s and system time 3 ticks lower: busy is held, only idle power is added. */
    g[2] -= 3;
    write_stat(dir, g, 2);
    read_at(&s, 4833333333ull, v);
    assert_true(v[0] == 4446666 + 3179067);
    assert_true(v[1] == 35373651);
    /* +1 s, busy back up to 216 ticks since the origin. */
    g[2] += 8;
    write_stat(dir, g, 2);
    read_at(&s, 5833333333ull, v);
    assert_true(v[0] == 5606666 + 3254400);
    assert_true(v[1] == 44601560);
    model_sensor_ops.close(&s);
    remove_dir(dir);
}

/* A read within one USER_HZ tick of the last /proc/stat reading (window edges close
 * together) uses that reading again; a read a tick later reads the file. The busy time
 * read is left on the sensor for the window edge. */
static void test_model_reuses_a_reading_within_a_tick(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    uint64_t v[2];
    char *dir = copy_case("kvm-epyc-generic");
    uint64_t f[10] = { 1000, 10, 300, 5000, 50, 5, 20, 100, 200, 0 };
    write_stat(dir, f, 2);
    open_copy(&s, &m, dir);
    read_at(&s, 1 * S_NS, v);
    assert_true(s.machine_busy_ticks == 1000 + 10 + 300 + 5 + 20);
    assert_true(s.machine_busy_read_ns > 0);
    f[0] += 100; /* one second of busy time */
    write_stat(dir, f, 2);
    read_at(&s, 1005000000ull, v); /* 5 ms later: the old reading, idle power only */
    assert_true(v[0] == 5800);     /* 2 x 580000 µW x 0.005 s */
    assert_true(s.machine_busy_ticks == 1335);
    read_at(&s, 1015000000ull, v); /* 15 ms: more than a tick, read again */
    assert_true(v[0] == 17400 + 1506667);
    assert_true(s.machine_busy_ticks == 1435);
    model_sensor_ops.close(&s);
    remove_dir(dir);
}

static void test_model_xeon_cascadelake_coefficients(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    uint64_t v[2];
    char *dir = copy_case("xeon-cascadelake");
    open_copy(&s, &m, dir);
    assert_contains(s.channels[0].note, "model ccf-vcpu: 4 vCPU x (0.64 W idle .. 3.97 W busy), "
                                        "Intel Cascade Lake (Cloud Carbon Footprint)");
    assert_contains(s.notes, "'Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz' is Intel Cascade");
    uint64_t f[10] = { 183213, 142, 40321, 9113442, 2211, 0, 1380, 913, 0, 0 };
    write_stat(dir, f, 4);
    read_at(&s, 7 * S_NS, v);
    f[0] += 400; /* 1 s, all 4 vCPUs busy: 4 x 3.97 W */
    write_stat(dir, f, 4);
    read_at(&s, 8 * S_NS, v);
    assert_true(v[0] == 15880000);
    f[3] += 400; /* 1 s, all idle: 4 x 0.64 W more */
    write_stat(dir, f, 4);
    read_at(&s, 9 * S_NS, v);
    assert_true(v[0] == 15880000 + 2560000);
    model_sensor_ops.close(&s);
    remove_dir(dir);
}

/* Teads curve on a 65 W Ryzen 7 3700X (16 threads), each interval at its own utilisation
 * u = busy / (busy + idle), steal excluded: P = 65 W x f(u). */
static void test_model_baremetal_tdp_curve_energy(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    uint64_t v[2];
    char *dir = copy_case("baremetal-tdp");
    open_copy(&s, &m, dir);
    assert_string_equal(
        s.channels[0].note,
        "model teads-tdp: 1 socket(s) x 65.00 W TDP x (0.12 idle .. 1.02 busy), TDP "
        "of 'AMD Ryzen 7 3700X' (CodeCarbon); /proc/stat, steal excluded");
    assert_contains(s.notes, "matched by model number");
    assert_contains(s.notes, "no hypervisor flag");
    uint64_t f[10] = { 20000, 100, 5000, 900000, 3000, 0, 200, 0, 0, 0 };
    write_stat(dir, f, 16);
    read_at(&s, 10 * S_NS, v);
    /* 1 s: busy +480, idle +1120, steal +800 (counted, it would make u 0.2):
     * u 0.3, f = 0.32 + 0.2 / 0.4 x 0.43 = 0.535, 34.775 W */
    f[0] += 400;
    f[2] += 80;
    f[3] += 1100;
    f[4] += 20;
    f[7] += 800;
    write_stat(dir, f, 16);
    read_at(&s, 11 * S_NS, v);
    assert_true(v[0] == 34775000);
    f[0] += 800; /* 0.5 s, u 1: f 1.02, 66.3 W */
    write_stat(dir, f, 16);
    read_at(&s, 11500000000ull, v);
    assert_true(v[0] == 34775000 + 33150000);
    f[3] += 1600; /* 2 s, u 0: f 0.12, 7.8 W */
    write_stat(dir, f, 16);
    read_at(&s, 13500000000ull, v);
    assert_true(v[0] == 67925000 + 15600000);
    f[0] += 80; /* 1 s, u 0.05: f = 0.12 + 0.5 x 0.2 = 0.22, 14.3 W */
    f[3] += 1520;
    write_stat(dir, f, 16);
    read_at(&s, 14500000000ull, v);
    assert_true(v[0] == 83525000 + 14300000);
    read_at(&s, 14750000000ull, v); /* no tick: 0.25 s at the last f */
    assert_true(v[0] == 97825000 + 3575000);
    /* memory: 32768000 KiB = 31.25 GiB x 0.392 = 12.25 W, x 4.75 s */
    assert_true(v[1] == 58187500);
    model_sensor_ops.close(&s);
    remove_dir(dir);
}

static void test_model_unknown_cpu_is_generic(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    uint64_t v[2];
    char *dir = copy_case("unknown-cpu");
    open_copy(&s, &m, dir);
    assert_string_equal(s.channels[0].note,
                        "model ccf-vcpu: 8 vCPU x (0.74 W idle .. 3.50 W busy), generic (Cloud "
                        "Carbon Footprint AWS average); /proc/stat, steal excluded");
    assert_contains(s.notes, "'ZHAOXIN KaiXian KX-U6780A@2.7GHz' is in no Cloud Carbon "
                             "Footprint family and not in ");
    uint64_t f[10] = { 402311, 871, 98213, 20411239, 9877, 0, 2210, 0, 0, 0 };
    write_stat(dir, f, 8);
    read_at(&s, 1 * S_NS, v);
    f[1] += 200; /* 1 s, 2 of 8 vCPUs busy: 8 x 0.74 + 2 x (3.50 - 0.74) W */
    f[3] += 600;
    write_stat(dir, f, 8);
    read_at(&s, 2 * S_NS, v);
    assert_true(v[0] == 5920000 + 5520000);
    model_sensor_ops.close(&s);
    remove_dir(dir);
}

/* A CPU the TDP table knows, but in a VM: whole-socket TDP says nothing of a slice. */
static void test_model_vm_never_uses_tdp(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    char path[PATH_MAX];
    char *dir = copy_case("baremetal-tdp");
    snprintf(path, sizeof(path), "%s/cpuinfo", dir);
    replace_in_file(path, "flags\t\t: fpu ", "flags\t\t: fpu hypervisor ");
    open_copy(&s, &m, dir);
    assert_int_equal(m.kind, MODEL_CPU_LINEAR);
    assert_contains(s.channels[0].note, "16 vCPU x (0.74 W idle .. 3.50 W busy), generic");
    assert_contains(s.notes, "a VM (hypervisor flag), so no TDP curve");
    model_sensor_ops.close(&s);
    remove_dir(dir);
}

static void test_model_missing_tdp_file_falls_back(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    char proc[PATH_MAX];
    char *data = make_temp_dir();
    fixture_path(proc, sizeof(proc), "baremetal-tdp");
    assert_int_equal(open_model(&s, &m, proc, data), 0);
    assert_int_equal(m.kind, MODEL_CPU_LINEAR);
    assert_contains(s.channels[0].note, "generic (Cloud Carbon Footprint AWS average)");
    assert_contains(s.notes, "/cpu-power/cpu_tdp.csv' cannot be read (No such file");
    model_sensor_ops.close(&s);
    remove_dir(data);
}

static void test_model_malformed_tdp_file_is_einval(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    char proc[PATH_MAX];
    char path[PATH_MAX];
    char want[PATH_MAX + 16];
    char *data = make_temp_dir();
    snprintf(path, sizeof(path), "%s/cpu-power", data);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/cpu-power/cpu_tdp.csv", data);
    write_text(path, "name,tdp_w\nAMD Ryzen 7 3700X,65.0\nIntel Celeron 1000A,27.29.5\n");
    fixture_path(proc, sizeof(proc), "baremetal-tdp");
    assert_int_equal(open_model(&s, &m, proc, data), -EINVAL);
    snprintf(want, sizeof(want), "'%s' line 3", path);
    assert_contains(s.errmsg, want);
    model_sensor_ops.close(&s);
    write_text(path, "Name,TDP\nAMD Ryzen 7 3700X,65.0\n");
    assert_int_equal(open_model(&s, &m, proc, data), -EINVAL);
    snprintf(want, sizeof(want), "'%s' line 1", path);
    assert_contains(s.errmsg, want);
    model_sensor_ops.close(&s);
    remove_dir(data);
}

static void test_model_missing_proc_stat_is_enodev(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    char path[PATH_MAX];
    char *dir = copy_case("kvm-epyc-generic");
    snprintf(path, sizeof(path), "%s/stat", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(open_model(&s, &m, dir, env_dir("WATTPROF_DATA")), -ENODEV);
    assert_contains(s.errmsg, path);
    model_sensor_ops.close(&s);
    remove_dir(dir);
}

static void test_model_ccf_family_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *label; /* NULL: no family */
    } cases[] = {
        { "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", "Intel Cascade Lake" },
        { "Intel(R) Xeon(R) Platinum 8175M CPU @ 2.50GHz", "Intel Skylake" },
        { "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz", "Intel Skylake" },
        { "Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Intel Broadwell" },
        { "Intel(R) Xeon(R) CPU E5-2676 v3 @ 2.40GHz", "Intel Haswell" },
        { "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz", "Intel Ivy Bridge" },
        { "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz", "Intel Sandy Bridge" },
        { "Intel(R) Xeon(R) E-2288G CPU @ 3.70GHz", "Intel Coffee Lake" },
        { "Intel Xeon Processor (Cascadelake)", "Intel Cascade Lake" },
        { "AMD EPYC 7571", "AMD EPYC 1st gen (Naples)" },
        { "AMD EPYC 7R32", "AMD EPYC 2nd gen (Rome)" },
        { "AMD EPYC 7R13 Processor", "AMD EPYC 3rd gen (Milan)" },
        { "AMD EPYC 7773X 64-Core Processor", "AMD EPYC 3rd gen (Milan)" },
        { "AMD EPYC-Rome Processor", "AMD EPYC 2nd gen (Rome)" },
        { "AMD EPYC", "AMD EPYC, generation unknown" },
        { "AMD EPYC Processor (with IBPB)", "AMD EPYC, generation unknown" },
        /* No figures for these generations, or no family in the name: no guess. */
        { "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", NULL },
        { "AMD EPYC 9654 96-Core Processor", NULL },
        { "Intel(R) Xeon(R) CPU @ 2.20GHz", NULL },
        { "Intel(R) Xeon Phi(TM) CPU 7210 @ 1.30GHz", NULL },
        { "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", NULL },
        { "", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct model_cpu_family *fam = model_cpu_ccf_family(cases[i].name);
        if (!cases[i].label && fam)
            fail_msg("'%s' matched '%s'", cases[i].name, fam->label);
        if (cases[i].label && (!fam || strcmp(fam->label, cases[i].label) != 0))
            fail_msg("'%s' gave '%s', not '%s'", cases[i].name, fam ? fam->label : "nothing",
                     cases[i].label);
    }
}

static void test_model_tdp_lookup_is_exact(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint64_t tdp_mw; /* 0: no match */
        int by_token;
    } cases[] = {
        { "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz", 15000, 0 },
        { "AMD Ryzen 9 5950X 16-Core Processor", 105000, 1 },
        { "AMD Ryzen 7 PRO 4750U with Radeon Graphics", 15000, 0 },
        { "Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", 145000, 0 },
        { "AMD EPYC 9654 96-Core Processor", 360000, 1 },
        { "Intel EP80579 Integrated, 1066 MHz", 18000, 0 }, /* a quoted row */
        { "AMD Phenom(tm) II X6 1075T Processor", 125000, 0 },
        { "AMD 1075T", 0, 0 },           /* three rows, 95 W and 125 W: ambiguous */
        { "Intel Fantasy 3700X", 0, 0 }, /* 3700X is an AMD part */
        { "Intel(R) Xeon(R) CPU @ 2.20GHz", 0, 0 },
        { "AMD EPYC", 0, 0 },
    };
    char path[PATH_MAX];
    struct sensor s;
    snprintf(path, sizeof(path), "%s/cpu-power/cpu_tdp.csv", env_dir("WATTPROF_DATA"));
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct model_cpu_tdp tdp;
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        int r = model_cpu_tdp_lookup(&s, f, path, cases[i].name, &tdp);
        fclose(f);
        if (r != (cases[i].tdp_mw > 0))
            fail_msg("'%s': lookup returned %d", cases[i].name, r);
        if (r == 1 && (tdp.tdp_mw != cases[i].tdp_mw || tdp.by_token != cases[i].by_token))
            fail_msg("'%s': row '%s', %" PRIu64 " mW, by_token %d", cases[i].name, tdp.row,
                     tdp.tdp_mw, tdp.by_token);
    }
}

/* The real /proc: burn ~200 ms of CPU; the estimate lies between all vCPUs idle and all
 * busy over the elapsed time (plus one USER_HZ tick per vCPU for tick granularity). */
static void test_model_real_proc_burn(void **state)
{
    (void)state;
    struct sensor s;
    struct model m;
    uint64_t a[2];
    uint64_t b[2];
    assert_int_equal(open_model(&s, &m, "/proc", env_dir("WATTPROF_DATA")), 0);
    uint64_t t0 = sensor_now_ns();
    assert_int_equal(model_sensor_ops.read(&s, a), 0);
    uint64_t t1 = sensor_now_ns();
    volatile uint64_t x = 1;
    while (sensor_now_ns() - t1 < 200000000ull)
        x = x * 6364136223846793005ull + 1;
    uint64_t t2 = sensor_now_ns();
    assert_int_equal(model_sensor_ops.read(&s, b), 0);
    uint64_t t3 = sensor_now_ns();
    uint64_t pmin_uw = m.n_vcpu * m.min_uw;
    uint64_t pmax_uw = m.n_vcpu * m.max_uw;
    uint64_t slack_uj = m.n_vcpu * (m.max_uw - m.min_uw) / m.clk_tck;
    if (m.kind == MODEL_CPU_TDP_CURVE) {
        pmin_uw = m.n_sockets * m.tdp_mw * 120;
        pmax_uw = m.n_sockets * m.tdp_mw * 1020;
        slack_uj = 0;
    }
    uint64_t e = b[0] - a[0];
    uint64_t lower = pmin_uw * ((t2 - t1) / 1000) / 1000000;
    uint64_t upper = pmax_uw * ((t3 - t0) / 1000 + 1) / 1000000 + 1 + slack_uj;
    if (e <= lower || e > upper)
        fail_msg("cpu:estimated grew by %" PRIu64 " uJ, not in (%" PRIu64 ", %" PRIu64 "]", e,
                 lower, upper);
    assert_true(b[1] >= a[1]);
    model_sensor_ops.close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_kvm_epyc_generic_channels),
        cmocka_unit_test(test_model_linear_energy_is_exact),
        cmocka_unit_test(test_model_reuses_a_reading_within_a_tick),
        cmocka_unit_test(test_model_xeon_cascadelake_coefficients),
        cmocka_unit_test(test_model_baremetal_tdp_curve_energy),
        cmocka_unit_test(test_model_unknown_cpu_is_generic),
        cmocka_unit_test(test_model_vm_never_uses_tdp),
        cmocka_unit_test(test_model_missing_tdp_file_falls_back),
        cmocka_unit_test(test_model_malformed_tdp_file_is_einval),
        cmocka_unit_test(test_model_missing_proc_stat_is_enodev),
        cmocka_unit_test(test_model_ccf_family_patterns),
        cmocka_unit_test(test_model_tdp_lookup_is_exact),
        cmocka_unit_test(test_model_real_proc_burn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
