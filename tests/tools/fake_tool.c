/* The loop and helpers the fake counter tools share (see fake_tool.h). */
#include "fake_tool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set by the signal handler only; a standalone tool, not the library. */
static volatile sig_atomic_t fake_stop;

static void on_signal(int sig)
{
    (void)sig;
    fake_stop = 1;
}

int fake_parse_u64(const char *s, int base, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    while (*end == '\n' || *end == ' ')
        end++;
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

uint64_t fake_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int fake_run(int (*write_all)(void *ctx, uint64_t elapsed_ns), void *ctx)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the sleep returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    uint64_t t0 = fake_now_ns(), next = t0;
    if (write_all(ctx, 0) < 0)
        return 1;
    printf("ready\n");
    if (fflush(stdout) != 0 || ferror(stdout))
        return 1;
    while (!fake_stop) {
        next += FAKE_PERIOD_NS;
        struct timespec ts = { .tv_sec = (time_t)(next / NS_PER_S),
                               .tv_nsec = (long)(next % NS_PER_S) };
        if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
            continue; /* EINTR: look at fake_stop */
        uint64_t now = fake_now_ns();
        if (write_all(ctx, now - t0) < 0)
            return 1;
        if (now > next + 100 * FAKE_PERIOD_NS)
            next = now; /* after a stall, do not write a burst to catch up */
    }
    return 0;
}
