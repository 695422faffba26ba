/* Tests for the RAPL powercap backend against fake /sys trees (tests/fixtures/sysfs/<case>):
 * which zones become channels, which are dropped as duplicates, what read() returns, and
 * the errors a user sees. Cases that change files work on a copy in a mkdtemp dir. */
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

#define INTEL_PKG_RANGE 262143328850ull /* 2^32 × 61 µJ */
#define DRAM_RANGE 65712999613ull       /* 2^32 × 15.3 µJ, Intel server DRAM */
#define AMD_RANGE 65532610987ull        /* 2^32 × 15.258 µJ (ESU 16), AMD Zen */
#define NOBODY SENSOR_TEST_NOBODY

/* One expected channel, in the order open() must list them. */
struct expect {
    const char *name;
    const char *domain;
    int included;
    uint64_t max_raw;
    uint64_t value; /* energy_uj in the fixture */
    uint64_t max_power_uw;
    const char *zone; /* the zone directory the channel reads */
};

static void fixture_path(char *buf, size_t size, const char *name)
{
    const char *base = getenv("WATTPROF_FIXTURES");
    if (base == NULL)
        fail_msg("WATTPROF_FIXTURES is not set (meson test sets it)");
    format_or_fail(buf, size, "%s/sysfs/%s", base, name);
}

static int open_at(struct sensor *s, const char *root)
{
    memset(s, 0, sizeof(*s));
    s->ops = &rapl_powercap_sensor_ops;
    s->sysfs_root = root;
    s->proc_root = "/proc";
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
        char note[SENSOR_NOTE_MAX];
        assert_string_equal(c->name, e[i].name);
        assert_string_equal(c->domain, e[i].domain);
        assert_int_equal(c->included_in_total, e[i].included);
        assert_int_equal(c->kind, SENSOR_ENERGY_COUNTER);
        assert_int_equal(c->provenance, SENSOR_MEASURED);
        assert_true(c->scale_num == 1 && c->scale_den == 1);
        assert_true(c->max_raw == e[i].max_raw);
        assert_true(c->max_power_uw == e[i].max_power_uw);
        format_or_fail(note, sizeof(note), "class/powercap/%s/energy_uj, ~1 ms update", e[i].zone);
        assert_string_equal(c->note, note);
        assert_int_equal(c->read_err, 0);
        assert_true(values[i] == e[i].value);
    }
}

static void open_fixture(struct sensor *s, const char *name, char *root, size_t size)
{
    fixture_path(root, size, name);
    int r = open_at(s, root);
    if (r != 0)
        fail_msg("open '%s': %d: %s", root, r, s->errmsg);
}

/* Copies a fixture to a fresh /tmp dir that any user can traverse and read (git does not
 * keep modes, and a checkout under umask 077 would hide it from uid 65534). The copy is
 * *state's, so remove_tmp_dir() deletes it even when the test fails. */
static const char *copy_fixture(void **state, const char *name)
{
    char src[PATH_MAX], dir[PATH_MAX];
    const char *tmp = make_tmp_dir(state, "powercap");
    fixture_path(dir, sizeof(dir), name);
    format_or_fail(src, sizeof(src), "%s/.", dir);
    char *cp[] = { "cp", "-a", src, (char *)tmp, NULL };
    run_argv(cp);
    char *chmod_argv[] = { "chmod", "-R", "u+rwX,go+rX", (char *)tmp, NULL };
    run_argv(chmod_argv);
    assert_int_equal(chmod(tmp, 0755), 0);
    return tmp;
}

static void zone_file(char *buf, size_t size, const char *root, const char *zone, const char *file)
{
    format_or_fail(buf, size, "%s/class/powercap/%s/%s", root, zone, file);
}

