/* A small JSON writer into a growing buffer. Numbers are written from integers in fixed
 * point, so the output never depends on the locale. */
#ifndef WATTPROF_JSON_H
#define WATTPROF_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json {
    char *buf; /* NUL-terminated; owned; take it with json_take() */
    size_t len;
    size_t cap;
    int oom; /* set when an append failed: the text is then incomplete */
    int need_comma;
    int depth;
};

void json_init(struct json *j);
void json_release(struct json *j);
/* Returns the text and leaves j empty, or NULL after an allocation failure. */
char *json_take(struct json *j);

void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);

/* Members: key is NULL inside arrays. */
void json_string(struct json *j, const char *key, const char *value); /* NULL: null */
void json_null(struct json *j, const char *key);
void json_bool(struct json *j, const char *key, int value);
void json_u64(struct json *j, const char *key, uint64_t value);
void json_i64(struct json *j, const char *key, int64_t value);
/* value / 10^decimals with exactly that many decimals: json_fixed(j, "energy_j", uj, 6). */
void json_fixed(struct json *j, const char *key, uint64_t value, unsigned decimals);
/* A double, the shortest text that reads back as the same value ("0.25", "1e-07");
 * null when not finite. */
void json_double(struct json *j, const char *key, double value);

#endif
