/* Tests for the external meter backend with real meters written as shell one-liners:
 * watts, cumulative joules, garbage mixed with good lines, a meter that dies, one that
 * hangs (before or after its first line), one that ignores SIGTERM, and what close()
 * leaves behind (nothing). Timeouts are shortened through the backend's private state. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "meter.h"
#include "sensor.h"

static struct sensor_config cfg;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static uint64_t elapsed_ms(uint64_t since_ns)
{
    return (sensor_now_ns() - since_ns) / 1000000u;
}

static struct meter *priv_of(struct sensor *s)
{
    return s->priv;
}

/* Prepares (does not open) a meter sensor running cmd, with short timeouts. */
static void setup_meter(struct sensor *s, const char *cmd)
{
    memset(s, 0, sizeof(*s));
    memset(&cfg, 0, sizeof(cfg));
    cfg.meter_cmd = cmd;
    s->ops = &meter_sensor_ops;
    s->cfg = &cfg;
    s->priv = calloc(1, s->ops->priv_size);
    assert_non_null(s->priv);
    priv_of(s)->first_line_ms = 2000;
    priv_of(s)->hang_min_ms = 2000;
    priv_of(s)->kill_grace_ms = 300;
}

static void close_sensor(struct sensor *s)
{
    s->ops->close(s);
    free(s->priv);
}

/* One read; returns the value, or the channel's read_err (negative). */
static long long read_once(struct sensor *s)
{
    uint64_t v = 0;
    s->channels[0].read_err = 0;
    assert_int_equal(s->ops->read(s, &v), 0);
    return s->channels[0].read_err != 0 ? s->channels[0].read_err : (long long)v;
}

/* Reads every 20 ms, for up to 3 s (slow under load), until the meter has given n valid
 * lines or the read fails; returns the last read. */
static long long read_until_valid(struct sensor *s, uint64_t n)
{
    long long v = read_once(s);
    for (int i = 0; i < 150 && v >= 0 && priv_of(s)->n_valid < n; i++) {
        sleep_ms(20);
        v = read_once(s);
    }
    return v;
}

/* Reads every 20 ms, for up to 3 s, until the read fails; returns the last read. */
static long long read_until_error(struct sensor *s)
{
    long long v = read_once(s);
    for (int i = 0; i < 150 && v >= 0; i++) {
        sleep_ms(20);
        v = read_once(s);
    }
    return v;
}

static void assert_group_gone(pid_t pgid)
{
    assert_int_equal(kill(-pgid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

/* Closes, and checks that close() ended the meter's whole process group quickly. */
static void close_and_check_gone(struct sensor *s, unsigned max_ms)
{
    pid_t pid = priv_of(s)->pid;
    assert_true(pid > 0);
    uint64_t t0 = sensor_now_ns();
    close_sensor(s);
    assert_true(elapsed_ms(t0) <= max_ms);
    assert_group_gone(pid);
}

static void test_meter_watts(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, "while :; do echo 42.0; sleep 0.1; done");
    assert_int_equal(s.ops->open(&s), 0);
    const struct sensor_channel *c = &s.channels[0];
    assert_int_equal(s.n_channels, 1);
    assert_string_equal(c->name, "node:meter");
    assert_string_equal(c->domain, "node");
    assert_int_equal(c->kind, SENSOR_POWER_GAUGE);
    assert_int_equal(c->provenance, SENSOR_INTEGRATED);
    assert_int_equal(c->scale_num, 1000);
    assert_int_equal(c->scale_den, 1);
    assert_int_equal(c->node_scope, 1);
    assert_int_equal(c->included_in_total, 0);
    assert_string_equal(c->averaging, "as the meter reports");
    assert_non_null(strstr(c->note, "watts per line from 'while :;"));
    pid_t pid = priv_of(&s)->pid;
    assert_int_equal(getpgid(pid), pid); /* its own process group */
    assert_int_equal(read_once(&s), 42000);
    assert_int_equal(read_until_valid(&s, 3), 42000);
    close_and_check_gone(&s, 1000);
}

static void test_meter_cumulative_joules(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, "i=0; while :; do i=$((i+5)); echo \"$i.5J\"; sleep 0.1; done");
    assert_int_equal(s.ops->open(&s), 0);
    const struct sensor_channel *c = &s.channels[0];
    assert_int_equal(c->kind, SENSOR_ENERGY_COUNTER);
    assert_int_equal(c->provenance, SENSOR_MEASURED);
    assert_int_equal(c->max_raw, 0);
    assert_int_equal(c->scale_num, 1000);
    assert_non_null(strstr(c->note, "cumulative joules per line"));
    long long first = read_once(&s);
    assert_true(first >= 5500 && (first - 5500) % 5000 == 0);
    long long later = read_until_valid(&s, priv_of(&s)->n_valid + 2);
    assert_true(later >= first + 10000 && (later - 5500) % 5000 == 0);
    close_and_check_gone(&s, 1000);
}

static void test_meter_garbage_is_counted_never_used(void **state)
{
    (void)state;
    struct sensor s;
    /* Garbage: xyz (before the kind is known), abc, -5, nan, 12J (watts decided), an
     * overlong line of 300 zeros, 1e400, 100001 W (absurd). Valid: 42, then "7 W". */
    setup_meter(&s, "printf 'xyz\\n42\\nabc\\n-5\\nnan\\n12J\\n%0300d\\n1e400\\n100001\\n7 W\\n' 0;"
                    " exec sleep 5");
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_until_valid(&s, 2), 7000);
    assert_int_equal(priv_of(&s)->n_garbage, 8);
    assert_int_equal(priv_of(&s)->n_valid, 2);
    assert_non_null(strstr(s.notes, "8 garbage line(s) ignored, e.g. 'xyz'"));
    close_and_check_gone(&s, 1000);
}

