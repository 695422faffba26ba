/* The IPMI DCMI backend's private state (s->priv of ipmi_dcmi_sensor_ops), declared here
 * so that tests can shorten its timeout and look at what it did. Nothing else should
 * look inside. */
#ifndef WATTPROF_IPMI_DCMI_H
#define WATTPROF_IPMI_DCMI_H

#include <stdint.h>

#include "sensor.h"

/* How long one request may wait for the BMC's answer, in ms. */
#define IPMI_DCMI_TIMEOUT_MS 1000
/* Failed reads in a row that hold the last good reading before the channel is lost:
 * busy BMCs answer "node busy" (0xC0) or time out now and then. */
#define IPMI_DCMI_MAX_FAILURES 3
/* The BMC averages over its statistics period and answers slowly: read once a second. */
#define IPMI_DCMI_PERIOD_NS 1000000000ull

struct ipmi_dcmi {
    /* Settings; 0 means the default above. A test may set them before open(). */
    unsigned timeout_ms;
    unsigned max_failures;
    /* State. */
    int fd;            /* the IPMI device when have_fd */
    int have_fd;       /* a zeroed (never opened) state closes nothing */
    long msgid;        /* of the last request; a late answer to an earlier one is dropped */
    uint16_t last_w;   /* the last good reading, whole watts */
    unsigned failures; /* failed reads in a row */
    uint64_t n_failed; /* failed reads in all */
    int lost_err;      /* once the channel is lost: its error; read() stops asking */
    size_t notes_base; /* length of s->notes after open(); read() rewrites what follows */
};

#endif
