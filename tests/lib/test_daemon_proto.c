/* Tests for the line protocol of wattprof serve's socket: requests, channel lines both
 * ways (tabs inside fields, overlong fields), headers, readings and malformed input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon_proto.h"

static void test_daemon_proto_commands(void **state)
{
    (void)state;
    assert_int_equal(daemon_proto_command("read", 4), DAEMON_CMD_READ);
    assert_int_equal(daemon_proto_command("read\r", 5), DAEMON_CMD_READ);
    assert_int_equal(daemon_proto_command("channels  ", 10), DAEMON_CMD_CHANNELS);
    assert_int_equal(daemon_proto_command("rea", 3), DAEMON_CMD_UNKNOWN);
    assert_int_equal(daemon_proto_command("reads", 5), DAEMON_CMD_UNKNOWN);
    assert_int_equal(daemon_proto_command("", 0), DAEMON_CMD_UNKNOWN);
    assert_int_equal(daemon_proto_command("read\0x", 6), DAEMON_CMD_UNKNOWN);
}

static void test_daemon_proto_register(void **state)
{
    (void)state;
    char job[DAEMON_PROTO_JOB_MAX], big[200];
    int pid = 0;
    assert_int_equal(daemon_proto_command("register 12 j", 13), DAEMON_CMD_REGISTER);
    assert_int_equal(daemon_proto_parse_register("register 42 slurm-1234 \r", 24, &pid, job), 0);
    assert_int_equal(pid, 42);
    assert_string_equal(job, "slurm-1234");
    assert_int_equal(daemon_proto_parse_register("register 42", 11, &pid, job), -EINVAL);
    assert_int_equal(daemon_proto_parse_register("register 0 a", 12, &pid, job), -EINVAL);
    assert_int_equal(daemon_proto_parse_register("register -3 grp", 15, &pid, job), 0);
    assert_int_equal(pid, -3); /* a process group, as for kill(2) */
    assert_int_equal(daemon_proto_parse_register("register -0 a", 13, &pid, job), -EINVAL);
    assert_int_equal(daemon_proto_parse_register("register -1073741824 a", 22, &pid, job), -EINVAL);
    assert_int_equal(daemon_proto_parse_register("register 4x a", 13, &pid, job), -EINVAL);
    assert_int_equal(daemon_proto_parse_register("register 4 a\"b", 14, &pid, job), -EINVAL);
    assert_int_equal(daemon_proto_parse_register("register 4 a b", 14, &pid, job), -EINVAL);
    int n = snprintf(big, sizeof(big), "register 4 %0100d", 7);
    assert_int_equal(daemon_proto_parse_register(big, (size_t)n, &pid, job), -EINVAL);
    daemon_proto_job_name("pod \"x\"\n", job);
    assert_string_equal(job, "pod__x__");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    daemon_proto_job_name(big, job);
    assert_int_equal(strlen(job), DAEMON_PROTO_JOB_MAX - 1);
}

static void test_daemon_proto_channel_round_trip(void **state)
{
    (void)state;
    struct daemon_proto_channel c = { .included = 1 }, back;
    char line[512];
    snprintf(c.name, sizeof(c.name), "cpu-package:0");
    snprintf(c.kind, sizeof(c.kind), "counter");
    snprintf(c.domain, sizeof(c.domain), "package");
    snprintf(c.source, sizeof(c.source), "rapl-powercap");
    snprintf(c.provenance, sizeof(c.provenance), "measured");
    snprintf(c.note, sizeof(c.note), "a\tnote\nwith breaks");
    int n = daemon_proto_format_channel(line, sizeof(line), &c);
    assert_true(n > 0);
    assert_int_equal(line[n - 1], '\n');
    line[n - 1] = '\0';
    assert_int_equal(daemon_proto_parse_channel(line, &back), 0);
    assert_string_equal(back.name, "cpu-package:0");
    assert_string_equal(back.source, "rapl-powercap");
    assert_string_equal(back.note, "a note with breaks");
    assert_int_equal(back.included, 1);
    assert_int_equal(back.node_scope, 0);
    assert_int_equal(daemon_proto_format_channel(line, 10, &c), -ENOSPC);
}

static void test_daemon_proto_channel_malformed(void **state)
{
    (void)state;
    struct daemon_proto_channel c;
    char big[256];
    assert_int_equal(daemon_proto_parse_channel("a\tcounter\tpackage\tsrc\tmeasured\t1\t0", &c),
                     -EPROTO); /* 7 fields */
    assert_int_equal(daemon_proto_parse_channel("a\tcounter\tpackage\tsrc\tmeasured\t2\t0\tn", &c),
                     -EPROTO);
    assert_int_equal(daemon_proto_parse_channel("\tcounter\tpackage\tsrc\tmeasured\t1\t0\tn", &c),
                     -EPROTO);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char line[512];
    snprintf(line, sizeof(line), "%s\tcounter\tpackage\tsrc\tmeasured\t1\t0\tn", big);
    assert_int_equal(daemon_proto_parse_channel(line, &c), -EPROTO);
    assert_int_equal(daemon_proto_parse_channel("a\tcounter\tpackage\tsrc\tmeasured\t1\t1\t", &c),
                     0);
    assert_int_equal(c.node_scope, 1);
}

static void test_daemon_proto_header_and_readings(void **state)
{
    (void)state;
    uint64_t a = 0, b = 0;
    assert_int_equal(daemon_proto_parse_header("ok 4 50000000", &a, &b), 0);
    assert_true(a == 4 && b == 50000000);
    assert_int_equal(daemon_proto_parse_header("err unknown request", &a, &b), -EREMOTEIO);
    assert_int_equal(daemon_proto_parse_header("ok 4", &a, &b), -EPROTO);
    assert_int_equal(daemon_proto_parse_header("ok -4 5", &a, &b), -EPROTO);
    assert_int_equal(daemon_proto_parse_header("ok 4 5 6", &a, &b), -EPROTO);
    assert_int_equal(daemon_proto_parse_reading("18446744073709551615 7", &a, &b), 0);
    assert_true(a == UINT64_MAX && b == 7);
    assert_int_equal(daemon_proto_parse_reading("18446744073709551616 7", &a, &b), -EPROTO);
    assert_int_equal(daemon_proto_parse_reading("12  7", &a, &b), -EPROTO);
    assert_int_equal(daemon_proto_parse_reading("12 7x", &a, &b), -EPROTO);
    assert_int_equal(daemon_proto_parse_reading("", &a, &b), -EPROTO);
}

static void test_daemon_proto_client_path(void **state)
{
    (void)state;
    char buf[256];
    setenv("WATTPROF_SOCKET", "/tmp/x.sock", 1);
    daemon_proto_client_path(buf, sizeof(buf));
    assert_string_equal(buf, "/tmp/x.sock");
    setenv("WATTPROF_SOCKET", "", 1);
    daemon_proto_client_path(buf, sizeof(buf));
    assert_string_equal(buf, "");
    unsetenv("WATTPROF_SOCKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_proto_commands),
        cmocka_unit_test(test_daemon_proto_register),
        cmocka_unit_test(test_daemon_proto_channel_round_trip),
        cmocka_unit_test(test_daemon_proto_channel_malformed),
        cmocka_unit_test(test_daemon_proto_header_and_readings),
        cmocka_unit_test(test_daemon_proto_client_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
