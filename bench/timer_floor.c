/* The floor under any sampler on this machine: a thread that only waits on a timerfd at
 * the given rate and does nothing else. Prints the CPU time it used per second of wall
 * time, as a share of one core, so the sampler's cost can be told apart from the cost
 * of waking up at all (high in VMs).
 * usage: timer_floor HZ SECONDS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: timer_floor HZ SECONDS\n");
        return 2;
    }
    char *end;
    long hz = strtol(argv[1], &end, 10);
    if (*end || hz <= 0 || hz > 100000)
        return 2;
    double seconds = strtod(argv[2], &end);
    if (*end || seconds <= 0)
        return 2;
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (fd < 0)
        return 1;
    long ns = 1000000000L / hz;
    struct itimerspec its = { { ns / 1000000000L, ns % 1000000000L },
                              { ns / 1000000000L, ns % 1000000000L } };
    timerfd_settime(fd, 0, &its, NULL);
    uint64_t ticks = 0, n;
    uint64_t want = (uint64_t)(seconds * (double)hz);
    while (ticks < want && read(fd, &n, sizeof(n)) == sizeof(n))
        ticks += n;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("%.6f\n", cpu / seconds);
    return 0;
}
