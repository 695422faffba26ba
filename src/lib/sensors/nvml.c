/* NVIDIA GPUs through NVML, loaded with dlopen at run time (no build-time dependency).
 * One channel per GPU the job sees (CUDA_VISIBLE_DEVICES), named by the index the job
 * sees: the energy counter when the GPU has one (Volta and later), else a power gauge
 * that the sampler integrates. Each read also sets the tracked process tree's share of
 * the GPU from NVML's per-process SM utilization, when NVML can tell. */
#include "sensor.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml_api.h"
#include "nvml_visible.h"

#define NVML_DEFAULT_LIB "libnvidia-ml.so.1"
/* Utilization samples taken per call: one per process that used the GPU in the driver's
 * last sample period, so 256 is far more than a GPU runs. Sized once, in priv. */
#define NVML_SAMPLES_MAX 256
/* The longest sample period of process utilization: older samples in one answer are
 * stale. */
#define NVML_SAMPLE_WINDOW_US 1000000ull
/* NVML refreshes instantaneous power about every 20 ms and the energy counter every
 * 20-100 ms, and a call can take milliseconds: reading faster only costs time. */
#define NVML_MIN_PERIOD_NS (20ull * 1000 * 1000)
#define NVML_REASON_MAX 256

enum nvml_method {
    NVML_METHOD_NONE,
    NVML_METHOD_ENERGY,  /* nvmlDeviceGetTotalEnergyConsumption, mJ */
    NVML_METHOD_INSTANT, /* field NVML_FI_DEV_POWER_INSTANT, mW */
    NVML_METHOD_USAGE,   /* nvmlDeviceGetPowerUsage, mW */
};

/* Per method: how the channel reads, for users and for the JSON. */
static const struct nvml_method_desc {
    enum sensor_kind kind;
    enum sensor_provenance provenance;
    const char *averaging;
    const char *how;
} nvml_methods[] = {
    [NVML_METHOD_NONE] = { SENSOR_POWER_GAUGE, SENSOR_INTEGRATED, "", "" },
    [NVML_METHOD_ENERGY] = { SENSOR_ENERGY_COUNTER, SENSOR_MEASURED, "counter, ~100 ms updates",
                             "nvmlDeviceGetTotalEnergyConsumption (mJ counter)" },
    [NVML_METHOD_INSTANT] = { SENSOR_POWER_GAUGE, SENSOR_INTEGRATED, "instantaneous",
                              "NVML_FI_DEV_POWER_INSTANT (mW, integrated: no energy counter)" },
    [NVML_METHOD_USAGE] = { SENSOR_POWER_GAUGE, SENSOR_INTEGRATED,
                            "trailing average (1 s on Ampere and newer)",
                            "nvmlDeviceGetPowerUsage (mW, integrated: no energy counter or "
                            "instantaneous power)" },
};

/* One measured GPU; gpus[i] belongs to channels[i]. */
struct nvml_gpu {
    struct nvml_device *dev;
    enum nvml_method method;
    int failed;                      /* an NVML call failed: the GPU is not asked again */
    unsigned long long last_seen_us; /* newest utilization sample used (NVML's clock) */
};

/* s->priv. A zeroed state is a closed one. */
struct nvml {
    struct nvml_api api;
    int initialized; /* nvmlInit succeeded: close() owes an nvmlShutdown */
    size_t n_gpus;
    struct nvml_gpu gpus[NVML_MAX_GPUS];
    struct nvml_process_sample samples[NVML_SAMPLES_MAX]; /* scratch for read() */
};

static const char *nvml_errstr(const struct nvml *st, int ret, char *buf, size_t size)
{
    if (ret == NVML_ERROR_FUNCTION_NOT_FOUND)
        return "not in this NVML library";
    return nvml_api_strerror(&st->api, ret, buf, size);
}

