/* Study files (src/cli/study_yaml.c) and plans (src/cli/study_plan.c): each bad input
 * gives one error naming its line and column; variants, placeholders, the command
 * splitter and the run orders. */
#include "study.h"

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

#define GOOD                                                                                       \
    "name: demo\n"                                                                                 \
    "command: ./train --precision {precision} --batch {batch}\n"                                   \
    "matrix: { precision: [fp32, bf16], batch: [64, 256] }\n"                                      \
    "baseline: { precision: fp32, batch: 64 }\n"

static struct study st;
static char err[STUDY_ERR_SIZE];

static int parse(const char *text)
{
    err[0] = '\0';
    return study_parse_text(text, strlen(text), "s.yaml", &st, err, sizeof(err));
}

static void expect_error(const char *text, const char *where, const char *what)
{
    if (parse(text) == 0)
        fail_msg("accepted: %s", text);
    if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, what))
        fail_msg("error '%s', want '%s...%s'", err, where, what);
}

static void test_study_good_file_parses(void **state)
{
    (void)state;
    assert_int_equal(parse(GOOD "repetitions: { min: 3, max: 8, target_ci: 0.05 }\n"
                                "order: abba\nseed: 42\ntimeout_s: 5\n"
                                "units: { per_run: 8000, name: samples }\n"
                                "quality: { metric: accuracy, at_least: 0.9 }\n"),
                     0);
    assert_int_equal(study_variant_count(&st), 4);
    assert_int_equal(study_baseline_index(&st), 0);
    assert_int_equal(st.rep_min, 3);
    assert_int_equal(st.rep_max, 8);
    assert_int_equal(st.order, STUDY_ORDER_ABBA);
    assert_true(st.seed_given && st.seed == 42);
    assert_true(st.quality_at_least == 0.9 && isnan(st.quality_at_most));
    char name[256];
    study_variant_name(&st, 3, name, sizeof(name));
    assert_string_equal(name, "precision=bf16,batch=256");
}

static void test_study_bad_inputs_name_line_and_column(void **state)
{
    (void)state;
    expect_error(GOOD "colour: red\n", "s.yaml:5:1:", "unknown key 'colour'");
    expect_error(GOOD "repetitions: { min: 5, mx: 3 }\n", "s.yaml:5:24:", "unknown key 'mx'");
    expect_error(GOOD "warmup: many\n", "s.yaml:5:9:", "whole number");
    expect_error(GOOD "repetitions: { min: 9, max: 3 }\n", "s.yaml:5:14:", "min (9) is greater");
    expect_error("name: x\ncommand: a {b}\nmatrix: {}\n", "s.yaml:3:9:", "matrix is empty");
    expect_error("name: x\ncommand: a {b}\nmatrix: { b: [] }\n", "s.yaml:3:14:", "no values");
    expect_error("name: x\ncommand: a {b} {c}\nmatrix: { b: [1] }\n",
                 "s.yaml:2:10:", "placeholder '{c}'");
    expect_error("name: x\ncommand: a\nmatrix: { b: [1] }\n",
                 "s.yaml:3:11:", "matrix key 'b' is not used");
    expect_error("name: x\ncommand: a {b}\nmatrix: { b: [1, [2]] }\n",
                 "s.yaml:3:18:", "must be scalars");
    expect_error(GOOD "order: shuffled\n", "s.yaml:5:8:", "random-blocks, abba or sequential");
    expect_error("name: x\ncommand: a {b}\nmatrix: { b: [1, 2] }\nbaseline: { b: 3 }\n",
                 "s.yaml:4:16:", "not in matrix key 'b'");
    expect_error("name: [x]\n", "s.yaml:1:7:", "'name' must be a string");
    expect_error("name: x\ncommand: a\n  b: c: d\n", "s.yaml:", "YAML syntax error");
    expect_error("name: x\n", "s.yaml:1:1:", "missing 'command'");
}

static void test_study_quality_regex_and_metrics_file(void **state)
{
    (void)state;
    char msg[STUDY_ERR_SIZE];
    double v = 0;
    expect_error(GOOD "quality: { metric: acc, regex: 'acc ([0-9.]+' }\n",
                 "s.yaml:5:", "not a valid POSIX extended regex");
    expect_error(GOOD "quality: { metric: acc, regex: 'acc [0-9.]+' }\n",
                 "s.yaml:5:", "needs a group");
    expect_error(GOOD "quality:\n  metric: acc\n  regex: 'a(.)'\n  metrics_file: m.json\n",
                 "s.yaml:6:", "not both");
    assert_int_equal(parse(GOOD "quality:\n  metric: accuracy\n  at_least: 0.95\n"
                                "  regex: 'accuracy ([0-9.]+)'\n"),
                     0);
    assert_int_equal(st.quality_line, 8);
    const char *out = "epoch 1 accuracy 0.91\nepoch 2 accuracy 0.97\ndone\n";
    assert_int_equal(study_metric_from_output(&st, out, &v, msg, sizeof(msg)), 0);
    assert_true(v == 0.97); /* the last match wins */
    assert_int_equal(study_metric_from_output(&st, "loss 0.2\n", &v, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "metric 'accuracy': quality.regex (line 8) matched nothing"));
    assert_int_equal(study_metric_from_output(&st, "accuracy ...\n", &v, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "not a number"));
}

