/* The context: where sensors are read from, and the open sensors (see wattprof.h). */
#ifndef WATTPROF_CTX_H
#define WATTPROF_CTX_H

#include <limits.h>

#include "accounting.h"
#include "sensors.h"
#include "wattprof.h"

struct wattprof_ctx {
    char sysfs_root[PATH_MAX];
    char proc_root[PATH_MAX];
    char cgroup_root[PATH_MAX]; /* $WATTPROF_CGROUPFS, else <sysfs_root>/fs/cgroup */
    char dev_root[PATH_MAX];    /* $WATTPROF_DEVFS, else /dev */
    char data_dir[PATH_MAX];
    char only[256];               /* backend filter, "" for all */
    const struct sensor_sys *sys; /* NULL: real system calls (tests set fakes) */
    struct sensor_config cfg;     /* points into the strings below */
    char nvml_lib[PATH_MAX];
    char cuda_visible[1024];
    char hwmon[256];
    char meter_cmd[1024];
    char ptd_addr[256];
    char replay_path[PATH_MAX]; /* --replay FILE, or $WATTPROF_REPLAY */
    char ipmi_dev[PATH_MAX];
    char daemon_socket[PATH_MAX];   /* "" : the daemon backend is not tried */
    char required[256];             /* backends that must work (--require) */
    struct accounting_settings acc; /* checked at session start */
    int opened;
    struct sensors sensors;
    char errmsg[2048];
};

/* Formats ctx->errmsg and returns err. */
int ctx_errorf(struct wattprof_ctx *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Where the context's backends read from (strings borrowed from ctx). */
void ctx_sensors_env(const struct wattprof_ctx *ctx, struct sensors_env *env);

/* Names for the enums, as they appear in JSON and in `wattprof sensors`. */
const char *ctx_kind_name(enum sensor_kind k);
const char *ctx_provenance_name(enum sensor_provenance p);

/* Fills a public channel description from a backend channel. */
void ctx_channel_info(const struct sensor *s, const struct sensor_channel *ch,
                      struct wattprof_channel_info *out);

#endif
