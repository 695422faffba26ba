/* The quality metric of a study's run from the workload's stdout (quality.regex, POSIX
 * extended, the last match wins) or from a JSON file it writes (quality.metrics_file):
 * docs/study.md. */
#include "study.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"

#define METRICS_FILE_MAX (1 << 20)

/* The number at the start of s[0..len); 0, or -1 when it is not one. */
static int number_of(const char *s, size_t len, double *out)
{
    char buf[64], *end;
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    return end == buf || *end || errno || !isfinite(*out) ? -1 : 0;
}

int study_metric_from_output(const struct study *st, const char *text, double *value, char *err,
                             size_t errsize)
{
    regex_t re;
    regmatch_t m[2], last[2];
    int found = 0;
    if (regcomp(&re, st->quality_regex, REG_EXTENDED) != 0) {
        snprintf(err, errsize, "quality.regex (line %lu) does not compile", st->quality_line);
        return -1;
    }
    for (const char *p = text; *p && regexec(&re, p, 2, m, p == text ? 0 : REG_NOTBOL) == 0;) {
        last[1].rm_so = m[1].rm_so + (p - text);
        last[1].rm_eo = m[1].rm_eo + (p - text);
        found = m[1].rm_so >= 0;
        p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
    }
    regfree(&re);
    if (!found) {
        snprintf(err, errsize,
                 "metric '%s': quality.regex (line %lu) matched nothing in the output",
                 st->quality_metric, st->quality_line);
        return -1;
    }
    if (number_of(text + last[1].rm_so, (size_t)(last[1].rm_eo - last[1].rm_so), value) < 0) {
        snprintf(err, errsize, "metric '%s': quality.regex (line %lu) matched '%.*s', not a number",
                 st->quality_metric, st->quality_line, (int)(last[1].rm_eo - last[1].rm_so),
                 text + last[1].rm_so);
        return -1;
    }
    return 0;
}

/* The file's text, NUL-terminated, in a malloc'd buffer; NULL with errno. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    char *buf = f ? malloc(METRICS_FILE_MAX + 1) : NULL;
    if (!buf) {
        if (f)
            fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, METRICS_FILE_MAX, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

int study_metric_from_file(const struct study *st, double *value, char *err, size_t errsize)
{
    size_t len = 0;
    char *text = slurp(st->metrics_file, &len);
    struct json_parse_node *root = NULL;
    struct json_parse_error jerr;
    if (!text) {
        snprintf(err, errsize, "metric '%s': quality.metrics_file (line %lu) '%s': %s",
                 st->quality_metric, st->quality_line, st->metrics_file, strerror(errno));
        return -1;
    }
    int r = json_parse(text, len, &root, &jerr);
    free(text);
    const struct json_parse_node *n = r == 0 ? json_parse_get(root, st->quality_metric) : NULL;
    int ok = n && n->type == JSON_PARSE_NUMBER;
    if (ok)
        *value = n->num;
    else if (r < 0)
        snprintf(err, errsize, "metric '%s': quality.metrics_file (line %lu) '%s': not JSON (%s)",
                 st->quality_metric, st->quality_line, st->metrics_file,
                 r == -EINVAL ? jerr.msg : "out of memory");
    else
        snprintf(err, errsize,
                 "metric '%s': quality.metrics_file (line %lu) '%s' has no number '%s'",
                 st->quality_metric, st->quality_line, st->metrics_file, st->quality_metric);
    json_parse_free(root);
    return ok ? 0 : -1;
}
