/* Intel GPUs through the i915 and xe drivers' hwmon chips
 * (Documentation/ABI/testing/sysfs-driver-intel-{i915,xe}-hwmon): one energy counter
 * (µJ) per GPU, gpu:intelN in PCI address order, from the device-level chip ("i915" or
 * "xe"): energy1_input (the card; i915: "the entire device") or else energy2_input (xe:
 * the package). The per-gt chips ("i915_gtN") measure parts of the device, so they are
 * read only when the device-level chip has no energy file, one channel per gt. i915
 * registers these chips for discrete GPUs only ("hwmon is available only for dGfx"), so
 * they do not overlap the RAPL package, which holds an integrated GPU's energy. */
#include "sensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwmon_common.h"
#include "sysfs.h"

/* Device-level energy files, best first, and the power file giving each one's TDP. */
static const struct intel_source {
    const char *file;
    const char *rated_max;
    const char *what;
} intel_sources[] = {
    { "energy1_input", "power1_rated_max", "card" },
    { "energy2_input", "power2_rated_max", "package" },
};

/* Is this the i915 or xe device-level chip? */
static int intel_is_device(const char *name)
{
    return strcmp(name, "i915") == 0 || strcmp(name, "xe") == 0;
}

/* Is this a per-gt chip "i915_gt<N>"? Sets *gt. */
static int intel_is_gt(const char *name, unsigned *gt)
{
    char *end;
    if (strncmp(name, "i915_gt", 7) != 0 || name[7] < '0' || name[7] > '9')
        return 0;
    unsigned long v = strtoul(name + 7, &end, 10);
    if (*end != '\0' || v > 64)
        return 0;
    *gt = (unsigned)v;
    return 1;
}

static int intel_is_chip(const struct hwmon_chip *c)
{
    unsigned gt;
    return intel_is_device(c->name) || intel_is_gt(c->name, &gt);
}

/* Makes an energy counter of an opened channel. */
static void intel_set_counter(const struct sensor *s, const struct hwmon_chip *c,
                              struct sensor_channel *ch, const char *rated_max)
{
    snprintf(ch->domain, sizeof(ch->domain), "gpu");
    ch->kind = SENSOR_ENERGY_COUNTER;
    ch->provenance = SENSOR_MEASURED;
    ch->max_raw = UINT64_MAX; /* the ABI gives no range: a decrease is flagged */
    ch->included_in_total = 1;
    if (rated_max == NULL || hwmon_read_u64(s, c, rated_max, &ch->max_power_uw) < 0)
        ch->max_power_uw = 0;
}

/* Tries the device-level energy files of chip c. Returns 1 when a channel was made. */
static int intel_add_device_level(struct sensor *s, const struct hwmon_chip *c, unsigned idx)
{
    char name[SENSOR_NAME_MAX];
    struct sensor_channel *ch;
    snprintf(name, sizeof(name), "gpu:intel%u", idx);
    for (size_t i = 0; i < sizeof(intel_sources) / sizeof(intel_sources[0]); i++) {
        int r = hwmon_add_channel(s, name, c, intel_sources[i].file, &ch);
        if (r == 0) {
            intel_set_counter(s, c, ch, intel_sources[i].rated_max);
            size_t len = strlen(ch->note);
            snprintf(ch->note + len, sizeof(ch->note) - len, ": %s energy", intel_sources[i].what);
            return 1;
        }
        if (r != -ENOENT)
            sensor_notef(s, "hwmon%u (%s, %s): %s: %s", c->num, c->name, c->dev,
                         intel_sources[i].file, sysfs_strerror(r));
    }
    return 0;
}

/* One channel per gt chip of a device whose device-level chip gives no energy. */
static void intel_add_gt(struct sensor *s, const struct hwmon_chip *c, unsigned idx, unsigned gt)
{
    char name[SENSOR_NAME_MAX];
    struct sensor_channel *ch;
    snprintf(name, sizeof(name), "gpu:intel%u:gt%u", idx, gt);
    int r = hwmon_add_channel(s, name, c, "energy1_input", &ch);
    if (r < 0) {
        sensor_notef(s, "ignored hwmon%u (%s, %s): energy1_input: %s", c->num, c->name, c->dev,
                     sysfs_strerror(r));
        return;
    }
    intel_set_counter(s, c, ch, NULL);
    size_t len = strlen(ch->note);
    snprintf(ch->note + len, sizeof(ch->note) - len, ": gt %u only (no device-level energy)", gt);
}

/* The GPU whose chips are chips[first..end), all with the same device. */
static void intel_add_gpu(struct sensor *s, const struct hwmon_chips *chips, size_t first,
                          size_t end, unsigned idx)
{
    int have_device = 0;
    unsigned gt;
    for (size_t i = first; i < end && !have_device; i++)
        if (intel_is_device(chips->chips[i].name))
            have_device = intel_add_device_level(s, &chips->chips[i], idx);
    for (size_t i = first; i < end; i++) {
        const struct hwmon_chip *c = &chips->chips[i];
        if (!intel_is_gt(c->name, &gt))
            continue;
        if (have_device)
            sensor_notef(s,
                         "skipped hwmon%u (%s): a part of gpu:intel%u's device energy, "
                         "not counted twice",
                         c->num, c->name, idx);
        else
            intel_add_gt(s, c, idx, gt);
    }
}

static int intel_open(struct sensor *s)
{
    struct hwmon_chips chips;
    unsigned n_gpus = 0;
    hwmon_reset(s);
    int r = hwmon_scan(s, &chips);
    if (r < 0)
        return r;
    /* chips are sorted by device: each run of one device's Intel chips is one GPU. */
    for (size_t i = 0; i < chips.n;) {
        size_t end = i + 1;
        if (!intel_is_chip(&chips.chips[i])) {
            i++;
            continue;
        }
        while (end < chips.n && strcmp(chips.chips[end].dev, chips.chips[i].dev) == 0)
            end++;
        intel_add_gpu(s, &chips, i, end, n_gpus++);
        i = end;
    }
    if (n_gpus == 0)
        return sensor_errorf(s, -ENODEV, "no i915 or xe hwmon chip under '%s/class/hwmon'",
                             s->sysfs_root);
    if (s->n_channels == 0)
        return hwmon_fail(s, -ENODEV, "no Intel GPU energy counter");
    sensor_notef(s, "energy*_input: no wrap range in the ABI (the driver accumulates in a "
                    "64-bit long): a decrease is flagged, not corrected");
    return 0;
}

const struct sensor_ops intel_gpu_sensor_ops = {
    .name = "intel-gpu",
    .priv_size = sizeof(struct hwmon_priv),
    .open = intel_open,
    .read = hwmon_read,
    .close = hwmon_close,
};
