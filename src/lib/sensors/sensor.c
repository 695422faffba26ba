/* Helpers shared by every sensor backend: error messages, channel slots, the clock. */
#include "sensor.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sensor_errorf(struct sensor *s, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

void sensor_vappend_line(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t len = strlen(buf);
    if (len + 2 >= size)
        return;
    if (len > 0)
        buf[len++] = '\n';
    vsnprintf(buf + len, size - len, fmt, ap);
}

void sensor_notef(struct sensor *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sensor_vappend_line(s->notes, sizeof(s->notes), fmt, ap);
    va_end(ap);
}

struct sensor_channel *sensor_add_channel(struct sensor *s, const char *name)
{
    if (s->n_channels >= SENSOR_MAX_CHANNELS)
        return NULL;
    struct sensor_channel *c = &s->channels[s->n_channels++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->scale_num = 1;
    c->scale_den = 1;
    return c;
}

uint64_t sensor_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sensor_read_each(struct sensor *s, uint64_t *values,
                     int (*read_one)(struct sensor *s, size_t i, uint64_t *value))
{
    int first_err = 0;
    size_t n_ok = 0;
    for (size_t i = 0; i < s->n_channels; i++) {
        int r = read_one(s, i, &values[i]);
        s->channels[i].read_err = r;
        if (r == 0)
            n_ok++;
        else if (first_err == 0)
            first_err = r;
    }
    return n_ok > 0 || s->n_channels == 0 ? 0 : first_err;
}

int sensor_counters_move(struct sensor *s, int (*read_all)(struct sensor *, uint64_t *),
                         const uint64_t *base)
{
    uint64_t now[SENSOR_MAX_CHANNELS];
    uint64_t start = sensor_now_ns();
    for (uint64_t next = start + SENSOR_LIVENESS_POLL_NS; next - start <= SENSOR_LIVENESS_SPIN_NS;
         next += SENSOR_LIVENESS_POLL_NS) {
        while (sensor_now_ns() < next) {
            /* busy: the point is to make the package consume energy */
        }
        int r = read_all(s, now);
        if (r < 0)
            return r;
        for (size_t i = 0; i < s->n_channels; i++) {
            if (now[i] != base[i])
                return 1;
        }
    }
    return 0;
}

/* The parent of pid from <proc_root>/<pid>/status, or -1. */
static int parent_of(const char *proc_root, int pid)
{
    char path[512];
    char buf[512];
    snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, "\nPPid:");
    if (!p)
        return -1;
    char *end;
    long ppid = strtol(p + 6, &end, 10);
    return end == p + 6 ? -1 : (int)ppid;
}

int sensor_pid_in_tree(const char *proc_root, int pid, int root)
{
    for (int depth = 0; depth < 128 && pid > 0; depth++) {
        if (pid == root)
            return 1;
        if (pid == 1)
            return 0;
        pid = parent_of(proc_root, pid);
    }
    return 0;
}
