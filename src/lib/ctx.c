/* The context: settings from the environment, opening the sensors, and describing
 * what was found (see wattprof.h). */
#include "ctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_proto.h"
#include "sampler.h"

int ctx_errorf(struct wattprof_ctx *ctx, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

static void env_or(char *dst, size_t size, const char *var, const char *fallback)
{
    const char *v = getenv(var);
    snprintf(dst, size, "%s", v && *v ? v : fallback);
}

/* The accounting settings from the environment (docs/accounting.md). */
static const struct {
    const char *env;
    const char *key;
} acc_env[] = {
    { "WATTPROF_COUNTRY", "country" },
    { "WATTPROF_REGION", "region" },
    { "WATTPROF_CLOUD", "cloud" },
    { "WATTPROF_PUE", "pue" },
    { "WATTPROF_INTENSITY", "intensity" },
    { "WATTPROF_INTENSITY_SERIES", "intensity-series" },
    { "WATTPROF_PRICE", "price" },
    { "WATTPROF_CURRENCY", "currency" },
    { "WATTPROF_EMBODIED_KG", "embodied-kg" },
};

static void acc_from_env(struct wattprof_ctx *ctx)
{
    for (size_t i = 0; i < sizeof(acc_env) / sizeof(acc_env[0]); i++) {
        size_t size;
        char *dst = accounting_setting(&ctx->acc, acc_env[i].key, &size);
        const char *v = getenv(acc_env[i].env);
        if (v && strlen(v) < size)
            snprintf(dst, size, "%s", v);
    }
}

WATTPROF_API int wattprof_ctx_new(struct wattprof_ctx **out)
{
    struct wattprof_ctx *ctx = calloc(1, sizeof(*ctx));
    *out = ctx;
    if (!ctx)
        return -ENOMEM;
    env_or(ctx->sysfs_root, sizeof(ctx->sysfs_root), "WATTPROF_SYSFS", "/sys");
    env_or(ctx->proc_root, sizeof(ctx->proc_root), "WATTPROF_PROCFS", "/proc");
    const char *cgfs = getenv("WATTPROF_CGROUPFS");
    if (cgfs && *cgfs)
        snprintf(ctx->cgroup_root, sizeof(ctx->cgroup_root), "%s", cgfs);
    else
        snprintf(ctx->cgroup_root, sizeof(ctx->cgroup_root), "%.*s/fs/cgroup", PATH_MAX - 16,
                 ctx->sysfs_root);
    env_or(ctx->dev_root, sizeof(ctx->dev_root), "WATTPROF_DEVFS", "/dev");
    /* installed data first; a build that was never installed reads the source tree's */
    const char *data =
        access(WATTPROF_DATADIR, R_OK) == 0 ? WATTPROF_DATADIR : WATTPROF_SOURCE_DATADIR;
    env_or(ctx->data_dir, sizeof(ctx->data_dir), "WATTPROF_DATA", data);
    env_or(ctx->only, sizeof(ctx->only), "WATTPROF_SENSORS", "");
    env_or(ctx->nvml_lib, sizeof(ctx->nvml_lib), "WATTPROF_NVML_LIB", "");
    env_or(ctx->ipmi_dev, sizeof(ctx->ipmi_dev), "WATTPROF_IPMI_DEV", "/dev/ipmi0");
    env_or(ctx->replay_path, sizeof(ctx->replay_path), "WATTPROF_REPLAY", "");
    ctx->cfg.replay_path = ctx->replay_path[0] ? ctx->replay_path : NULL;
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
    snprintf(ctx->cuda_visible, sizeof(ctx->cuda_visible), "%s", cvd ? cvd : "");
    ctx->cfg.nvml_lib = ctx->nvml_lib[0] ? ctx->nvml_lib : NULL;
    ctx->cfg.cuda_visible_devices = cvd ? ctx->cuda_visible : NULL;
    ctx->cfg.ipmi_dev = ctx->ipmi_dev;
    daemon_proto_client_path(ctx->daemon_socket, sizeof(ctx->daemon_socket));
    ctx->cfg.daemon_socket = ctx->daemon_socket[0] ? ctx->daemon_socket : NULL;
    acc_from_env(ctx);
    return 0;
}

WATTPROF_API void wattprof_ctx_free(struct wattprof_ctx *ctx)
{
    if (!ctx)
        return;
    sensors_close(&ctx->sensors);
    free(ctx);
}

WATTPROF_API const char *wattprof_ctx_errmsg(const struct wattprof_ctx *ctx)
{
    return ctx ? ctx->errmsg : "";
}

/* The settings wattprof_ctx_set() knows: key, destination, and the cfg member. */
static int set_string(char *dst, size_t size, const char **member, const char *value)
{
    if (value && strlen(value) >= size)
        return -EINVAL;
    snprintf(dst, size, "%s", value ? value : "");
    if (member)
        *member = value && *value ? dst : NULL;
    return 0;
}

WATTPROF_API int wattprof_ctx_set(struct wattprof_ctx *ctx, const char *key, const char *value)
{
    struct {
        const char *key;
        char *dst;
        size_t size;
        const char **member;
    } table[] = {
        { "nvml-lib", ctx->nvml_lib, sizeof(ctx->nvml_lib), &ctx->cfg.nvml_lib },
        { "hwmon", ctx->hwmon, sizeof(ctx->hwmon), &ctx->cfg.hwmon },
        { "meter", ctx->meter_cmd, sizeof(ctx->meter_cmd), &ctx->cfg.meter_cmd },
        { "ptd", ctx->ptd_addr, sizeof(ctx->ptd_addr), &ctx->cfg.ptd_addr },
        { "replay", ctx->replay_path, sizeof(ctx->replay_path), &ctx->cfg.replay_path },
        { "ipmi-device", ctx->ipmi_dev, sizeof(ctx->ipmi_dev), &ctx->cfg.ipmi_dev },
        { "require", ctx->required, sizeof(ctx->required), NULL },
        { "daemon-socket", ctx->daemon_socket, sizeof(ctx->daemon_socket),
          &ctx->cfg.daemon_socket },
    };
    size_t acc_size = 0;
    char *acc = accounting_setting(&ctx->acc, key, &acc_size);
    if (acc && set_string(acc, acc_size, NULL, value) < 0)
        return ctx_errorf(ctx, -EINVAL, "the value of '%s' is too long", key);
    if (acc)
        return 0;
    if (ctx->opened)
        return ctx_errorf(ctx, -EBUSY, "settings are made before the sensors are opened");
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(key, table[i].key) != 0)
            continue;
        if (set_string(table[i].dst, table[i].size, table[i].member, value) < 0)
            return ctx_errorf(ctx, -EINVAL, "the value of '%s' is too long", key);
        return 0;
    }
    return ctx_errorf(ctx, -EINVAL, "unknown setting '%s'", key);
}

