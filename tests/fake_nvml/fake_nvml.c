/* A fake libnvidia-ml.so.1 for tests: the NVML functions wattprof uses, with NVML's
 * names, signatures, struct layouts and return codes (including the INSUFFICIENT_SIZE
 * sizing protocol of nvmlDeviceGetProcessUtilization), over GPUs described by
 * environment variables read at the first nvmlInit:
 *
 *   FAKE_NVML_DEVICES  comma-separated GPUs, each KIND:WATTS[:SECONDS][:FLAG...]
 *     energy         energy counter, instantaneous power field, power usage (Volta+)
 *     power_instant  no energy counter; the instantaneous power field and power usage
 *     power_avg      power usage only
 *     error_after    as energy, but every call fails with NVML_ERROR_GPU_IS_LOST once
 *                    SECONDS have passed since nvmlInit
 *     bogus          power usage only, always 0xFFFFFFFF mW
 *     flags: mig (MIG mode on: no process utilization, a MIG instance "MIG-<n>-..."),
 *            ull or dbl (the power field's value type; unsigned int otherwise)
 *   FAKE_NVML_PROCS    comma-separated PID:SMUTIL[:GPU | :stale]: a utilization sample
 *                      per process every 100 ms (on every GPU, or only GPU); stale ones
 *                      always carry timestamp 1, older than asked, as drivers sometimes do
 *   FAKE_NVML_FAIL     comma-separated FUNCTION:CODE[:AFTER]: FUNCTION returns CODE after
 *                      AFTER successful calls (0 when omitted)
 *   FAKE_NVML_LOG      a file that gets "<function> <code>" for each init and shutdown
 *
 * Energy follows CLOCK_MONOTONIC from the first nvmlInit, so the truth is WATTS x
 * elapsed time. Built twice: whole, and with FAKE_NVML_CORE_ONLY only the legacy
 * nvmlInit, nvmlDeviceGetCount, nvmlDeviceGetHandleByIndex, nvmlDeviceGetName,
 * nvmlShutdown and nvmlDeviceGetPowerUsage (an old or partial driver). A version
 * script exports only the nvml* functions; fake_state.c keeps the driver's state. */
#include "fake_state.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The exported functions (NVML's prototypes, with nvmlDevice_t spelt out). */
int nvmlInit(void);
int nvmlShutdown(void);
int nvmlDeviceGetCount(unsigned int *count);
int nvmlDeviceGetHandleByIndex(unsigned int index, struct nvmlDevice_st **device);
int nvmlDeviceGetName(struct nvmlDevice_st *device, char *name, unsigned int length);
int nvmlDeviceGetPowerUsage(struct nvmlDevice_st *device, unsigned int *power);
#ifndef FAKE_NVML_CORE_ONLY
int nvmlInit_v2(void);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, struct nvmlDevice_st **device);
const char *nvmlErrorString(int result);
int nvmlDeviceGetUUID(struct nvmlDevice_st *device, char *uuid, unsigned int length);
int nvmlDeviceGetTotalEnergyConsumption(struct nvmlDevice_st *device, unsigned long long *energy);
int nvmlDeviceGetFieldValues(struct nvmlDevice_st *device, int valuesCount,
                             struct nvmlFieldValue_st *values);
int nvmlDeviceGetProcessUtilization(struct nvmlDevice_st *device,
                                    struct nvmlProcessUtilizationSample_st *utilization,
                                    unsigned int *processSamplesCount,
                                    unsigned long long lastSeenTimeStamp);
int nvmlDeviceGetMigMode(struct nvmlDevice_st *device, unsigned int *currentMode,
                         unsigned int *pendingMode);
int nvmlDeviceGetPowerManagementLimit(struct nvmlDevice_st *device, unsigned int *limit);
int nvmlDeviceGetHandleByUUID(const char *uuid, struct nvmlDevice_st **device);
int nvmlDeviceGetDeviceHandleFromMigDeviceHandle(struct nvmlDevice_st *migDevice,
                                                 struct nvmlDevice_st **device);
#endif

/* The first init reads the configuration, so that even it can be made to fail. */
static int init_as(const char *function)
{
    if (fake.refcount == 0)
        fake_configure();
    int code = fake_injected(function);
    if (code == NVML_SUCCESS)
        fake.refcount++;
    fake_log_call(function, code);
    return code;
}

int nvmlInit(void)
{
    return init_as(__func__);
}

/* An injected failure still releases the reference, so that a failing shutdown in one
 * test does not leave the next one initialized. */
int nvmlShutdown(void)
{
    int code = fake.refcount == 0 ? NVML_ERROR_UNINITIALIZED : fake_injected(__func__);
    if (fake.refcount > 0)
        fake.refcount--;
    fake_log_call(__func__, code);
    return code;
}