static void write_zone_file(const char *root, const char *zone, const char *file, const char *text)
{
    char path[PATH_MAX];
    zone_file(path, sizeof(path), root, zone, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_powercap_client_zones_become_channels_in_index_order(void **state)
{
    (void)state;
    /* uncore sits at :0 and core at :1 in this tree; psys overlaps the package. */
    static const struct expect e[] = {
        { "cpu-package:0", "package", 1, INTEL_PKG_RANGE, 71386549431, 15000000, "intel-rapl:0" },
        { "cpu-uncore:0", "uncore", 0, INTEL_PKG_RANGE, 1042987341, 0, "intel-rapl:0:0" },
        { "cpu-core:0", "core", 0, INTEL_PKG_RANGE, 38712345678, 0, "intel-rapl:0:1" },
        { "psys", "psys", 0, INTEL_PKG_RANGE, 156234987123, 0, "intel-rapl:1" },
    };
    struct sensor s;
    char root[PATH_MAX];
    open_fixture(&s, "intel-client", root, sizeof(root));
    assert_string_equal(s.ops->name, "rapl-powercap");
    assert_channels(&s, e, 4);
    close_sensor(&s);
}

static void test_powercap_drops_mmio_duplicate(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX];
    open_fixture(&s, "intel-client", root, sizeof(root));
    assert_string_equal(s.notes, "dropped intel-rapl-mmio:0 (package-0): duplicate of "
                                 "intel-rapl:0");
    for (size_t i = 0; i < s.n_channels; i++)
        assert_null(strstr(s.channels[i].note, "mmio"));
    close_sensor(&s);
}

static void test_powercap_two_sockets_hex_index_and_dram_parent(void **state)
{
    (void)state;
    /* Both DRAM zones are named "dram": the socket comes from the parent's name, and the
     * second package sits at the hex id "a" (see the fixture's README). */
    static const struct expect e[] = {
        { "cpu-package:0", "package", 1, INTEL_PKG_RANGE, 226618687799, 150000000, "intel-rapl:0" },
        { "dram:0", "dram", 1, DRAM_RANGE, 60279115781, 0, "intel-rapl:0:0" },
        { "cpu-package:1", "package", 1, INTEL_PKG_RANGE, 181795825861, 150000000, "intel-rapl:a" },
        { "dram:1", "dram", 1, DRAM_RANGE, 58966008642, 0, "intel-rapl:a:0" },
    };
    struct sensor s;
    char root[PATH_MAX];
    open_fixture(&s, "intel-2s-server", root, sizeof(root));
    assert_channels(&s, e, 4);
    assert_string_equal(s.notes, "");
    close_sensor(&s);
}

static void test_powercap_drops_mirrored_dies(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { "cpu-package:0", "package", 1, AMD_RANGE, 64930873566, 0, "intel-rapl:0" },
        { "cpu-core:0", "core", 0, AMD_RANGE, 3104191912, 0, "intel-rapl:0:0" },
    };
    struct sensor s;
    char root[PATH_MAX];
    open_fixture(&s, "amd-mirrored-dies", root, sizeof(root));
    assert_channels(&s, e, 2);
    assert_string_equal(s.notes, "dropped intel-rapl:1 (package-0-die-1) and its subzones: "
                                 "same counter as intel-rapl:0 (identical energy_uj and range)");
    close_sensor(&s);
}

static void test_powercap_keeps_distinct_dies(void **state)
{
    static const struct expect e[] = {
        { "cpu-package:0-die:0", "package", 1, AMD_RANGE, 64930873566, 0, "intel-rapl:0" },
        { "cpu-core:0-die:0", "core", 0, AMD_RANGE, 3104191912, 0, "intel-rapl:0:0" },
        { "cpu-package:0-die:1", "package", 1, AMD_RANGE, 61234567890, 0, "intel-rapl:1" },
        { "cpu-core:0-die:1", "core", 0, AMD_RANGE, 2987412230, 0, "intel-rapl:1:0" },
    };
    struct sensor s;
    const char *tmp = copy_fixture(state, "amd-mirrored-dies");
    write_zone_file(tmp, "intel-rapl:1", "energy_uj", "61234567890\n");
    assert_int_equal(open_at(&s, tmp), 0);
    assert_channels(&s, e, 4);
    assert_string_equal(s.notes, "");
    close_sensor(&s);
}

static void test_powercap_psys_alone_counts_in_total(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { "psys", "psys", 1, INTEL_PKG_RANGE, 98765432109, 0, "intel-rapl:0" },
    };
    struct sensor s;
    char root[PATH_MAX];
    open_fixture(&s, "psys-only", root, sizeof(root));
    assert_channels(&s, e, 1);
    close_sensor(&s);
}

