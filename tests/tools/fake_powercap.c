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

#include "fake_tool.h"

#define FAKE_MAX_ZONES 32
#define FAKE_DEFAULT_RANGE_UJ 262143328850u
#define FAKE_MAX_RATE_UW 10000000000u /* 10 kW: rate × ns stays within 64 bits */
#define FAKE_MAX_RANGE_UJ (UINT64_C(1) << 62)
#define FAKE_MAX_WIDTH 24

struct fake_zone {
    const char *dir;
    int fd;
    uint64_t rate_uw;
    uint64_t start_uj;
    uint64_t range_uj;
    int width; /* characters before the "\n" */
};

/* max_energy_range_uj of the zone, or the Intel package default. */
static uint64_t default_range(const char *dir)
{
    char path[4096], buf[64];
    uint64_t v = 0;
    snprintf(path, sizeof(path), "%s/max_energy_range_uj", dir);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return FAKE_DEFAULT_RANGE_UJ;
    if (fgets(buf, sizeof(buf), f) == NULL || fake_parse_u64(buf, 10, &v) < 0 || v == 0)
        v = FAKE_DEFAULT_RANGE_UJ;
    fclose(f);
    return v;
}

static int parse_zone(struct fake_zone *z, char **arg, int n)
{
    z->dir = arg[0];
    z->fd = -1;
    z->start_uj = 0;
    if (fake_parse_u64(arg[1], 10, &z->rate_uw) < 0 || z->rate_uw > FAKE_MAX_RATE_UW)
        return -1;
    if (n > 2 && fake_parse_u64(arg[2], 10, &z->start_uj) < 0)
        return -1;
    if (n > 3 && fake_parse_u64(arg[3], 10, &z->range_uj) < 0)
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

struct fake_zones {
    const struct fake_zone *zones;
    int n;
};

static int write_all(void *ctx, uint64_t elapsed_ns)
{
    const struct fake_zones *all = ctx;
    for (int i = 0; i < all->n; i++)
        if (write_zone(&all->zones[i], elapsed_ns) < 0)
            return -1;
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

    struct fake_zones all = { zones, n };
    int status = 0;
    for (int i = 0; i < n && status == 0; i++)
        status = open_zone(&zones[i]) < 0 ? 1 : 0;
    if (status == 0)
        status = fake_run(write_all, &all);
    for (int i = 0; i < n; i++)
        if (zones[i].fd >= 0)
            close(zones[i].fd);
    return status;
}
