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

#include "fake_tool.h"

#define FAKE_MAX_FILES 32
#define FAKE_MAX_RATE_UW 10000000000u /* 10 kW: rate × ns stays within 64 bits */
#define FAKE_MAX_START_UJ (UINT64_C(1) << 62)
#define FAKE_WIDTH 20 /* UINT64_MAX has 20 digits */

struct fake_file {
    const char *path;
    int fd;
    uint64_t rate_uw;
    uint64_t start_uj;
};

/* Fills files from FILE RATE_UW START_UJ triples. Returns how many, or -1. */
static int parse_args(struct fake_file *files, int nargs, char **args)
{
    if (nargs < 3 || nargs % 3 != 0 || nargs / 3 > FAKE_MAX_FILES)
        return -1;
    for (int i = 0; i < nargs / 3; i++) {
        struct fake_file *f = &files[i];
        f->path = args[3 * i];
        f->fd = -1;
        if (fake_parse_u64(args[3 * i + 1], 10, &f->rate_uw) < 0 || f->rate_uw > FAKE_MAX_RATE_UW ||
            fake_parse_u64(args[3 * i + 2], 10, &f->start_uj) < 0 ||
            f->start_uj > FAKE_MAX_START_UJ)
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

struct fake_files {
    const struct fake_file *files;
    int n;
};

static int write_all(void *ctx, uint64_t elapsed_ns)
{
    const struct fake_files *all = ctx;
    char buf[FAKE_WIDTH + 8];
    uint64_t s = elapsed_ns / NS_PER_S, rem_ns = elapsed_ns % NS_PER_S;
    for (int i = 0; i < all->n; i++) {
        const struct fake_file *f = &all->files[i];
        uint64_t v = f->start_uj + f->rate_uw * s + f->rate_uw * rem_ns / NS_PER_S;
        int len = snprintf(buf, sizeof(buf), "%*" PRIu64 "\n", FAKE_WIDTH, v);
        if (pwrite(f->fd, buf, (size_t)len, 0) != len) {
            fprintf(stderr, "fake_hwmon: cannot write '%s': %s\n", f->path, strerror(errno));
            return -1;
        }
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
    struct fake_files all = { files, n };
    int status = 0;
    for (int i = 0; i < n && status == 0; i++)
        status = open_file(&files[i]) < 0 ? 1 : 0;
    if (status == 0)
        status = fake_run(write_all, &all);
    for (int i = 0; i < n; i++)
        if (files[i].fd >= 0)
            close(files[i].fd);
    return status;
}
