/* Loading NVML at run time: one table of symbols, each with the name to try first, an
 * older name to fall back to, and whether the backend can work without it. A missing
 * optional symbol only turns its feature off (nvtop's pattern, without its 40 repeated
 * dlsym blocks). */
#include "nvml_api.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A function pointer is stored through memcpy from dlsym's void *, as POSIX allows. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym needs code pointers as void *");

static const struct nvml_symbol {
    size_t slot;          /* offset of the member in struct nvml_api */
    const char *name;     /* tried first */
    const char *fallback; /* tried when name is missing; NULL: none */
    int required;
} nvml_symbols[] = {
    { offsetof(struct nvml_api, init), "nvmlInit_v2", "nvmlInit", 1 },
    { offsetof(struct nvml_api, get_count), "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount", 1 },
    { offsetof(struct nvml_api, get_handle_by_index), "nvmlDeviceGetHandleByIndex_v2",
      "nvmlDeviceGetHandleByIndex", 1 },
    { offsetof(struct nvml_api, get_name), "nvmlDeviceGetName", NULL, 1 },
    { offsetof(struct nvml_api, shutdown), "nvmlShutdown", NULL, 1 },
    { offsetof(struct nvml_api, error_string), "nvmlErrorString", NULL, 0 },
    { offsetof(struct nvml_api, get_uuid), "nvmlDeviceGetUUID", NULL, 0 },
    { offsetof(struct nvml_api, get_total_energy), "nvmlDeviceGetTotalEnergyConsumption", NULL, 0 },
    { offsetof(struct nvml_api, get_field_values), "nvmlDeviceGetFieldValues", NULL, 0 },
    { offsetof(struct nvml_api, get_power_usage), "nvmlDeviceGetPowerUsage", NULL, 0 },
    { offsetof(struct nvml_api, get_process_utilization), "nvmlDeviceGetProcessUtilization", NULL,
      0 },
    { offsetof(struct nvml_api, get_mig_mode), "nvmlDeviceGetMigMode", NULL, 0 },
    { offsetof(struct nvml_api, get_power_limit), "nvmlDeviceGetPowerManagementLimit", NULL, 0 },
    { offsetof(struct nvml_api, get_handle_by_uuid), "nvmlDeviceGetHandleByUUID", NULL, 0 },
    { offsetof(struct nvml_api, get_mig_parent), "nvmlDeviceGetDeviceHandleFromMigDeviceHandle",
      NULL, 0 },
};

/* Resolves one symbol into its slot; returns 0, or -1 when both names are missing. */
static int resolve(struct nvml_api *api, const struct nvml_symbol *sym)
{
    void *fn = dlsym(api->lib, sym->name);
    if (fn == NULL && sym->fallback != NULL)
        fn = dlsym(api->lib, sym->fallback);
    memcpy((char *)api + sym->slot, &fn, sizeof(fn));
    return fn != NULL ? 0 : -1;
}

int nvml_api_load(struct nvml_api *api, const char *path, char *errmsg, size_t size)
{
    memset(api, 0, sizeof(*api));
    /* RTLD_LOCAL keeps NVML's symbols out of the global namespace; never RTLD_DEEPBIND,
     * which breaks the sanitizers (STYLE.md §9). */
    api->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (api->lib == NULL) {
        const char *why = dlerror();
        snprintf(errmsg, size, "no NVIDIA driver library ('%s': %s)", path,
                 why != NULL ? why : "cannot be loaded");
        return -ENODEV;
    }
    for (size_t i = 0; i < sizeof(nvml_symbols) / sizeof(nvml_symbols[0]); i++) {
        const struct nvml_symbol *sym = &nvml_symbols[i];
        if (resolve(api, sym) < 0 && sym->required) {
            snprintf(errmsg, size, "'%s' is not a usable NVML library: it has no %s%s%s", path,
                     sym->name, sym->fallback != NULL ? " or " : "",
                     sym->fallback != NULL ? sym->fallback : "");
            nvml_api_unload(api);
            return -EIO;
        }
    }
    return 0;
}

void nvml_api_unload(struct nvml_api *api)
{
    if (api->lib != NULL)
        dlclose(api->lib);
    memset(api, 0, sizeof(*api));
}

const char *nvml_api_strerror(const struct nvml_api *api, int ret, char *buf, size_t size)
{
    const char *text = api->error_string != NULL ? api->error_string(ret) : NULL;
    if (text != NULL && *text != '\0')
        return text;
    snprintf(buf, size, "NVML error %d", ret);
    return buf;
}
