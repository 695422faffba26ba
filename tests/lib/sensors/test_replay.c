/* Tests for the replay backend's trace: parsing (every kind of bad input is refused with
 * its line number), interpolation (exact at rows, linear between them, held after the
 * end), and the backend opened on a trace file with the sensors rule that makes the
 * replayed channels the total. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "replay.h"
#include "sensors.h"

#define HEAD                                                                                       \
    "# wattprof trace 1\n"                                                                         \
    "# channel cpu-package:0 kind=counter domain=package provenance=measured included=1 "          \
    "node=0 source=rapl-powercap\n"                                                                \
    "# channel dram:0 kind=counter domain=dram provenance=integrated included=0 node=0 "           \
    "source=hwmon\n"                                                                               \
    "t_s,cpu-package:0,dram:0\n"

static const char good[] = HEAD "0,0,0\n"
                                "1.0,20.000000,2.5\n"
                                "2.5,50,5.000001\n";

static int parse(struct replay_trace *t, const char *text, char *err, size_t size)
{
    return replay_parse(t, text, strlen(text), err, size);
}

static void test_replay_parses_channels_and_rows(void **state)
{
    (void)state;
    struct replay_trace t;
    char err[REPLAY_ERRMSG_MAX] = "";
    assert_int_equal(parse(&t, good, err, sizeof(err)), 0);
    assert_int_equal(t.n_channels, 2);
    assert_int_equal(t.n_rows, 3);
    assert_string_equal(t.channels[0].name, "cpu-package:0");
    assert_string_equal(t.channels[0].domain, "package");
    assert_string_equal(t.channels[0].source, "rapl-powercap");
    assert_string_equal(t.channels[1].provenance, "integrated");
    assert_int_equal(t.channels[0].included, 1);
    assert_int_equal(t.channels[1].included, 0);
    assert_int_equal(t.rows[3], 1000000000u);
    assert_int_equal(t.rows[4], 20000000u);
    assert_int_equal(t.rows[8], 5000001u);
    assert_int_equal(replay_end_ns(&t), 2500000000u);
    replay_trace_release(&t);
}

static void test_replay_interpolates_and_holds(void **state)
{
    (void)state;
    struct replay_trace t;
    char err[REPLAY_ERRMSG_MAX];
    uint64_t v[2];
    assert_int_equal(parse(&t, good, err, sizeof(err)), 0);
    const struct {
        uint64_t t_ns, pkg_uj, dram_uj;
    } cases[] = {
        { 0, 0, 0 },                          /* first row */
        { 1000000000u, 20000000u, 2500000u }, /* a row, exactly */
        { 500000000u, 10000000u, 1250000u },  /* midpoint */
        { 1750000000u, 35000000u, 3750000u }, /* midpoint of the second interval */
        { 2500000000u, 50000000u, 5000001u }, /* last row */
        { 9000000000u, 50000000u, 5000001u }, /* after the end: held */
        { 1000000001u, 20000000u, 2500000u }, /* 1 ns later: 20 µJ/ns... rounds down */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        replay_values_at(&t, cases[i].t_ns, v);
        if (v[0] != cases[i].pkg_uj || v[1] != cases[i].dram_uj)
            fail_msg("t %llu ns: %llu %llu, expected %llu %llu", (unsigned long long)cases[i].t_ns,
                     (unsigned long long)v[0], (unsigned long long)v[1],
                     (unsigned long long)cases[i].pkg_uj, (unsigned long long)cases[i].dram_uj);
    }
    replay_trace_release(&t);
}

static void test_replay_before_the_first_row_holds_it(void **state)
{
    (void)state;
    struct replay_trace t;
    char err[REPLAY_ERRMSG_MAX];
    uint64_t v[2];
    const char text[] = HEAD "1,5,1\n2,6,2\n";
    assert_int_equal(parse(&t, text, err, sizeof(err)), 0);
    replay_values_at(&t, 0, v);
    assert_int_equal(v[0], 5000000u);
    replay_values_at(&t, 1500000000u, v);
    assert_int_equal(v[0], 5500000u);
    assert_int_equal(v[1], 1500000u);
    replay_trace_release(&t);
}

