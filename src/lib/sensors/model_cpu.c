/* Which power figures fit this CPU: a pattern table mapping CPU model names to Cloud
 * Carbon Footprint's per-vCPU families, and the lookup of a model name in the TDP table
 * data/cpu-power/cpu_tdp.csv (see model_cpu.h and docs/models.md). Matching is exact or
 * by model number, never fuzzy: a CPU that matches nothing falls to the next model. */
#include "model_cpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor.h"

/* Cloud Carbon Footprint, packages/core/src/compute/ComputeProcessorTypes.ts
 * (COMPUTE_PROCESSOR_TYPES, min_watts_avg / max_watts_avg, W per vCPU, derived from
 * SPECpower_ssj2008 results), in µW. Ice Lake and later have no figures there. */
#define EPYC1_MIN_UW 820000
#define EPYC1_MAX_UW 2550000
#define EPYC2_MIN_UW 470000
#define EPYC2_MAX_UW 1690000
#define EPYC3_MIN_UW 450000
#define EPYC3_MAX_UW 2020000
#define CCF_SOURCE "Cloud Carbon Footprint"

enum ccf_family {
    CCF_SANDY_BRIDGE,
    CCF_IVY_BRIDGE,
    CCF_HASWELL,
    CCF_BROADWELL,
    CCF_SKYLAKE,
    CCF_CASCADE_LAKE,
    CCF_COFFEE_LAKE,
    CCF_EPYC_1,
    CCF_EPYC_2,
    CCF_EPYC_3,
    CCF_EPYC_ANY,
};

static const struct model_cpu_family ccf_families[] = {
    [CCF_SANDY_BRIDGE] = { "Intel Sandy Bridge", 2170000, 8580000, CCF_SOURCE },
    [CCF_IVY_BRIDGE] = { "Intel Ivy Bridge", 3040000, 8250000, CCF_SOURCE },
    [CCF_HASWELL] = { "Intel Haswell", 1000000, 4740000, CCF_SOURCE },
    [CCF_BROADWELL] = { "Intel Broadwell", 710000, 3690000, CCF_SOURCE },
    [CCF_SKYLAKE] = { "Intel Skylake", 650000, 4260000, CCF_SOURCE },
    [CCF_CASCADE_LAKE] = { "Intel Cascade Lake", 640000, 3970000, CCF_SOURCE },
    [CCF_COFFEE_LAKE] = { "Intel Coffee Lake", 1140000, 5420000, CCF_SOURCE },
    [CCF_EPYC_1] = { "AMD EPYC 1st gen (Naples)", EPYC1_MIN_UW, EPYC1_MAX_UW, CCF_SOURCE },
    [CCF_EPYC_2] = { "AMD EPYC 2nd gen (Rome)", EPYC2_MIN_UW, EPYC2_MAX_UW, CCF_SOURCE },
    [CCF_EPYC_3] = { "AMD EPYC 3rd gen (Milan)", EPYC3_MIN_UW, EPYC3_MAX_UW, CCF_SOURCE },
    /* The name gives no generation: the mean of the three, rounded to the µW. */
    [CCF_EPYC_ANY] = { "AMD EPYC, generation unknown",
                       (EPYC1_MIN_UW + EPYC2_MIN_UW + EPYC3_MIN_UW + 1) / 3,
                       (EPYC1_MAX_UW + EPYC2_MAX_UW + EPYC3_MAX_UW + 1) / 3,
                       "Cloud Carbon Footprint, mean of gen 1-3" },
};

const struct model_cpu_family model_cpu_generic = { "generic", 740000, 3500000,
                                                    "Cloud Carbon Footprint AWS average" };

/* Patterns are matched at a word start of the name as model_cpu_ccf_family() prepares it
 * (lower case; "(R)", "(TM)", "cpu", "processor" and the "@ ..." suffix dropped; other
 * brackets and commas made spaces). '#' is a digit, '?' a letter or digit, '~' any run
 * of letters, '$' the end of the name; a match must end at a space, a '-' or the end.
 * The first matching pattern wins, so the specific ones come first. */
