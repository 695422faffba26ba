/* Tests for the small-file helpers every backend reads hardware through. */
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

#include "sysfs.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_sysfs_reads_number_with_newline(void **state)
{
    (void)state;
    char path[] = "/tmp/wattprof-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "262143328850\n");
    uint64_t v = 0;
    assert_int_equal(sysfs_read_u64(path, &v), 0);
    assert_true(v == 262143328850ull);
    fd = sysfs_open(path);
    assert_true(fd >= 0);
    write_file(path, "42\n");
    assert_int_equal(sysfs_pread_u64(fd, &v), 0);
    assert_true(v == 42);
    close(fd);
    unlink(path);
}

static void test_sysfs_rejects_garbage(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(sysfs_parse_u64("", &v), -EINVAL);
    assert_int_equal(sysfs_parse_u64("-5", &v), -EINVAL);
    assert_int_equal(sysfs_parse_u64("12abc", &v), -EINVAL);
    assert_int_equal(sysfs_parse_u64("99999999999999999999999", &v), -EINVAL);
    assert_true(v == 7);
    assert_int_equal(sysfs_parse_u64("12 \n", &v), 0);
    assert_true(v == 12);
}

static void test_sysfs_missing_file_is_enoent(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(sysfs_read_u64("/nonexistent/wattprof/energy_uj", &v), -ENOENT);
}

static void test_sysfs_path_joins_root(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(sysfs_path(buf, sizeof(buf), "/fake", "class/powercap/%s", "x"), 0);
    assert_string_equal(buf, "/fake/class/powercap/x");
    char small[8];
    assert_int_equal(sysfs_path(small, sizeof(small), "/fake", "class/powercap"), -ENAMETOOLONG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sysfs_reads_number_with_newline),
        cmocka_unit_test(test_sysfs_rejects_garbage),
        cmocka_unit_test(test_sysfs_missing_file_is_enoent),
        cmocka_unit_test(test_sysfs_path_joins_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
