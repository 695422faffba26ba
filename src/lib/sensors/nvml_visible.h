/* Which NVIDIA GPUs a CUDA job sees: CUDA_VISIBLE_DEVICES read as CUDA reads it, over
 * the GPUs NVML enumerates. Shared by nvml.c and its tests. */
#ifndef WATTPROF_NVML_VISIBLE_H
#define WATTPROF_NVML_VISIBLE_H

#include <stddef.h>

#include "nvml_api.h"
#include "sensor.h"

#define NVML_MAX_GPUS SENSOR_MAX_CHANNELS

/* One GPU as NVML enumerates it. */
struct nvml_phys {
    struct nvml_device *dev; /* NULL when NVML gave no handle */
    int handle_err;          /* the NVML code when dev is NULL */
    char name[NVML_DEVICE_NAME_BUFFER_SIZE];
    char uuid[NVML_DEVICE_UUID_BUFFER_SIZE]; /* "" when unknown */
};

/* The GPUs the job sees, in its order: phys[i] is the NVML index of gpu:i. */
struct nvml_selection {
    size_t n;
    unsigned phys[NVML_MAX_GPUS];
};

/* Selects among phys[0..n) by s->cfg->cuda_visible_devices (NULL or unset: all, in
 * NVML order; "": none): indices, full UUIDs or unique UUID prefixes ("GPU-..."), and
 * MIG instances ("MIG-...", resolved to their parent GPU through api when it can). An
 * entry that names no GPU ends the list there, as in CUDA; a GPU listed twice counts
 * once. Notes go to s->notes. Returns 0, or -ENODEV with errmsg when nothing is left. */
int nvml_select_visible(struct sensor *s, const struct nvml_api *api, const struct nvml_phys *phys,
                        size_t n, struct nvml_selection *sel);

#endif