static int get_count(const char *function, unsigned int *count)
{
    int code = fake_injected(function);
    if (code != NVML_SUCCESS)
        return code;
    if (fake.refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (count == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = (unsigned)fake.n_gpus;
    return NVML_SUCCESS;
}

int nvmlDeviceGetCount(unsigned int *count)
{
    return get_count(__func__, count);
}

static int get_handle(const char *function, unsigned int index, struct nvmlDevice_st **device)
{
    int code = fake_injected(function);
    if (code != NVML_SUCCESS)
        return code;
    if (fake.refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (device == NULL || index >= fake.n_gpus)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = (struct nvmlDevice_st *)(void *)&fake.gpus[index];
    return NVML_SUCCESS;
}

int nvmlDeviceGetHandleByIndex(unsigned int index, struct nvmlDevice_st **device)
{
    return get_handle(__func__, index, device);
}

int nvmlDeviceGetName(struct nvmlDevice_st *device, char *name, unsigned int length)
{
    struct fake_gpu *g;
    int code = fake_enter(__func__, device, name, &g);
    if (code != NVML_SUCCESS)
        return code;
    char text[64];
    int n = snprintf(text, sizeof(text), "Fake NVIDIA %s", fake_kind_names[g->kind]);
    if ((unsigned)n >= length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(name, text, (size_t)n + 1);
    return NVML_SUCCESS;
}

int nvmlDeviceGetPowerUsage(struct nvmlDevice_st *device, unsigned int *power)
{
    struct fake_gpu *g;
    int code = fake_enter(__func__, device, power, &g);
    if (code != NVML_SUCCESS)
        return code;
    *power = g->kind == FAKE_BOGUS ? 0xFFFFFFFFu : (unsigned)(g->watts * 1000.0 + 0.5);
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_CORE_ONLY
int nvmlInit_v2(void)
{
    return init_as(__func__);
}

int nvmlDeviceGetCount_v2(unsigned int *count)
{
    return get_count(__func__, count);
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, struct nvmlDevice_st **device)
{
    return get_handle(__func__, index, device);
}

const char *nvmlErrorString(int result)
{
    static const char *const texts[] = { "Success",
                                         "Uninitialized",
                                         "Invalid Argument",
                                         "Not Supported",
                                         "Insufficient Permissions",
                                         "Already Initialized",
                                         "Not Found",
                                         "Insufficient Size",
                                         "Insufficient External Power",
                                         "Driver Not Loaded",
                                         "Timeout",
                                         "Interrupt Request Issue",
                                         "NVML Shared Library Not Found",
                                         "Function Not Found",
                                         "Corrupted infoROM",
                                         "GPU is lost" };
    if (result >= 0 && (size_t)result < sizeof(texts) / sizeof(texts[0]))
        return texts[result];
    return "Unknown Error";
}

static unsigned index_of(const struct fake_gpu *g)
{
    return (unsigned)(g - fake.gpus);
}

static void format_uuid(char *buf, size_t size, const char *prefix, unsigned index)
{
    snprintf(buf, size, "%s-%08x-fa4e-4e00-8000-%012x", prefix, index, index);
}

int nvmlDeviceGetUUID(struct nvmlDevice_st *device, char *uuid, unsigned int length)
{
    struct fake_gpu *g;
    char text[64];
    int code = fake_enter(__func__, device, uuid, &g);
    if (code != NVML_SUCCESS)
        return code;
    format_uuid(text, sizeof(text), "GPU", index_of(g));
    if (strlen(text) >= length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(uuid, text, strlen(text) + 1);
    return NVML_SUCCESS;
}

int nvmlDeviceGetTotalEnergyConsumption(struct nvmlDevice_st *device, unsigned long long *energy)
{
    struct fake_gpu *g;
    int code = fake_enter(__func__, device, energy, &g);
    if (code != NVML_SUCCESS)
        return code;
    if (g->kind != FAKE_ENERGY && g->kind != FAKE_ERROR_AFTER)
        return NVML_ERROR_NOT_SUPPORTED;
    /* W × ns / 1e6 = mJ */
    *energy = FAKE_ENERGY_BASE_MJ +
              (unsigned long long)(g->watts * (double)(fake_now_ns() - fake.t0_ns) / 1e6);
    return NVML_SUCCESS;
}

static void fill_power_field(const struct fake_gpu *g, struct nvmlFieldValue_st *v)
{
    double mw = g->watts * 1000.0;
    v->valueType = g->value_type;
    if (g->value_type == 0)
        v->value.dVal = mw;
    else if (g->value_type == 3)
        v->value.ullVal = (unsigned long long)(mw + 0.5);
    else
        v->value.uiVal = (unsigned)(mw + 0.5);
}

int nvmlDeviceGetFieldValues(struct nvmlDevice_st *device, int valuesCount,
                             struct nvmlFieldValue_st *values)
{
    struct fake_gpu *g;
    struct timespec wall;
    int code = fake_enter(__func__, device, values, &g);
    if (code != NVML_SUCCESS)
        return code;
    if (valuesCount < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    clock_gettime(CLOCK_REALTIME, &wall);
    for (int i = 0; i < valuesCount; i++) {
        struct nvmlFieldValue_st *v = &values[i];
        v->timestamp = (long long)wall.tv_sec * 1000000 + wall.tv_nsec / 1000;
        v->latencyUsec = 0;
        v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        if (v->fieldId == NVML_FI_DEV_POWER_INSTANT &&
            (g->kind == FAKE_ENERGY || g->kind == FAKE_ERROR_AFTER ||
             g->kind == FAKE_POWER_INSTANT)) {
            v->nvmlReturn = NVML_SUCCESS;
            fill_power_field(g, v);
        }
    }
    return NVML_SUCCESS;
}

/* The samples GPU g has newer than last_seen (stale ones always), at most max written
 * to out (NULL: none); returns how many there are. */
static unsigned collect_samples(unsigned gpu, unsigned long long last_seen,
                                struct nvmlProcessUtilizationSample_st *out, unsigned max)
{
    unsigned long long latest =
        fake_now_ns() / 1000 / FAKE_SAMPLE_PERIOD_US * FAKE_SAMPLE_PERIOD_US;
    unsigned n = 0;
    for (size_t i = 0; i < fake.n_procs; i++) {
        const struct fake_proc *pr = &fake.procs[i];
        unsigned long long ts = pr->stale ? 1 : latest;
        if ((pr->gpu >= 0 && (unsigned)pr->gpu != gpu) || (!pr->stale && ts <= last_seen))
            continue;
        if (out != NULL && n < max) {
            memset(&out[n], 0, sizeof(out[n]));
            out[n].pid = pr->pid;
            out[n].timeStamp = ts;
            out[n].smUtil = pr->util;
            out[n].memUtil = pr->util / 2;
        }
        n++;
    }
    return n;
}

int nvmlDeviceGetProcessUtilization(struct nvmlDevice_st *device,
                                    struct nvmlProcessUtilizationSample_st *utilization,
                                    unsigned int *processSamplesCount,
                                    unsigned long long lastSeenTimeStamp)
{
    struct fake_gpu *g;
    int code = fake_enter(__func__, device, processSamplesCount, &g);
    if (code != NVML_SUCCESS)
        return code;
    if (g->mig)
        return NVML_ERROR_NOT_SUPPORTED; /* "not currently supported" on MIG GPUs */
    unsigned room = utilization != NULL ? *processSamplesCount : 0;
    unsigned n = collect_samples(index_of(g), lastSeenTimeStamp, utilization, room);
    if (n == 0) {
        *processSamplesCount = 0;
        return NVML_ERROR_NOT_FOUND;
    }
    if (utilization == NULL || room < n) {
        *processSamplesCount = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    *processSamplesCount = n;
    return NVML_SUCCESS;
}

int nvmlDeviceGetMigMode(struct nvmlDevice_st *device, unsigned int *currentMode,
                         unsigned int *pendingMode)
{
    struct fake_gpu *g;
    int code = fake_enter(__func__, device, pendingMode != NULL ? currentMode : NULL, &g);
    if (code != NVML_SUCCESS)
        return code;
    if (g->kind != FAKE_ENERGY && g->kind != FAKE_ERROR_AFTER)
        return NVML_ERROR_NOT_SUPPORTED; /* MIG needs Ampere */
    *currentMode = (unsigned)g->mig;
    *pendingMode = (unsigned)g->mig;
    return NVML_SUCCESS;
}

int nvmlDeviceGetPowerManagementLimit(struct nvmlDevice_st *device, unsigned int *limit)
{
    struct fake_gpu *g;
    int code = fake_enter(__func__, device, limit, &g);
    if (code != NVML_SUCCESS)
        return code;
    *limit = (unsigned)(g->watts * 2000.0 + 0.5); /* twice the draw, in mW */
    return NVML_SUCCESS;
}

int nvmlDeviceGetHandleByUUID(const char *uuid, struct nvmlDevice_st **device)
{
    char text[64];
    int code = fake_injected(__func__);
    if (code != NVML_SUCCESS)
        return code;
    if (fake.refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (uuid == NULL || device == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned i = 0; i < fake.n_gpus; i++) {
        format_uuid(text, sizeof(text), "GPU", i);
        if (strcmp(uuid, text) == 0) {
            *device = (struct nvmlDevice_st *)(void *)&fake.gpus[i];
            return NVML_SUCCESS;
        }
        format_uuid(text, sizeof(text), "MIG", i);
        if (fake.gpus[i].mig && strcmp(uuid, text) == 0) {
            *device = (struct nvmlDevice_st *)(void *)&fake.migs[i];
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

int nvmlDeviceGetDeviceHandleFromMigDeviceHandle(struct nvmlDevice_st *migDevice,
                                                 struct nvmlDevice_st **device)
{
    long i = fake_slot_of(migDevice, fake.migs, fake.n_gpus, sizeof(fake.migs[0]));
    int code = fake_injected(__func__);
    if (code != NVML_SUCCESS)
        return code;
    if (fake.refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (device == NULL || i < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = (struct nvmlDevice_st *)(void *)&fake.gpus[fake.migs[i].parent];
    return NVML_SUCCESS;
}
#endif
