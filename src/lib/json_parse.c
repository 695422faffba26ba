/* A small JSON reader for the library (see json_parse.h). */
#include "json_parse.h"

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct parser {
    const char *s;
    size_t len;
    size_t pos;
    int depth;
    locale_t c_locale;
    struct json_parse_error *err;
};

static int parse_value(struct parser *p, struct json_parse_node *n);

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
    va_end(ap);
    p->err->pos = p->pos;
    return -EINVAL;
}

static int unexpected(struct parser *p)
{
    if (p->pos >= p->len)
        return fail(p, "unexpected end of input");
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c < 0x20 || c >= 0x7f)
        return fail(p, "unexpected byte 0x%02x", c);
    return fail(p, "unexpected character '%c'", c);
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
}

static int peek(const struct parser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int parse_literal(struct parser *p, struct json_parse_node *n)
{
    static const struct {
        const char *word;
        enum json_parse_type type;
        int value;
    } words[] = { { "true", JSON_PARSE_BOOL, 1 },
                  { "false", JSON_PARSE_BOOL, 0 },
                  { "null", JSON_PARSE_NULL, 0 } };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t wl = strlen(words[i].word);
        if (p->len - p->pos >= wl && memcmp(p->s + p->pos, words[i].word, wl) == 0) {
            n->type = words[i].type;
            n->boolean = words[i].value;
            p->pos += wl;
            return 0;
        }
    }
    return unexpected(p);
}

static size_t skip_digits(struct parser *p)
{
    size_t start = p->pos;
    while (peek(p) >= '0' && peek(p) <= '9')
        p->pos++;
    return p->pos - start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *p, struct json_parse_node *n)
{
    size_t start = p->pos;
    if (peek(p) == '-')
        p->pos++;
    if (peek(p) == '0')
        p->pos++;
    else if (skip_digits(p) == 0)
        return unexpected(p);
    if (peek(p) == '.') {
        p->pos++;
        if (skip_digits(p) == 0)
            return unexpected(p);
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (skip_digits(p) == 0)
            return unexpected(p);
    }
    char buf[128];
    size_t nl = p->pos - start;
    if (nl >= sizeof(buf)) {
        p->pos = start;
        return fail(p, "number too long");
    }
    memcpy(buf, p->s + start, nl);
    buf[nl] = '\0';
    n->type = JSON_PARSE_NUMBER;
    n->num = strtod_l(buf, NULL, p->c_locale);
    return 0;
}

static int hex4(struct parser *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = peek(p);
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return fail(p, "invalid \\u escape");
        v = v * 16 + (unsigned)d;
        p->pos++;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* After "\u": one code point, joining a surrogate pair. */
static int parse_unicode(struct parser *p, unsigned *cp)
{
    size_t at = p->pos - 2;
    unsigned hi, lo;
    if (hex4(p, &hi) < 0)
        return -EINVAL;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        p->pos = at;
        return fail(p, "lone low surrogate in \\u escape");
    }
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = hi;
        return 0;
    }
    if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
        p->pos = at;
        return fail(p, "high surrogate without its low half");
    }
    p->pos += 2;
    if (hex4(p, &lo) < 0)
        return -EINVAL;
    if (lo < 0xdc00 || lo > 0xdfff) {
        p->pos = at;
        return fail(p, "high surrogate without its low half");
    }
    *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    return 0;
}

static int parse_escape(struct parser *p, char *o, size_t *ol)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int c = peek(p);
    const char *k = c > 0 ? strchr(from, c) : NULL;
    p->pos++;
    if (k) {
        o[(*ol)++] = to[k - from];
        return 0;
    }
    if (c != 'u') {
        p->pos -= 2;
        return fail(p, "invalid escape in string");
    }
    unsigned cp = 0;
    if (parse_unicode(p, &cp) < 0)
        return -EINVAL;
    *ol += put_utf8(o + *ol, cp);
    return 0;
}

/* At the opening quote. Escapes never make the text longer, so the raw span bounds
 * the decoded length. */
static int parse_string(struct parser *p, char **out, size_t *outlen)
{
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) {
        p->pos = p->len;
        return fail(p, "unterminated string");
    }
    char *o = malloc(end - start + 1);
    if (!o)
        return -ENOMEM;
    size_t ol = 0;
    int r = 0;
    while (r == 0 && p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20)
            r = fail(p, "control character 0x%02x in string", c);
        else if (c != '\\')
            o[ol++] = p->s[p->pos++];
        else {
            p->pos++;
            r = parse_escape(p, o, &ol);
        }
    }
    if (r < 0) {
        free(o);
        return r;
    }
    p->pos = end + 1;
    o[ol] = '\0';
    *out = o;
    *outlen = ol;
    return 0;
}

