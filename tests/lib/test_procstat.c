/* Tests for /proc/stat parsing: busy, idle and steal are told apart. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "procstat.h"

static void test_procstat_splits_busy_idle_steal(void **state)
{
    (void)state;
    struct procstat_cpu c;
    const char *text = "cpu  100 20 30 400 50 6 7 80 9 1\n"
                       "cpu0 50 10 15 200 25 3 3 40 4 0\n"
                       "cpu1 50 10 15 200 25 3 4 40 5 1\n"
                       "intr 12345\n";
    assert_int_equal(procstat_parse(text, &c), 0);
    assert_true(c.busy_ticks == 100 + 20 + 30 + 6 + 7);
    assert_true(c.idle_ticks == 450);
    assert_true(c.steal_ticks == 80);
    assert_int_equal(c.n_cpus, 2);
}

static void test_procstat_rejects_other_text(void **state)
{
    (void)state;
    struct procstat_cpu c;
    assert_int_equal(procstat_parse("intr 1 2 3\n", &c), -EINVAL);
    assert_int_equal(procstat_parse("cpu  1 2\n", &c), -EINVAL);
}

static void test_procstat_reads_real_proc(void **state)
{
    (void)state;
    int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct procstat_cpu a, b;
    assert_int_equal(procstat_read_fd(fd, &a), 0);
    assert_int_equal(procstat_read_fd(fd, &b), 0);
    assert_true(b.busy_ticks >= a.busy_ticks);
    assert_true(a.busy_ticks + a.idle_ticks > 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_procstat_splits_busy_idle_steal),
        cmocka_unit_test(test_procstat_rejects_other_text),
        cmocka_unit_test(test_procstat_reads_real_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
