/* Reads a study file (YAML, through libyaml's document API) into a struct study and
 * checks every key before anything runs: unknown keys, wrong types, an empty matrix,
 * a baseline outside the matrix, placeholders without a matrix key (and keys without
 * a placeholder), min > max. Each error names the line and column. */
#include "study.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct yctx {
    yaml_document_t *doc;
    const char *fname;
    char *err;
    size_t errsize;
    struct study *st;
    yaml_node_t *command_node;
    yaml_node_t *baseline_node;
    yaml_node_t *reps_node;
    yaml_node_t *key_nodes[STUDY_MAX_KEYS];
};

/* A field of a mapping: its name and its parser. */
struct yfield {
    const char *name;
    int (*parse)(struct yctx *c, yaml_node_t *n);
};

__attribute__((format(printf, 3, 4))) static int yerr(struct yctx *c, const yaml_node_t *n,
                                                      const char *fmt, ...)
{
    int len = snprintf(c->err, c->errsize, "%s:%lu:%lu: ", c->fname,
                       (unsigned long)(n ? n->start_mark.line + 1 : 1),
                       (unsigned long)(n ? n->start_mark.column + 1 : 1));
    if (len < 0 || (size_t)len >= c->errsize)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + len, c->errsize - (size_t)len, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_string(struct yctx *c, yaml_node_t *n, const char *what, char *out, size_t size)
{
    const char *s = scalar(n);
    if (!s)
        return yerr(c, n, "'%s' must be a string", what);
    if (strlen(s) >= size || !*s)
        return yerr(c, n, "'%s' must be 1 to %zu characters", what, size - 1);
    snprintf(out, size, "%s", s);
    return 0;
}

static int get_double(struct yctx *c, yaml_node_t *n, const char *what, double min, double max,
                      double *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || end == s || *end || errno || !(v >= min && v <= max))
        return yerr(c, n, "'%s' must be a number from %g to %g", what, min, max);
    *out = v;
    return 0;
}

static int get_uint(struct yctx *c, yaml_node_t *n, const char *what, unsigned max, unsigned *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    errno = 0;
    unsigned long v = s && *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
    if (!end || *end || errno || v > max)
        return yerr(c, n, "'%s' must be a whole number from 0 to %u", what, max);
    *out = (unsigned)v;
    return 0;
}

/* Calls the field's parser for every key of mapping n; unknown keys are errors. */
static int parse_mapping(struct yctx *c, yaml_node_t *n, const char *what,
                         const struct yfield *fields, size_t n_fields)
{
    if (n->type != YAML_MAPPING_NODE)
        return yerr(c, n, "'%s' must be a mapping (key: value)", what);
    unsigned seen = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *name = scalar(k);
        size_t i = 0;
        while (name && i < n_fields && strcmp(fields[i].name, name) != 0)
            i++;
        if (!name || i == n_fields) {
            char known[256] = "";
            for (size_t j = 0; j < n_fields; j++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                         j ? ", " : "", fields[j].name);
            return yerr(c, k, "unknown key '%s' in %s; known keys: %s", name ? name : "?", what,
                        known);
        }
        if (seen & (1u << i))
            return yerr(c, k, "key '%s' given twice in %s", name, what);
        seen |= 1u << i;
        if (fields[i].parse(c, v) < 0)
            return -1;
    }
    return 0;
}

static int f_name(struct yctx *c, yaml_node_t *n)
{
    return get_string(c, n, "name", c->st->name, sizeof(c->st->name));
}

static int f_command(struct yctx *c, yaml_node_t *n)
{
    c->command_node = n;
    return get_string(c, n, "command", c->st->command, sizeof(c->st->command));
}

static int f_shell(struct yctx *c, yaml_node_t *n)
{
    const char *s = scalar(n);
    if (s && strcmp(s, "true") == 0)
        c->st->shell = 1;
    else if (s && strcmp(s, "false") == 0)
        c->st->shell = 0;
    else
        return yerr(c, n, "'shell' must be true or false");
    return 0;
}

