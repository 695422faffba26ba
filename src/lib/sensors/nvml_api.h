/* The part of NVML (libnvidia-ml.so.1) that the nvml backend uses, declared here so
 * that no CUDA or NVML header is needed to build: the few constants and struct layouts
 * (copied from nvml.h, same ABI), and one table of the symbols loaded with dlopen and
 * dlsym (STYLE.md §5). NVML's own names are kept in comments; ours drop the typedefs. */
#ifndef WATTPROF_NVML_API_H
#define WATTPROF_NVML_API_H

#include <stddef.h>

/* nvmlReturn_t values (an int-sized enum). */
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_FUNCTION_NOT_FOUND 13 /* also ours for a symbol the library lacks */
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_UNKNOWN 999

/* Field ids for nvmlDeviceGetFieldValues: power in mW. */
#define NVML_FI_DEV_POWER_INSTANT 186

/* nvmlDeviceGetMigMode: currentMode. */
#define NVML_DEVICE_MIG_ENABLE 1

/* Buffer sizes nvml.h guarantees to be large enough (the _V2 sizes). */
#define NVML_DEVICE_NAME_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_BUFFER_SIZE 96

/* nvmlValueType_t */
enum nvml_value_type {
    NVML_VALUE_TYPE_DOUBLE = 0,
    NVML_VALUE_TYPE_UNSIGNED_INT = 1,
    NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
    NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
    NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
    NVML_VALUE_TYPE_SIGNED_INT = 5,
    NVML_VALUE_TYPE_UNSIGNED_SHORT = 6,
};

/* nvmlDevice_t: an opaque handle owned by NVML. */
struct nvml_device;

/* nvmlFieldValue_t (40 bytes on LP64). */
struct nvml_field_value {
    unsigned int field_id;  /* fieldId: NVML_FI_*, set by the caller */
    unsigned int scope_id;  /* scopeId: 0 for device fields */
    long long timestamp;    /* CPU time of the value, µs since 1970 */
    long long latency_usec; /* latencyUsec */
    int value_type;         /* valueType: enum nvml_value_type */
    int nvml_return;        /* nvmlReturn: this field's own status */
    union {                 /* value (nvmlValue_t) */
        double d_val;
        unsigned int ui_val;
        unsigned long ul_val;
        unsigned long long ull_val;
        long long sll_val;
        int si_val;
        unsigned short us_val;
    } value;
};

/* nvmlProcessUtilizationSample_t (32 bytes on LP64). */
struct nvml_process_sample {
    unsigned int pid;
    unsigned long long time_stamp; /* timeStamp: CPU time, µs */
    unsigned int sm_util;          /* smUtil: % of the sample period */
    unsigned int mem_util;
    unsigned int enc_util;
    unsigned int dec_util;
};

/* The layouts must be NVML's exactly: the library writes into them. */
#if defined(__LP64__)
_Static_assert(sizeof(struct nvml_field_value) == 40, "nvmlFieldValue_t is 40 bytes");
_Static_assert(offsetof(struct nvml_field_value, value) == 32, "nvmlFieldValue_t.value at 32");
_Static_assert(sizeof(struct nvml_process_sample) == 32, "nvmlProcessUtilizationSample_t size");
#endif

/* The loaded library and its symbols; NULL members are absent optional symbols. */
struct nvml_api {
    void *lib; /* dlopen handle, NULL when not loaded */
    int (*init)(void);
    int (*shutdown)(void);
    int (*get_count)(unsigned int *count);
    int (*get_handle_by_index)(unsigned int index, struct nvml_device **dev);
    int (*get_name)(struct nvml_device *dev, char *name, unsigned int size);
    const char *(*error_string)(int ret);
    int (*get_uuid)(struct nvml_device *dev, char *uuid, unsigned int size);
    int (*get_total_energy)(struct nvml_device *dev, unsigned long long *energy_mj);
    int (*get_field_values)(struct nvml_device *dev, int count, struct nvml_field_value *values);
    int (*get_power_usage)(struct nvml_device *dev, unsigned int *power_mw);
    int (*get_process_utilization)(struct nvml_device *dev, struct nvml_process_sample *samples,
                                   unsigned int *count, unsigned long long last_seen_us);
    int (*get_mig_mode)(struct nvml_device *dev, unsigned int *current, unsigned int *pending);
    int (*get_power_limit)(struct nvml_device *dev, unsigned int *limit_mw);
    int (*get_handle_by_uuid)(const char *uuid, struct nvml_device **dev);
    int (*get_mig_parent)(struct nvml_device *mig, struct nvml_device **parent);
};

/* Opens the library at path (RTLD_NOW | RTLD_LOCAL) and resolves every symbol of the
 * table. Returns 0; -ENODEV when the library cannot be opened; -EIO when a required
 * symbol is missing. On failure errmsg[size] says why and the library is closed. */
int nvml_api_load(struct nvml_api *api, const char *path, char *errmsg, size_t size);

/* Closes the library (no NVML call is made) and clears the table; safe to repeat. */
void nvml_api_unload(struct nvml_api *api);

/* NVML's text for an error code (nvmlErrorString when the library has it), else
 * "NVML error N" written into buf. The result is borrowed from NVML or buf. */
const char *nvml_api_strerror(const struct nvml_api *api, int ret, char *buf, size_t size);

#endif
