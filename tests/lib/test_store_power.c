/* Tests for wattprof_store_power_json: min/max buckets from the raw samples (a 100 ms
 * spike survives in max_w and counts in mean_w), from the 1 s series once gc dropped
 * the samples, across blob rows, a run without samples, and bad arguments. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json_parse.h"
#include "store.h"
#include "wattprof.h"

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/wattprof-power-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db_path, sizeof(db_path), "%s/runs.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define N_SAMPLES 101 /* 0 .. 10 s every 100 ms */

/* Starts run id with its channels, through the backend. */
static void begin(struct wattprof_store *st, const char *id, const char *channels, size_t n)
{
    struct store_run_start r = { .id = id,
                                 .started_at_unix_ms = 1000,
                                 .command_json = "[\"x\"]",
                                 .command_text = "x",
                                 .labels_text = "",
                                 .host_json = "{}",
                                 .channels_json = channels,
                                 .n_channels = n,
                                 .hostname = "h" };
    assert_int_equal(st->ops->run_begin(st, &r), 0);
}

/* Two channels: "a" draws 10 W with 100 W over [5.0 s, 5.1 s), "b" 2 W throughout. The
 * samples go in two batches (two blob rows), the 1 s series in the second. */
static struct wattprof_store *store_with_run(void)
{
    struct wattprof_store *st = NULL;
    assert_int_equal(wattprof_store_open(db_path, &st), 0);
    begin(st, "feed0001", "[{\"name\":\"a\"},{\"name\":\"b\"}]", 2);
    static uint64_t s[N_SAMPLES * 3], buckets[10 * 3];
    uint64_t ea = 0, eb = 0;
    for (int k = 0; k < N_SAMPLES; k++) {
        s[k * 3] = (uint64_t)k * 100000000;
        s[k * 3 + 1] = ea;
        s[k * 3 + 2] = eb;
        ea += k == 50 ? 10000000 : 1000000; /* µJ over the next 100 ms */
        eb += 200000;
    }
    for (int b = 0; b < 10; b++) {
        buckets[b * 3] = (uint64_t)b;
        buckets[b * 3 + 1] = b == 5 ? 19000000 : 10000000; /* µW */
        buckets[b * 3 + 2] = 2000000;
    }
    struct store_batch b1 = { .id = "feed0001",
                              .seq = 0,
                              .samples = s,
                              .n_samples = 40,
                              .n_channels = 2,
                              .duration_ns = s[39 * 3],
                              .channel_energy_json = "[0,0]" };
    assert_int_equal(st->ops->write_batch(st, &b1), 0);
    struct store_batch b2 = { .id = "feed0001",
                              .seq = 1,
                              .samples = s + 40 * 3,
                              .n_samples = N_SAMPLES - 40,
                              .buckets = buckets,
                              .n_buckets = 10,
                              .n_channels = 2,
                              .duration_ns = 10000000000ULL,
                              .channel_energy_json = "[0,0]" };
    assert_int_equal(st->ops->write_batch(st, &b2), 0);
    return st;
}

static struct json_parse_node *power(struct wattprof_store *st, unsigned max_points)
{
    char *json = NULL;
    assert_int_equal(wattprof_store_power_json(st, "feed0001", max_points, &json), 0);
    struct json_parse_node *root = NULL;
    struct json_parse_error err;
    assert_int_equal(json_parse(json, strlen(json), &root, &err), 0);
    wattprof_free(json);
    return root;
}

static double cell(const struct json_parse_node *root, const char *key, size_t b, size_t c)
{
    return json_parse_num(json_parse_at(json_parse_at(json_parse_get(root, key), b), c), NAN);
}

