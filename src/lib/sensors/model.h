/* The model backend's private state (s->priv of model_sensor_ops), declared here so
 * that tests can give it a fake clock. Nothing else should look inside. */
#ifndef WATTPROF_MODEL_H
#define WATTPROF_MODEL_H

#include <stdint.h>

#include "procstat.h"

enum model_cpu_kind {
    MODEL_CPU_LINEAR,    /* n_vcpu x (min + u x (max - min)), integrated exactly */
    MODEL_CPU_TDP_CURVE, /* TDP x sockets x Teads curve(u), per interval between reads */
};

struct model {
    /* The clock, in ns. open() sets sensor_now_ns; a test may replace it after open()
     * and before the first read(). */
    uint64_t (*now_ns)(void);
    int stat_fd;      /* <proc_root>/stat, kept open for read(); -1 when closed */
    uint64_t clk_tck; /* USER_HZ: /proc/stat ticks per second */
    unsigned n_vcpu;  /* "cpuN" lines in /proc/stat */
    unsigned n_sockets;
    enum model_cpu_kind kind;
    uint64_t min_uw; /* MODEL_CPU_LINEAR: power of one vCPU, idle and busy */
    uint64_t max_uw;
    uint64_t tdp_mw; /* MODEL_CPU_TDP_CURVE: TDP of one socket */
    uint64_t mem_uw; /* memory power; 0 when there is no memory channel */
    /* read() state. The first read() is the origin: energies count from it. */
    int started;
    uint64_t t0_ns;
    uint64_t busy0_ticks;
    uint64_t last_ns;
    uint64_t last_busy_ticks;
    uint64_t last_idle_ticks;
    uint64_t curve_f_ppm; /* TDP curve: fraction of TDP of the last interval, ppm */
    uint64_t curve_nj;    /* TDP curve: energy since the origin, nJ */
    /* The last /proc/stat reading and when it was taken (model clock): a read within
     * one USER_HZ tick of it (a window edge right after a tick, or the next edge of a
     * short window) uses it again, since /proc/stat counts in whole ticks. */
    struct procstat_cpu last_stat;
    uint64_t stat_read_ns;
    int have_stat;
};

#endif
