/* Tests for the choice among backends: perf before powercap for the same counters, the
 * model kept out of the total beside measured counters, the --sensors filter, and the
 * reasons reported for backends that could not be used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sensor_test_util.h"
#include "sensors.h"

/* A perf that works: every event opens (on /dev/null) and counts up 1 J per read. */
static uint64_t fake_count;

static int fake_open(void *attr, int pid, int cpu, int group_fd, unsigned long flags)
{
    (void)attr, (void)pid, (void)cpu, (void)group_fd, (void)flags;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int fake_read(int fd, uint64_t *count)
{
    (void)fd;
    fake_count += 1ull << 32;
    *count = fake_count;
    return 0;
}

static const struct sensor_sys fake_sys = { .perf_event_open = fake_open, .perf_read = fake_read };

static char tree[64];

/* A tree with both a perf power PMU and powercap zones: two fixtures merged. */
static int setup_tree(void **state)
{
    (void)state;
    const char *fx = getenv("WATTPROF_FIXTURES");
    assert_non_null(fx);
    snprintf(tree, sizeof(tree), "/tmp/wattprof-sensors-XXXXXX");
    assert_non_null(mkdtemp(tree));
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cp -a '%s/sysfs/perf-intel-2s/.' '%s/' && cp -a "
             "'%s/sysfs/intel-client/.' '%s/'",
             fx, tree, fx, tree);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static int teardown_tree(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
    return system(cmd) == 0 ? 0 : -1;
}

static struct sensors_env env_for(const char *only, const struct sensor_sys *sys)
{
    static const struct sensor_config cfg = { 0 };
    struct sensors_env env = { tree, "/proc", getenv("WATTPROF_DATA"), sys, only, &cfg, NULL };
    return env;
}

static void test_sensors_perf_first_powercap_skipped(void **state)
{
    (void)state;
    struct sensors set;
    struct sensors_env env = env_for(NULL, &fake_sys);
    assert_true(sensors_open(&set, &env) > 0);
    const struct sensors_entry *perf = sensors_entry_named(&set, "rapl-perf");
    const struct sensors_entry *pc = sensors_entry_named(&set, "rapl-powercap");
    const struct sensors_entry *model = sensors_entry_named(&set, "model");
    assert_int_equal(perf->status, 0);
    assert_true(pc->skipped);
    assert_non_null(strstr(pc->skip_reason, "read through rapl-perf"));
    assert_int_equal(model->status, 0);
    for (size_t j = 0; j < model->sensor->n_channels; j++)
        assert_false(model->sensor->channels[j].included_in_total);
    assert_non_null(strstr(model->sensor->notes, "shown for comparison"));
    struct sensor *active[SENSORS_MAX];
    assert_int_equal(sensors_active(&set, active, SENSORS_MAX), 2);
    sensors_close(&set);
}

static void test_sensors_powercap_when_perf_fails(void **state)
{
    (void)state;
    struct sensors set;
    /* the real perf_event_open refuses the fixture's PMU type */
    struct sensors_env env = env_for(NULL, NULL);
    assert_true(sensors_open(&set, &env) > 0);
    const struct sensors_entry *perf = sensors_entry_named(&set, "rapl-perf");
    const struct sensors_entry *pc = sensors_entry_named(&set, "rapl-powercap");
    assert_true(perf->status < 0);
    assert_true(strlen(perf->sensor->errmsg) > 0);
    assert_false(pc->skipped);
    assert_int_equal(pc->status, 0);
    sensors_close(&set);
}

static void test_sensors_filter_selects_backends(void **state)
{
    (void)state;
    struct sensors set;
    struct sensors_env env = env_for("model", &fake_sys);
    assert_int_equal(sensors_open(&set, &env), 2);
    assert_true(sensors_entry_named(&set, "rapl-perf")->skipped);
    assert_true(sensors_entry_named(&set, "rapl-powercap")->skipped);
    assert_string_equal(sensors_entry_named(&set, "rapl-perf")->skip_reason,
                        "not selected (--sensors)");
    const struct sensors_entry *model = sensors_entry_named(&set, "model");
    for (size_t j = 0; j < model->sensor->n_channels; j++)
        assert_true(model->sensor->channels[j].included_in_total);
    sensors_close(&set);
}

static void test_sensors_known_names(void **state)
{
    (void)state;
    assert_true(sensors_known("rapl-perf"));
    assert_true(sensors_known("rapl-powercap"));
    assert_true(sensors_known("model"));
    assert_false(sensors_known("rapl"));
    assert_false(sensors_known(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sensors_perf_first_powercap_skipped),
        cmocka_unit_test(test_sensors_powercap_when_perf_fails),
        cmocka_unit_test(test_sensors_filter_selects_backends),
        cmocka_unit_test(test_sensors_known_names),
    };
    return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