/* Parses one child (with its key inside objects) and appends it at *tail. */
static int parse_child(struct parser *p, struct json_parse_node *parent,
                       struct json_parse_node ***tail)
{
    struct json_parse_node *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    **tail = c;
    *tail = &c->next;
    parent->len++;
    skip_ws(p);
    if (parent->type == JSON_PARSE_OBJECT) {
        size_t kl;
        if (peek(p) != '"')
            return unexpected(p);
        int r = parse_string(p, &c->key, &kl);
        if (r < 0)
            return r;
        skip_ws(p);
        if (peek(p) != ':')
            return unexpected(p);
        p->pos++;
    }
    return parse_value(p, c);
}

/* At '[' or '{'. */
static int parse_container(struct parser *p, struct json_parse_node *n)
{
    int close = peek(p) == '[' ? ']' : '}';
    n->type = close == ']' ? JSON_PARSE_ARRAY : JSON_PARSE_OBJECT;
    if (++p->depth > JSON_PARSE_MAX_DEPTH)
        return fail(p, "nesting deeper than %d", JSON_PARSE_MAX_DEPTH);
    p->pos++;
    skip_ws(p);
    struct json_parse_node **tail = &n->child;
    if (peek(p) == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        int r = parse_child(p, n, &tail);
        if (r < 0)
            return r;
        skip_ws(p);
        if (peek(p) == close)
            break;
        if (peek(p) != ',')
            return unexpected(p);
        p->pos++;
    }
    p->pos++;
    p->depth--;
    return 0;
}

static int parse_value(struct parser *p, struct json_parse_node *n)
{
    skip_ws(p);
    n->pos = p->pos;
    int c = peek(p);
    if (c == '{' || c == '[')
        return parse_container(p, n);
    if (c == '"') {
        n->type = JSON_PARSE_STRING;
        return parse_string(p, &n->str, &n->len);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p, n);
    return parse_literal(p, n);
}

int json_parse(const char *text, size_t len, struct json_parse_node **out,
               struct json_parse_error *err)
{
    struct json_parse_error dummy = { 0 };
    struct parser p = { .s = text, .len = len, .err = err ? err : &dummy };
    p.err->pos = 0;
    p.err->msg[0] = '\0';
    *out = NULL;
    p.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    struct json_parse_node *root = calloc(1, sizeof(*root));
    if (!p.c_locale || !root) {
        free(root);
        if (p.c_locale)
            freelocale(p.c_locale);
        return -ENOMEM;
    }
    int r = parse_value(&p, root);
    if (r == 0) {
        skip_ws(&p);
        if (p.pos < p.len)
            r = fail(&p, "trailing data after the document");
    }
    freelocale(p.c_locale);
    if (r < 0) {
        json_parse_free(root);
        return r;
    }
    *out = root;
    return 0;
}

void json_parse_free(struct json_parse_node *n)
{
    while (n) {
        struct json_parse_node *next = n->next;
        json_parse_free(n->child);
        free(n->key);
        free(n->str);
        free(n);
        n = next;
    }
}

const struct json_parse_node *json_parse_get(const struct json_parse_node *obj, const char *key)
{
    if (!obj || obj->type != JSON_PARSE_OBJECT)
        return NULL;
    for (const struct json_parse_node *c = obj->child; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const struct json_parse_node *json_parse_get_ci(const struct json_parse_node *obj, const char *key)
{
    if (!obj || obj->type != JSON_PARSE_OBJECT)
        return NULL;
    for (const struct json_parse_node *c = obj->child; c; c = c->next)
        if (strcasecmp(c->key, key) == 0)
            return c;
    return NULL;
}

const struct json_parse_node *json_parse_at(const struct json_parse_node *arr, size_t i)
{
    if (!arr || (arr->type != JSON_PARSE_ARRAY && arr->type != JSON_PARSE_OBJECT))
        return NULL;
    const struct json_parse_node *c = arr->child;
    while (c && i-- > 0)
        c = c->next;
    return c;
}

const char *json_parse_str(const struct json_parse_node *n, const char *def)
{
    return n && n->type == JSON_PARSE_STRING ? n->str : def;
}

double json_parse_num(const struct json_parse_node *n, double def)
{
    return n && n->type == JSON_PARSE_NUMBER ? n->num : def;
}

int json_parse_bool(const struct json_parse_node *n, int def)
{
    return n && n->type == JSON_PARSE_BOOL ? n->boolean : def;
}

const char *json_parse_get_str(const struct json_parse_node *obj, const char *key, const char *def)
{
    return json_parse_str(json_parse_get(obj, key), def);
}

double json_parse_get_num(const struct json_parse_node *obj, const char *key, double def)
{
    return json_parse_num(json_parse_get(obj, key), def);
}
