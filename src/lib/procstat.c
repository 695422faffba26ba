/* Parsing of /proc/stat's aggregate CPU line (see procstat.h). */
#include "procstat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procstat_parse(const char *text, struct procstat_cpu *out)
{
    if (strncmp(text, "cpu ", 4) != 0)
        return -EINVAL;
    const char *p = text + 4;
    uint64_t f[10] = { 0 };
    int n = 0;
    while (n < 10) {
        char *end;
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            break;
        errno = 0;
        f[n] = strtoull(p, &end, 10);
        if (errno != 0)
            return -EINVAL;
        p = end;
        n++;
    }
    if (n < 4)
        return -EINVAL;
    /* user nice system idle iowait irq softirq steal guest guest_nice */
    out->busy_ticks = f[0] + f[1] + f[2] + f[5] + f[6];
    out->idle_ticks = f[3] + f[4];
    out->steal_ticks = f[7];
    out->n_cpus = 0;
    for (const char *q = strstr(p, "\ncpu"); q; q = strstr(q + 4, "\ncpu"))
        if (q[4] >= '0' && q[4] <= '9')
            out->n_cpus++;
    return 0;
}

int procstat_read_fd(int fd, struct procstat_cpu *out)
{
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return procstat_parse(buf, out);
}

uint64_t procstat_ticks_to_ns(uint64_t ticks)
{
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    return ticks * (1000000000ull / (uint64_t)hz);
}
