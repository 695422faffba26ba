/* fake_hwmon: makes hwmon energy files (energyN_input, µJ) of a fake /sys tree count at
 * known rates, for end-to-end tests that point WATTPROF_SYSFS at a fixture copy. It is
 * fake_powercap for any file name and without wraps (hwmon energy counters are 64-bit
 * accumulations in the drivers).
 *
 *   fake_hwmon FILE RATE_UW START_UJ [FILE RATE_UW START_UJ]...
 *
 * Every 1 ms each FILE gets START_UJ + RATE_UW × elapsed s, elapsed on CLOCK_MONOTONIC
 * since the start. The value is written in place with pwrite at offset 0, 20 digits
 * wide, space-padded, "\n"-terminated; the file is never truncated or renamed, because
 * readers keep their fd open as they do on sysfs. Power gauges need no helper: a test
 * writes the constant power once. Prints "ready" on stdout after the first write; runs
 * until SIGTERM or SIGINT. Exit status: 0 after a signal, 1 on an error, 2 on a usage
 * error. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAKE_MAX_FILES 32
#define FAKE_PERIOD_NS 1000000u       /* 1 ms */
#define FAKE_MAX_RATE_UW 10000000000u /* 10 kW: rate × ns stays within 64 bits */
#define FAKE_MAX_START_UJ (UINT64_C(1) << 62)
#define FAKE_WIDTH 20 /* UINT64_MAX has 20 digits */
#define NS_PER_S 1000000000u

struct fake_file {
    const char *path;
    int fd;
    uint64_t rate_uw;
    uint64_t start_uj;
};

/* Set by the signal handler only; a standalone tool, not the library. */
static volatile sig_atomic_t fake_stop;

static void on_signal(int sig)
{
    (void)sig;
    fake_stop = 1;
}

/* Decimal digits only, no sign, no overflow. Returns 0 or -1. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Fills files from FILE RATE_UW START_UJ triples. Returns how many, or -1. */
static int parse_args(struct fake_file *files, int nargs, char **args)
{
    if (nargs < 3 || nargs % 3 != 0 || nargs / 3 > FAKE_MAX_FILES)
        return -1;
    for (int i = 0; i < nargs / 3; i++) {
        struct fake_file *f = &files[i];
        f->path = args[3 * i];
        f->fd = -1;
        if (parse_u64(args[3 * i + 1], &f->rate_uw) < 0 || f->rate_uw > FAKE_MAX_RATE_UW ||
            parse_u64(args[3 * i + 2], &f->start_uj) < 0 || f->start_uj > FAKE_MAX_START_UJ)
            return -1;
    }
    return nargs / 3;
}

/* Opens FILE for writing; its old content must fit under the fixed width. */
static int open_file(struct fake_file *f)
{
    struct stat st;
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (f->fd < 0 || fstat(f->fd, &st) < 0) {
        fprintf(stderr, "fake_hwmon: cannot open '%s': %s\n", f->path, strerror(errno));
        return -1;
    }
    if (st.st_size > FAKE_WIDTH + 1) {
        fprintf(stderr, "fake_hwmon: '%s' holds %lld bytes, more than a counter\n", f->path,
                (long long)st.st_size);
        return -1;
    }
    return 0;
}

static int write_all(const struct fake_file *files, int n, uint64_t elapsed_ns)
{
    char buf[FAKE_WIDTH + 8];
    uint64_t s = elapsed_ns / NS_PER_S, rem_ns = elapsed_ns % NS_PER_S;
    for (int i = 0; i < n; i++) {
        const struct fake_file *f = &files[i];
        uint64_t v = f->start_uj + f->rate_uw * s + f->rate_uw * rem_ns / NS_PER_S;
        int len = snprintf(buf, sizeof(buf), "%*" PRIu64 "\n", FAKE_WIDTH, v);
        if (pwrite(f->fd, buf, (size_t)len, 0) != len) {
            fprintf(stderr, "fake_hwmon: cannot write '%s': %s\n", f->path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Writes every FAKE_PERIOD_NS on absolute deadlines until a signal arrives. */
static int run(const struct fake_file *files, int n)
{
    uint64_t t0 = now_ns(), next = t0;
    if (write_all(files, n, 0) < 0)
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
        uint64_t now = now_ns();
        if (write_all(files, n, now - t0) < 0)
            return 1;
        if (now > next + 100 * FAKE_PERIOD_NS)
            next = now; /* after a stall, do not write a burst to catch up */
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct fake_file files[FAKE_MAX_FILES];
    int n = parse_args(files, argc - 1, argv + 1);
    if (n <= 0) {
        fprintf(stderr, "usage: fake_hwmon FILE RATE_UW START_UJ [FILE RATE_UW START_UJ]...\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the sleep returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int status = 0;
    for (int i = 0; i < n && status == 0; i++)
        status = open_file(&files[i]) < 0 ? 1 : 0;
    if (status == 0)
        status = run(files, n);
    for (int i = 0; i < n; i++)
        if (files[i].fd >= 0)
            close(files[i].fd);
    return status;
}
