/* fake_msr: makes fake /dev/cpu/N/msr files (sparse regular files) count like RAPL's
 * 32-bit energy status registers, for end-to-end tests that point WATTPROF_DEVFS at a
 * fake tree.
 *
 *   fake_msr FILE MSR RATE START [FILE MSR RATE START]...
 *
 * MSR is a register number (0x611, or decimal); RATE is counts per second; START the
 * first value. Every 1 ms each FILE gets (START + RATE × elapsed s) mod 2^32 as 8
 * little-endian bytes at offset MSR, elapsed on CLOCK_MONOTONIC since the start: a START
 * near 2^32 makes the counter wrap mid-run; RATE 0 writes a constant (the unit register).
 * Files are created when missing and never truncated, since readers keep their fds open.
 * Prints "ready" on stdout after the first write; runs until SIGTERM or SIGINT.
 * Exit status: 0 after a signal, 1 on an error, 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_tool.h"

#define FAKE_MAX_REGS 32
#define FAKE_MAX_RATE 1000000000u /* counts/s: rate × ns stays within 64 bits for years */

struct fake_reg {
    const char *file;
    int fd;
    uint64_t msr;
    uint64_t rate;
    uint64_t start;
};

static int write_reg(const struct fake_reg *r, uint64_t elapsed_ns)
{
    unsigned char b[8];
    __extension__ typedef unsigned __int128 u128;
    uint64_t v = (r->start + (uint64_t)((u128)r->rate * elapsed_ns / NS_PER_S)) & 0xffffffffu;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    if (pwrite(r->fd, b, sizeof(b), (off_t)r->msr) != (ssize_t)sizeof(b)) {
        fprintf(stderr, "fake_msr: cannot write '%s' at 0x%llx: %s\n", r->file,
                (unsigned long long)r->msr, strerror(errno));
        return -1;
    }
    return 0;
}

struct fake_regs {
    const struct fake_reg *regs;
    size_t n;
};

static int write_all(void *ctx, uint64_t elapsed_ns)
{
    const struct fake_regs *all = ctx;
    for (size_t i = 0; i < all->n; i++)
        if (write_reg(&all->regs[i], elapsed_ns) < 0)
            return -1;
    return 0;
}

static int parse_args(int argc, char **argv, struct fake_reg *regs, size_t *n)
{
    if (argc < 5 || (argc - 1) % 4 != 0 || (size_t)(argc - 1) / 4 > FAKE_MAX_REGS)
        return -1;
    *n = 0;
    for (int i = 1; i < argc; i += 4) {
        struct fake_reg *r = &regs[(*n)++];
        r->file = argv[i];
        if (fake_parse_u64(argv[i + 1], 0, &r->msr) < 0 ||
            fake_parse_u64(argv[i + 2], 0, &r->rate) < 0 ||
            fake_parse_u64(argv[i + 3], 0, &r->start) < 0 || r->rate > FAKE_MAX_RATE)
            return -1;
        r->fd = open(r->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (r->fd < 0) {
            fprintf(stderr, "fake_msr: cannot open '%s': %s\n", r->file, strerror(errno));
            return -2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct fake_reg regs[FAKE_MAX_REGS];
    size_t n;
    int r = parse_args(argc, argv, regs, &n);
    if (r == -1) {
        fprintf(stderr, "usage: fake_msr FILE MSR RATE START [FILE MSR RATE START]...\n");
        return 2;
    }
    if (r < 0)
        return 1;
    struct fake_regs all = { regs, n };
    return fake_run(write_all, &all);
}
