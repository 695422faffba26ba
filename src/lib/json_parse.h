/* The project's one JSON reader, used by the library (intensity series) and by the CLI
 * (stored runs, exports, study metrics), which links the internal archive. Each node
 * keeps its byte offset; a case-insensitive lookup serves formats that vary case. It
 * parses a whole document into a tree of malloc'd nodes (RFC 8259: objects, arrays, strings with
 * every escape including \uXXXX surrogate pairs, numbers, true/false/null), with a depth limit and
 * an error message that gives the byte offset. Numbers are read without the locale. */
#ifndef WATTPROF_JSON_PARSE_H
#define WATTPROF_JSON_PARSE_H

#include <stddef.h>

#define JSON_PARSE_MAX_DEPTH 64

enum json_parse_type {
    JSON_PARSE_NULL,
    JSON_PARSE_BOOL,
    JSON_PARSE_NUMBER,
    JSON_PARSE_STRING,
    JSON_PARSE_ARRAY,
    JSON_PARSE_OBJECT
};

struct json_parse_node {
    enum json_parse_type type;
    char *key;                     /* the member name, inside an object; else NULL */
    char *str;                     /* JSON_PARSE_STRING: decoded UTF-8, NUL-terminated */
    size_t len;                    /* JSON_PARSE_STRING: bytes; JSON_PARSE_ARRAY/OBJECT: children */
    double num;                    /* JSON_PARSE_NUMBER */
    int boolean;                   /* JSON_PARSE_BOOL */
    struct json_parse_node *child; /* first element or member */
    struct json_parse_node *next;  /* next sibling */
    size_t pos;                    /* byte offset of the value in the text */
};

struct json_parse_error {
    size_t pos;   /* byte offset where parsing stopped */
    char msg[96]; /* "unexpected character 'x'", "nesting deeper than 64", ... */
};

/* Parses text[0..len) (one value, surrounded by whitespace only). Returns 0 and the
 * tree in *out (free it with json_parse_free), -EINVAL with *err filled, or -ENOMEM. */
int json_parse(const char *text, size_t len, struct json_parse_node **out,
               struct json_parse_error *err);
void json_parse_free(struct json_parse_node *n);

/* Lookups that accept NULL and a node of the wrong type, so chains stay short. */
const struct json_parse_node *json_parse_get(const struct json_parse_node *obj, const char *key);
const struct json_parse_node *json_parse_at(const struct json_parse_node *arr, size_t i);
/* The member of obj whose name matches key, ignoring ASCII case. */
const struct json_parse_node *json_parse_get_ci(const struct json_parse_node *obj, const char *key);
/* The value of a string/number/bool node, or def when n is NULL or of another type. */
const char *json_parse_str(const struct json_parse_node *n, const char *def);
double json_parse_num(const struct json_parse_node *n, double def);
int json_parse_bool(const struct json_parse_node *n, int def);
/* Shorthands for a member of obj. */
const char *json_parse_get_str(const struct json_parse_node *obj, const char *key, const char *def);
double json_parse_get_num(const struct json_parse_node *obj, const char *key, double def);

#endif
