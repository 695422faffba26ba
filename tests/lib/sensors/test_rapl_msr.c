/* Tests for the RAPL MSR backend against a fake tree the test builds in a mkdtemp dir:
 * sys/devices/system/cpu/cpuN/topology/physical_package_id (2 packages × 2 CPUs),
 * proc/cpuinfo, and dev/cpu/N/msr as sparse regular files holding 8-byte little-endian
 * values at the MSR offsets (an offset the test did not write reads as 0; past the end
 * of the file a read is short, as an absent MSR's EIO). The real device reads 8 bytes per
 * MSR number, so in a file MSRs less than 8 apart share bytes: the tests write those in
 * an order that keeps the bytes the backend uses. */
#include <errno.h>
#include <fcntl.h>
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

#include "sensor.h"
#include "sensor_test_util.h"
#include "sensors.h"

#define NOBODY SENSOR_TEST_NOBODY
#define INTEL_UNIT 0x000a0e03ull /* ESU 14: 61.035 µJ per count (turbostat's example) */
#define AMD_UNIT 0x000a1000ull   /* ESU 16: 15.259 µJ per count (Zen 5) */
#define AMD_UNIT_MSR 0xC0010299u
#define AMD_PKG_MSR 0xC001029Bu

struct expect {
    const char *name;
    const char *domain;
    int included;
    uint64_t uj; /* the first read() */
};

static void mkdir_p(const char *path)
{
    char *argv[] = { "mkdir", "-p", (char *)path, NULL };
    run_argv(argv);
}