static void test_powercap_no_rapl_zones_is_enodev(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX], msg[SENSOR_ERRMSG_MAX];
    fixture_path(root, sizeof(root), "empty"); /* only a dtpm control type and zone */
    assert_int_equal(open_at(&s, root), -ENODEV);
    format_or_fail(msg, sizeof(msg),
                   "no RAPL zones under '%s/class/powercap' (no intel_rapl driver: VMs and "
                   "containers usually have none)",
                   root);
    assert_string_equal(s.errmsg, msg);
    assert_int_equal(s.n_channels, 0);
    close_sensor(&s);

    assert_int_equal(open_at(&s, "/nonexistent/wattprof-sysfs"), -ENODEV);
    assert_non_null(strstr(s.errmsg, "'/nonexistent/wattprof-sysfs/class/powercap'"));
    close_sensor(&s);
}

static void test_powercap_root_only_energy_is_eacces(void **state)
{
    static const char *zones[] = { "intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1",
                                   "intel-rapl:1", "intel-rapl-mmio:0" };
    char path[PATH_MAX], msg[SENSOR_ERRMSG_MAX];
    struct open_result res = { 0 };
    /* The real files are root's, mode 0400. The copy belongs to whoever runs the test:
     * as root, 0400 and a child as uid 65534; otherwise the owner is us, so 0000. */
    mode_t mode = geteuid() == 0 ? 0400 : 0000;
    const char *tmp = copy_fixture(state, "intel-client");
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        zone_file(path, sizeof(path), tmp, zones[i], "energy_uj");
        assert_int_equal(chmod(path, mode), 0);
    }
    open_unprivileged(open_at, tmp, &res);
    if (res.setid_err != 0)
        fail_msg("cannot become uid %d to test a root-only energy_uj: %s", NOBODY,
                 strerror(res.setid_err));
    if (res.rc != -EACCES)
        fail_msg("open() with energy_uj mode %04o as uid %d returned %d, not -EACCES: this "
                 "user reads root-only files, so the hint cannot be tested here",
                 (unsigned)mode, geteuid() == 0 ? NOBODY : (int)geteuid(), res.rc);
    zone_file(path, sizeof(path), tmp, "intel-rapl:0", "energy_uj");
    format_or_fail(msg, sizeof(msg),
                   "cannot read '%s': Permission denied (energy_uj is root-only since Linux 5.10, "
                   "CVE-2020-8694); run as root, or grant CAP_PERFMON to use the perf power PMU "
                   "instead",
                   path);
    assert_string_equal(res.errmsg, msg);
}

static void test_powercap_vanished_zone_fails_alone(void **state)
{
    struct sensor s;
    char path[PATH_MAX];
    uint64_t values[SENSOR_MAX_CHANNELS];
    const char *tmp = copy_fixture(state, "intel-client");
    assert_int_equal(open_at(&s, tmp), 0);
    assert_int_equal(s.n_channels, 4);
    /* sysfs fails reads of a removed zone (ENODEV); a regular file stays readable through
     * an open fd after unlink, so empty it first to make the read fail. */
    zone_file(path, sizeof(path), tmp, "intel-rapl:0:1", "energy_uj");
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_string_equal(s.channels[2].name, "cpu-core:0");
    assert_true(s.channels[2].read_err < 0);
    assert_int_equal(s.channels[0].read_err, 0);
    assert_true(values[0] == 71386549431ull);
    assert_int_equal(s.channels[1].read_err, 0);
    assert_int_equal(s.channels[3].read_err, 0);
    assert_true(values[3] == 156234987123ull);
    close_sensor(&s);
}

static void test_powercap_garbage_energy_is_einval(void **state)
{
    struct sensor s;
    uint64_t values[SENSOR_MAX_CHANNELS];
    const char *tmp = copy_fixture(state, "intel-2s-server");
    assert_int_equal(open_at(&s, tmp), 0);
    write_zone_file(tmp, "intel-rapl:a:0", "energy_uj", "0x1f4 garbage\n");
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_string_equal(s.channels[3].name, "dram:1");
    assert_int_equal(s.channels[3].read_err, -EINVAL);
    assert_int_equal(s.channels[2].read_err, 0);
    assert_true(values[2] == 181795825861ull);
    /* the next good value clears the error */
    write_zone_file(tmp, "intel-rapl:a:0", "energy_uj", "58966108642\n");
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_int_equal(s.channels[3].read_err, 0);
    assert_true(values[3] == 58966108642ull);
    close_sensor(&s);
}

