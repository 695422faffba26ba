/* A small JSON writer (see json.h). */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j)
{
    memset(j, 0, sizeof(*j));
}

void json_release(struct json *j)
{
    free(j->buf);
    json_init(j);
}

char *json_take(struct json *j)
{
    char *s = j->oom ? NULL : j->buf;
    if (j->oom)
        free(j->buf);
    json_init(j);
    return s;
}

static void put(struct json *j, const char *s, size_t n)
{
    if (j->oom)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 1024;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *b = realloc(j->buf, cap);
        if (!b) {
            j->oom = 1;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(struct json *j, const char *s)
{
    put(j, s, strlen(s));
}

static void quoted(struct json *j, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(j, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
        if (*p == '"' || *p == '\\') {
            esc[1] = (char)*p;
            put(j, esc, 2);
        } else if (*p == '\n' || *p == '\t' || *p == '\r') {
            esc[1] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
            put(j, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            put(j, esc, 6);
        } else {
            put(j, (const char *)p, 1);
        }
    }
    put(j, "\"", 1);
}

/* Writes the separator, indentation and key (if any) before a value. */
static void member(struct json *j, const char *key)
{
    if (j->need_comma)
        put(j, ",", 1);
    if (j->depth > 0) {
        put(j, "\n", 1);
        for (int i = 0; i < j->depth; i++)
            put(j, "  ", 2);
    }
    if (key) {
        quoted(j, key);
        put(j, ": ", 2);
    }
    j->need_comma = 1;
}

static void open_(struct json *j, const char *key, const char *bracket)
{
    member(j, key);
    puts_(j, bracket);
    j->depth++;
    j->need_comma = 0;
}

static void close_(struct json *j, const char *bracket)
{
    j->depth--;
    if (j->need_comma) {
        put(j, "\n", 1);
        for (int i = 0; i < j->depth; i++)
            put(j, "  ", 2);
    }
    puts_(j, bracket);
    j->need_comma = 1;
    if (j->depth == 0)
        put(j, "\n", 1);
}

void json_begin_object(struct json *j, const char *key)
{
    open_(j, key, "{");
}

void json_end_object(struct json *j)
{
    close_(j, "}");
}

void json_begin_array(struct json *j, const char *key)
{
    open_(j, key, "[");
}

void json_end_array(struct json *j)
{
    close_(j, "]");
}

void json_string(struct json *j, const char *key, const char *value)
{
    member(j, key);
    if (value)
        quoted(j, value);
    else
        puts_(j, "null");
}

void json_null(struct json *j, const char *key)
{
    member(j, key);
    puts_(j, "null");
}

void json_bool(struct json *j, const char *key, int value)
{
    member(j, key);
    puts_(j, value ? "true" : "false");
}

void json_u64(struct json *j, const char *key, uint64_t value)
{
    char b[24];
    member(j, key);
    snprintf(b, sizeof(b), "%llu", (unsigned long long)value);
    puts_(j, b);
}

void json_i64(struct json *j, const char *key, int64_t value)
{
    char b[24];
    member(j, key);
    snprintf(b, sizeof(b), "%lld", (long long)value);
    puts_(j, b);
}

static void fmt_fixed(char *b, size_t size, uint64_t value, unsigned decimals)
{
    uint64_t div = 1;
    for (unsigned i = 0; i < decimals; i++)
        div *= 10;
    if (decimals == 0)
        snprintf(b, size, "%llu", (unsigned long long)value);
    else
        snprintf(b, size, "%llu.%0*llu", (unsigned long long)(value / div), (int)decimals,
                 (unsigned long long)(value % div));
}

void json_fixed(struct json *j, const char *key, uint64_t value, unsigned decimals)
{
    char b[48];
    fmt_fixed(b, sizeof(b), value, decimals);
    member(j, key);
    puts_(j, b);
}

void json_double(struct json *j, const char *key, double value)
{
    if (!isfinite(value)) {
        json_null(j, key);
        return;
    }
    /* the shortest text that reads back as the same double, in any locale */
    char b[40];
    snprintf(b, sizeof(b), "%.15g", value);
    if (strtod(b, NULL) != value)
        snprintf(b, sizeof(b), "%.17g", value);
    for (char *p = b; *p; p++)
        if (*p == ',')
            *p = '.';
    member(j, key);
    puts_(j, b);
}