static void write_text(const char *root, const char *rel, const char *text)
{
    char path[PATH_MAX], dir[PATH_MAX];
    format_or_fail(path, sizeof(path), "%s/%s", root, rel);
    format_or_fail(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdir_p(dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Writes value as 8 little-endian bytes at offset msr of dev/cpu/<cpu>/<dev>. */
static void write_dev(const char *root, unsigned cpu, const char *dev, uint32_t msr, uint64_t value)
{
    char path[PATH_MAX], dir[PATH_MAX];
    unsigned char b[8];
    format_or_fail(dir, sizeof(dir), "%s/dev/cpu/%u", root, cpu);
    mkdir_p(dir);
    format_or_fail(path, sizeof(path), "%s/%s", dir, dev);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(value >> (8 * i));
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    ssize_t n = pwrite(fd, b, sizeof(b), (off_t)msr);
    if (n != (ssize_t)sizeof(b))
        fail_msg("cannot write MSR 0x%x at that offset of '%s' (a sparse file): %s", msr, path,
                 strerror(errno));
    assert_int_equal(close(fd), 0);
}

static void write_msr(const char *root, unsigned cpu, uint32_t msr, uint64_t value)
{
    write_dev(root, cpu, "msr", msr, value);
}

/* 2 packages × 2 CPUs, interleaved as on a two-socket server: cpu0 and cpu2 are package
 * 0, cpu1 and cpu3 package 1; the lowest CPU reads each package. */
static void write_topology(const char *root)
{
    static const unsigned pkg_of[] = { 0, 1, 0, 1 };
    char rel[128], text[16];
    for (unsigned cpu = 0; cpu < 4; cpu++) {
        format_or_fail(rel, sizeof(rel),
                       "sys/devices/system/cpu/cpu%u/topology/"
                       "physical_package_id",
                       cpu);
        format_or_fail(text, sizeof(text), "%u\n", pkg_of[cpu]);
        write_text(root, rel, text);
    }
    /* not CPUs: must be ignored */
    write_text(root, "sys/devices/system/cpu/cpufreq/boost", "1\n");
    write_text(root, "sys/devices/system/cpu/online", "0-3\n");
}

static void write_cpuinfo(const char *root, const char *vendor, unsigned family, unsigned model)
{
    char text[512];
    format_or_fail(text, sizeof(text),
                   "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
                   "model name\t: Test CPU 9000\nstepping\t: 2\n\n",
                   vendor, family, model);
    write_text(root, "proc/cpuinfo", text);
}

/* A fresh tree with the topology; *state keeps its path for remove_tmp_dir. */
static const char *new_tree(void **state)
{
    const char *tmp = make_tmp_dir(state, "msr");
    write_topology(tmp);
    return tmp;
}

static int open_at(struct sensor *s, const char *root)
{
    static char sys[PATH_MAX], proc[PATH_MAX], dev[PATH_MAX];
    format_or_fail(sys, sizeof(sys), "%s/sys", root);
    format_or_fail(proc, sizeof(proc), "%s/proc", root);
    format_or_fail(dev, sizeof(dev), "%s/dev", root);
    memset(s, 0, sizeof(*s));
    s->ops = &rapl_msr_sensor_ops;
    s->sysfs_root = sys;
    s->proc_root = proc;
    s->dev_root = dev;
    s->priv = calloc(1, s->ops->priv_size);
    assert_non_null(s->priv);
    return s->ops->open(s);
}

static void assert_channels(struct sensor *s, const struct expect *e, size_t n)
{
    uint64_t values[SENSOR_MAX_CHANNELS];
    assert_int_equal(s->n_channels, n);
    assert_int_equal(s->ops->read(s, values), 0);
    for (size_t i = 0; i < n; i++) {
        const struct sensor_channel *c = &s->channels[i];
        assert_string_equal(c->name, e[i].name);
        assert_string_equal(c->domain, e[i].domain);
        assert_int_equal(c->included_in_total, e[i].included);
        assert_int_equal(c->kind, SENSOR_ENERGY_COUNTER);
        assert_int_equal(c->provenance, SENSOR_MEASURED);
        /* the backend unwraps: a 64-bit µJ count that the sampler never wraps */
        assert_int_equal(c->max_raw, 0);
        assert_int_equal(c->scale_num, 1);
        assert_int_equal(c->scale_den, 1);
        assert_int_equal(c->read_err, 0);
        if (values[i] != e[i].uj)
            fail_msg("%s: read %llu µJ, expected %llu", c->name, (unsigned long long)values[i],
                     (unsigned long long)e[i].uj);
    }
}

/* Intel, two packages: package and DRAM on both, psys on the first, core on package 0
 * only (0 on package 1: absent), no uncore (0), psys on package 1 never read. */
static void write_intel_2s(const char *root, unsigned model)
{
    write_cpuinfo(root, "GenuineIntel", 6, model);
    for (unsigned cpu = 0; cpu < 2; cpu++)
        write_msr(root, cpu, 0x606, INTEL_UNIT);
    write_msr(root, 0, 0x611, 1000);
    write_msr(root, 0, 0x619, 2000);
    write_msr(root, 0, 0x639, 300);
    write_msr(root, 0, 0x64D, 5000);
    write_msr(root, 1, 0x611, 4000);
    write_msr(root, 1, 0x619, 3000);
    write_msr(root, 1, 0x64D, 7777);
}

static void test_msr_intel_two_packages_dram_psys(void **state)
{
    /* 1000 counts × 10^6 / 2^14 = 61035.156 µJ, and so on */
    static const struct expect e[] = {
        { "cpu-package:0", "package", 1, 61035 }, { "dram:0", "dram", 1, 122070 },
        { "cpu-core:0", "core", 0, 18310 },       { "cpu-package:1", "package", 1, 244140 },
        { "dram:1", "dram", 1, 183105 },          { "psys", "psys", 0, 305175 },
    };
    struct sensor s;
    const char *root = new_tree(state);
    write_intel_2s(root, 0x9A); /* Alder Lake: no fixed-unit quirk */
    assert_int_equal(open_at(&s, root), 0);
    assert_channels(&s, e, sizeof(e) / sizeof(e[0]));
    char want[PATH_MAX];
    format_or_fail(want, sizeof(want), "%s/dev/cpu/1/msr MSR 0x611, 2^-14 J", root);
    assert_non_null(strstr(s.channels[3].note, want));
    /* psys contains the packages: in the total only the packages and DRAM */
    uint64_t total_uj = 0;
    uint64_t values[SENSOR_MAX_CHANNELS];
    assert_int_equal(s.ops->read(&s, values), 0);
    for (size_t i = 0; i < s.n_channels; i++)
        total_uj += s.channels[i].included_in_total ? values[i] : 0;
    assert_int_equal(total_uj, 61035 + 122070 + 244140 + 183105);
    assert_non_null(strstr(s.notes, "cpu-package:0 wraps after 262144 J (2621 s at 100 W)"));
    close_sensor(&s);
}

static void test_msr_unit_decode_esu_14_and_16(void **state)
{
    struct sensor s;
    uint64_t values[SENSOR_MAX_CHANNELS];
    const char *root = new_tree(state);
    write_cpuinfo(root, "GenuineIntel", 6, 0x9A);
    write_msr(root, 0, 0x606, INTEL_UNIT);
    write_msr(root, 1, 0x606, 0x000a1003); /* ESU 16 on package 1 */
    write_msr(root, 0, 0x611, 3);          /* 3 × 61.035 µJ = 183.1 µJ */
    write_msr(root, 1, 0x611, 123456789);  /* × 15.2588 µJ = 1883801101.68 µJ */
    assert_int_equal(open_at(&s, root), 0);
    assert_int_equal(s.n_channels, 2);
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_int_equal(values[0], 183);
    assert_int_equal(values[1], 1883801101);
    /* exact powers: 2^14 counts at ESU 14 and 2^16 at ESU 16 are one joule */
    write_msr(root, 0, 0x611, 3 + 16384);
    write_msr(root, 1, 0x611, 123456789 + 65536);
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_int_equal(values[0], 1000183);
    assert_int_equal(values[1], 1884801101);
    close_sensor(&s);
}

/* Skylake-X counts DRAM in 2^-16 J whatever the unit register says (as the kernel does). */
static void test_msr_server_dram_uses_fixed_unit(void **state)
{
    struct sensor s;
    uint64_t values[SENSOR_MAX_CHANNELS];
    const char *root = new_tree(state);
    write_intel_2s(root, 0x55);
    assert_int_equal(open_at(&s, root), 0);
    assert_string_equal(s.channels[1].name, "dram:0");
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_int_equal(values[0], 61035); /* package: ESU 14 */
    assert_int_equal(values[1], 30517); /* 2000 × 10^6 / 2^16 */
    assert_non_null(strstr(s.channels[1].note, "2^-16 J"));
    close_sensor(&s);
}

static void test_msr_counter_wrap_between_reads(void **state)
{
    struct sensor s;
    uint64_t v0[SENSOR_MAX_CHANNELS], v1[SENSOR_MAX_CHANNELS], v2[SENSOR_MAX_CHANNELS];
    const char *root = new_tree(state);
    write_cpuinfo(root, "GenuineIntel", 6, 0x9A);
    write_msr(root, 0, 0x606, INTEL_UNIT);
    write_msr(root, 1, 0x606, INTEL_UNIT);
    write_msr(root, 0, 0x611, 0xFFFFF000u);
    write_msr(root, 1, 0x611, 10);
    assert_int_equal(open_at(&s, root), 0);
    assert_int_equal(s.ops->read(&s, v0), 0);
    assert_int_equal(v0[0], 262143750000ull); /* 0xFFFFF000 × 10^6 / 2^14 */
    /* the upper 32 bits are reserved: garbage there must not count */
    write_msr(root, 0, 0x611, 0xABCD000000000FFFull);
    assert_int_equal(s.ops->read(&s, v1), 0);
    /* 0x1000 counts to the wrap, 0xFFF after it: 8191 × 10^6 / 2^14 = 499938.96 µJ */
    double want = 8191.0 * 1e6 / 16384.0;
    double got = (double)(v1[0] - v0[0]);
    if (got < want - 1.0 || got > want + 1.0)
        fail_msg("energy across the wrap: %.3f µJ, expected %.3f", got, want);
    assert_true(v1[0] > v0[0]);
    /* a second wrap keeps counting up */
    write_msr(root, 0, 0x611, 0xFFFFFFF0u);
    assert_int_equal(s.ops->read(&s, v2), 0);
    write_msr(root, 0, 0x611, 0x10u);
    assert_int_equal(s.ops->read(&s, v1), 0);
    got = (double)(v1[0] - v2[0]);
    want = 32.0 * 1e6 / 16384.0; /* 0x10 counts each side of the wrap: 1953.125 µJ */
    if (got < want - 1.0 || got > want + 1.0)
        fail_msg("energy across the second wrap: %.3f µJ, expected %.3f", got, want);
    assert_int_equal(v1[1], 610); /* package 1 did not move */
    close_sensor(&s);
}

static void test_msr_amd_package_only(void **state)
{
    static const struct expect e[] = {
        { "cpu-package:0", "package", 1, 76293945 },
        { "cpu-package:1", "package", 1, 106811523 },
    };
    struct sensor s;
    const char *root = new_tree(state);
    write_cpuinfo(root, "AuthenticAMD", 25, 17);
    /* 0xC0010299, ...29A and ...29B share bytes in a file: the unit first, then the
     * package counter, whose bytes leave the unit's ESU byte (0xC001029A) alone. The core
     * MSR (...29A) cannot be faked beside them; the backend never reads it. */
    for (unsigned cpu = 0; cpu < 2; cpu++)
        write_msr(root, cpu, AMD_UNIT_MSR, AMD_UNIT);
    write_msr(root, 0, AMD_PKG_MSR, 5000000);
    write_msr(root, 1, AMD_PKG_MSR, 7000000);
    write_msr(root, 0, 0x611, 99); /* Intel's registers mean nothing on AMD */
    assert_int_equal(open_at(&s, root), 0);
    assert_channels(&s, e, 2);
    assert_non_null(strstr(s.notes, "no core channel: AMD's core energy MSR counts a single core"));
    close_sensor(&s);
}

static void test_msr_old_amd_family_is_enodev(void **state)
{
    struct sensor s;
    const char *root = new_tree(state);
    write_cpuinfo(root, "AuthenticAMD", 21, 2); /* Bulldozer-era 15h */
    write_msr(root, 0, AMD_UNIT_MSR, AMD_UNIT);
    assert_int_equal(open_at(&s, root), -ENODEV);
    assert_string_equal(s.errmsg, "AuthenticAMD CPU family 0x15 has no RAPL MSRs (0x17 and later)");
    close_sensor(&s);
}

static void test_msr_permission_denied_names_the_fix(void **state)
{
    char path[PATH_MAX], msg[SENSOR_ERRMSG_MAX];
    struct open_result res = { 0 };
    const char *root = new_tree(state);
    write_intel_2s(root, 0x9A);
    /* /dev/cpu/N/msr is root's, mode 0600; as root a child becomes uid 65534 */
    mode_t mode = geteuid() == 0 ? 0600 : 0000;
    for (unsigned cpu = 0; cpu < 2; cpu++) {
        format_or_fail(path, sizeof(path), "%s/dev/cpu/%u/msr", root, cpu);
        assert_int_equal(chmod(path, mode), 0);
    }
    open_unprivileged(open_at, root, &res);
    if (res.setid_err != 0)
        fail_msg("cannot become uid %d: %s", NOBODY, strerror(res.setid_err));
    assert_int_equal(res.rc, -EACCES);
    format_or_fail(path, sizeof(path), "%s/dev/cpu/0/msr", root);
    format_or_fail(msg, sizeof(msg),
                   "cannot open '%s': Permission denied (MSR access needs root, or "
                   "CAP_SYS_RAWIO with read access to the file; or LLNL msr-safe, "
                   "/dev/cpu/N/msr_safe, with an allowlist of the RAPL MSRs)",
                   path);
    assert_string_equal(res.errmsg, msg);
}

/* LLNL msr-safe's device is used when msr is not there. */
static void test_msr_uses_msr_safe(void **state)
{
    struct sensor s;
    char path[PATH_MAX];
    const char *root = new_tree(state);
    write_cpuinfo(root, "GenuineIntel", 6, 0x9A);
    for (unsigned cpu = 0; cpu < 2; cpu++) {
        write_dev(root, cpu, "msr_safe", 0x606, INTEL_UNIT);
        write_dev(root, cpu, "msr_safe", 0x611, 16384);
    }
    assert_int_equal(open_at(&s, root), 0);
    assert_int_equal(s.n_channels, 2);
    format_or_fail(path, sizeof(path), "%s/dev/cpu/1/msr_safe MSR 0x611", root);
    assert_non_null(strstr(s.channels[1].note, path));
    close_sensor(&s);
}

static void test_msr_zero_counters_are_not_working(void **state)
{
    struct sensor s;
    const char *root = new_tree(state);
    write_cpuinfo(root, "GenuineIntel", 6, 0x9A);
    for (unsigned cpu = 0; cpu < 2; cpu++) {
        write_msr(root, cpu, 0x606, INTEL_UNIT);
        write_msr(root, cpu, 0x611, 0); /* exists, but stays at zero */
    }
    assert_int_equal(open_at(&s, root), -EIO);
    assert_true(strncmp(s.errmsg, "not working: the RAPL MSRs of '", 31) == 0);
    assert_non_null(strstr(s.errmsg, "stay at zero while the CPU is busy"));
    assert_int_equal(s.n_channels, 0);
    close_sensor(&s);
}

static void open_set(struct sensors *set, const char *root, const char *only)
{
    static const struct sensor_config cfg = { 0 };
    static char sys[PATH_MAX], proc[PATH_MAX], dev[PATH_MAX];
    format_or_fail(sys, sizeof(sys), "%s/sys", root);
    format_or_fail(proc, sizeof(proc), "%s/proc", root);
    format_or_fail(dev, sizeof(dev), "%s/dev", root);
    struct sensors_env env = { sys, proc, getenv("WATTPROF_DATA"), NULL, only, &cfg, dev };
    assert_true(sensors_open(set, &env) >= 0);
}

static void test_msr_missing_dev_cpu_says_modprobe(void **state)
{
    struct sensors set;
    char msg[SENSOR_ERRMSG_MAX];
    const char *root = new_tree(state);
    write_cpuinfo(root, "GenuineIntel", 6, 0x9A);
    open_set(&set, root, "rapl-msr");
    const struct sensors_entry *e = sensors_entry_named(&set, "rapl-msr");
    assert_int_equal(e->status, -ENODEV);
    assert_int_equal(e->skipped, 0);
    format_or_fail(msg, sizeof(msg), "no '%s/dev/cpu': the msr driver is not loaded (modprobe msr)",
                   root);
    assert_string_equal(e->sensor->errmsg, msg);
    sensors_close(&set);
}

/* Opt-in: unless named, it is not even opened (the counters stay untouched). */
static void test_msr_not_selected_is_not_tried(void **state)
{
    struct sensors set;
    const char *root = new_tree(state);
    write_intel_2s(root, 0x9A);
    open_set(&set, root, NULL);
    const struct sensors_entry *e = sensors_entry_named(&set, "rapl-msr");
    assert_int_equal(e->skipped, 1);
    assert_null(e->sensor);
    assert_string_equal(e->skip_reason, "opt-in: name it with --sensors rapl-msr");
    sensors_close(&set);
    open_set(&set, root, "rapl-powercap,model");
    e = sensors_entry_named(&set, "rapl-msr");
    assert_int_equal(e->skipped, 1);
    assert_null(e->sensor);
    assert_string_equal(e->skip_reason, "not selected (--sensors)");
    sensors_close(&set);
    open_set(&set, root, "model,rapl-msr");
    e = sensors_entry_named(&set, "rapl-msr");
    assert_int_equal(e->skipped, 0);
    assert_int_equal(e->status, 0);
    assert_int_equal(e->sensor->n_channels, 6);
    sensors_close(&set);
}

/* Named together with rapl-powercap, which reads the same packages: never both. */
static void test_msr_skipped_when_powercap_reads_the_packages(void **state)
{
    struct sensors set;
    char cmd[PATH_MAX * 2];
    const char *root = new_tree(state);
    const char *fx = getenv("WATTPROF_FIXTURES");
    assert_non_null(fx);
    format_or_fail(cmd, sizeof(cmd), "%s/sysfs/intel-2s-server/.", fx);
    char dst[PATH_MAX];
    format_or_fail(dst, sizeof(dst), "%s/sys", root);
    char *cp[] = { "cp", "-a", cmd, dst, NULL };
    run_argv(cp);
    write_intel_2s(root, 0x55);
    open_set(&set, root, "rapl-powercap,rapl-msr");
    const struct sensors_entry *pc = sensors_entry_named(&set, "rapl-powercap");
    const struct sensors_entry *msr = sensors_entry_named(&set, "rapl-msr");
    assert_int_equal(pc->status, 0);
    assert_int_equal(pc->skipped, 0);
    assert_int_equal(msr->skipped, 1);
    assert_null(msr->sensor);
    assert_string_equal(msr->skip_reason, "the same RAPL counters are read through rapl-powercap");
    sensors_close(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_msr_intel_two_packages_dram_psys, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_unit_decode_esu_14_and_16, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_server_dram_uses_fixed_unit, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_counter_wrap_between_reads, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_amd_package_only, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_old_amd_family_is_enodev, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_permission_denied_names_the_fix, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_uses_msr_safe, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_zero_counters_are_not_working, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_missing_dev_cpu_says_modprobe, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_not_selected_is_not_tried, remove_tmp_dir),
        cmocka_unit_test_teardown(test_msr_skipped_when_powercap_reads_the_packages,
                                  remove_tmp_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
