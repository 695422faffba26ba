/* A small JSON reader for the CLI: parses a whole document into a tree of malloc'd
 * nodes (RFC 8259: objects, arrays, strings with every escape including \uXXXX
 * surrogate pairs, numbers, true/false/null), with a depth limit and an error
 * message that gives the byte offset. Numbers are read without the locale. */
#ifndef WATTPROF_JSON_READ_H
#define WATTPROF_JSON_READ_H

#include <stddef.h>

#define JSON_READ_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_node {
    enum json_type type;
    char *key;               /* the member name, inside an object; else NULL */
    char *str;               /* JSON_STRING: decoded UTF-8, NUL-terminated */
    size_t len;              /* JSON_STRING: bytes; JSON_ARRAY/OBJECT: children */
    double num;              /* JSON_NUMBER */
    int boolean;             /* JSON_BOOL */
    struct json_node *child; /* first element or member */
    struct json_node *next;  /* next sibling */
};

struct json_error {
    size_t pos;   /* byte offset where parsing stopped */
    char msg[96]; /* "unexpected character 'x'", "nesting deeper than 64", ... */
};

/* Parses text[0..len) (one value, surrounded by whitespace only). Returns 0 and the
 * tree in *out (free it with json_free), -EINVAL with *err filled, or -ENOMEM. */
int json_read_parse(const char *text, size_t len, struct json_node **out, struct json_error *err);
void json_read_free(struct json_node *n);

/* Lookups that accept NULL and a node of the wrong type, so chains stay short. */
const struct json_node *json_read_get(const struct json_node *obj, const char *key);
const struct json_node *json_read_at(const struct json_node *arr, size_t i);
/* The value of a string/number/bool node, or def when n is NULL or of another type. */
const char *json_read_str(const struct json_node *n, const char *def);
double json_read_num(const struct json_node *n, double def);
int json_read_bool(const struct json_node *n, int def);
/* Shorthands for a member of obj. */
const char *json_read_get_str(const struct json_node *obj, const char *key, const char *def);
double json_read_get_num(const struct json_node *obj, const char *key, double def);

#endif