static void test_powercap_read_fails_when_every_zone_fails(void **state)
{
    struct sensor s;
    uint64_t values[SENSOR_MAX_CHANNELS];
    const char *tmp = copy_fixture(state, "intel-2s-server");
    assert_int_equal(open_at(&s, tmp), 0);
    static const char *zones[] = { "intel-rapl:0", "intel-rapl:0:0", "intel-rapl:a",
                                   "intel-rapl:a:0" };
    for (size_t i = 0; i < 4; i++)
        write_zone_file(tmp, zones[i], "energy_uj", "?\n");
    assert_int_equal(s.ops->read(&s, values), -EINVAL);
    for (size_t i = 0; i < s.n_channels; i++)
        assert_int_equal(s.channels[i].read_err, -EINVAL);
    close_sensor(&s);
}

static void test_powercap_unknown_range_is_uint64_max(void **state)
{
    struct sensor s;
    char path[PATH_MAX];
    const char *tmp = copy_fixture(state, "intel-client");
    zone_file(path, sizeof(path), tmp, "intel-rapl:0", "max_energy_range_uj");
    assert_int_equal(unlink(path), 0);
    write_zone_file(tmp, "intel-rapl:1", "max_energy_range_uj", "n/a\n");
    assert_int_equal(open_at(&s, tmp), 0);
    assert_string_equal(s.channels[0].name, "cpu-package:0");
    assert_true(s.channels[0].max_raw == UINT64_MAX);
    assert_string_equal(s.channels[3].name, "psys");
    assert_true(s.channels[3].max_raw == UINT64_MAX);
    assert_true(s.channels[2].max_raw == INTEL_PKG_RANGE);
    assert_non_null(strstr(s.notes, "intel-rapl:0 (package-0): max_energy_range_uj: No such "
                                    "file or directory: wraps cannot be corrected"));
    assert_non_null(strstr(s.notes, "intel-rapl:1 (psys): max_energy_range_uj: not a decimal "
                                    "number: wraps cannot be corrected"));
    close_sensor(&s);
}

static void test_powercap_close_copes_with_half_open(void **state)
{
    (void)state;
    struct sensor s = { 0 };
    char root[PATH_MAX];
    s.ops = &rapl_powercap_sensor_ops;
    s.priv = calloc(1, s.ops->priv_size); /* never opened: fds are not valid yet */
    assert_non_null(s.priv);
    s.ops->close(&s);
    close_sensor(&s);
    fixture_path(root, sizeof(root), "empty"); /* failed open */
    assert_int_equal(open_at(&s, root), -ENODEV);
    close_sensor(&s);
    open_fixture(&s, "intel-client", root, sizeof(root)); /* closing twice */
    s.ops->close(&s);
    close_sensor(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_powercap_client_zones_become_channels_in_index_order),
        cmocka_unit_test(test_powercap_drops_mmio_duplicate),
        cmocka_unit_test(test_powercap_two_sockets_hex_index_and_dram_parent),
        cmocka_unit_test(test_powercap_drops_mirrored_dies),
        cmocka_unit_test_teardown(test_powercap_keeps_distinct_dies, remove_tmp_dir),
        cmocka_unit_test(test_powercap_psys_alone_counts_in_total),
        cmocka_unit_test(test_powercap_no_rapl_zones_is_enodev),
        cmocka_unit_test_teardown(test_powercap_root_only_energy_is_eacces, remove_tmp_dir),
        cmocka_unit_test_teardown(test_powercap_vanished_zone_fails_alone, remove_tmp_dir),
        cmocka_unit_test_teardown(test_powercap_garbage_energy_is_einval, remove_tmp_dir),
        cmocka_unit_test_teardown(test_powercap_read_fails_when_every_zone_fails, remove_tmp_dir),
        cmocka_unit_test_teardown(test_powercap_unknown_range_is_uint64_max, remove_tmp_dir),
        cmocka_unit_test(test_powercap_close_copes_with_half_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