static void test_power_from_samples(void **state)
{
    (void)state;
    struct wattprof_store *st = store_with_run();
    struct json_parse_node *root = power(st, 10);
    assert_string_equal(json_parse_get_str(root, "source", ""), "samples");
    assert_string_equal(json_parse_str(json_parse_at(json_parse_get(root, "channels"), 1), ""),
                        "b");
    const struct json_parse_node *t = json_parse_get(root, "t_s");
    assert_int_equal(t->len, 10); /* ten buckets of about 1 s */
    assert_int_equal(json_parse_get(root, "mean_w")->len, 10);
    assert_true(fabs(json_parse_num(json_parse_at(t, 0), NAN) - 0.5) < 1e-6);
    assert_true(fabs(cell(root, "mean_w", 0, 0) - 10) < 1e-6);
    assert_true(fabs(cell(root, "mean_w", 5, 0) - 19) < 1e-6); /* the spike's energy */
    assert_true(fabs(cell(root, "max_w", 5, 0) - 100) < 1e-6);
    assert_true(fabs(cell(root, "min_w", 5, 0) - 10) < 1e-6);
    assert_true(fabs(cell(root, "max_w", 4, 0) - 10) < 1e-6);
    assert_true(fabs(cell(root, "mean_w", 9, 1) - 2) < 1e-6);
    json_parse_free(root);

    root = power(st, 1000); /* finer than the samples: one interval per bucket */
    assert_int_equal(json_parse_get(root, "t_s")->len, N_SAMPLES - 1);
    assert_true(fabs(cell(root, "mean_w", 50, 0) - 100) < 1e-6);
    assert_true(fabs(cell(root, "mean_w", 39, 0) - 10) < 1e-6); /* across the two rows */
    json_parse_free(root);
    wattprof_store_close(st);
}

static void test_power_from_series(void **state)
{
    (void)state;
    struct wattprof_store *st = store_with_run();
    uint64_t pruned = 0;
    assert_int_equal(wattprof_store_gc(st, 1, &pruned), 0); /* started in 1970 */
    assert_int_equal(pruned, 1);
    struct json_parse_node *root = power(st, 5);
    assert_string_equal(json_parse_get_str(root, "source", ""), "series");
    assert_int_equal(json_parse_get(root, "t_s")->len, 5);       /* two seconds each */
    assert_true(fabs(cell(root, "mean_w", 2, 0) - 14.5) < 1e-6); /* (19 + 10) / 2 */
    assert_true(fabs(cell(root, "max_w", 2, 0) - 19) < 1e-6);    /* the 1 s mean only */
    assert_true(fabs(cell(root, "min_w", 2, 1) - 2) < 1e-6);
    json_parse_free(root);
    wattprof_store_close(st);
}

static void test_power_bad_input(void **state)
{
    (void)state;
    struct wattprof_store *st = store_with_run();
    char *json = (char *)"unchanged";
    assert_int_equal(wattprof_store_power_json(st, "feed0001", 1, &json), -EINVAL);
    assert_null(json);
    assert_non_null(strstr(wattprof_store_errmsg(st), "give 2 to"));
    assert_int_equal(
        wattprof_store_power_json(st, "feed0001", WATTPROF_POWER_POINTS_MAX + 1, &json), -EINVAL);
    assert_int_equal(wattprof_store_power_json(st, "nope0000", 10, &json), -ENOENT);
    assert_non_null(strstr(wattprof_store_errmsg(st), "no run 'nope0000'"));

    begin(st, "empty000", "[{\"name\":\"a\"}]", 1);
    assert_int_equal(wattprof_store_power_json(st, "empty000", 100, &json), 0);
    struct json_parse_node *root = NULL;
    struct json_parse_error err;
    assert_int_equal(json_parse(json, strlen(json), &root, &err), 0);
    wattprof_free(json);
    assert_int_equal(json_parse_get(root, "t_s")->len, 0); /* nothing to chart, said so */
    assert_int_equal(json_parse_get(root, "mean_w")->len, 0);
    assert_string_equal(json_parse_str(json_parse_at(json_parse_get(root, "channels"), 0), ""),
                        "a");
    json_parse_free(root);
    assert_int_equal(wattprof_store_labels_json(st, "empty000", &json), 0);
    assert_string_equal(json, "{}"); /* no labels */
    wattprof_free(json);
    wattprof_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_from_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_from_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