WATTPROF_API int wattprof_ctx_set_backends(struct wattprof_ctx *ctx, const char *list)
{
    char name[64];
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), p);
        if (!sensors_known(name)) {
            char known[512];
            size_t kl = 0;
            for (size_t i = 0; sensor_backends[i] && kl < sizeof(known); i++)
                kl += (size_t)snprintf(known + kl, sizeof(known) - kl, "%s%s", i ? ", " : "",
                                       sensor_backends[i]->name);
            return ctx_errorf(ctx, -EINVAL, "unknown sensor backend '%s' (known: %s)", name, known);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    snprintf(ctx->only, sizeof(ctx->only), "%s", list ? list : "");
    return 0;
}

/* Collects the reasons of every failed backend into errmsg. */
static void explain_failures(struct wattprof_ctx *ctx)
{
    size_t len = (size_t)snprintf(ctx->errmsg, sizeof(ctx->errmsg), "no sensor can be read");
    for (size_t i = 0; i < ctx->sensors.n && len < sizeof(ctx->errmsg); i++) {
        const struct sensors_entry *e = &ctx->sensors.entries[i];
        const char *why = e->skipped ? e->skip_reason : e->sensor ? e->sensor->errmsg : "";
        len += (size_t)snprintf(ctx->errmsg + len, sizeof(ctx->errmsg) - len, "\n  %s: %s",
                                e->ops->name, why);
    }
}

/* Every backend named by the "require" setting must be in use, and so must replay when a
 * trace is given: a bad trace must not quietly turn into a live measurement. */