static int load_and_init(struct sensor *s, struct nvml *st)
{
    const char *path =
        s->cfg != NULL && s->cfg->nvml_lib != NULL ? s->cfg->nvml_lib : NVML_DEFAULT_LIB;
    char buf[32];
    int r = nvml_api_load(&st->api, path, s->errmsg, sizeof(s->errmsg));
    if (r < 0)
        return r;
    r = st->api.init();
    if (r != NVML_SUCCESS)
        return sensor_errorf(s, -EIO, "cannot initialize NVML ('%s'): %s", path,
                             nvml_errstr(st, r, buf, sizeof(buf)));
    st->initialized = 1;
    return 0;
}

/* Fills one GPU's handle, name and UUID; what NVML cannot say is left empty. */
static void describe_phys(struct nvml *st, unsigned idx, struct nvml_phys *ph)
{
    memset(ph, 0, sizeof(*ph));
    ph->handle_err = st->api.get_handle_by_index(idx, &ph->dev);
    if (ph->handle_err != NVML_SUCCESS) {
        ph->dev = NULL;
        return;
    }
    if (st->api.get_name(ph->dev, ph->name, sizeof(ph->name)) != NVML_SUCCESS)
        snprintf(ph->name, sizeof(ph->name), "NVIDIA GPU (name unavailable)");
    ph->name[sizeof(ph->name) - 1] = '\0';
    if (st->api.get_uuid == NULL ||
        st->api.get_uuid(ph->dev, ph->uuid, sizeof(ph->uuid)) != NVML_SUCCESS)
        ph->uuid[0] = '\0';
    ph->uuid[sizeof(ph->uuid) - 1] = '\0';
}

static int enumerate(struct sensor *s, struct nvml *st, struct nvml_phys *phys, size_t *n)
{
    unsigned count = 0;
    char buf[32];
    int r = st->api.get_count(&count);
    if (r != NVML_SUCCESS)
        return sensor_errorf(s, -EIO, "cannot count NVIDIA GPUs (nvmlDeviceGetCount): %s",
                             nvml_errstr(st, r, buf, sizeof(buf)));
    if (count == 0)
        return sensor_errorf(s, -ENODEV, "the NVIDIA driver is loaded but finds no GPU");
    if (count > NVML_MAX_GPUS) {
        sensor_notef(s, "NVML lists %u GPUs: only the first %d are read", count, NVML_MAX_GPUS);
        count = NVML_MAX_GPUS;
    }
    for (unsigned i = 0; i < count; i++)
        describe_phys(st, i, &phys[i]);
    *n = count;
    return 0;
}

/* Reads field NVML_FI_DEV_POWER_INSTANT in mW: 0, -ERANGE for a negative-like value, or
 * a positive NVML code. The value's type varies by driver. */
static int read_instant(const struct nvml *st, struct nvml_device *dev, uint64_t *mw)
{
    struct nvml_field_value fv;
    memset(&fv, 0, sizeof(fv));
    fv.field_id = NVML_FI_DEV_POWER_INSTANT;
    int r = st->api.get_field_values(dev, 1, &fv);
    if (r != NVML_SUCCESS || fv.nvml_return != NVML_SUCCESS)
        return r != NVML_SUCCESS ? r : fv.nvml_return;
    switch (fv.value_type) {
    case NVML_VALUE_TYPE_DOUBLE:
        if (!(fv.value.d_val >= 0 && fv.value.d_val < 2147483648.0))
            return -ERANGE;
        *mw = (uint64_t)(fv.value.d_val + 0.5);
        return 0;
    case NVML_VALUE_TYPE_UNSIGNED_INT:
    case NVML_VALUE_TYPE_SIGNED_INT:
        *mw = fv.value.ui_val;
        return *mw >> 31 ? -ERANGE : 0;
    case NVML_VALUE_TYPE_UNSIGNED_LONG:
    case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG:
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
        *mw = fv.value.ull_val;
        return *mw >> 63 ? -ERANGE : 0;
    case NVML_VALUE_TYPE_UNSIGNED_SHORT:
        *mw = fv.value.us_val;
        return 0;
    default:
        return NVML_ERROR_UNKNOWN;
    }
}

/* Reads one raw value: 0, -ERANGE for a negative-like value (the top bit of NVML's type
 * set, e.g. 0xFFFFFFFF mW), or a positive NVML code. */
