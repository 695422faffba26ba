/* Helpers shared by every sensor backend: error messages, channel slots, the clock. */
#include "sensor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
