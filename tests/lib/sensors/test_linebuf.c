/* Tests for the line splitter and number parser the meter backends share: lines split
 * across reads, "\r\n", overlong lines, a last line without "\n", and the numbers that
 * are and are not readings (in a locale whose decimal separator is not '.'). */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "linebuf.h"

struct seen {
    size_t n;
    char text[8][64];
    int overlong[8];
};

static void collect(void *arg, const char *text, int overlong)
{
    struct seen *s = arg;
    assert_true(s->n < 8);
    snprintf(s->text[s->n], sizeof(s->text[0]), "%s", text);
    s->overlong[s->n++] = overlong;
}

static void feed(struct linebuf *lb, struct seen *seen, const char *text)
{
    linebuf_feed(lb, text, strlen(text), collect, seen);
}

static void test_linebuf_splits_lines_across_reads(void **state)
{
    (void)state;
    struct linebuf lb;
    struct seen seen = { 0 };
    linebuf_init(&lb, 16);
    feed(&lb, &seen, "42.5\r\n4");
    feed(&lb, &seen, "3\n\n");
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.text[0], "42.5");
    assert_string_equal(seen.text[1], "43");
    assert_string_equal(seen.text[2], "");
    linebuf_finish(&lb, collect, &seen);
    assert_int_equal(seen.n, 3); /* nothing pending */
    feed(&lb, &seen, "7J");
    linebuf_finish(&lb, collect, &seen);
    assert_int_equal(seen.n, 4);
    assert_string_equal(seen.text[3], "7J");
}

static void test_linebuf_overlong_lines_are_cut_and_flagged(void **state)
{
    (void)state;
    struct linebuf lb;
    struct seen seen = { 0 };
    linebuf_init(&lb, 4);
    feed(&lb, &seen, "123456789\n12\n");
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.text[0], "1234");
    assert_int_equal(seen.overlong[0], 1);
    assert_string_equal(seen.text[1], "12");
    assert_int_equal(seen.overlong[1], 0);
}

static void test_linebuf_parses_readings_whatever_the_locale(void **state)
{
    (void)state;
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    assert_non_null(c);
    setlocale(LC_NUMERIC, "de_DE.UTF-8"); /* may not exist: then this changes nothing */
    const struct {
        const char *text;
        int err;
        uint64_t milli;
        const char *rest;
    } cases[] = {
        { "42", 0, 42000, "" },        { " 42.5W", 0, 42500, "W" },     { "+0.0004", 0, 0, "" },
        { "4.25e1", 0, 42500, "" },    { ".5J", 0, 500, "J" },          { "0.0006", 0, 1, "" },
        { "-1", -EINVAL, 0, NULL },    { "nan", -EINVAL, 0, NULL },     { "inf", -EINVAL, 0, NULL },
        { "1e400", -EINVAL, 0, NULL }, { "0x10", -EINVAL, 0, NULL },    { "abc", -EINVAL, 0, NULL },
        { "", -EINVAL, 0, NULL },      { "1000001", -ERANGE, 0, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 0;
        const char *end = NULL;
        int r = linebuf_parse_milli(cases[i].text, c, 1000000000ull, &v, &end);
        if (r != cases[i].err)
            fail_msg("'%s': %d, expected %d", cases[i].text, r, cases[i].err);
        if (r == 0) {
            assert_int_equal(v, cases[i].milli);
            assert_string_equal(end, cases[i].rest);
        }
    }
    setlocale(LC_NUMERIC, "C");
    freelocale(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linebuf_splits_lines_across_reads),
        cmocka_unit_test(test_linebuf_overlong_lines_are_cut_and_flagged),
        cmocka_unit_test(test_linebuf_parses_readings_whatever_the_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