static int read_raw(const struct nvml *st, struct nvml_device *dev, enum nvml_method m,
                    uint64_t *raw)
{
    unsigned long long mj = 0;
    unsigned mw = 0;
    int r = NVML_ERROR_FUNCTION_NOT_FOUND;
    switch (m) {
    case NVML_METHOD_ENERGY:
        if (st->api.get_total_energy != NULL)
            r = st->api.get_total_energy(dev, &mj);
        *raw = mj;
        return r != NVML_SUCCESS ? r : (mj >> 63 ? -ERANGE : 0);
    case NVML_METHOD_INSTANT:
        return st->api.get_field_values != NULL ? read_instant(st, dev, raw)
                                                : NVML_ERROR_FUNCTION_NOT_FOUND;
    case NVML_METHOD_USAGE:
        if (st->api.get_power_usage != NULL)
            r = st->api.get_power_usage(dev, &mw);
        *raw = mw;
        return r != NVML_SUCCESS ? r : (mw >> 31 ? -ERANGE : 0);
    case NVML_METHOD_NONE:
        break;
    }
    return NVML_ERROR_FUNCTION_NOT_FOUND;
}

/* The best way to measure dev that answers now; why[] (starting empty) says what was
 * missing. A call that succeeds counts, whatever its value: read() judges values. */
static enum nvml_method choose_method(const struct nvml *st, struct nvml_device *dev, char *why,
                                      size_t size)
{
    static const enum nvml_method order[] = { NVML_METHOD_ENERGY, NVML_METHOD_INSTANT,
                                              NVML_METHOD_USAGE };
    static const char *const lacks[] = { "no energy counter", "no instantaneous power",
                                         "no power usage" };
    char buf[32];
    uint64_t raw;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int r = read_raw(st, dev, order[i], &raw);
        if (r <= 0)
            return order[i];
        const char *text = i == 0 && r == NVML_ERROR_NOT_SUPPORTED
                               ? "pre-Volta or not supported"
                               : nvml_errstr(st, r, buf, sizeof(buf));
        size_t len = strlen(why);
        snprintf(why + len, size - len, "%s%s (%s)", len ? ", " : "", lacks[i], text);
    }
    return NVML_METHOD_NONE;
}

/* Is a utilization sample usable? Drivers return garbage utilization and samples older
 * than asked (nvtop #110); a first query (last_seen 0) returns what the driver kept, of
 * which only the last sample period counts. */
static int sample_usable(const struct nvml_process_sample *x, unsigned long long last_seen,
                         unsigned long long newest)
{
    return x->sm_util <= 100 && x->time_stamp > last_seen &&
           x->time_stamp + NVML_SAMPLE_WINDOW_US >= newest;
}

/* The newest usable timestamp among samples[0..n), or last_seen when there is none. */
static unsigned long long newest_sample(const struct nvml *st, unsigned n,
                                        unsigned long long last_seen)
{
    unsigned long long newest = last_seen;
    for (unsigned i = 0; i < n; i++)
        if (sample_usable(&st->samples[i], last_seen, 0) && st->samples[i].time_stamp > newest)
            newest = st->samples[i].time_stamp;
    return newest;
}

/* Takes the utilization samples newer than the last seen and sets the channel's share:
 * the tree's SM utilization over all processes' SM utilization, i.e. its share of the
 * GPU's busy time, as the CPU share is of busy CPU time. (Dividing by 100 x samples
 * instead would give a sole user of a 30 %-busy GPU 30 % of its energy.) No new samples
 * (the driver samples every 1/6 to 1 s), a full buffer or an error keep the previous
 * share: idle gaps go to the last users. Returns NVML's code. Never allocates. */