static const struct ccf_pattern {
    const char *pattern;
    enum ccf_family family;
} ccf_patterns[] = {
    /* Xeon Scalable: the second digit of the number is the generation (8259CL, 6148). */
    { "xeon platinum #1##~", CCF_SKYLAKE },
    { "xeon gold #1##~", CCF_SKYLAKE },
    { "xeon silver #1##~", CCF_SKYLAKE },
    { "xeon bronze #1##~", CCF_SKYLAKE },
    { "xeon w-21##~", CCF_SKYLAKE },
    { "xeon platinum #2##~", CCF_CASCADE_LAKE },
    { "xeon gold #2##~", CCF_CASCADE_LAKE },
    { "xeon silver #2##~", CCF_CASCADE_LAKE },
    { "xeon bronze #2##~", CCF_CASCADE_LAKE },
    { "xeon w-22##~", CCF_CASCADE_LAKE },
    { "xeon e-21##~", CCF_COFFEE_LAKE },
    { "xeon e-22##~", CCF_COFFEE_LAKE },
    /* Xeon E5/E7 "vN" is the generation; an E5 without one is Sandy Bridge ("E5-2670 0"),
     * an E7 without one is Westmere, for which there are no figures. */
    { "xeon e5-####~ v2", CCF_IVY_BRIDGE },
    { "xeon e7-####~ v2", CCF_IVY_BRIDGE },
    { "xeon e5-####~ v3", CCF_HASWELL },
    { "xeon e7-####~ v3", CCF_HASWELL },
    { "xeon e5-####~ v4", CCF_BROADWELL },
    { "xeon e7-####~ v4", CCF_BROADWELL },
    { "xeon e5-####~", CCF_SANDY_BRIDGE },
    /* QEMU/KVM named CPU models: "Intel Xeon Processor (Cascadelake)". */
    { "cascadelake", CCF_CASCADE_LAKE },
    { "skylake", CCF_SKYLAKE },
    { "broadwell", CCF_BROADWELL },
    { "haswell", CCF_HASWELL },
    { "ivy bridge", CCF_IVY_BRIDGE },
    { "sandy bridge", CCF_SANDY_BRIDGE },
    /* EPYC 7001/7002/7003: the last digit is the generation (7571, 7R32, 72F3, 7773X). */
    { "epyc 7??1~", CCF_EPYC_1 },
    { "epyc 7??2~", CCF_EPYC_2 },
    { "epyc 7??3~", CCF_EPYC_3 },
    { "epyc-rome", CCF_EPYC_2 },
    { "epyc-milan", CCF_EPYC_3 },
    /* No number at all ("AMD EPYC", QEMU's "AMD EPYC Processor"). Other numbers (EPYC
     * 9004, 4004, 3001) are generations without figures and match nothing. */
    { "epyc$", CCF_EPYC_ANY },
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does pattern p match text t at t's start? (Syntax above ccf_patterns.) */
static int pattern_match_here(const char *t, const char *p)
{
    for (; *p != '\0'; p++) {
        if (*p == '~') {
            while (is_lower(*t))
                t++;
            continue;
        }
        if (*p == '$')
            return *t == '\0';
        int ok;
        if (*p == '#')
            ok = is_digit(*t);
        else if (*p == '?')
            ok = is_digit(*t) || is_lower(*t);
        else
            ok = *t != '\0' && *p == *t;
        if (!ok)
            return 0;
        t++;
    }
    return *t == '\0' || *t == ' ' || *t == '-';
}

/* Does pattern p match at some word start of text? */
static int pattern_search(const char *text, const char *p)
{
    for (const char *t = text; *t != '\0'; t++)
        if ((t == text || t[-1] == ' ') && pattern_match_here(t, p))
            return 1;
    return 0;
}

/* Is the bracket at name a trademark sign, "(R)" or "(TM)"? Returns its length or 0. */
static size_t trademark_len(const char *name)
{
    if (strncasecmp(name, "(r)", 3) == 0)
        return 3;
    if (strncasecmp(name, "(tm)", 4) == 0)
        return 4;
    return 0;
}

/* First pass of normalise(): lower case, '@' suffix and trademarks dropped, brackets
 * either dropped with their content or made spaces, commas and tabs made spaces. */
static void normalise_chars(const char *name, char *out, size_t size, int keep_brackets)
{
    size_t n = 0;
    int depth = 0;
    for (const char *c = name; *c != '\0' && *c != '@' && n + 1 < size; c++) {
        size_t tm = trademark_len(c);
        if (tm > 0) {
            c += tm - 1;
            continue;
        }
        if (keep_brackets && (*c == '(' || *c == ')')) {
            out[n++] = ' ';
            continue;
        }
        if (*c == '(') {
            depth++;
            continue;
        }
        if (*c == ')') {
            depth -= depth > 0;
            continue;
        }
        if (depth == 0)
            out[n++] = *c == ',' || *c == '\t' ? ' ' : ascii_lower(*c);
    }
    out[n] = '\0';
}

static int word_is(const char *w, size_t len, const char *word)
{
    return len == strlen(word) && strncmp(w, word, len) == 0;
}

/* Second pass: the words of text, without "cpu" and "processor", up to "with", joined
 * by single spaces. */
static void normalise_words(const char *text, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *w = text; *w != '\0';) {
        size_t len = strcspn(w, " ");
        if (len == 0) {
            w++;
            continue;
        }
        if (word_is(w, len, "with"))
            break;
        if (!word_is(w, len, "cpu") && !word_is(w, len, "processor") && n + (n > 0) + len < size) {
            if (n > 0)
                out[n++] = ' ';
            memcpy(out + n, w, len);
            n += len;
            out[n] = '\0';
        }
        w += len;
    }
}

