/* CUDA_VISIBLE_DEVICES as CUDA reads it: a comma-separated list of device indices or
 * UUIDs (any unique prefix of "GPU-<uuid>", or a MIG instance "MIG-..."), in the order
 * the job numbers its devices. An entry that names no device ends the list; the entries
 * before it stay visible. A MIG instance has no energy of its own in NVML: its parent
 * GPU is reported whole. */
#include "nvml_visible.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* $CUDA_VISIBLE_DEVICES, NULL when unset. */
static const char *visible_devices(const struct sensor *s)
{
    return s->cfg != NULL ? s->cfg->cuda_visible_devices : NULL;
}

/* The GPU whose UUID starts with prefix (CUDA accepts any unique prefix), or -1. */
static int match_uuid(const struct nvml_phys *phys, size_t n, const char *prefix, size_t len)
{
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        if (phys[i].uuid[0] == '\0' || strncasecmp(phys[i].uuid, prefix, len) != 0)
            continue;
        if (found >= 0)
            return -1; /* ambiguous */
        found = (int)i;
    }
    return found;
}

/* The parent GPU of a MIG instance ("MIG-<uuid>", or the older "MIG-GPU-<uuid>/gi/ci"
 * that names its parent), or -1. */
static int mig_parent(const struct nvml_api *api, const struct nvml_phys *phys, size_t n,
                      const char *id)
{
    struct nvml_device *mig;
    struct nvml_device *parent;
    if (api->get_handle_by_uuid != NULL && api->get_mig_parent != NULL &&
        api->get_handle_by_uuid(id, &mig) == NVML_SUCCESS &&
        api->get_mig_parent(mig, &parent) == NVML_SUCCESS) {
        for (size_t i = 0; i < n; i++)
            if (phys[i].dev != NULL && phys[i].dev == parent)
                return (int)i;
    }
    if (strncasecmp(id + 4, "GPU-", 4) != 0)
        return -1;
    size_t len = strcspn(id + 4, "/");
    int i = match_uuid(phys, n, id + 4, len);
    return i >= 0 && strlen(phys[i].uuid) == len ? i : -1;
}

/* Resolves one CUDA_VISIBLE_DEVICES entry to an NVML index; -1 when CUDA would not
 * accept it. *mig is set for a MIG instance. */
static int resolve_entry(const struct nvml_api *api, const struct nvml_phys *phys, size_t n,
                         const char *id, int *mig)
{
    *mig = 0;
    if (id[0] >= '0' && id[0] <= '9') {
        char *end;
        errno = 0;
        unsigned long v = strtoul(id, &end, 10);
        return errno == 0 && *end == '\0' && v < n ? (int)v : -1;
    }
    if (strncasecmp(id, "GPU-", 4) == 0 && id[4] != '\0')
        return match_uuid(phys, n, id, strlen(id));
    if (strncasecmp(id, "MIG-", 4) == 0) {
        *mig = 1;
        return mig_parent(api, phys, n, id);
    }
    return -1;
}

/* Copies entry [p, p+len) without surrounding blanks into id[size]; 0, or -1 if too long. */
static int entry_text(const char *p, size_t len, char *id, size_t size)
{
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (len >= size)
        return -1;
    memcpy(id, p, len);
    id[len] = '\0';
    return 0;
}

/* Adds NVML index idx to the selection unless it is there already. */
static void select_add(struct sensor *s, struct nvml_selection *sel, int idx, const char *id,
                       int mig)
{
    for (size_t i = 0; i < sel->n; i++) {
        if (sel->phys[i] == (unsigned)idx) {
            sensor_notef(s, "CUDA_VISIBLE_DEVICES: '%s' is nvml %d again: counted once", id, idx);
            return;
        }
    }
    if (mig)
        sensor_notef(s,
                     "'%s' is a MIG instance: per-MIG energy is not available; gpu:%zu reports "
                     "its whole parent GPU (nvml %d)",
                     id, sel->n, idx);
    sel->phys[sel->n++] = (unsigned)idx;
}

/* Parses CUDA_VISIBLE_DEVICES as CUDA does: indices or UUIDs (unique prefixes too); an
 * invalid entry ends the list, keeping the entries before it. */
static void parse_visible(struct sensor *s, const struct nvml_api *api,
                          const struct nvml_phys *phys, size_t n, struct nvml_selection *sel)
{
    const char *cvd = visible_devices(s);
    for (const char *p = cvd; *cvd != '\0' && sel->n < NVML_MAX_GPUS;) {
        size_t len = strcspn(p, ",");
        char id[128];
        int mig = 0;
        int idx =
            entry_text(p, len, id, sizeof(id)) == 0 ? resolve_entry(api, phys, n, id, &mig) : -1;
        if (idx < 0) {
            sensor_notef(s,
                         "CUDA_VISIBLE_DEVICES: '%.*s' is not a GPU here: the list ends there, "
                         "as in CUDA",
                         (int)len, p);
            return;
        }
        select_add(s, sel, idx, id, mig);
        if (p[len] == '\0')
            return;
        p += len + 1;
    }
}

/* Tells which NVML GPUs became gpu:0, gpu:1, ... and warns when index order may differ
 * from CUDA's default order (fastest first) because the GPUs differ. */
static void note_selection(struct sensor *s, const struct nvml_phys *phys, size_t n,
                           const struct nvml_selection *sel)
{
    const char *cvd = visible_devices(s);
    char text[SENSOR_ERRMSG_MAX];
    int len = snprintf(text, sizeof(text),
                       "CUDA_VISIBLE_DEVICES %s%s%s: %zu of %zu GPUs:", cvd != NULL ? "'" : "unset",
                       cvd != NULL ? cvd : "", cvd != NULL ? "'" : "", sel->n, n);
    for (size_t i = 0; i < sel->n && len > 0 && (size_t)len < sizeof(text); i++)
        len += snprintf(text + len, sizeof(text) - (size_t)len, "%s gpu:%zu = nvml %u",
                        i ? "," : "", i, sel->phys[i]);
    sensor_notef(s, "%s", text);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(phys[i].name, phys[0].name) != 0) {
            sensor_notef(s, "GPUs differ: indices follow NVML (PCI bus) order, as with "
                            "CUDA_DEVICE_ORDER=PCI_BUS_ID; give UUIDs to be sure");
            return;
        }
    }
}

int nvml_select_visible(struct sensor *s, const struct nvml_api *api, const struct nvml_phys *phys,
                        size_t n, struct nvml_selection *sel)
{
    const char *cvd = visible_devices(s);
    sel->n = 0;
    if (cvd == NULL) {
        for (size_t i = 0; i < n; i++)
            sel->phys[sel->n++] = (unsigned)i;
    } else {
        parse_visible(s, api, phys, n, sel);
    }
    if (sel->n == 0)
        return sensor_errorf(s, -ENODEV, "CUDA_VISIBLE_DEVICES='%s' hides every GPU (%zu found)",
                             cvd != NULL ? cvd : "", n);
    note_selection(s, phys, n, sel);
    return 0;
}
