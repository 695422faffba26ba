/* Tests for the JSON writer: structure, escaping, locale-free fixed-point numbers. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json.h"

static void test_json_object_layout_and_numbers(void **state)
{
    (void)state;
    struct json j;
    json_init(&j);
    json_begin_object(&j, NULL);
    json_string(&j, "schema", "wattprof.run/1");
    json_fixed(&j, "energy_j", 1234567, 6);
    json_fixed(&j, "zero_j", 5, 6);
    json_double(&j, "share", 0.25);
    json_double(&j, "neg", -1.5);
    json_null(&j, "idle_power_w");
    json_begin_array(&j, "command");
    json_string(&j, NULL, "a");
    json_string(&j, NULL, "b");
    json_end_array(&j);
    json_begin_array(&j, "empty");
    json_end_array(&j);
    json_bool(&j, "complete", 1);
    json_end_object(&j);
    char *s = json_take(&j);
    assert_non_null(s);
    const char *expect = "{\n"
                         "  \"schema\": \"wattprof.run/1\",\n"
                         "  \"energy_j\": 1.234567,\n"
                         "  \"zero_j\": 0.000005,\n"
                         "  \"share\": 0.25,\n"
                         "  \"neg\": -1.5,\n"
                         "  \"idle_power_w\": null,\n"
                         "  \"command\": [\n"
                         "    \"a\",\n"
                         "    \"b\"\n"
                         "  ],\n"
                         "  \"empty\": [],\n"
                         "  \"complete\": true\n"
                         "}\n";
    assert_string_equal(s, expect);
    free(s);
}

static void test_json_escapes_control_and_quotes(void **state)
{
    (void)state;
    struct json j;
    json_init(&j);
    json_string(&j, NULL,
                "a\"b\\c\nd\x01"
                "e\xc3\xa9");
    char *s = json_take(&j);
    assert_string_equal(s, "\"a\\\"b\\\\c\\nd\\u0001e\xc3\xa9\"");
    free(s);
}

static void test_json_double_round_trips(void **state)
{
    (void)state;
    const double v[] = { 1e-7, 0.1, 1.0 / 3.0, 123456789.125, -2.0, 0.0 };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct json j;
        json_init(&j);
        json_double(&j, NULL, v[i]);
        char *s = json_take(&j);
        assert_true(strtod(s, NULL) == v[i]);
        free(s);
    }
}

static void test_json_ignores_locale(void **state)
{
    (void)state;
    /* de_DE may not be installed; the point is that no locale changes the output */
    setlocale(LC_NUMERIC, "de_DE.UTF-8");
    struct json j;
    json_init(&j);
    json_double(&j, NULL, 2.5);
    char *s = json_take(&j);
    assert_string_equal(s, "2.5");
    free(s);
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_object_layout_and_numbers),
        cmocka_unit_test(test_json_escapes_control_and_quotes),
        cmocka_unit_test(test_json_double_round_trips),
        cmocka_unit_test(test_json_ignores_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
