/* The sampling path never allocates: malloc, calloc and realloc are wrapped at link time
 * (-Wl,--wrap) and counted while the sampler reads real backends (powercap on a fixture
 * tree, the model on this machine's /proc, a replayed trace) many times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sampler.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static int counting;
static unsigned long allocations;

void *__wrap_malloc(size_t n)
{
    allocations += counting;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    allocations += counting;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations += counting;
    return __real_realloc(p, n);
}

static struct sensor_config cfg;

static struct sensor *open_sensor(const struct sensor_ops *ops, const char *sysfs)
{
    struct sensor *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->ops = ops;
    s->sysfs_root = sysfs;
    s->proc_root = "/proc";
    s->data_dir = getenv("WATTPROF_DATA");
    s->cfg = &cfg;
    s->priv = calloc(1, ops->priv_size);
    assert_non_null(s->priv);
    assert_int_equal(ops->open(s), 0);
    return s;
}

static void close_sensor(struct sensor *s)
{
    s->ops->close(s);
    free(s->priv);
    free(s);
}

static void test_sampling_path_allocates_nothing(void **state)
{
    (void)state;
    char sysfs[512];
    snprintf(sysfs, sizeof(sysfs), "%s/sysfs/intel-2s-server", getenv("WATTPROF_FIXTURES"));
    char trace[] = "/tmp/wattprof-trace-XXXXXX";
    int fd = mkstemp(trace);
    assert_true(fd >= 0);
    static const char text[] = "# wattprof trace 1\n# channel psys kind=counter domain=psys\n"
                               "t_s,psys\n0,0\n0.001,1\n10,100\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    cfg.replay_path = trace;
    struct sensor *list[3];
    list[0] = open_sensor(&rapl_powercap_sensor_ops, sysfs);
    list[1] = open_sensor(&model_sensor_ops, "/sys");
    list[1]->min_period_ns = 0; /* read the model on every round too */
    list[2] = open_sensor(&replay_sensor_ops, "/sys");
    unlink(trace);
    struct sampler *sp = calloc(1, sizeof(*sp));
    assert_non_null(sp);
    assert_int_equal(sampler_init(sp, list, 3, 1000000), 0);
    counting = 1;
    for (int i = 0; i < 200; i++)
        sampler_sample(sp, i % 2);
    counting = 0;
    assert_true(sp->n_samples == 200);
    assert_true(sp->channels[0].reads == 200);
    assert_int_equal(allocations, 0);
    sampler_release(sp);
    free(sp);
    close_sensor(list[0]);
    close_sensor(list[1]);
    close_sensor(list[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sampling_path_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
