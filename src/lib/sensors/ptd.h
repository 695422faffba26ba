/* The SPEC PTDaemon backend's private state (s->priv of ptd_sensor_ops), declared here
 * so that tests can shorten its timeouts. Nothing else should look inside. */
#ifndef WATTPROF_PTD_H
#define WATTPROF_PTD_H

#include <locale.h>
#include <stdint.h>

#include "linebuf.h"
#include "sensor.h"

/* Timeouts and periods in ms. */
#define PTD_CONNECT_MS 2000      /* TCP connect */
#define PTD_REPLY_MS 2000        /* each handshake reply */
#define PTD_FIRST_SAMPLE_MS 5000 /* the first valid sample after Go */
#define PTD_STALE_MS 10000       /* no valid sample for this long: the channel is lost */
#define PTD_POLL_MS 1000         /* one "RL" request per sample period */
#define PTD_STOP_MS 1000         /* close(): the answer to Stop */
/* Go's sample period (ms) and the command itself. */
#define PTD_GO_COMMAND "Go,1000,0"

enum ptd_phase {
    PTD_HANDSHAKE, /* one reply line per command */
    PTD_SAMPLING,  /* answers to "RL": samples, "no data", errors */
    PTD_STOPPING,  /* waiting for the answer to Stop */
};

struct ptd {
    /* Settings; 0 means the default above. A test may set them before open(). */
    unsigned connect_ms;
    unsigned reply_ms;
    unsigned first_sample_ms;
    unsigned stale_ms;
    unsigned poll_ms;
    unsigned stop_ms;
    /* The connection. */
    int fd;        /* a non-blocking TCP socket when have_fd */
    int have_fd;   /* a zeroed (never opened) state closes nothing */
    int closed;    /* the daemon closed or reset the connection */
    int measuring; /* Go was accepted: close() sends Stop */
    enum ptd_phase phase;
    locale_t c_locale;
    struct linebuf lines;
    char reply[160]; /* PTD_HANDSHAKE, PTD_STOPPING: the last line */
    int have_reply;
    /* Samples. */
    uint64_t value; /* the latest valid sample, mW */
    int have_value;
    uint64_t last_value_ns;
    uint64_t last_request_ns;
    int request_pending;
    uint64_t n_samples;
    uint64_t n_invalid; /* samples the analyzer marked invalid (negative watts) */
    uint64_t n_errors;  /* error replies, and sample lines that do not parse */
    uint64_t n_noted;   /* n_invalid + n_errors when the notes were last written */
    char last_error[64];
    int lost_err;      /* once the channel is lost: its error */
    size_t notes_base; /* length of s->notes after open(); read() rewrites what follows */
};

#endif
