/* Host metadata for the run record: CPU model, CPU count, memory, kernel. */
#include "host.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int host_proc_field(const char *path, const char *key, char *out, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[512];
    size_t klen = strlen(key);
    int found = -1;
    while (found < 0 && fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        char *colon = line + klen + strspn(line + klen, " \t");
        if (*colon != ':')
            continue; /* "model name" when looking for "model" */
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        snprintf(out, size, "%s", v);
        found = 0;
    }
    fclose(f);
    return found;
}

void host_read(const char *proc_root, struct host_info *h)
{
    char path[4096];
    char buf[128];
    memset(h, 0, sizeof(*h));
    snprintf(path, sizeof(path), "%s/cpuinfo", proc_root);
    host_proc_field(path, "model name", h->cpu_model, sizeof(h->cpu_model));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    h->logical_cpus = n > 0 ? (unsigned)n : 0;
    snprintf(path, sizeof(path), "%s/meminfo", proc_root);
    unsigned long long kb = 0;
    if (host_proc_field(path, "MemTotal", buf, sizeof(buf)) == 0 && sscanf(buf, "%llu", &kb) == 1)
        h->memory_bytes = (uint64_t)kb * 1024;
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
        snprintf(h->hostname, sizeof(h->hostname), "%s", u.nodename);
    }
}