/* One matrix key: a sequence of scalars (or one scalar). */
static int matrix_values(struct yctx *c, yaml_node_t *v, struct study_key *key)
{
    if (v->type == YAML_SCALAR_NODE)
        return get_string(c, v, key->name, key->values[key->n_values++], STUDY_VALUE_SIZE);
    if (v->type != YAML_SEQUENCE_NODE)
        return yerr(c, v, "matrix key '%s' must be a list of values, e.g. [a, b]", key->name);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(c->doc, *it);
        if (e->type != YAML_SCALAR_NODE)
            return yerr(c, e, "the values of matrix key '%s' must be scalars", key->name);
        if (key->n_values == STUDY_MAX_VALUES)
            return yerr(c, e, "matrix key '%s' has more than %d values", key->name,
                        STUDY_MAX_VALUES);
        for (size_t j = 0; j < key->n_values; j++)
            if (strcmp(key->values[j], scalar(e)) == 0)
                return yerr(c, e, "value '%s' of matrix key '%s' is given twice", scalar(e),
                            key->name);
        if (get_string(c, e, key->name, key->values[key->n_values++], STUDY_VALUE_SIZE) < 0)
            return -1;
    }
    if (key->n_values == 0)
        return yerr(c, v, "matrix key '%s' has no values; give at least one", key->name);
    return 0;
}

static int valid_key_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int f_matrix(struct yctx *c, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return yerr(c, n, "'matrix' must be a mapping of keys to lists of values");
    struct study *st = c->st;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (!scalar(k) || !valid_key_name(scalar(k)) || strlen(scalar(k)) >= STUDY_NAME_SIZE)
            return yerr(c, k, "matrix keys must be names of A-Z a-z 0-9 _ (at most %d)",
                        STUDY_NAME_SIZE - 1);
        if (st->n_keys == STUDY_MAX_KEYS)
            return yerr(c, k, "the matrix has more than %d keys", STUDY_MAX_KEYS);
        for (size_t j = 0; j < st->n_keys; j++)
            if (strcmp(st->keys[j].name, scalar(k)) == 0)
                return yerr(c, k, "matrix key '%s' is given twice", scalar(k));
        struct study_key *key = &st->keys[st->n_keys];
        snprintf(key->name, sizeof(key->name), "%s", scalar(k));
        c->key_nodes[st->n_keys++] = k;
        if (matrix_values(c, yaml_document_get_node(c->doc, p->value), key) < 0)
            return -1;
    }
    if (st->n_keys == 0)
        return yerr(c, n, "the matrix is empty; give at least one key with values");
    return 0;
}

static int f_baseline(struct yctx *c, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return yerr(c, n, "'baseline' must be a mapping of matrix keys to values");
    c->baseline_node = n;
    return 0;
}

static int f_rep_min(struct yctx *c, yaml_node_t *n)
{
    int r = get_uint(c, n, "repetitions.min", 100000, &c->st->rep_min);
    return r == 0 && c->st->rep_min < 2 ? yerr(c, n, "'repetitions.min' must be at least 2") : r;
}

static int f_rep_max(struct yctx *c, yaml_node_t *n)
{
    int r = get_uint(c, n, "repetitions.max", 100000, &c->st->rep_max);
    return r == 0 && c->st->rep_max < 2 ? yerr(c, n, "'repetitions.max' must be at least 2") : r;
}

static int f_rep_ci(struct yctx *c, yaml_node_t *n)
{
    return get_double(c, n, "repetitions.target_ci", 0, 1, &c->st->target_ci);
}

static int f_repetitions(struct yctx *c, yaml_node_t *n)
{
    static const struct yfield fields[] = {
        { "min", f_rep_min },
        { "max", f_rep_max },
        { "target_ci", f_rep_ci },
    };
    c->reps_node = n;
    return parse_mapping(c, n, "'repetitions'", fields, sizeof(fields) / sizeof(fields[0]));
}

static int f_warmup(struct yctx *c, yaml_node_t *n)
{
    return get_uint(c, n, "warmup", 1000, &c->st->warmup);
}

static int f_cooldown(struct yctx *c, yaml_node_t *n)
{
    return get_double(c, n, "cooldown_s", 0, 3600, &c->st->cooldown_s);
}

static int f_idle(struct yctx *c, yaml_node_t *n)
{
    return get_double(c, n, "idle_baseline_s", 0, 3600, &c->st->idle_baseline_s);
}

static int f_timeout(struct yctx *c, yaml_node_t *n)
{
    return get_double(c, n, "timeout_s", 0, 7 * 86400, &c->st->timeout_s);
}

static int f_order(struct yctx *c, yaml_node_t *n)
{
    static const enum study_order modes[] = { STUDY_ORDER_RANDOM_BLOCKS, STUDY_ORDER_ABBA,
                                              STUDY_ORDER_SEQUENTIAL };
    const char *s = scalar(n);
    for (size_t i = 0; s && i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(s, study_order_name(modes[i])) == 0) {
            c->st->order = modes[i];
            return 0;
        }
    }
    return yerr(c, n, "'order' must be random-blocks, abba or sequential");
}