static int check_required(struct wattprof_ctx *ctx)
{
    for (size_t i = 0; i < ctx->sensors.n; i++) {
        const struct sensors_entry *e = &ctx->sensors.entries[i];
        int required = sensors_in_list(ctx->required, e->ops->name) ||
                       (e->ops == &replay_sensor_ops && ctx->cfg.replay_path);
        if (!required || (e->status == 0 && !e->skipped))
            continue;
        const char *why = e->skipped ? e->skip_reason : e->sensor ? e->sensor->errmsg : "";
        return ctx_errorf(ctx, e->status ? e->status : -ENODEV,
                          "required sensor '%s' cannot be used: %s", e->ops->name, why);
    }
    return 0;
}

void ctx_sensors_env(const struct wattprof_ctx *ctx, struct sensors_env *env)
{
    env->sysfs_root = ctx->sysfs_root;
    env->proc_root = ctx->proc_root;
    env->dev_root = ctx->dev_root;
    env->data_dir = ctx->data_dir;
    env->sys = ctx->sys;
    env->only = ctx->only;
    env->cfg = &ctx->cfg;
}

WATTPROF_API int wattprof_ctx_open_sensors(struct wattprof_ctx *ctx)
{
    if (ctx->opened)
        return ctx_errorf(ctx, -EALREADY, "sensors are already open");
    struct sensors_env env;
    ctx_sensors_env(ctx, &env);
    int n = sensors_open(&ctx->sensors, &env);
    if (n < 0)
        return ctx_errorf(ctx, n, "out of memory while opening sensors");
    ctx->opened = 1;
    if (n == 0) {
        explain_failures(ctx);
        return -ENODEV;
    }
    return check_required(ctx);
}

WATTPROF_API size_t wattprof_ctx_backend_count(const struct wattprof_ctx *ctx)
{
    return ctx->sensors.n;
}

WATTPROF_API int wattprof_ctx_backend(const struct wattprof_ctx *ctx, size_t i,
                                      struct wattprof_backend_info *out)
{
    if (i >= ctx->sensors.n)
        return -EINVAL;
    const struct sensors_entry *e = &ctx->sensors.entries[i];
    memset(out, 0, sizeof(*out));
    out->name = e->ops->name;
    out->skipped = e->skipped;
    out->status = e->skipped ? 0 : e->status;
    out->message = e->skipped ? e->skip_reason : e->status ? e->sensor->errmsg : "";
    out->notes = e->sensor && !e->skipped ? e->sensor->notes : "";
    out->n_channels = e->sensor && !e->skipped && e->status == 0 ? e->sensor->n_channels : 0;
    return 0;
}

const char *ctx_kind_name(enum sensor_kind k)
{
    return k == SENSOR_ENERGY_COUNTER ? "counter" : "gauge";
}

const char *ctx_provenance_name(enum sensor_provenance p)
{
    switch (p) {
    case SENSOR_MEASURED:
        return "measured";
    case SENSOR_INTEGRATED:
        return "integrated";
    case SENSOR_REPLAYED:
        return "replayed";
    case SENSOR_ESTIMATED:
        break;
    }
    return "estimated";
}

void ctx_channel_info(const struct sensor *s, const struct sensor_channel *ch,
                      struct wattprof_channel_info *out)
{
    out->name = ch->name;
    out->domain = ch->domain;
    out->kind = ctx_kind_name(ch->kind);
    out->source = s->ops->name;
    out->provenance = ctx_provenance_name(ch->provenance);
    out->how = ch->note;
    out->included_in_total = ch->included_in_total;
    out->node_scope = ch->node_scope;
    out->averaging = ch->averaging;
    out->range_uj = ch->kind == SENSOR_ENERGY_COUNTER ? ch->max_raw : 0;
    if (out->range_uj != 0 && out->range_uj != UINT64_MAX)
        out->range_uj = sampler_scale(ch, ch->max_raw);
}

WATTPROF_API int wattprof_ctx_channel(const struct wattprof_ctx *ctx, size_t i, size_t j,
                                      struct wattprof_channel_info *out)
{
    if (i >= ctx->sensors.n)
        return -EINVAL;
    const struct sensors_entry *e = &ctx->sensors.entries[i];
    if (!e->sensor || e->skipped || e->status != 0 || j >= e->sensor->n_channels)
        return -EINVAL;
    ctx_channel_info(e->sensor, &e->sensor->channels[j], out);
    return 0;
}
