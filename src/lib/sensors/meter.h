/* The external meter backend's private state (s->priv of meter_sensor_ops), declared
 * here so that tests can shorten its timeouts and see its process. Nothing else should
 * look inside. */
#ifndef WATTPROF_METER_H
#define WATTPROF_METER_H

#include <locale.h>
#include <stdint.h>
#include <sys/types.h>

#include "linebuf.h"
#include "sensor.h"

/* Longest line a meter may print. */
#define METER_LINE_MAX 256
/* How long open() waits for the first valid line, which decides the kind. */
#define METER_FIRST_LINE_MS 5000
/* The meter hangs when no valid line came for max(this, METER_HANG_PERIODS × the
 * observed line period). */
#define METER_HANG_MIN_MS 10000
#define METER_HANG_PERIODS 20
/* close(): SIGTERM, then SIGKILL after this long. */
#define METER_KILL_GRACE_MS 1000

enum meter_kind {
    METER_WATTS,  /* "42.5": power, stored in mW */
    METER_JOULES, /* "1234.5J": cumulative energy, stored in mJ */
};

struct meter {
    /* Settings in ms; 0 means the default above. A test may set them before open(). */
    unsigned first_line_ms;
    unsigned hang_min_ms;
    unsigned kill_grace_ms;
    /* The process and its output. */
    pid_t pid;   /* the shell, leader of its own process group; 0 when none */
    int fd;      /* read end of its stdout pipe (non-blocking) when have_fd */
    int have_fd; /* a zeroed (never opened) state closes nothing */
    int eof;     /* the meter closed its stdout */
    locale_t c_locale;
    struct linebuf lines;
    /* What it said. */
    int have_kind;
    enum meter_kind kind;
    uint64_t value;     /* the latest valid reading: mW or mJ */
    uint64_t n_valid;   /* valid lines */
    uint64_t n_garbage; /* lines that are not a reading of the meter's kind */
    uint64_t n_garbage_noted;
    char garbage_example[48]; /* the first garbage line, for messages */
    uint64_t first_valid_ns;  /* when the first and the latest valid lines were read */
    uint64_t last_valid_ns;
    int lost_err;      /* once the channel is lost: its error */
    size_t notes_base; /* length of s->notes after open(); read() rewrites what follows */
};

#endif