static int f_seed(struct yctx *c, yaml_node_t *n)
{
    const char *s = scalar(n);
    char *end = NULL;
    errno = 0;
    unsigned long long v = s && *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    if (!end || *end || errno)
        return yerr(c, n, "'seed' must be a whole number from 0 to 2^64-1");
    c->st->seed = v;
    c->st->seed_given = 1;
    return 0;
}

static int f_units_per_run(struct yctx *c, yaml_node_t *n)
{
    return get_double(c, n, "units.per_run", 1e-9, 1e18, &c->st->units_per_run);
}

static int f_units_name(struct yctx *c, yaml_node_t *n)
{
    return get_string(c, n, "units.name", c->st->unit_name, sizeof(c->st->unit_name));
}

static int f_units(struct yctx *c, yaml_node_t *n)
{
    static const struct yfield fields[] = {
        { "per_run", f_units_per_run },
        { "name", f_units_name },
    };
    return parse_mapping(c, n, "'units'", fields, sizeof(fields) / sizeof(fields[0]));
}

static int f_q_metric(struct yctx *c, yaml_node_t *n)
{
    return get_string(c, n, "quality.metric", c->st->quality_metric, sizeof(c->st->quality_metric));
}

static int f_q_least(struct yctx *c, yaml_node_t *n)
{
    return get_double(c, n, "quality.at_least", -1e300, 1e300, &c->st->quality_at_least);
}

static int f_q_most(struct yctx *c, yaml_node_t *n)
{
    return get_double(c, n, "quality.at_most", -1e300, 1e300, &c->st->quality_at_most);
}

static int f_q_regex(struct yctx *c, yaml_node_t *n)
{
    regex_t re;
    if (get_string(c, n, "quality.regex", c->st->quality_regex, sizeof(c->st->quality_regex)) < 0)
        return -1;
    c->st->quality_line = (unsigned long)n->start_mark.line + 1;
    if (regcomp(&re, c->st->quality_regex, REG_EXTENDED) != 0)
        return yerr(c, n, "'quality.regex' is not a valid POSIX extended regex");
    size_t groups = re.re_nsub;
    regfree(&re);
    if (groups < 1)
        return yerr(c, n, "'quality.regex' needs a group around the number, e.g. 'acc ([0-9.]+)'");
    return 0;
}

static int f_q_file(struct yctx *c, yaml_node_t *n)
{
    c->st->quality_line = (unsigned long)n->start_mark.line + 1;
    return get_string(c, n, "quality.metrics_file", c->st->metrics_file,
                      sizeof(c->st->metrics_file));
}

static int f_quality(struct yctx *c, yaml_node_t *n)
{
    static const struct yfield fields[] = {
        { "metric", f_q_metric }, { "at_least", f_q_least },    { "at_most", f_q_most },
        { "regex", f_q_regex },   { "metrics_file", f_q_file },
    };
    if (parse_mapping(c, n, "'quality'", fields, sizeof(fields) / sizeof(fields[0])) < 0)
        return -1;
    if (!c->st->quality_metric[0])
        return yerr(c, n, "'quality' needs 'metric', the name of the metric the workload reports");
    if (c->st->quality_regex[0] && c->st->metrics_file[0])
        return yerr(c, n, "'quality' takes 'regex' or 'metrics_file', not both");
    return 0;
}

static const struct yfield top_fields[] = {
    { "name", f_name },       { "command", f_command },      { "shell", f_shell },
    { "matrix", f_matrix },   { "baseline", f_baseline },    { "repetitions", f_repetitions },
    { "warmup", f_warmup },   { "cooldown_s", f_cooldown },  { "order", f_order },
    { "seed", f_seed },       { "idle_baseline_s", f_idle }, { "units", f_units },
    { "quality", f_quality }, { "timeout_s", f_timeout },
};