static void normalise(const char *name, char *out, size_t size, int keep_brackets)
{
    char tmp[MODEL_CPU_NAME_MAX];
    normalise_chars(name, tmp, sizeof(tmp), keep_brackets);
    normalise_words(tmp, out, size);
}

void model_cpu_normalise(const char *name, char *out, size_t size)
{
    normalise(name, out, size, 0);
}

const struct model_cpu_family *model_cpu_ccf_family(const char *model_name)
{
    char text[MODEL_CPU_NAME_MAX];
    normalise(model_name, text, sizeof(text), 1);
    for (size_t i = 0; i < sizeof(ccf_patterns) / sizeof(ccf_patterns[0]); i++)
        if (pattern_search(text, ccf_patterns[i].pattern))
            return &ccf_families[ccf_patterns[i].family];
    return NULL;
}

/* Can the word w (len characters) be a model number? "8-core" and "16-cores" cannot. */
static int token_candidate(const char *w, size_t len)
{
    size_t digits = strspn(w, "0123456789");
    if (len < 3)
        return 0;
    if (digits >= len)
        return 1;
    if (word_is(w + digits, len - digits, "-core") || word_is(w + digits, len - digits, "-cores"))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (is_digit(w[i]))
            return 1;
    return 0;
}

void model_cpu_token(const char *norm, char *out, size_t size)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *w = norm; *w != '\0';) {
        size_t len = strcspn(w, " ");
        if (len > 0 && token_candidate(w, len)) {
            best = w;
            best_len = len;
            const char *next = w[len] == ' ' ? w + len + 1 : NULL;
            if (next && next[0] == 'v' && next[1] >= '2' && next[1] <= '9' &&
                (next[2] == '\0' || next[2] == ' '))
                best_len = len + 3;
        }
        w += len;
        while (*w == ' ')
            w++;
    }
    snprintf(out, size, "%.*s", (int)best_len, best ? best : "");
}

/* 1 for Intel, 2 for AMD, 0 when the normalised name names neither. */
static int vendor_of(const char *norm)
{
    if (pattern_search(norm, "intel"))
        return 1;
    if (pattern_search(norm, "amd"))
        return 2;
    return 0;
}

/* What a lookup has seen so far: rows matching by name, rows matching by number. */
struct tdp_match {
    unsigned n;   /* rows that matched */
    int conflict; /* 1 when two of them disagree on the TDP */
    struct model_cpu_tdp first;
};

struct tdp_lookup {
    char norm[MODEL_CPU_NAME_MAX];
    char token[MODEL_CPU_NAME_MAX];
    int vendor;
    struct tdp_match by_name;
    struct tdp_match by_token;
};

static void match_add(struct tdp_match *m, const char *row, uint64_t tdp_mw, unsigned line)
{
    if (m->n++ == 0) {
        m->first.tdp_mw = tdp_mw;
        m->first.line = line;
        snprintf(m->first.row, sizeof(m->first.row), "%s", row);
    } else if (m->first.tdp_mw != tdp_mw) {
        m->conflict = 1;
    }
}

