/* The replay backend's trace (docs/replay.md): parsed once at open, then read by
 * interpolation without allocating. Declared here so that tests can parse and
 * interpolate without a sensor. */
#ifndef WATTPROF_REPLAY_H
#define WATTPROF_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "sensor.h"

/* A trace file larger than this is refused at open (the whole file is loaded). */
#define REPLAY_MAX_BYTES (64u * 1024 * 1024)
#define REPLAY_ERRMSG_MAX 256

/* One recorded channel, as its `# channel` line says. */
struct replay_channel {
    char name[SENSOR_NAME_MAX];
    char domain[16];
    char provenance[16]; /* what the recording was: "measured", "integrated", ... */
    char source[32];     /* the backend that recorded it */
    int included;
    int node;
};

struct replay_trace {
    size_t n_channels;
    struct replay_channel channels[SENSOR_MAX_CHANNELS];
    size_t n_rows;
    /* n_rows × (1 + n_channels): t_ns since the start, then cumulative µJ per channel;
     * heap, owned by the trace. */
    uint64_t *rows;
};

/* Parses a trace held in text[0..len). Returns 0, -ENOMEM, or -EINVAL with the line
 * number and the reason in err. On failure the trace holds nothing to release. */
int replay_parse(struct replay_trace *t, const char *text, size_t len, char *err, size_t size);

/* Frees the rows; the trace can be parsed again. */
void replay_trace_release(struct replay_trace *t);

/* The time of the last row, in ns since the start. */
uint64_t replay_end_ns(const struct replay_trace *t);

/* Fills values[0..n_channels) with the cumulative µJ at t_ns since the start: the row's
 * value at a row, linear between rows, the first row's before it and the last row's
 * after it. Allocates nothing. */
void replay_values_at(const struct replay_trace *t, uint64_t t_ns, uint64_t *values);

/* For `wattprof run`: 1 when s is an open replay sensor, with the trace's end and how
 * long ago it was first read (ns; 0 before); else 0. */
int replay_sensor_times(const struct sensor *s, uint64_t *end_ns, uint64_t *elapsed_ns);

#endif
