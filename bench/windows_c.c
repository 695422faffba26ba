/* Cost of a window begin/end pair from C: in-process (every edge reads all counters and
 * the CPU times), back to back and 20 ms apart, and remote (a tracker under a run: two
 * lines on the control socket).
 * usage: windows_c [PAIRS]   (uses the sensors this machine has; WATTPROF_SENSORS works) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wattprof.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median ns of a begin/end pair over n pairs, gap_ms apart (0: back to back). */
static double pairs(struct wattprof_tracker *t, int n, double *samples, long gap_ms)
{
    for (int i = 0; i < n; i++) {
        uint64_t id;
        if (gap_ms > 0) {
            struct timespec gap = { 0, gap_ms * 1000000L };
            nanosleep(&gap, NULL);
        }
        double a = now_ns();
        wattprof_tracker_window_begin(t, "w", &id);
        wattprof_tracker_window_end(t, id);
        samples[i] = now_ns() - a;
    }
    qsort(samples, (size_t)n, sizeof(double), cmp);
    return samples[n / 2];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2000;
    if (n <= 0)
        n = 2000;
    double *samples = malloc((size_t)n * sizeof(double));
    struct wattprof_tracker *t;
    unsetenv("WATTPROF_CONTROL");
    if (!samples || wattprof_tracker_open(&t) < 0) {
        fprintf(stderr, "windows_c: %s\n", t ? wattprof_tracker_errmsg(t) : "out of memory");
        return 1;
    }
    printf("in-process: median %.2f us per begin/end pair (%d pairs)\n",
           pairs(t, n, samples, 0) / 1000, n);
    /* pairs 20 ms apart: every begin is more than a /proc/stat tick after the last read,
     * so it reads the file (back to back, an edge may reuse a reading of the same tick) */
    int spaced = n < 200 ? n : 200;
    printf("in-process, pairs 20 ms apart: median %.2f us per begin/end pair (%d pairs)\n",
           pairs(t, spaced, samples, 20) / 1000, spaced);
    wattprof_tracker_free(t);

    struct wattprof_ctx *ctx;
    struct wattprof_session *s;
    const char *addr;
    wattprof_ctx_new(&ctx);
    wattprof_ctx_open_sensors(ctx);
    wattprof_session_new(ctx, &s);
    wattprof_session_start(s);
    wattprof_session_control_start(s, &addr);
    setenv("WATTPROF_CONTROL", addr, 1);
    wattprof_tracker_open(&t);
    printf("remote (under wattprof run): median %.2f us per begin/end pair (%d pairs)\n",
           pairs(t, n, samples, 0) / 1000, n);
    printf("remote, pairs 20 ms apart: median %.2f us per begin/end pair (%d pairs)\n",
           pairs(t, spaced, samples, 20) / 1000, spaced);
    wattprof_tracker_free(t);
    wattprof_session_free(s);
    wattprof_ctx_free(ctx);
    free(samples);
    return 0;
}