static int update_share(const struct sensor *s, struct nvml *st, struct nvml_gpu *g,
                        struct sensor_channel *c)
{
    unsigned n = NVML_SAMPLES_MAX;
    int r = st->api.get_process_utilization(g->dev, st->samples, &n, g->last_seen_us);
    if (r != NVML_SUCCESS)
        return r;
    n = n < NVML_SAMPLES_MAX ? n : NVML_SAMPLES_MAX;
    unsigned long long newest = newest_sample(st, n, g->last_seen_us);
    if (newest == g->last_seen_us)
        return r;
    int root = atomic_load(&s->workload_pid);
    const char *proc = s->proc_root != NULL ? s->proc_root : "/proc";
    uint64_t all = 0;
    uint64_t mine = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct nvml_process_sample *x = &st->samples[i];
        if (!sample_usable(x, g->last_seen_us, newest))
            continue;
        all += x->sm_util;
        if (root > 0 && x->sm_util > 0 && sensor_pid_in_tree(proc, (int)x->pid, root))
            mine += x->sm_util;
    }
    g->last_seen_us = newest;
    uint64_t ppm = all > 0 ? mine * 1000000 / all : 0;
    c->share_ppm = (uint32_t)(ppm > 1000000 ? 1000000 : ppm);
    return r;
}

/* Turns per-process shares on for a channel, or notes why they cannot be had. */
static void setup_share(struct sensor *s, struct nvml *st, struct nvml_gpu *g,
                        struct sensor_channel *c)
{
    char buf[32];
    unsigned current = 0;
    unsigned pending = 0;
    const char *why = NULL;
    if (st->api.get_process_utilization == NULL) {
        why = "nvmlDeviceGetProcessUtilization is not in this NVML library";
    } else if (st->api.get_mig_mode != NULL &&
               st->api.get_mig_mode(g->dev, &current, &pending) == NVML_SUCCESS &&
               current == NVML_DEVICE_MIG_ENABLE) {
        why = "MIG mode";
    } else {
        int r = update_share(s, st, g, c);
        if (r != NVML_SUCCESS && r != NVML_ERROR_NOT_FOUND && r != NVML_ERROR_INSUFFICIENT_SIZE)
            why = nvml_errstr(st, r, buf, sizeof(buf));
    }
    if (why != NULL) {
        c->share_ppm = 0;
        sensor_notef(s, "%s: per-process GPU share not available: %s (the CPU-time share is used)",
                     c->name, why);
        return;
    }
    c->has_share = 1;
}

/* The power limit in µW as a plausibility bound, or 0 (the sampler's default). */
static uint64_t power_limit_uw(const struct nvml *st, struct nvml_device *dev)
{
    unsigned mw = 0;
    if (st->api.get_power_limit == NULL || st->api.get_power_limit(dev, &mw) != NVML_SUCCESS)
        return 0;
    return mw > 0 && mw >> 31 == 0 ? (uint64_t)mw * 1000 : 0;
}

/* Opens the channel of one selected GPU. Returns 0, or -1 with reason[] filled. */
static int add_gpu(struct sensor *s, struct nvml *st, const struct nvml_phys *ph, unsigned idx,
                   size_t vis, char *reason, size_t size)
{
    char why[NVML_REASON_MAX] = "";
    char name[SENSOR_NAME_MAX];
    char buf[32];
    snprintf(name, sizeof(name), "gpu:%zu", vis);
    if (ph->dev == NULL) {
        snprintf(reason, size, "%s (nvml %u): no handle (%s)", name, idx,
                 nvml_errstr(st, ph->handle_err, buf, sizeof(buf)));
        return -1;
    }
    enum nvml_method m = choose_method(st, ph->dev, why, sizeof(why));
    if (m == NVML_METHOD_NONE) {
        snprintf(reason, size, "%s (nvml %u): %s", name, idx, why);
        return -1;
    }
    const struct nvml_method_desc *d = &nvml_methods[m];
    struct sensor_channel *c = sensor_add_channel(s, name);
    struct nvml_gpu *g = &st->gpus[st->n_gpus++];
    g->dev = ph->dev;
    g->method = m;
    snprintf(c->domain, sizeof(c->domain), "gpu");
    c->kind = d->kind;
    c->provenance = d->provenance;
    c->scale_num = 1000; /* mJ to µJ, mW to µW */
    c->max_raw = 0;      /* a 64-bit mJ counter does not wrap */
    c->max_power_uw = power_limit_uw(st, ph->dev);
    c->included_in_total = 1;
    snprintf(c->averaging, sizeof(c->averaging), "%s", d->averaging);
    /* How first: a long name may only cut the end (UUIDs are 40 characters). */
    snprintf(c->note, sizeof(c->note), "%s on %.40s %.44s (nvml %u)", d->how, ph->name,
             ph->uuid[0] ? ph->uuid : "(no UUID)", idx);
    if (why[0] != '\0')
        sensor_notef(s, "%s: %s: integrating %s", name, why,
                     m == NVML_METHOD_INSTANT ? "instantaneous power" : "averaged power");
    setup_share(s, st, g, c);
    return 0;
}

