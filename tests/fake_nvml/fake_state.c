/* The fake driver's state: its configuration from the environment (see fake_nvml.c),
 * injected failures, the call log, and the checks every device call starts with. */
#include "fake_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The fake driver's state, as the real one has: loaded once per dlopen. */
struct fake_state fake;

const char *const fake_kind_names[5] = { "energy", "power_instant", "power_avg", "error_after",
                                         "bogus" };

uint64_t fake_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double elapsed_s(void)
{
    return (double)(fake_now_ns() - fake.t0_ns) / 1e9;
}

/* Copies the next sep-delimited field of *p into out[size] and moves *p past it. */
static void next_field(const char **p, char sep, char *out, size_t size)
{
    size_t len = strcspn(*p, sep == ',' ? "," : ":,");
    snprintf(out, size, "%.*s", (int)len, *p);
    *p += len;
    if (**p == sep)
        (*p)++;
}

static void parse_gpu_flag(struct fake_gpu *g, const char *flag)
{
    if (strcmp(flag, "mig") == 0)
        g->mig = 1;
    else if (strcmp(flag, "ull") == 0)
        g->value_type = 3;
    else if (strcmp(flag, "dbl") == 0)
        g->value_type = 0;
    else if (strtod(flag, NULL) > 0)
        g->lost_after_s = strtod(flag, NULL);
}

/* One GPU: KIND:WATTS[:SECONDS][:FLAG...]. */
static void parse_gpu(const char *spec)
{
    struct fake_gpu *g = &fake.gpus[fake.n_gpus++];
    char field[64];
    memset(g, 0, sizeof(*g));
    g->value_type = 1;
    next_field(&spec, ':', field, sizeof(field));
    for (size_t k = 0; k < sizeof(fake_kind_names) / sizeof(fake_kind_names[0]); k++)
        if (strcmp(field, fake_kind_names[k]) == 0)
            g->kind = (enum fake_kind)k;
    next_field(&spec, ':', field, sizeof(field));
    g->watts = strtod(field, NULL);
    while (*spec != '\0') {
        next_field(&spec, ':', field, sizeof(field));
        parse_gpu_flag(g, field);
    }
}

static void parse_proc(const char *spec)
{
    struct fake_proc *pr = &fake.procs[fake.n_procs++];
    char field[32];
    memset(pr, 0, sizeof(*pr));
    pr->gpu = -1;
    next_field(&spec, ':', field, sizeof(field));
    pr->pid = (unsigned)strtoul(field, NULL, 10);
    next_field(&spec, ':', field, sizeof(field));
    pr->util = (unsigned)strtoul(field, NULL, 10);
    next_field(&spec, ':', field, sizeof(field));
    if (strcmp(field, "stale") == 0)
        pr->stale = 1;
    else if (field[0] != '\0')
        pr->gpu = atoi(field);
}

static void parse_fail(const char *spec)
{
    struct fake_fail *f = &fake.fails[fake.n_fails++];
    char field[32];
    memset(f, 0, sizeof(*f));
    next_field(&spec, ':', f->function, sizeof(f->function));
    next_field(&spec, ':', field, sizeof(field));
    f->code = atoi(field);
    next_field(&spec, ':', field, sizeof(field));
    f->after = (unsigned)strtoul(field, NULL, 10);
}

/* Calls parse for each comma-separated item of $var, at most max of them. */
static void parse_list(const char *var, size_t max, const size_t *count,
                       void (*parse)(const char *))
{
    const char *p = getenv(var);
    char item[256];
    while (p != NULL && *p != '\0' && *count < max) {
        next_field(&p, ',', item, sizeof(item));
        if (item[0] != '\0')
            parse(item);
    }
}

void fake_configure(void)
{
    memset(&fake, 0, sizeof(fake));
    parse_list("FAKE_NVML_DEVICES", FAKE_MAX_GPUS, &fake.n_gpus, parse_gpu);
    parse_list("FAKE_NVML_PROCS", FAKE_MAX_PROCS, &fake.n_procs, parse_proc);
    parse_list("FAKE_NVML_FAIL", FAKE_MAX_FAILS, &fake.n_fails, parse_fail);
    for (size_t i = 0; i < fake.n_gpus; i++)
        fake.migs[i].parent = (unsigned)i;
    fake.t0_ns = fake_now_ns();
}

void fake_log_call(const char *function, int code)
{
    const char *path = getenv("FAKE_NVML_LOG");
    FILE *f = path != NULL ? fopen(path, "ae") : NULL;
    if (f == NULL)
        return;
    fprintf(f, "%s %d\n", function, code);
    fclose(f);
}

/* The configured failure of function, or NVML_SUCCESS. */
int fake_injected(const char *function)
{
    for (size_t i = 0; i < fake.n_fails; i++) {
        struct fake_fail *f = &fake.fails[i];
        if (strcmp(f->function, function) != 0)
            continue;
        if (f->calls < f->after) {
            f->calls++;
            return NVML_SUCCESS;
        }
        return f->code;
    }
    return NVML_SUCCESS;
}

/* The index of handle h in array base[0..n) of elements of size, or -1 (compared as
 * integers: h may point anywhere). */
long fake_slot_of(const void *h, const void *base, size_t n, size_t size)
{
    uintptr_t p = (uintptr_t)h;
    uintptr_t b = (uintptr_t)base;
    if (p < b || p >= b + n * size || (p - b) % size != 0)
        return -1;
    return (long)((p - b) / size);
}

static struct fake_gpu *gpu_of(const struct nvmlDevice_st *device)
{
    long i = fake_slot_of(device, fake.gpus, fake.n_gpus, sizeof(fake.gpus[0]));
    return i < 0 ? NULL : &fake.gpus[i];
}

/* What every device function checks first, in NVML's order: the injected failure,
 * initialization, the handle and the output pointer, a lost GPU. */
int fake_enter(const char *function, struct nvmlDevice_st *device, const void *out,
               struct fake_gpu **g)
{
    int code = fake_injected(function);
    if (code != NVML_SUCCESS)
        return code;
    if (fake.refcount == 0)
        return NVML_ERROR_UNINITIALIZED;
    *g = gpu_of(device);
    if (*g == NULL || out == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    if ((*g)->kind == FAKE_ERROR_AFTER && elapsed_s() >= (*g)->lost_after_s)
        return NVML_ERROR_GPU_IS_LOST;
    return NVML_SUCCESS;
}