/* The baseline: every matrix key once, with one of its values. */
static int check_baseline(struct yctx *c)
{
    yaml_node_t *n = c->baseline_node;
    struct study *st = c->st;
    if (!n)
        return 0; /* default: the first value of every key */
    size_t given = 0;
    unsigned seen = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        size_t i = 0;
        while (scalar(k) && i < st->n_keys && strcmp(st->keys[i].name, scalar(k)) != 0)
            i++;
        if (!scalar(k) || i == st->n_keys)
            return yerr(c, k, "baseline key '%s' is not a matrix key", scalar(k) ? scalar(k) : "?");
        if (seen & (1u << i))
            return yerr(c, k, "baseline key '%s' is given twice", scalar(k));
        seen |= 1u << i;
        size_t j = 0;
        while (scalar(v) && j < st->keys[i].n_values && strcmp(st->keys[i].values[j], scalar(v)))
            j++;
        if (!scalar(v) || j == st->keys[i].n_values)
            return yerr(c, v,
                        "baseline value '%s' is not in matrix key '%s'; the baseline "
                        "must be a point of the matrix",
                        scalar(v) ? scalar(v) : "?", st->keys[i].name);
        st->baseline[i] = j;
        given++;
    }
    if (given != st->n_keys)
        return yerr(c, n, "the baseline must give a value for each of the %zu matrix keys",
                    st->n_keys);
    return 0;
}

/* Every {name} in the command is a matrix key, and every matrix key is used. */
static int check_placeholders(struct yctx *c)
{
    struct study *st = c->st;
    unsigned used = 0;
    for (const char *p = strchr(st->command, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        size_t len = end ? (size_t)(end - p - 1) : 0;
        size_t i = 0;
        while (i < st->n_keys &&
               !(strlen(st->keys[i].name) == len && strncmp(st->keys[i].name, p + 1, len) == 0))
            i++;
        if (i == st->n_keys)
            return yerr(c, c->command_node,
                        "placeholder '%.*s' in 'command' has no value: add it to the matrix",
                        end ? (int)(end - p + 1) : (int)strlen(p), p);
        used |= 1u << i;
    }
    for (size_t i = 0; i < st->n_keys; i++)
        if (!(used & (1u << i)))
            return yerr(c, c->key_nodes[i],
                        "matrix key '%s' is not used in 'command'; add {%s} to it",
                        st->keys[i].name, st->keys[i].name);
    return 0;
}

static int check_study(struct yctx *c, yaml_node_t *root)
{
    struct study *st = c->st;
    if (!st->name[0])
        return yerr(c, root, "missing 'name': name the study (e.g. name: mlp-precision)");
    if (!st->command[0])
        return yerr(c, root, "missing 'command': the command line each run executes");
    if (st->n_keys == 0)
        return yerr(c, root, "missing 'matrix': give at least one key with a list of values");
    if (st->rep_min > st->rep_max)
        return yerr(c, c->reps_node, "repetitions: min (%u) is greater than max (%u)", st->rep_min,
                    st->rep_max);
    if (study_variant_count(st) > STUDY_MAX_VARIANTS)
        return yerr(c, root, "the matrix has %zu variants; at most %d are supported",
                    study_variant_count(st), STUDY_MAX_VARIANTS);
    if (check_baseline(c) < 0)
        return -1;
    return check_placeholders(c);
}

static void set_defaults(struct study *st)
{
    memset(st, 0, sizeof(*st));
    st->rep_min = 10;
    st->rep_max = 30;
    st->target_ci = 0.02;
    st->warmup = 1;
    st->order = STUDY_ORDER_RANDOM_BLOCKS;
    snprintf(st->unit_name, sizeof(st->unit_name), "units");
    st->quality_at_least = NAN;
    st->quality_at_most = NAN;
}

int study_parse_text(const char *text, size_t len, const char *fname, struct study *st, char *err,
                     size_t errsize)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct yctx c = { .doc = &doc, .fname = fname, .err = err, .errsize = errsize, .st = st };
    set_defaults(st);
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errsize, "%s: out of memory", fname);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errsize, "%s:%lu:%lu: YAML syntax error: %s", fname,
                 (unsigned long)parser.problem_mark.line + 1,
                 (unsigned long)parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "unknown");
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int r;
    if (!root)
        r = yerr(&c, NULL, "the study file is empty; docs/study.md has an example");
    else
        r = parse_mapping(&c, root, "the study", top_fields,
                          sizeof(top_fields) / sizeof(top_fields[0]));
    if (r == 0)
        r = check_study(&c, root);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return r;
}

int study_parse_file(const char *path, struct study *st, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsize, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    int bad = !buf || ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        snprintf(err, errsize, "cannot read '%s': %s", path,
                 buf ? "read error, or larger than 1 MiB" : "out of memory");
        free(buf);
        return -1;
    }
    int r = study_parse_text(buf, n, path, st, err, errsize);
    free(buf);
    return r;
}
