/* A study's variants (the points of its matrix), their command lines, and the order
 * of the runs (random blocks, ABBA, sequential). docs/study.md describes them. */
#include "study.h"

#include <stdio.h>
#include <string.h>

#include "stats.h"

size_t study_variant_count(const struct study *st)
{
    size_t n = st->n_keys ? 1 : 0;
    for (size_t k = 0; k < st->n_keys; k++)
        n *= st->keys[k].n_values;
    return n;
}

/* The value index of key k in variant v: the last key varies fastest. */
static size_t digit(const struct study *st, size_t v, size_t k)
{
    size_t stride = 1;
    for (size_t j = k + 1; j < st->n_keys; j++)
        stride *= st->keys[j].n_values;
    return v / stride % st->keys[k].n_values;
}

size_t study_baseline_index(const struct study *st)
{
    size_t v = 0;
    for (size_t k = 0; k < st->n_keys; k++)
        v = v * st->keys[k].n_values + st->baseline[k];
    return v;
}

const char *study_variant_value(const struct study *st, size_t v, size_t k)
{
    return st->keys[k].values[digit(st, v, k)];
}

void study_variant_name(const struct study *st, size_t v, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < st->n_keys && len < size; k++) {
        int w = snprintf(buf + len, size - len, "%s%s=%s", k ? "," : "", st->keys[k].name,
                         study_variant_value(st, v, k));
        len += w > 0 ? (size_t)w : 0;
    }
}

int study_substitute(const struct study *st, size_t v, char *out, size_t size)
{
    size_t len = 0;
    for (const char *p = st->command; *p; p++) {
        const char *add = NULL;
        size_t add_len = 1;
        for (size_t k = 0; *p == '{' && k < st->n_keys; k++) {
            size_t kl = strlen(st->keys[k].name);
            if (strncmp(p + 1, st->keys[k].name, kl) == 0 && p[kl + 1] == '}') {
                add = study_variant_value(st, v, k);
                add_len = strlen(add);
                p += kl + 1;
            }
        }
        if (len + add_len >= size)
            return -1;
        memcpy(out + len, add ? add : p, add_len);
        len += add_len;
    }
    out[len] = '\0';
    return 0;
}

/* Copies one word from *pp to *dst (in place: dst never passes src). Returns 0 or -1
 * on an unterminated quote. */
static int split_word(char **pp, char **dst)
{
    char *p = *pp, *d = *dst;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
        if (*p == '\'') {
            char *end = strchr(p + 1, '\'');
            if (!end)
                return -1;
            memmove(d, p + 1, (size_t)(end - p - 1));
            d += end - p - 1;
            p = end + 1;
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                    p++;
                *d++ = *p;
            }
            if (*p != '"')
                return -1;
            p++;
        } else {
            if (*p == '\\' && p[1])
                p++;
            *d++ = *p++;
        }
    }
    *pp = p;
    *dst = d;
    return 0;
}

int study_split(char *line, char *argv[STUDY_MAX_ARGS + 1], char *err, size_t errsize)
{
    int argc = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        if (argc == STUDY_MAX_ARGS) {
            snprintf(err, errsize, "the command has more than %d words", STUDY_MAX_ARGS);
            return -1;
        }
        char *word = p, *d = p;
        if (split_word(&p, &d) < 0) {
            snprintf(err, errsize, "unterminated quote in the command; close it or use \\");
            return -1;
        }
        char *next = *p ? p + 1 : p;
        *d = '\0';
        argv[argc++] = word;
        p = next;
    }
    argv[argc] = NULL;
    if (argc == 0)
        snprintf(err, errsize, "the command is empty");
    return argc > 0 ? argc : -1;
}

int study_variant_argv(const struct study *st, size_t v, char *buf, size_t size,
                       char *argv[STUDY_MAX_ARGS + 1], char *err, size_t errsize)
{
    static const char sh[] = "/bin/sh\0-c";
    if (study_substitute(st, v, buf, size) < 0) {
        snprintf(err, errsize, "the command is longer than %zu bytes", size - 1);
        return -1;
    }
    if (!st->shell)
        return study_split(buf, argv, err, errsize);
    argv[0] = (char *)sh;
    argv[1] = (char *)sh + 8;
    argv[2] = buf;
    argv[3] = NULL;
    return 3;
}

size_t study_order_block(enum study_order mode, size_t block, const int *active, size_t n,
                         uint64_t *rng, size_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (active[i])
            out[m++] = i;
    if (mode == STUDY_ORDER_SEQUENTIAL)
        return m ? 1 : 0;
    if (mode == STUDY_ORDER_ABBA && block % 2 == 1) {
        for (size_t i = 0; i < m / 2; i++) {
            size_t t = out[i];
            out[i] = out[m - 1 - i];
            out[m - 1 - i] = t;
        }
    }
    if (mode == STUDY_ORDER_RANDOM_BLOCKS) {
        for (size_t i = m; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)stats_rand_below(rng, i);
            size_t t = out[i - 1];
            out[i - 1] = out[j];
            out[j] = t;
        }
    }
    return m;
}

const char *study_order_name(enum study_order mode)
{
    switch (mode) {
    case STUDY_ORDER_ABBA:
        return "abba";
    case STUDY_ORDER_SEQUENTIAL:
        return "sequential";
    case STUDY_ORDER_RANDOM_BLOCKS:
        break;
    }
    return "random-blocks";
}