static void test_replay_accepts_crlf_and_equal_times(void **state)
{
    (void)state;
    struct replay_trace t;
    char err[REPLAY_ERRMSG_MAX];
    uint64_t v[1];
    const char text[] = "# wattprof trace 1\r\n# channel psys kind=counter domain=psys\r\n"
                        "t_s,psys\r\n0,0\r\n1,1\r\n1,2\r\n2,4\r\n";
    assert_int_equal(parse(&t, text, err, sizeof(err)), 0);
    assert_int_equal(t.n_rows, 4);
    assert_int_equal(t.channels[0].included, 1); /* defaults */
    assert_string_equal(t.channels[0].source, "unknown");
    replay_values_at(&t, 1000000000u, v);
    assert_int_equal(v[0], 2000000u);
    replay_values_at(&t, 1500000000u, v);
    assert_int_equal(v[0], 3000000u);
    replay_trace_release(&t);
}

/* A trace with n channels named c0, c1, ... and two rows. */
static char *many_channels(size_t n)
{
    size_t size = 256 + n * 96;
    char *text = malloc(size);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, size, "# wattprof trace 1\n");
    for (size_t i = 0; i < n; i++)
        len +=
            (size_t)snprintf(text + len, size - len, "# channel c%zu kind=counter domain=cpu\n", i);
    len += (size_t)snprintf(text + len, size - len, "t_s");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, size - len, ",c%zu", i);
    for (size_t row = 0; row < 2; row++) {
        len += (size_t)snprintf(text + len, size - len, "\n%zu", row);
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(text + len, size - len, ",%zu", row);
    }
    snprintf(text + len, size - len, "\n");
    return text;
}