static void test_study_metrics_file_is_read(void **state)
{
    (void)state;
    char msg[STUDY_ERR_SIZE], path[] = "/tmp/wattprof-metrics-XXXXXX";
    double v = 0;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char json[] = "{\"accuracy\": 0.97, \"loss\": 1}";
    assert_int_equal(write(fd, json, sizeof(json) - 1), sizeof(json) - 1);
    close(fd);
    char text[512];
    snprintf(text, sizeof(text), GOOD "quality:\n  metric: accuracy\n  metrics_file: %s\n", path);
    assert_int_equal(parse(text), 0);
    if (study_metric_from_file(&st, &v, msg, sizeof(msg)) != 0)
        fail_msg("%s", msg);
    assert_true(v == 0.97);
    snprintf(st.quality_metric, sizeof(st.quality_metric), "f1");
    assert_int_equal(study_metric_from_file(&st, &v, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "quality.metrics_file (line 7)"));
    assert_non_null(strstr(msg, "has no number 'f1'"));
    unlink(path);
    assert_int_equal(study_metric_from_file(&st, &v, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "No such file"));
}

static void test_study_commands_substitute_and_split(void **state)
{
    (void)state;
    char buf[STUDY_COMMAND_SIZE], *argv[STUDY_MAX_ARGS + 1];
    assert_int_equal(parse("name: x\ncommand: \"run '{v} x' \\\"a b\\\" c\\\\ d {v}\"\n"
                           "matrix: { v: [one, two] }\n"),
                     0);
    assert_int_equal(study_variant_argv(&st, 1, buf, sizeof(buf), argv, err, sizeof(err)), 5);
    assert_string_equal(argv[0], "run");
    assert_string_equal(argv[1], "two x");
    assert_string_equal(argv[2], "a b");
    assert_string_equal(argv[3], "c d");
    assert_string_equal(argv[4], "two");
    assert_null(argv[5]);
    char bad[] = "echo 'open";
    assert_int_equal(study_split(bad, argv, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unterminated quote"));
    assert_int_equal(parse("name: x\ncommand: echo {v} | wc\nshell: true\nmatrix: { v: [1] }\n"),
                     0);
    assert_int_equal(study_variant_argv(&st, 0, buf, sizeof(buf), argv, err, sizeof(err)), 3);
    assert_string_equal(argv[0], "/bin/sh");
    assert_string_equal(argv[2], "echo 1 | wc");
}

static void test_study_random_blocks_cover_every_variant_reproducibly(void **state)
{
    (void)state;
    int active[5] = { 1, 1, 1, 1, 1 };
    size_t a[5], b[5];
    uint64_t r1 = 99, r2 = 99;
    int differs = 0;
    for (size_t block = 0; block < 20; block++) {
        assert_int_equal(study_order_block(STUDY_ORDER_RANDOM_BLOCKS, block, active, 5, &r1, a), 5);
        assert_int_equal(study_order_block(STUDY_ORDER_RANDOM_BLOCKS, block, active, 5, &r2, b), 5);
        int seen[5] = { 0 };
        for (size_t i = 0; i < 5; i++) {
            assert_int_equal(a[i], b[i]); /* same seed, same schedule */
            seen[a[i]]++;
            differs |= a[i] != i;
        }
        for (size_t i = 0; i < 5; i++)
            assert_int_equal(seen[i], 1); /* each variant once per block */
    }
    assert_true(differs);
    active[2] = 0;
    assert_int_equal(study_order_block(STUDY_ORDER_RANDOM_BLOCKS, 0, active, 5, &r1, a), 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(a[i] != 2);
}

static void test_study_abba_and_sequential_orders(void **state)
{
    (void)state;
    int active[2] = { 1, 1 };
    size_t o[2], all[8], n = 0;
    uint64_t rng = 1;
    for (size_t block = 0; block < 4; block++) {
        assert_int_equal(study_order_block(STUDY_ORDER_ABBA, block, active, 2, &rng, o), 2);
        all[n++] = o[0];
        all[n++] = o[1];
    }
    static const size_t want[8] = { 0, 1, 1, 0, 0, 1, 1, 0 }; /* A B B A A B B A */
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(all[i], want[i]);
    assert_int_equal(study_order_block(STUDY_ORDER_SEQUENTIAL, 0, active, 2, &rng, o), 1);
    assert_int_equal(o[0], 0);
    active[0] = 0;
    assert_int_equal(study_order_block(STUDY_ORDER_SEQUENTIAL, 1, active, 2, &rng, o), 1);
    assert_int_equal(o[0], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_study_good_file_parses),
        cmocka_unit_test(test_study_bad_inputs_name_line_and_column),
        cmocka_unit_test(test_study_quality_regex_and_metrics_file),
        cmocka_unit_test(test_study_metrics_file_is_read),
        cmocka_unit_test(test_study_commands_substitute_and_split),
        cmocka_unit_test(test_study_random_blocks_cover_every_variant_reproducibly),
        cmocka_unit_test(test_study_abba_and_sequential_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
