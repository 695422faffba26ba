/* The CLI's JSON reader: valid documents, escapes, \u surrogate pairs, the depth limit,
 * truncated input and numbers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json_parse.h"

static struct json_parse_node *parse_ok(const char *text)
{
    struct json_parse_node *n = NULL;
    struct json_parse_error err;
    int r = json_parse(text, strlen(text), &n, &err);
    if (r != 0)
        fail_msg("'%s': %s at %zu", text, err.msg, err.pos);
    return n;
}

static int parse_err(const char *text, struct json_parse_error *err)
{
    struct json_parse_node *n = (struct json_parse_node *)1;
    int r = json_parse(text, strlen(text), &n, err);
    assert_null(n);
    return r;
}

static void test_json_read_document(void **state)
{
    struct json_parse_node *d =
        parse_ok(" {\"a\": [1, 2.5, -3e2], \"b\": {\"c\": true, \"d\": null},"
                 " \"e\": \"x\", \"f\": false, \"g\": [], \"h\": {}}\n");
    assert_int_equal(d->type, JSON_PARSE_OBJECT);
    assert_int_equal(d->len, 6);
    const struct json_parse_node *a = json_parse_get(d, "a");
    assert_int_equal(a->len, 3);
    assert_true(json_parse_num(json_parse_at(a, 1), 0) == 2.5);
    assert_true(json_parse_num(json_parse_at(a, 2), 0) == -300);
    assert_null(json_parse_at(a, 3));
    assert_int_equal(json_parse_bool(json_parse_get(json_parse_get(d, "b"), "c"), 0), 1);
    assert_int_equal(json_parse_get(json_parse_get(d, "b"), "d")->type, JSON_PARSE_NULL);
    assert_string_equal(json_parse_get_str(d, "e", NULL), "x");
    assert_int_equal(json_parse_bool(json_parse_get(d, "f"), 1), 0);
    assert_int_equal(json_parse_get(d, "g")->len, 0);
    assert_int_equal(json_parse_get(d, "h")->type, JSON_PARSE_OBJECT);
    assert_null(json_parse_get(d, "missing"));
    assert_string_equal(json_parse_get_str(d, "a", "def"), "def"); /* wrong type: the default */
    assert_true(json_parse_get_num(NULL, "x", 7) == 7);
    json_parse_free(d);
}

static void test_json_read_escapes(void **state)
{
    struct json_parse_node *d =
        parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0041\\u00e9\\u20ac\"");
    assert_string_equal(d->str, "q\" b\\ s/ \b\f\n\r\t A\xc3\xa9\xe2\x82\xac");
    assert_int_equal(d->len, strlen(d->str));
    json_parse_free(d);
    d = parse_ok("\"nul\\u0000in\"");
    assert_int_equal(d->len, 6);
    json_parse_free(d);
}

static void test_json_read_surrogates(void **state)
{
    struct json_parse_node *d = parse_ok("\"\\ud83d\\ude00 \\uD834\\uDD1E\"");
    assert_string_equal(d->str, "\xf0\x9f\x98\x80 \xf0\x9d\x84\x9e");
    json_parse_free(d);
    struct json_parse_error err;
    assert_int_equal(parse_err("\"\\ud83d\"", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "surrogate"));
    assert_int_equal(err.pos, 1);
    assert_int_equal(parse_err("\"\\ude00\"", &err), -EINVAL);
    assert_int_equal(parse_err("\"\\ud83d\\u0041\"", &err), -EINVAL);
    assert_int_equal(parse_err("\"\\u12g4\"", &err), -EINVAL);
    assert_int_equal(parse_err("\"\\x\"", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "invalid escape"));
}

static void nested(char *buf, int depth)
{
    for (int i = 0; i < depth; i++)
        buf[i] = '[';
    for (int i = 0; i < depth; i++)
        buf[depth + i] = ']';
    buf[2 * depth] = '\0';
}

static void test_json_read_depth_limit(void **state)
{
    char buf[2 * 200 + 1];
    nested(buf, JSON_PARSE_MAX_DEPTH);
    json_parse_free(parse_ok(buf));
    nested(buf, JSON_PARSE_MAX_DEPTH + 1);
    struct json_parse_error err;
    assert_int_equal(parse_err(buf, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "nesting deeper"));
    assert_int_equal(err.pos, JSON_PARSE_MAX_DEPTH);
    nested(buf, 200);
    assert_int_equal(parse_err(buf, &err), -EINVAL);
}

static void test_json_read_truncated(void **state)
{
    static const char *const bad[] = { "",      "{",         "{\"a\"", "{\"a\":", "{\"a\":1",
                                       "[1,",   "\"abc",     "\"ab\\", "tru",     "nul",
                                       "[1 2]", "{\"a\" 1}", "{1:2}",  "[1,]",    "{\"a\":1,}",
                                       "1 2",   "\"a\nb\"",  "'x'",    "[-]",     "01",
                                       "1.",    ".5",        "1e",     "+1",      "--1" };
    struct json_parse_error err;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_err(bad[i], &err) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(err.msg[0] != '\0');
        assert_true(err.pos <= strlen(bad[i]));
    }
    assert_int_equal(parse_err("{\"a\":1", &err), -EINVAL);
    assert_string_equal(err.msg, "unexpected end of input");
    assert_int_equal(err.pos, 6);
    assert_int_equal(parse_err("[1, x]", &err), -EINVAL);
    assert_string_equal(err.msg, "unexpected character 'x'");
    assert_int_equal(err.pos, 4);
    /* len bounds the text: the rest of the buffer is never read */
    struct json_parse_node *n;
    assert_int_equal(json_parse("[1]xyz", 3, &n, &err), 0);
    json_parse_free(n);
}

static void test_json_read_numbers(void **state)
{
    static const struct {
        const char *text;
        double value;
    } cases[] = {
        { "0", 0 },       { "-0", 0 },           { "12", 12 },
        { "3.25", 3.25 }, { "-1.5e3", -1500 },   { "2E-2", 0.02 },
        { "1e+2", 100 },  { "450.000000", 450 }, { "18446744073709551615", 1.8446744073709552e19 }
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_parse_node *n = parse_ok(cases[i].text);
        assert_int_equal(n->type, JSON_PARSE_NUMBER);
        if (n->num != cases[i].value)
            fail_msg("'%s' read as %g", cases[i].text, n->num);
        json_parse_free(n);
    }
}

static void test_json_read_run_fixture(void **state)
{
    const char *dir = getenv("WATTPROF_FIXTURES");
    char path[4096];
    snprintf(path, sizeof(path), "%s/runs/windows_gpu.json", dir ? dir : "tests/fixtures");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    struct json_parse_node *d;
    assert_int_equal(json_parse(text, len, &d, NULL), 0);
    assert_string_equal(json_parse_get_str(d, "schema", ""), "wattprof.run/1");
    assert_int_equal(json_parse_get(d, "channels")->len, 3);
    assert_string_equal(
        json_parse_get_str(json_parse_at(json_parse_get(d, "windows"), 2), "name", ""), "eval");
    json_parse_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_read_document),    cmocka_unit_test(test_json_read_escapes),
        cmocka_unit_test(test_json_read_surrogates),  cmocka_unit_test(test_json_read_depth_limit),
        cmocka_unit_test(test_json_read_truncated),   cmocka_unit_test(test_json_read_numbers),
        cmocka_unit_test(test_json_read_run_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