static void test_replay_channel_limit(void **state)
{
    (void)state;
    struct replay_trace t;
    char err[REPLAY_ERRMSG_MAX];
    char *text = many_channels(SENSOR_MAX_CHANNELS);
    assert_int_equal(parse(&t, text, err, sizeof(err)), 0);
    replay_trace_release(&t);
    free(text);
    text = many_channels(SENSOR_MAX_CHANNELS + 1);
    assert_int_equal(parse(&t, text, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 34: more than 32 channels"));
    free(text);
}

static void test_replay_refuses_bad_input_with_line_numbers(void **state)
{
    (void)state;
    const struct {
        const char *text;
        const char *message; /* a part of the error */
    } cases[] = {
        { "", "line 1: empty file" },
        { "t_s,a\n0,0\n1,1\n", "line 1: not a wattprof trace" },
        { "# wattprof trace 2\n", "line 1: not a wattprof trace" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu colour=red\n",
          "line 2: unknown key 'colour'" },
        { "# wattprof trace 1\n# channel a kind=gauge domain=cpu\n", "line 2: kind 'gauge'" },
        { "# wattprof trace 1\n# channel a domain=cpu\n", "line 2: channel 'a' needs kind" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu included=yes\n",
          "line 2: bad value 'yes' for 'included'" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu provenance=guessed\n",
          "line 2: provenance 'guessed'" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu\n# channel a kind=counter "
          "domain=cpu\n",
          "line 3: channel 'a' appears twice" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu junk\n",
          "line 2: 'junk' is not key=value" },
        { "# wattprof trace 1\n# note hello\n", "line 2: unknown line" },
        { "# wattprof trace 1\nt_s,a\n", "line 2: no '# channel' lines" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu\n", "no CSV header" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu\nt_s,b\n",
          "line 3: the header's column 2 is not 'a'" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu\ntime,a\n",
          "line 3: expected the CSV header" },
        { "# wattprof trace 1\n# channel a kind=counter domain=cpu\nt_s,a,b\n",
          "line 3: the header has more columns" },
        { HEAD "0,0,0\n1,x,0\n", "line 6: column 2 is not a number (joules): x" },
        { HEAD "0,0,0\n1,-1,0\n", "line 6: column 2 is not a number" },
        { HEAD "0,0,0\n1,1e3,0\n", "line 6: column 2 is not a number" },
        { HEAD "0,0,0\nsoon,1,0\n", "line 6: column 1 is not a number (seconds)" },
        { HEAD "0,0,0\n1,1\n", "line 6: 2 values where the header has 3" },
        { HEAD "0,0,0\n1,1,1,1\n", "line 6: more values" },
        { HEAD "0,0,0\n2,1,1\n1,2,2\n", "line 7: time goes backwards" },
        { HEAD "0,0,0\n1,5,1\n2,4,2\n", "line 7: the energy of 'cpu-package:0' goes down" },
        { HEAD "0,0,0\n", "1 row: a trace needs at least 2 rows" },
        { HEAD "", "0 rows" },
        { HEAD "0,0,0\n# channel b kind=counter domain=cpu\n", "line 6: a channel line after" },
        { HEAD "0,99999999999999999999,0\n", "line 5: column 2 is not a number" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct replay_trace t;
        char err[REPLAY_ERRMSG_MAX] = "";
        int r = parse(&t, cases[i].text, err, sizeof(err));
        if (r != -EINVAL || !strstr(err, cases[i].message))
            fail_msg("case %zu: %d '%s', expected -EINVAL and '%s'", i, r, err, cases[i].message);
        assert_null(t.rows);
    }
}

static void test_replay_refuses_a_nul_byte(void **state)
{
    (void)state;
    struct replay_trace t;
    char err[REPLAY_ERRMSG_MAX];
    const char text[] = "# wattprof trace 1\n# chan\0nel\n";
    assert_int_equal(replay_parse(&t, text, sizeof(text) - 1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 2: a NUL byte"));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The backend: channels with the recorded names and domains, provenance "replayed",
 * values from the trace; live backends are listed out of the total. */
static void test_replay_backend_is_the_total(void **state)
{
    (void)state;
    char path[] = "/tmp/wattprof-replay-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, good);
    struct sensor_config cfg = { .replay_path = path };
    struct sensors_env env = { .sysfs_root = "/nonexistent",
                               .proc_root = "/proc",
                               .data_dir = getenv("WATTPROF_DATA"),
                               .only = "replay,model",
                               .cfg = &cfg };
    struct sensors set;
    assert_true(sensors_open(&set, &env) >= 2);
    struct sensor *active[SENSORS_MAX];
    size_t n = sensors_active(&set, active, SENSORS_MAX);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        struct sensor *s = active[i];
        if (s->ops == &replay_sensor_ops) {
            seen = 1;
            assert_int_equal(s->n_channels, 2);
            assert_string_equal(s->channels[1].domain, "dram");
            assert_int_equal(s->channels[0].provenance, SENSOR_REPLAYED);
            assert_int_equal(s->channels[0].included_in_total, 1);
            assert_int_equal(s->channels[1].included_in_total, 0);
            assert_non_null(strstr(s->channels[0].note, "recorded by rapl-powercap"));
            uint64_t v[2];
            assert_int_equal(s->ops->read(s, v), 0);
            assert_int_equal(v[0], 0); /* the first read is time zero: row 0 */
        } else {
            for (size_t j = 0; j < s->n_channels; j++)
                assert_int_equal(s->channels[j].included_in_total, 0);
        }
    }
    assert_true(seen);
    sensors_close(&set);
    unlink(path);
}

static void test_replay_backend_errors_name_the_file(void **state)
{
    (void)state;
    struct sensor s;
    struct sensor_config cfg = { .replay_path = "/nonexistent/trace" };
    memset(&s, 0, sizeof(s));
    s.priv = calloc(1, replay_sensor_ops.priv_size);
    s.cfg = &cfg;
    assert_int_equal(replay_sensor_ops.open(&s), -ENOENT);
    assert_non_null(strstr(s.errmsg, "cannot open the trace '/nonexistent/trace'"));
    char path[] = "/tmp/wattprof-replay-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, HEAD "0,0,0\n");
    cfg.replay_path = path;
    assert_int_equal(replay_sensor_ops.open(&s), -EINVAL);
    assert_non_null(strstr(s.errmsg, "cannot replay '/tmp/wattprof-replay-"));
    assert_non_null(strstr(s.errmsg, "line 5: 1 row"));
    cfg.replay_path = NULL;
    assert_int_equal(replay_sensor_ops.open(&s), -ENODEV);
    replay_sensor_ops.close(&s);
    free(s.priv);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_parses_channels_and_rows),
        cmocka_unit_test(test_replay_interpolates_and_holds),
        cmocka_unit_test(test_replay_before_the_first_row_holds_it),
        cmocka_unit_test(test_replay_accepts_crlf_and_equal_times),
        cmocka_unit_test(test_replay_channel_limit),
        cmocka_unit_test(test_replay_refuses_bad_input_with_line_numbers),
        cmocka_unit_test(test_replay_refuses_a_nul_byte),
        cmocka_unit_test(test_replay_backend_is_the_total),
        cmocka_unit_test(test_replay_backend_errors_name_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
