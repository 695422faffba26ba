/* What the fake counter tools (fake_powercap, fake_hwmon, fake_msr) share: number
 * parsing, the clock, and the loop that rewrites their files every 1 ms until SIGTERM or
 * SIGINT. Standalone test tools, not the library. */
#ifndef WATTPROF_FAKE_TOOL_H
#define WATTPROF_FAKE_TOOL_H

#include <stdint.h>

#define FAKE_PERIOD_NS 1000000u /* 1 ms, RAPL's update interval */
#define NS_PER_S 1000000000u

/* An unsigned number in base (10, or 0 for 0x hex too), no sign, no overflow; trailing
 * spaces and newlines allowed. Returns 0 or -1. */
int fake_parse_u64(const char *s, int base, uint64_t *out);

/* CLOCK_MONOTONIC in ns. */
uint64_t fake_now_ns(void);

/* Calls write_all(ctx, elapsed ns) once, prints "ready" on stdout, then calls it every
 * FAKE_PERIOD_NS on absolute deadlines until SIGTERM or SIGINT. write_all returns 0 or
 * -1 (it has said why on stderr). Returns the exit status: 0 after a signal, 1 on an
 * error. */
int fake_run(int (*write_all)(void *ctx, uint64_t elapsed_ns), void *ctx);

#endif