static int add_gpus(struct sensor *s, struct nvml *st, const struct nvml_phys *phys,
                    const struct nvml_selection *sel)
{
    char reason[NVML_REASON_MAX];
    char first[NVML_REASON_MAX] = "";
    for (size_t i = 0; i < sel->n; i++) {
        unsigned idx = sel->phys[i];
        if (add_gpu(s, st, &phys[idx], idx, i, reason, sizeof(reason)) == 0)
            continue;
        sensor_notef(s, "%s: not measured", reason);
        if (first[0] == '\0')
            snprintf(first, sizeof(first), "%s", reason);
    }
    if (s->n_channels == 0)
        return sensor_errorf(s, -EIO, "no NVIDIA GPU reports energy or power: %s", first);
    return 0;
}

static void nvml_close(struct sensor *s)
{
    struct nvml *st = s->priv;
    if (st == NULL)
        return;
    if (st->initialized && st->api.shutdown != NULL)
        st->api.shutdown();
    st->initialized = 0;
    st->n_gpus = 0;
    nvml_api_unload(&st->api);
}

static int nvml_open(struct sensor *s)
{
    struct nvml *st = s->priv;
    struct nvml_phys phys[NVML_MAX_GPUS];
    struct nvml_selection sel;
    size_t n = 0;
    memset(st, 0, sizeof(*st));
    s->n_channels = 0;
    int r = load_and_init(s, st);
    if (r < 0)
        goto fail;
    r = enumerate(s, st, phys, &n);
    if (r < 0)
        goto fail;
    r = nvml_select_visible(s, &st->api, phys, n, &sel);
    if (r < 0)
        goto fail;
    r = add_gpus(s, st, phys, &sel);
    if (r < 0)
        goto fail;
    s->min_period_ns = NVML_MIN_PERIOD_NS;
    return 0;
fail:
    nvml_close(s);
    s->n_channels = 0;
    return r;
}

/* Reads one channel: 0, -ERANGE, or -EIO once NVML has failed for this GPU. */
static int read_channel(struct sensor *s, struct nvml *st, size_t i, uint64_t *value)
{
    struct nvml_gpu *g = &st->gpus[i];
    if (g->failed)
        return -EIO;
    int r = read_raw(st, g->dev, g->method, value);
    if (r > 0) {
        g->failed = 1; /* e.g. NVML_ERROR_GPU_IS_LOST: each call may now be slow */
        return -EIO;
    }
    if (r == 0 && s->channels[i].has_share)
        update_share(s, st, g, &s->channels[i]);
    return r;
}

/* One raw value per GPU (mJ or mW); a failing GPU is flagged in its read_err only. */
static int nvml_read(struct sensor *s, uint64_t *values)
{
    struct nvml *st = s->priv;
    size_t n_ok = 0;
    for (size_t i = 0; i < st->n_gpus; i++) {
        s->channels[i].read_err = read_channel(s, st, i, &values[i]);
        n_ok += s->channels[i].read_err == 0;
    }
    return n_ok > 0 || st->n_gpus == 0 ? 0 : -EIO;
}

const struct sensor_ops nvml_sensor_ops = {
    .name = "nvml",
    .priv_size = sizeof(struct nvml),
    .open = nvml_open,
    .read = nvml_read,
    .close = nvml_close,
};