/* Parses a TDP in W ("65", "27.5", "46.75") into mW. Returns NULL or why it is bad. */
static const char *parse_tdp_mw(const char *s, uint64_t *mw)
{
    uint64_t v = 0;
    size_t whole = strspn(s, "0123456789");
    if (whole == 0 || whole > 6)
        return "the TDP is not a number of watts";
    for (size_t i = 0; i < whole; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    s += whole;
    unsigned decimals = 0;
    if (*s == '.') {
        for (s++; is_digit(*s) && decimals < 3; s++, decimals++)
            v = v * 10 + (uint64_t)(*s - '0');
        if (decimals == 0)
            return "the TDP is not a number of watts";
    }
    if (*s != '\0')
        return "the TDP is not a number of watts (at most 3 decimals)";
    for (; decimals < 3; decimals++)
        v *= 10;
    if (v == 0)
        return "the TDP is zero";
    *mw = v;
    return NULL;
}

/* Splits "name,tdp" or "\"quoted, name\",tdp" (a quote doubled inside quotes) in place.
 * Returns NULL with *name and *tdp set, or why the line is bad. */
static const char *split_line(char *line, char **name, char **tdp)
{
    char *comma;
    if (line[0] != '"') {
        comma = strchr(line, ',');
        if (!comma || strchr(line, '"') || strchr(comma + 1, ','))
            return "expected 'name,tdp_w'";
        *comma = '\0';
        *name = line;
        *tdp = comma + 1;
        return NULL;
    }
    char *w = line;
    char *r = line + 1;
    for (; *r != '\0' && !(r[0] == '"' && r[1] != '"'); r++) {
        if (r[0] == '"')
            r++; /* "" is one quote */
        *w++ = *r;
    }
    if (r[0] != '"' || r[1] != ',' || strchr(r + 2, ','))
        return "expected '\"name\",tdp_w'";
    *w = '\0';
    *name = line;
    *tdp = r + 2;
    return NULL;
}

/* Checks and matches one line (its end of line already cut). Returns NULL or why it is
 * bad. */
static const char *lookup_line(struct tdp_lookup *lk, char *line, unsigned lineno)
{
    if (lineno == 1)
        return strcmp(line, "name,tdp_w") == 0 ? NULL : "expected the header 'name,tdp_w'";
    if (line[0] == '\0')
        return NULL;
    char *name;
    char *tdp;
    uint64_t tdp_mw;
    const char *why = split_line(line, &name, &tdp);
    if (!why && (name[0] == '\0' || strlen(name) >= MODEL_CPU_NAME_MAX))
        why = "the name is empty or too long";
    if (!why)
        why = parse_tdp_mw(tdp, &tdp_mw);
    if (why)
        return why;
    char norm[MODEL_CPU_NAME_MAX];
    char token[MODEL_CPU_NAME_MAX];
    model_cpu_normalise(name, norm, sizeof(norm));
    if (lk->norm[0] != '\0' && strcmp(norm, lk->norm) == 0) {
        match_add(&lk->by_name, name, tdp_mw, lineno);
        return NULL;
    }
    model_cpu_token(norm, token, sizeof(token));
    int vendor = vendor_of(norm);
    if (lk->token[0] != '\0' && strcmp(token, lk->token) == 0 &&
        (vendor == 0 || lk->vendor == 0 || vendor == lk->vendor))
        match_add(&lk->by_token, name, tdp_mw, lineno);
    return NULL;
}

/* Reads every line of f into lk. Returns 0, or a negative errno with s->errmsg set. */
static int lookup_file(struct sensor *s, const char *path, FILE *f, struct tdp_lookup *lk)
{
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int r = 0;
    for (;;) {
        errno = 0;
        if (getline(&line, &cap, f) < 0)
            break;
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        const char *why = lookup_line(lk, line, lineno);
        if (why) {
            r = sensor_errorf(s, -EINVAL, "malformed '%s' line %u: %s", path, lineno, why);
            break;
        }
    }
    if (r == 0 && errno == ENOMEM)
        r = -ENOMEM;
    else if (r == 0 && ferror(f))
        r = sensor_errorf(s, -EIO, "cannot read '%s'", path);
    else if (r == 0 && lineno == 0)
        r = sensor_errorf(s, -EINVAL, "malformed '%s' line 1: the file is empty", path);
    free(line);
    return r;
}

int model_cpu_tdp_lookup(struct sensor *s, FILE *f, const char *path, const char *model_name,
                         struct model_cpu_tdp *out)
{
    struct tdp_lookup lk;
    memset(&lk, 0, sizeof(lk));
    model_cpu_normalise(model_name, lk.norm, sizeof(lk.norm));
    model_cpu_token(lk.norm, lk.token, sizeof(lk.token));
    lk.vendor = vendor_of(lk.norm);
    int r = lookup_file(s, path, f, &lk);
    if (r < 0)
        return r;
    const struct tdp_match *m = lk.by_name.n > 0 ? &lk.by_name : &lk.by_token;
    if (m->n == 0 || m->conflict)
        return 0;
    *out = m->first;
    out->by_token = m == &lk.by_token;
    return 1;
}
