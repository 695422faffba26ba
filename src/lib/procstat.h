/* The machine's CPU time from /proc/stat: busy, idle and steal, for attribution and
 * for the model backend. */
#ifndef WATTPROF_PROCSTAT_H
#define WATTPROF_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>

/* Aggregate CPU time of all CPUs, in USER_HZ ticks. */
struct procstat_cpu {
    uint64_t busy_ticks;  /* user + nice + system + irq + softirq (guest is in user) */
    uint64_t idle_ticks;  /* idle + iowait */
    uint64_t steal_ticks; /* time the hypervisor gave to other guests: not ours */
    unsigned n_cpus;      /* number of "cpuN" lines seen in the buffer (0 if cut) */
};

/* Parses the text of /proc/stat (at least its first line). Returns 0 or -EINVAL. */
int procstat_parse(const char *text, struct procstat_cpu *out);

/* Reads <proc_root>/stat through an fd kept open by the caller (pread at 0, no
 * allocation; only the first line is needed). Returns 0 or a negative errno. */
int procstat_read_fd(int fd, struct procstat_cpu *out);

/* Converts ticks to ns with sysconf(_SC_CLK_TCK). */
uint64_t procstat_ticks_to_ns(uint64_t ticks);

#endif
