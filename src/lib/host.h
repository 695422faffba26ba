/* What a run records about the machine it ran on. */
#ifndef WATTPROF_HOST_H
#define WATTPROF_HOST_H

#include <stddef.h>
#include <stdint.h>

struct host_info {
    char hostname[128];
    char cpu_model[128];
    unsigned logical_cpus;
    uint64_t memory_bytes;
    char kernel[128];
};

/* Copies the value of the first "key : value" line of a /proc file (cpuinfo, meminfo)
 * into out; the key must match whole ("model" is not "model name"). Returns 0, or -1
 * when the file or the key is missing. */
int host_proc_field(const char *path, const char *key, char *out, size_t size);

/* Fills *h from <proc_root>/cpuinfo, <proc_root>/meminfo and uname(2). Missing pieces
 * are left empty or 0; never fails. */
void host_read(const char *proc_root, struct host_info *h);

#endif
