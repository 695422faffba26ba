/* AMD GPUs through the amdgpu driver's hwmon chip (drivers/gpu/drm/amd/pm/amdgpu_pm.c):
 * one channel per GPU, gpu:amdN in PCI address order, from the best file the driver
 * offers: an energy counter (energy1_input, µJ) if there is one, else power1_input
 * (instantaneous µW), else power1_average (the SMU's average, µW). On an APU power1 is
 * the whole SoC, CPU cores included; see amdgpu_apply_apu_rule(). */
#include "sensor.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hwmon_common.h"
#include "sysfs.h"

/* An APU's "VRAM" is a carve-out of system memory: 512 MiB unless the firmware setup
 * makes it 1 or 2 GiB (or more). Few amdgpu dGPUs have 2 GiB or less. */
#define AMDGPU_APU_MAX_VRAM (2ull << 30)

/* The files power1 can come from, best first. */
static const struct amdgpu_source {
    const char *file;
    enum sensor_kind kind;
    enum sensor_provenance provenance;
    const char *averaging;
} amdgpu_sources[] = {
    { "energy1_input", SENSOR_ENERGY_COUNTER, SENSOR_MEASURED, "" },
    { "power1_input", SENSOR_POWER_GAUGE, SENSOR_INTEGRATED, "instantaneous" },
    { "power1_average", SENSOR_POWER_GAUGE, SENSOR_INTEGRATED, "driver average (SMU)" },
};

/* The APU heuristic, as amdgpu exposes no "is an APU" file: amdgpu hides the fan
 * attributes on APUs, and an APU's VRAM is a small carve-out. So: no fan1_input and
 * mem_info_vram_total absent or at most 2 GiB. A fanless laptop dGPU with 2 GiB or less
 * would be taken for an APU, and an APU given a carve-out above 2 GiB for a dGPU. */
static int amdgpu_is_apu(const struct sensor *s, const struct hwmon_chip *c)
{
    uint64_t vram = 0;
    if (hwmon_has(s, c, "fan1_input"))
        return 0;
    if (hwmon_read_u64(s, c, "device/mem_info_vram_total", &vram) < 0)
        return 1;
    return vram <= AMDGPU_APU_MAX_VRAM;
}

/* Could RAPL measure the CPU package here (a powercap zone or the perf power PMU)?
 * Whether it is readable is not asked: a root-only counter might be read by root. */
static int amdgpu_rapl_present(const struct sensor *s)
{
    static const char *const paths[] = {
        "class/powercap/intel-rapl:0",
        "bus/event_source/devices/power/events/energy-pkg",
    };
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (sysfs_path(path, sizeof(path), s->sysfs_root, "%s", paths[i]) == 0 &&
            access(path, F_OK) == 0)
            return 1;
    return 0;
}

/* Appends text to the channel's note (truncates quietly). */
static void amdgpu_note_append(struct sensor_channel *ch, const char *text)
{
    size_t len = strlen(ch->note);
    snprintf(ch->note + len, sizeof(ch->note) - len, "%s", text);
}

/* The APU rule: power1 includes the CPU cores. Beside a RAPL package counter it stays
 * out of the total (no double counting); without RAPL it is the only measure of the
 * package, so it counts as the package and the CPU model steps aside. */
static void amdgpu_apply_apu_rule(const struct sensor *s, const struct hwmon_chip *c,
                                  struct sensor_channel *ch)
{
    if (!amdgpu_is_apu(s, c))
        return;
    if (amdgpu_rapl_present(s)) {
        ch->included_in_total = 0;
        amdgpu_note_append(ch, "; APU: power1 includes the CPU; not added to avoid double "
                               "counting with RAPL");
    } else {
        snprintf(ch->domain, sizeof(ch->domain), "package");
        amdgpu_note_append(ch, "; APU: power1 includes the CPU; counted as the package "
                               "(no RAPL here)");
    }
}

/* Notes why a power1 file failed. Since Linux 6.15 amdgpu refuses hwmon reads with
 * EPERM while the GPU is runtime-suspended, rather than waking it. */
static void amdgpu_note_failure(struct sensor *s, const struct hwmon_chip *c, const char *file,
                                int err)
{
    char status[32];
    if (err == -EPERM &&
        hwmon_read_str(s, c, "device/power/runtime_status", status, sizeof(status)) > 0 &&
        strcmp(status, "suspended") == 0)
        sensor_notef(s,
                     "hwmon%u (%s): %s: the GPU is asleep (runtime suspended) and amdgpu "
                     "gives no reading until it wakes",
                     c->num, c->dev, file);
    else
        sensor_notef(s, "hwmon%u (%s): %s: %s", c->num, c->dev, file, sysfs_strerror(err));
}

/* Opens the best power1 source of one GPU as channel gpu:amd<idx>. */
static void amdgpu_add_gpu(struct sensor *s, const struct hwmon_chip *c, unsigned idx)
{
    char name[SENSOR_NAME_MAX];
    struct sensor_channel *ch = NULL;
    const struct amdgpu_source *src = NULL;
    snprintf(name, sizeof(name), "gpu:amd%u", idx);
    for (size_t i = 0; i < sizeof(amdgpu_sources) / sizeof(amdgpu_sources[0]) && !src; i++) {
        int r = hwmon_add_channel(s, name, c, amdgpu_sources[i].file, &ch);
        if (r == 0)
            src = &amdgpu_sources[i];
        else if (r != -ENOENT)
            amdgpu_note_failure(s, c, amdgpu_sources[i].file, r);
    }
    if (src == NULL) {
        sensor_notef(s,
                     "ignored hwmon%u (%s): no readable energy1_input, power1_input or "
                     "power1_average",
                     c->num, c->dev);
        return;
    }
    snprintf(ch->domain, sizeof(ch->domain), "gpu");
    ch->kind = src->kind;
    ch->provenance = src->provenance;
    ch->max_raw = src->kind == SENSOR_ENERGY_COUNTER ? UINT64_MAX : 0;
    ch->included_in_total = 1;
    snprintf(ch->averaging, sizeof(ch->averaging), "%s", src->averaging);
    if (hwmon_read_u64(s, c, "power1_cap_max", &ch->max_power_uw) < 0)
        ch->max_power_uw = 0;
    if (src->kind == SENSOR_ENERGY_COUNTER)
        sensor_notef(s,
                     "gpu:amd%u: energy1_input has no documented wrap range: a decrease "
                     "is flagged, not corrected",
                     idx);
    amdgpu_apply_apu_rule(s, c, ch);
}

static int amdgpu_open(struct sensor *s)
{
    struct hwmon_chips chips;
    unsigned n_gpus = 0;
    hwmon_reset(s);
    int r = hwmon_scan(s, &chips);
    if (r < 0)
        return r;
    for (size_t i = 0; i < chips.n; i++)
        if (strcmp(chips.chips[i].name, "amdgpu") == 0)
            amdgpu_add_gpu(s, &chips.chips[i], n_gpus++);
    if (n_gpus == 0)
        return sensor_errorf(s, -ENODEV, "no amdgpu hwmon chip under '%s/class/hwmon'",
                             s->sysfs_root);
    if (s->n_channels == 0)
        return hwmon_fail(s, -ENODEV, "no amdgpu power reading");
    return 0;
}

const struct sensor_ops amdgpu_sensor_ops = {
    .name = "amdgpu",
    .priv_size = sizeof(struct hwmon_priv),
    .open = amdgpu_open,
    .read = hwmon_read,
    .close = hwmon_close,
};
