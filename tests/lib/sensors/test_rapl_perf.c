/* Tests for the perf `power` PMU backend: discovery from fake sysfs trees, the events it
 * opens (through a fake perf_event_open), the error messages, and the liveness check. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/perf_event.h>
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

#include "sensor.h"

#define TWO_POW_32 4294967296ull
#define SCALE_2_POW_M32 "2.3283064365386962890625e-10"
#define FAKE_MAX 32
#define NEVER_MOVES UINT_MAX

/* What the fake perf_event_open saw for one event, and how the fake read treats it. */
struct fake_event {
    uint32_t type;
    uint32_t size;
    uint64_t config;
    uint64_t sample_period;
    int pid;
    int cpu;
    int group_fd;
    unsigned long flags;
    int fd;         /* a real fd on /dev/null, so closing it is harmless */
    unsigned reads; /* perf_read calls on this fd */
};

/* The fakes have no user pointer, so their state is file-wide; reset by setup(). */
static struct {
    int open_err;         /* non-zero: perf_event_open fails with it */
    unsigned moves_after; /* reads per fd that return the start value */
    int fail_read_index;  /* this event's reads fail with -EIO; -1: none */
    size_t n;
    struct fake_event ev[FAKE_MAX];
} fake;

static int fake_perf_event_open(void *attr, int pid, int cpu, int group_fd, unsigned long flags)
{
    const struct perf_event_attr *a = attr;
    if (fake.open_err != 0)
        return fake.open_err;
    assert_true(fake.n < FAKE_MAX);
    struct fake_event *e = &fake.ev[fake.n++];
    e->type = a->type;
    e->size = a->size;
    e->config = a->config;
    e->sample_period = a->sample_period;
    e->pid = pid;
    e->cpu = cpu;
    e->group_fd = group_fd;
    e->flags = flags;
    e->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(e->fd >= 0);
    return e->fd;
}

static int fake_perf_read(int fd, uint64_t *count)
{
    for (size_t i = 0; i < fake.n; i++) {
        struct fake_event *e = &fake.ev[i];
        if (e->fd != fd)
            continue;
        e->reads++;
        if ((int)i == fake.fail_read_index)
            return -EIO;
        *count = 1000;
        if (e->reads > fake.moves_after)
            *count += 61 * (uint64_t)(e->reads - fake.moves_after);
        return 0;
    }
    fail_msg("perf_read on an fd the fake did not open: %d", fd);
    return -EBADF;
}

static const struct sensor_sys fake_sys = { .perf_event_open = fake_perf_event_open,
                                            .perf_read = fake_perf_read };

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    fake.moves_after = 1;
    fake.fail_read_index = -1;
    return 0;
}

static void fixture_path(char *buf, size_t size, const char *name)
{
    const char *root = getenv("WATTPROF_FIXTURES");
    assert_non_null(root);
    assert_true(snprintf(buf, size, "%s/sysfs/%s", root, name) < (int)size);
}

static void sensor_setup(struct sensor *s, const char *sysfs_root, const char *proc_root,
                         const struct sensor_sys *sys)
{
    memset(s, 0, sizeof(*s));
    s->ops = &rapl_perf_sensor_ops;
    s->sysfs_root = sysfs_root;
    s->proc_root = proc_root;
    s->sys = sys;
    s->priv = calloc(1, s->ops->priv_size);
    assert_non_null(s->priv);
}

static void sensor_teardown(struct sensor *s)
{
    s->ops->close(s);
    free(s->priv);
}

static int open_fixture(struct sensor *s, const char *name, char *root, size_t size)
{
    fixture_path(root, size, name);
    sensor_setup(s, root, "/nonexistent-proc", &fake_sys);
    return s->ops->open(s);
}