static void test_meter_that_exits_loses_the_channel(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, "echo 10; sleep 0.3; echo 11");
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_once(&s), 10000);
    assert_int_equal(read_until_error(&s), -EPIPE);
    assert_int_equal(priv_of(&s)->value, 11000); /* the last line before it exited */
    assert_int_equal(read_once(&s), -EPIPE);
    uint64_t t0 = sensor_now_ns();
    close_sensor(&s);
    assert_true(elapsed_ms(t0) <= 1000);
}

static void test_meter_silent_fails_open_in_time(void **state)
{
    (void)state;
    struct sensor s;
    char path[] = "/tmp/wattprof-meter-pid-XXXXXX";
    char cmd[128];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "echo $$ >%s; exec sleep 30", path);
    setup_meter(&s, cmd);
    priv_of(&s)->first_line_ms = 300;
    uint64_t t0 = sensor_now_ns();
    assert_int_equal(s.ops->open(&s), -EIO);
    uint64_t took = elapsed_ms(t0);
    assert_true(took >= 300 && took <= 2000);
    assert_string_equal(s.errmsg, "the meter command printed no reading within 0.3 s");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int pid = 0;
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    unlink(path);
    assert_group_gone(pid); /* open() cleaned up after itself */
    close_sensor(&s);
}

static void test_meter_that_hangs_times_out(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, "echo 42; exec sleep 30");
    priv_of(&s)->hang_min_ms = 200;
    uint64_t t0 = sensor_now_ns();
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_once(&s), 42000);
    assert_int_equal(read_until_error(&s), -ETIMEDOUT);
    assert_true(elapsed_ms(t0) >= 200); /* not before 200 ms without a line */
    close_and_check_gone(&s, 1000);
}

static void test_meter_ignoring_sigterm_is_killed(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, "trap '' TERM; while :; do echo 1; sleep 0.05; done");
    assert_int_equal(s.ops->open(&s), 0);
    close_and_check_gone(&s, 1500);
}

static void test_meter_exits_before_a_reading(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, "echo oops; exit 3");
    assert_int_equal(s.ops->open(&s), -EIO);
    assert_string_equal(s.errmsg, "the meter command exited before printing a reading (exit "
                                  "status 3): 1 line(s) were not readings, e.g. 'oops' (print "
                                  "watts, or cumulative joules with a J suffix, one per line)");
    assert_int_equal(s.n_channels, 0);
    close_sensor(&s);
}

static void test_meter_without_command(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, NULL);
    assert_int_equal(s.ops->open(&s), -ENODEV);
    assert_string_equal(s.errmsg, "no --meter command given");
    close_sensor(&s);
}

static void test_meter_stdin_is_dev_null(void **state)
{
    (void)state;
    struct sensor s;
    setup_meter(&s, "if read x; then echo 1; else echo 7; fi; exec sleep 5");
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_once(&s), 7000);
    close_and_check_gone(&s, 1000);
}

int main(void)
{
    /* As `wattprof run`: the meters' orphaned children come back to us to be reaped. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meter_watts),
        cmocka_unit_test(test_meter_cumulative_joules),
        cmocka_unit_test(test_meter_garbage_is_counted_never_used),
        cmocka_unit_test(test_meter_that_exits_loses_the_channel),
        cmocka_unit_test(test_meter_silent_fails_open_in_time),
        cmocka_unit_test(test_meter_that_hangs_times_out),
        cmocka_unit_test(test_meter_ignoring_sigterm_is_killed),
        cmocka_unit_test(test_meter_exits_before_a_reading),
        cmocka_unit_test(test_meter_without_command),
        cmocka_unit_test(test_meter_stdin_is_dev_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
