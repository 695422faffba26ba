/* The fake NVML's shared declarations: NVML's constants and struct layouts (as in
 * nvml.h, declared independently of src/lib/sensors/nvml_api.h so that a layout mistake
 * there shows in the tests), the fake driver's state, and what fake_state.c provides
 * to the API functions in fake_nvml.c. */
#ifndef WATTPROF_FAKE_STATE_H
#define WATTPROF_FAKE_STATE_H

#include <stddef.h>
#include <stdint.h>

/* nvmlReturn_t values. */
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_FI_DEV_POWER_INSTANT 186

#define FAKE_MAX_GPUS 64
#define FAKE_MAX_PROCS 32
#define FAKE_MAX_FAILS 16
#define FAKE_SAMPLE_PERIOD_US 100000ull
/* The counter starts far from zero, as a real one counts since the driver loaded. */
#define FAKE_ENERGY_BASE_MJ 123456789ull

/* nvmlDevice_t points at one of these (a GPU) or at a struct fake_mig. */
struct nvmlDevice_st;

/* nvmlFieldValue_t, as in nvml.h. */
struct nvmlFieldValue_st {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    int valueType; /* nvmlValueType_t */
    int nvmlReturn;
    union {
        double dVal;
        unsigned int uiVal;
        unsigned long ulVal;
        unsigned long long ullVal;
        long long sllVal;
        int siVal;
        unsigned short usVal;
    } value;
};

/* nvmlProcessUtilizationSample_t, as in nvml.h. */
struct nvmlProcessUtilizationSample_st {
    unsigned int pid;
    unsigned long long timeStamp;
    unsigned int smUtil;
    unsigned int memUtil;
    unsigned int encUtil;
    unsigned int decUtil;
};

enum fake_kind { FAKE_ENERGY, FAKE_POWER_INSTANT, FAKE_POWER_AVG, FAKE_ERROR_AFTER, FAKE_BOGUS };

/* Names of enum fake_kind, as FAKE_NVML_DEVICES spells them. */
extern const char *const fake_kind_names[5];

struct fake_gpu {
    enum fake_kind kind;
    double watts;
    double lost_after_s;
    int mig;
    int value_type; /* nvmlValueType_t of the power field: 1 uint, 3 ull, 0 double */
};

struct fake_mig {
    unsigned parent;
};

struct fake_proc {
    unsigned pid;
    unsigned util;
    int gpu; /* -1: every GPU */
    int stale;
};

struct fake_fail {
    char function[64];
    int code;
    unsigned after;
    unsigned calls;
};

/* The fake driver's state, as the real one has: loaded once per dlopen. */
struct fake_state {
    int refcount;
    uint64_t t0_ns;
    size_t n_gpus;
    struct fake_gpu gpus[FAKE_MAX_GPUS];
    struct fake_mig migs[FAKE_MAX_GPUS];
    size_t n_procs;
    struct fake_proc procs[FAKE_MAX_PROCS];
    size_t n_fails;
    struct fake_fail fails[FAKE_MAX_FAILS];
};
extern struct fake_state fake;

/* Monotonic clock in ns. */
uint64_t fake_now_ns(void);
/* Reads FAKE_NVML_DEVICES, FAKE_NVML_PROCS and FAKE_NVML_FAIL into a fresh state. */
void fake_configure(void);
/* Appends "<function> <code>" to $FAKE_NVML_LOG, if set. */
void fake_log_call(const char *function, int code);
/* The failure configured for function, or NVML_SUCCESS. */
int fake_injected(const char *function);
/* The index of handle h in array base[0..n) of elements of size, or -1. */
long fake_slot_of(const void *h, const void *base, size_t n, size_t size);
/* What every device function checks first, in NVML's order: the injected failure,
 * initialization, the handle and the output pointer (out), a lost GPU. Sets *g. */
int fake_enter(const char *function, struct nvmlDevice_st *device, const void *out,
               struct fake_gpu **g);

#endif