static void assert_fd_closed(int fd)
{
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

/* Temporary sysfs trees for the cases the checked-in fixtures do not cover. */
static void tree_write(const char *root, const char *rel, const char *text)
{
    char path[PATH_MAX];
    assert_true(snprintf(path, sizeof(path), "%s/%s", root, rel) < (int)sizeof(path));
    for (char *p = strchr(path + strlen(root) + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", text);
    assert_int_equal(fclose(f), 0);
}

static void tree_add_event(const char *root, const char *name, const char *config,
                           const char *scale)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "bus/event_source/devices/power/events/%s", name);
    tree_write(root, rel, config);
    snprintf(rel, sizeof(rel), "bus/event_source/devices/power/events/%s.scale", name);
    tree_write(root, rel, scale);
    snprintf(rel, sizeof(rel), "bus/event_source/devices/power/events/%s.unit", name);
    tree_write(root, rel, "Joules");
}

static void tree_add_cpu(const char *root, int cpu, const char *package, const char *die)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
    tree_write(root, rel, package);
    snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/die_id", cpu);
    tree_write(root, rel, die);
}

static void tree_new(char *root, size_t size, const char *cpumask)
{
    snprintf(root, size, "/tmp/wattprof-perf-XXXXXX");
    assert_non_null(mkdtemp(root));
    tree_write(root, "bus/event_source/devices/power/type", "24");
    tree_write(root, "bus/event_source/devices/power/cpumask", cpumask);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tree_remove(const char *root)
{
    assert_int_equal(nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void assert_channel(const struct sensor_channel *c, const char *name, const char *domain,
                           int included)
{
    assert_string_equal(c->name, name);
    assert_string_equal(c->domain, domain);
    assert_int_equal(c->included_in_total, included);
    assert_int_equal(c->kind, SENSOR_ENERGY_COUNTER);
    assert_int_equal(c->provenance, SENSOR_MEASURED);
    assert_true(c->max_raw == 0);
}

static void assert_opened(size_t i, uint64_t config, int cpu)
{
    assert_true(i < fake.n);
    assert_true(fake.ev[i].config == config);
    assert_int_equal(fake.ev[i].cpu, cpu);
}

static void test_rapl_perf_intel_2s_channels(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    assert_int_equal(open_fixture(&s, "perf-intel-2s", root, sizeof(root)), 0);
    assert_int_equal(s.n_channels, 7);
    assert_channel(&s.channels[0], "cpu-package:0", "package", 1);
    assert_channel(&s.channels[1], "cpu-package:1", "package", 1);
    assert_channel(&s.channels[2], "dram:0", "dram", 1);
    assert_channel(&s.channels[3], "dram:1", "dram", 1);
    assert_channel(&s.channels[4], "psys", "psys", 0);
    assert_channel(&s.channels[5], "cpu-core:0", "core", 0);
    assert_channel(&s.channels[6], "cpu-core:1", "core", 0);
    assert_string_equal(s.channels[0].note,
                        "perf power/energy-pkg/ on cpu 0 (kernel-handled wrap, 2^-32 J)");
    for (size_t i = 0; i < s.n_channels; i++) {
        assert_true(s.channels[i].scale_num == 1000000);
        assert_true(s.channels[i].scale_den == TWO_POW_32);
    }
    assert_int_equal(fake.n, 7);
    assert_opened(0, 0x02, 0);
    assert_opened(1, 0x02, 28);
    assert_opened(2, 0x03, 0);
    assert_opened(3, 0x03, 28);
    assert_opened(4, 0x05, 0);
    assert_opened(5, 0x01, 0);
    assert_opened(6, 0x01, 28);
    for (size_t i = 0; i < fake.n; i++) {
        assert_int_equal(fake.ev[i].type, 24);
        assert_int_equal(fake.ev[i].size, sizeof(struct perf_event_attr));
        assert_true(fake.ev[i].sample_period == 0);
        assert_int_equal(fake.ev[i].pid, -1);
        assert_int_equal(fake.ev[i].group_fd, -1);
        assert_true(fake.ev[i].flags == PERF_FLAG_FD_CLOEXEC);
    }
    sensor_teardown(&s);
    for (size_t i = 0; i < fake.n; i++)
        assert_fd_closed(fake.ev[i].fd);
}

static void test_rapl_perf_amd_opens_package_only(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    assert_int_equal(open_fixture(&s, "perf-amd", root, sizeof(root)), 0);
    assert_int_equal(s.n_channels, 1);
    assert_channel(&s.channels[0], "cpu-package:0", "package", 1);
    assert_true(s.channels[0].scale_num == 1000000);
    assert_true(s.channels[0].scale_den == TWO_POW_32);
    assert_int_equal(fake.n, 1);
    assert_int_equal(fake.ev[0].type, 11);
    assert_opened(0, 0x02, 0);
    sensor_teardown(&s);
}

static void test_rapl_perf_read_returns_raw_counts(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    uint64_t first[SENSOR_MAX_CHANNELS];
    uint64_t second[SENSOR_MAX_CHANNELS];
    assert_int_equal(open_fixture(&s, "perf-intel-2s", root, sizeof(root)), 0);
    assert_int_equal(s.ops->read(&s, first), 0);
    assert_int_equal(s.ops->read(&s, second), 0);
    for (size_t i = 0; i < s.n_channels; i++) {
        assert_true(second[i] - first[i] == 61);
        assert_int_equal(s.channels[i].read_err, 0);
    }
    fake.fail_read_index = 2;
    assert_int_equal(s.ops->read(&s, second), 0);
    assert_int_equal(s.channels[2].read_err, -EIO);
    assert_int_equal(s.channels[3].read_err, 0);
    sensor_teardown(&s);
}

static void test_rapl_perf_psys_included_without_pkg(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    tree_new(root, sizeof(root), "0,28");
    tree_add_event(root, "energy-cores", "event=0x01", SCALE_2_POW_M32);
    tree_add_event(root, "energy-psys", "event=0x05", SCALE_2_POW_M32);
    tree_add_cpu(root, 0, "0", "0");
    tree_add_cpu(root, 28, "1", "0");
    sensor_setup(&s, root, "/nonexistent-proc", &fake_sys);
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(s.n_channels, 3);
    assert_channel(&s.channels[0], "psys", "psys", 1);
    assert_channel(&s.channels[1], "cpu-core:0", "core", 0);
    assert_channel(&s.channels[2], "cpu-core:1", "core", 0);
    assert_opened(0, 0x05, 0);
    sensor_teardown(&s);
    tree_remove(root);
}

static void test_rapl_perf_cpumask_ranges_and_dies(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    tree_new(root, sizeof(root), "0-1,4");
    tree_add_event(root, "energy-pkg", "event=0x02", SCALE_2_POW_M32);
    tree_add_cpu(root, 0, "0", "0");
    tree_add_cpu(root, 1, "0", "1");
    tree_add_cpu(root, 4, "1", "0");
    sensor_setup(&s, root, "/nonexistent-proc", &fake_sys);
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(s.n_channels, 3);
    assert_channel(&s.channels[0], "cpu-package:0-die:0", "package", 1);
    assert_channel(&s.channels[1], "cpu-package:0-die:1", "package", 1);
    assert_channel(&s.channels[2], "cpu-package:1-die:0", "package", 1);
    assert_opened(0, 0x02, 0);
    assert_opened(1, 0x02, 1);
    assert_opened(2, 0x02, 4);
    sensor_teardown(&s);
    tree_remove(root);
}

static void test_rapl_perf_bad_cpumask_rejected(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    tree_new(root, sizeof(root), "0,,1");
    tree_add_event(root, "energy-pkg", "event=0x02", SCALE_2_POW_M32);
    sensor_setup(&s, root, "/nonexistent-proc", &fake_sys);
    assert_int_equal(s.ops->open(&s), -EIO);
    assert_non_null(strstr(s.errmsg, "cpumask '0,,1'"));
    assert_int_equal(fake.n, 0);
    sensor_teardown(&s);
    tree_remove(root);
}

static void test_rapl_perf_inexact_scale_approximated(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    tree_new(root, sizeof(root), "0");
    tree_add_event(root, "energy-pkg", "event=0x02", "1e-10");
    tree_add_cpu(root, 0, "0", "0");
    sensor_setup(&s, root, "/nonexistent-proc", &fake_sys);
    assert_int_equal(s.ops->open(&s), 0);
    /* 1e-10 J = 1e-4 µJ = 429496.7296 / 2^32 µJ, rounded */
    assert_true(s.channels[0].scale_num == 429497);
    assert_true(s.channels[0].scale_den == TWO_POW_32);
    assert_non_null(strstr(s.channels[0].note, "1e-10 J"));
    sensor_teardown(&s);
    tree_remove(root);
}

static void test_rapl_perf_garbage_scale_rejected(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    tree_new(root, sizeof(root), "0");
    tree_add_event(root, "energy-pkg", "event=0x02", "2.3e-10x");
    sensor_setup(&s, root, "/nonexistent-proc", &fake_sys);
    assert_int_equal(s.ops->open(&s), -EIO);
    assert_non_null(strstr(s.errmsg, "scale '2.3e-10x'"));
    assert_int_equal(s.n_channels, 0);
    assert_int_equal(fake.n, 0);
    sensor_teardown(&s);
    tree_remove(root);
}

static void test_rapl_perf_bad_unit_rejected(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    assert_int_equal(open_fixture(&s, "perf-bad-unit", root, sizeof(root)), -EIO);
    assert_non_null(strstr(s.errmsg, "unit 'Watts'"));
    assert_non_null(strstr(s.errmsg, "energy-pkg.unit"));
    assert_int_equal(s.n_channels, 0);
    assert_int_equal(fake.n, 0);
    sensor_teardown(&s);
}

static void test_rapl_perf_missing_pmu_is_enodev(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    assert_int_equal(open_fixture(&s, "no-such-tree", root, sizeof(root)), -ENODEV);
    assert_non_null(strstr(s.errmsg, "no perf 'power' PMU at '"));
    assert_non_null(strstr(s.errmsg, "no-such-tree/bus/event_source/devices/power'"));
    assert_int_equal(s.n_channels, 0);
    sensor_teardown(&s);
}

static void test_rapl_perf_eacces_names_paranoid_and_fix(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    char proc[] = "/tmp/wattprof-proc-XXXXXX";
    assert_non_null(mkdtemp(proc));
    tree_write(proc, "sys/kernel/perf_event_paranoid", "4");
    const int errs[] = { -EACCES, -EPERM };
    for (size_t i = 0; i < 2; i++) {
        fake.open_err = errs[i];
        fixture_path(root, sizeof(root), "perf-amd");
        sensor_setup(&s, root, proc, &fake_sys);
        assert_int_equal(s.ops->open(&s), -EACCES);
        assert_non_null(strstr(s.errmsg, "power/energy-pkg/ on cpu 0"));
        assert_non_null(strstr(s.errmsg, "(kernel.perf_event_paranoid = 4)"));
        assert_non_null(strstr(s.errmsg, "CAP_PERFMON (Linux 5.8+)"));
        assert_non_null(strstr(s.errmsg, "'sudo setcap cap_perfmon+ep <path of wattprof>'"));
        assert_non_null(strstr(s.errmsg, "'sudo sysctl kernel.perf_event_paranoid=0'"));
        assert_non_null(strstr(s.errmsg, "or run as root"));
        assert_int_equal(s.n_channels, 0);
        sensor_teardown(&s);
    }
    tree_remove(proc);
}

static void test_rapl_perf_open_errors_mapped(void **state)
{
    (void)state;
    static const struct {
        int err;
        int want;
    } cases[] = { { -ENOENT, -ENODEV },
                  { -ENODEV, -ENODEV },
                  { -EOPNOTSUPP, -ENODEV },
                  { -EINVAL, -EIO },
                  { -EMFILE, -EIO } };
    struct sensor s;
    char root[PATH_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake.open_err = cases[i].err;
        assert_int_equal(open_fixture(&s, "perf-intel-2s", root, sizeof(root)), cases[i].want);
        assert_non_null(strstr(s.errmsg, "power/energy-pkg/ on cpu 0"));
        assert_non_null(strstr(s.errmsg, strerror(-cases[i].err)));
        sensor_teardown(&s);
    }
}

static void test_rapl_perf_failed_open_closes_opened_fds(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    fake.fail_read_index = 1; /* the liveness check's first read fails */
    assert_int_equal(open_fixture(&s, "perf-intel-2s", root, sizeof(root)), -EIO);
    assert_non_null(strstr(s.errmsg, "cpu-package:1"));
    assert_int_equal(s.n_channels, 0);
    assert_int_equal(fake.n, 7);
    for (size_t i = 0; i < fake.n; i++)
        assert_fd_closed(fake.ev[i].fd);
    sensor_teardown(&s);
}

static void test_rapl_perf_zero_counters_rejected(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    fake.moves_after = NEVER_MOVES;
    uint64_t t0 = sensor_now_ns();
    assert_int_equal(open_fixture(&s, "perf-intel-2s", root, sizeof(root)), -EIO);
    uint64_t elapsed_ns = sensor_now_ns() - t0;
    assert_string_equal(s.errmsg, "perf power PMU opens but its counters stay at zero while the "
                                  "CPU is busy (typical of a VM without RAPL pass-through); not "
                                  "used");
    assert_true(elapsed_ns >= 5000000);
    assert_int_equal(s.n_channels, 0);
    for (size_t i = 0; i < fake.n; i++)
        assert_fd_closed(fake.ev[i].fd);
    sensor_teardown(&s);
}

static void test_rapl_perf_counter_moving_on_third_poll_accepted(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    fake.moves_after = 3; /* the first read, then two polls, see the same count */
    assert_int_equal(open_fixture(&s, "perf-amd", root, sizeof(root)), 0);
    assert_int_equal(s.n_channels, 1);
    assert_int_equal(fake.ev[0].reads, 4); /* stopped at the third poll */
    sensor_teardown(&s);
}

static void test_rapl_perf_close_is_safe_when_never_opened(void **state)
{
    (void)state;
    struct sensor s;
    sensor_setup(&s, "/nonexistent", "/nonexistent", &fake_sys);
    s.ops->close(&s); /* zeroed state: must not close fd 0 */
    s.ops->close(&s);
    assert_true(fcntl(0, F_GETFD) != -1 || errno != EBADF);
    sensor_teardown(&s);
}

/* The real machine, whatever it has: no PMU, no permission, a PMU that counts nothing,
 * or working counters. */
static void test_rapl_perf_real_machine(void **state)
{
    (void)state;
    struct sensor s;
    sensor_setup(&s, "/sys", "/proc", NULL);
    int r = s.ops->open(&s);
    assert_true(r == 0 || r == -ENODEV || r == -EACCES || r == -EIO);
    if (r != 0) {
        assert_true(s.errmsg[0] != '\0');
    } else {
        uint64_t values[SENSOR_MAX_CHANNELS];
        assert_int_equal(s.ops->read(&s, values), 0);
    }
    sensor_teardown(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rapl_perf_intel_2s_channels, setup),
        cmocka_unit_test_setup(test_rapl_perf_amd_opens_package_only, setup),
        cmocka_unit_test_setup(test_rapl_perf_read_returns_raw_counts, setup),
        cmocka_unit_test_setup(test_rapl_perf_psys_included_without_pkg, setup),
        cmocka_unit_test_setup(test_rapl_perf_cpumask_ranges_and_dies, setup),
        cmocka_unit_test_setup(test_rapl_perf_bad_cpumask_rejected, setup),
        cmocka_unit_test_setup(test_rapl_perf_inexact_scale_approximated, setup),
        cmocka_unit_test_setup(test_rapl_perf_garbage_scale_rejected, setup),
        cmocka_unit_test_setup(test_rapl_perf_bad_unit_rejected, setup),
        cmocka_unit_test_setup(test_rapl_perf_missing_pmu_is_enodev, setup),
        cmocka_unit_test_setup(test_rapl_perf_eacces_names_paranoid_and_fix, setup),
        cmocka_unit_test_setup(test_rapl_perf_open_errors_mapped, setup),
        cmocka_unit_test_setup(test_rapl_perf_failed_open_closes_opened_fds, setup),
        cmocka_unit_test_setup(test_rapl_perf_zero_counters_rejected, setup),
        cmocka_unit_test_setup(test_rapl_perf_counter_moving_on_third_poll_accepted, setup),
        cmocka_unit_test_setup(test_rapl_perf_close_is_safe_when_never_opened, setup),
        cmocka_unit_test_setup(test_rapl_perf_real_machine, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
