/* A stored run read back from its JSON (docs/json-schema.md) into the same
 * struct wattprof_result that a live run fills, so `show` and `compare` share the live
 * summary's printer and its numbers. */
#ifndef WATTPROF_STORED_RUN_H
#define WATTPROF_STORED_RUN_H

#include <stdint.h>

#include "json_parse.h"
#include "wattprof.h"

struct stored_run {
    struct json_parse_node *root; /* the parsed JSON; the strings below point into it */
    const char *id;               /* "id", or "" */
    const char *started_at;       /* as stored (RFC 3339 UTC) */
    struct wattprof_result res;
    char **argv; /* the command, NULL-terminated */
    int argc;
    char *warnings;
    struct wattprof_channel_result *channels;
    struct wattprof_window_result *windows;
    struct wattprof_metric *metrics;
};

/* Parses text. Returns 0, -EINVAL (not JSON, or not a wattprof.run/1 object: *msg
 * says why) or -ENOMEM. Release with stored_run_release() either way. */
int stored_run_parse(struct stored_run *sr, const char *text, char *msg, size_t msg_size);
void stored_run_release(struct stored_run *sr);

/* "2026-11-21T23:05:12.345Z" (seconds and fraction optional) to Unix ms. Returns 0 or
 * -EINVAL. */
int stored_run_parse_time(const char *s, uint64_t *unix_ms);

/* Seconds, joules or watts from the JSON into integer ns, µJ or µW (rounded, >= 0). */
uint64_t stored_run_micro(double v);

#endif
