/* fake_powercap: makes the energy_uj files of fake powercap zones count like RAPL, for
 * end-to-end tests that point WATTPROF_SYSFS at a fixture copy.
 *
 *   fake_powercap ZONE_DIR RATE_UW [START_UJ [MAX_RANGE_UJ]]
 *   fake_powercap ZONE_DIR RATE_UW START_UJ MAX_RANGE_UJ [ZONE_DIR RATE_UW START_UJ MAX_UJ]...
 *
 * Every 1 ms each ZONE_DIR/energy_uj gets (START_UJ + RATE_UW × elapsed s) mod
 * MAX_RANGE_UJ, elapsed on CLOCK_MONOTONIC since the start: a START_UJ near the range
 * makes the counter wrap mid-run. MAX_RANGE_UJ defaults to the zone's
 * max_energy_range_uj, or 262143328850. The value is written in place with pwrite at
 * offset 0, fixed width, space-padded, "\n"-terminated, and the file is never truncated
 * or renamed, because readers keep their fd open as they do on sysfs. (Unlike sysfs, a
 * reader racing a write on a regular file may in rare cases see a torn value.)
 * Prints "ready" on stdout after the first write; runs until SIGTERM or SIGINT.
 * Exit status: 0 after a signal, 1 on an error, 2 on a usage error. */
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

#define FAKE_MAX_ZONES 32
#define FAKE_PERIOD_NS 1000000u /* 1 ms, RAPL's update interval */
#define FAKE_DEFAULT_RANGE_UJ 262143328850u
#define FAKE_MAX_RATE_UW 10000000000u /* 10 kW: rate × ns stays within 64 bits */
#define FAKE_MAX_RANGE_UJ (UINT64_C(1) << 62)
#define FAKE_MAX_WIDTH 24
#define NS_PER_S 1000000000u

struct fake_zone {
    const char *dir;
    int fd;
    uint64_t rate_uw;
    uint64_t start_uj;
    uint64_t range_uj;
    int width; /* characters before the "\n" */
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
    while (*end == '\n' || *end == ' ')
        end++;
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

/* max_energy_range_uj of the zone, or the Intel package default. */
static uint64_t default_range(const char *dir)
{
    char path[4096], buf[64];
    uint64_t v = 0;
    snprintf(path, sizeof(path), "%s/max_energy_range_uj", dir);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return FAKE_DEFAULT_RANGE_UJ;
    if (fgets(buf, sizeof(buf), f) == NULL || parse_u64(buf, &v) < 0 || v == 0)
        v = FAKE_DEFAULT_RANGE_UJ;
    fclose(f);
    return v;
}

static int parse_zone(struct fake_zone *z, char **arg, int n)
{
    z->dir = arg[0];
    z->fd = -1;
    z->start_uj = 0;
    if (parse_u64(arg[1], &z->rate_uw) < 0 || z->rate_uw > FAKE_MAX_RATE_UW)
        return -1;
    if (n > 2 && parse_u64(arg[2], &z->start_uj) < 0)
        return -1;
    if (n > 3 && parse_u64(arg[3], &z->range_uj) < 0)
        return -1;
    if (n <= 3)
        z->range_uj = default_range(z->dir);
    return z->range_uj > 0 && z->range_uj <= FAKE_MAX_RANGE_UJ ? 0 : -1;
}

/* Opens energy_uj for writing and picks a width that covers both the largest value and
 * whatever the file holds now, so no old digit survives after the "\n". */
static int open_zone(struct fake_zone *z)
{
    char path[4096], digits[32];
    struct stat st;
    snprintf(path, sizeof(path), "%s/energy_uj", z->dir);
    z->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (z->fd < 0 || fstat(z->fd, &st) < 0) {
        fprintf(stderr, "fake_powercap: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    z->width = snprintf(digits, sizeof(digits), "%" PRIu64, z->range_uj - 1);
    if (st.st_size - 1 > z->width)
        z->width = (int)(st.st_size - 1);
    if (z->width > FAKE_MAX_WIDTH) {
        fprintf(stderr, "fake_powercap: '%s' holds %lld bytes, more than a counter\n", path,
                (long long)st.st_size);
        return -1;
    }
    return 0;
}

static uint64_t zone_value(const struct fake_zone *z, uint64_t elapsed_ns)
{
    uint64_t s = elapsed_ns / NS_PER_S, rem_ns = elapsed_ns % NS_PER_S;
    uint64_t energy = z->rate_uw * s + z->rate_uw * rem_ns / NS_PER_S;
    return (z->start_uj % z->range_uj + energy % z->range_uj) % z->range_uj;
}

static int write_zone(const struct fake_zone *z, uint64_t elapsed_ns)
{
    char buf[FAKE_MAX_WIDTH + 8];
    int n = snprintf(buf, sizeof(buf), "%*" PRIu64 "\n", z->width, zone_value(z, elapsed_ns));
    if (pwrite(z->fd, buf, (size_t)n, 0) != n) {
        fprintf(stderr, "fake_powercap: cannot write '%s/energy_uj': %s\n", z->dir,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int write_all(const struct fake_zone *zones, int n, uint64_t elapsed_ns)
{
    for (int i = 0; i < n; i++)
        if (write_zone(&zones[i], elapsed_ns) < 0)
            return -1;
    return 0;
}

/* Writes every FAKE_PERIOD_NS on absolute deadlines until a signal arrives. */
static int run(const struct fake_zone *zones, int n)
{
    uint64_t t0 = now_ns(), next = t0;
    if (write_all(zones, n, 0) < 0)
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
        if (write_all(zones, n, now - t0) < 0)
            return 1;
        if (now > next + 100 * FAKE_PERIOD_NS)
            next = now; /* after a stall, do not write a burst to catch up */
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: fake_powercap ZONE_DIR RATE_UW [START_UJ [MAX_RANGE_UJ]]\n"
                    "       fake_powercap ZONE_DIR RATE_UW START_UJ MAX_UJ "
                    "[ZONE_DIR RATE_UW START_UJ MAX_UJ]...\n");
    return 2;
}

/* Fills zones from the command line. Returns how many, or -1 on a usage error. */
static int parse_args(struct fake_zone *zones, int nargs, char **args)
{
    if (nargs == 2 || nargs == 3)
        return parse_zone(&zones[0], args, nargs) < 0 ? -1 : 1;
    if (nargs < 4 || nargs % 4 != 0 || nargs / 4 > FAKE_MAX_ZONES)
        return -1;
    for (int i = 0; i < nargs / 4; i++)
        if (parse_zone(&zones[i], args + 4 * i, 4) < 0)
            return -1;
    return nargs / 4;
}

int main(int argc, char **argv)
{
    struct fake_zone zones[FAKE_MAX_ZONES];
    int n = parse_args(zones, argc - 1, argv + 1);
    if (n <= 0)
        return usage();

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the sleep returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int status = 0;
    for (int i = 0; i < n && status == 0; i++)
        status = open_zone(&zones[i]) < 0 ? 1 : 0;
    if (status == 0)
        status = run(zones, n);
    for (int i = 0; i < n; i++)
        if (zones[i].fd >= 0)
            close(zones[i].fd);
    return status;
}
