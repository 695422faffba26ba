/* Generic hwmon chips that the user opts into by name with --hwmon NAME,... (board power
 * monitors of the INA2xx family, the ACPI power meter, ...): every energy*_input of a
 * chip as a counter (µJ), or else every power*_input (or power*_average) as a gauge (µW),
 * as channels hwmon:<chip>:<label or index>. What a generic chip measures is unknown, so
 * its channels stay out of the total; meters documented to cover the whole node (the
 * ACPI power meter) become node totals, still never added to the component sum. */
#include "sensor.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwmon_common.h"
#include "sysfs.h"

#define HWMON_MAX_INDEX 63 /* attribute indices 1..63 fit a uint64_t mask */
#define HWMON_LABEL_MAX 24

/* Chips documented to measure the whole node. The ACPI power meter (ACPI000D) driver
 * registers its hwmon chip as "power_meter"; its driver name is accepted too. */
static const struct hwmon_node_meter {
    const char *name;
    const char *driver;
    const char *coverage;
} hwmon_node_meters[] = {
    { "power_meter", "acpi_power_meter", "ACPI power meter (ACPI000D): whole node" },
};

static const struct hwmon_node_meter *hwmon_node_meter_of(const char *chip_name)
{
    for (size_t i = 0; i < sizeof(hwmon_node_meters) / sizeof(hwmon_node_meters[0]); i++)
        if (strcmp(chip_name, hwmon_node_meters[i].name) == 0)
            return &hwmon_node_meters[i];
    return NULL;
}

/* Does --hwmon entry token[0..len) name this chip (by hwmon name or driver name)? */
static int hwmon_selects(const char *chip_name, const char *token, size_t len)
{
    const struct hwmon_node_meter *m = hwmon_node_meter_of(chip_name);
    if (strlen(chip_name) == len && strncmp(chip_name, token, len) == 0)
        return 1;
    return m != NULL && strlen(m->driver) == len && strncmp(m->driver, token, len) == 0;
}

/* N of a directory entry "<prefix>N<suffix>" (1..HWMON_MAX_INDEX), else 0. */
static unsigned hwmon_attr_index(const char *d_name, const char *prefix, const char *suffix)
{
    size_t len = strlen(prefix);
    char *end;
    if (strncmp(d_name, prefix, len) != 0 || d_name[len] < '1' || d_name[len] > '9')
        return 0;
    unsigned long v = strtoul(d_name + len, &end, 10);
    if (strcmp(end, suffix) != 0 || v > HWMON_MAX_INDEX)
        return 0;
    return (unsigned)v;
}

/* Bitmasks (bit N) of the chip's energyN_input and powerN_input / powerN_average. */
static void hwmon_list_attrs(const struct sensor *s, const struct hwmon_chip *c, uint64_t *energy,
                             uint64_t *power)
{
    char dir[PATH_MAX];
    *energy = 0;
    *power = 0;
    if (hwmon_path(dir, sizeof(dir), s, c, ".") < 0)
        return;
    DIR *d = opendir(dir);
    for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
        *energy |= (uint64_t)1 << hwmon_attr_index(e->d_name, "energy", "_input");
        *power |= (uint64_t)1 << hwmon_attr_index(e->d_name, "power", "_input");
        *power |= (uint64_t)1 << hwmon_attr_index(e->d_name, "power", "_average");
    }
    if (d != NULL)
        closedir(d);
    *energy &= ~(uint64_t)1; /* bit 0: no match */
    *power &= ~(uint64_t)1;
}

/* "hwmon:<chip>:<label>" from <type>N_label, with anything but [A-Za-z0-9._+-] made
 * '_', or "hwmon:<chip>:<N>" without a label. */
static void hwmon_channel_name(const struct sensor *s, const struct hwmon_chip *c, const char *chip,
                               const char *type, unsigned idx, char *out, size_t size)
{
    char file[32], label[HWMON_LABEL_MAX];
    snprintf(file, sizeof(file), "%s%u_label", type, idx);
    if (hwmon_read_str(s, c, file, label, sizeof(label)) <= 0)
        snprintf(label, sizeof(label), "%u", idx);
    for (char *p = label; *p != '\0'; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 strchr("._+-", *p) != NULL;
        *p = ok ? *p : '_';
    }
    snprintf(out, size, "hwmon:%s:%s", chip, label);
}

static int hwmon_has_channel(const struct sensor *s, const char *name)
{
    for (size_t i = 0; i < s->n_channels; i++)
        if (strcmp(s->channels[i].name, name) == 0)
            return 1;
    return 0;
}

/* Opens <type>N<suffix> as a channel; notes why not on failure. Returns it or NULL. */
static struct sensor_channel *hwmon_open_attr(struct sensor *s, const struct hwmon_chip *c,
                                              const char *chip, const char *type, unsigned idx,
                                              const char *suffix)
{
    char name[SENSOR_NAME_MAX], file[48];
    struct sensor_channel *ch;
    hwmon_channel_name(s, c, chip, type, idx, name, sizeof(name));
    snprintf(file, sizeof(file), "%s%u%s", type, idx, suffix);
    if (hwmon_has_channel(s, name)) {
        sensor_notef(s, "ignored hwmon%u/%s: channel '%s' already exists", c->num, file, name);
        return NULL;
    }
    int r = hwmon_add_channel(s, name, c, file, &ch);
    if (r < 0) {
        sensor_notef(s, "ignored hwmon%u/%s (%s): %s", c->num, file, c->name, sysfs_strerror(r));
        return NULL;
    }
    return ch;
}

/* Where the channel belongs: a node total for a documented whole-node meter (unless it
 * says it measures a battery), else a channel of unknown coverage; never in the sum. */
static void hwmon_set_scope(const struct sensor *s, const struct hwmon_chip *c,
                            struct sensor_channel *ch)
{
    const struct hwmon_node_meter *m = hwmon_node_meter_of(c->name);
    uint64_t battery = 0;
    if (m != NULL && hwmon_read_u64(s, c, "power1_is_battery", &battery) < 0)
        battery = 0;
    ch->node_scope = m != NULL && battery == 0;
    ch->included_in_total = 0;
    snprintf(ch->domain, sizeof(ch->domain), "%s", ch->node_scope ? "node" : "other");
    size_t len = strlen(ch->note);
    snprintf(ch->note + len, sizeof(ch->note) - len, "; %s",
             ch->node_scope ? m->coverage
             : battery      ? "measures a battery: not in the total"
                            : "coverage unknown: not in the total");
}

static void hwmon_add_counter(struct sensor *s, const struct hwmon_chip *c, const char *chip,
                              unsigned idx)
{
    struct sensor_channel *ch = hwmon_open_attr(s, c, chip, "energy", idx, "_input");
    if (ch == NULL)
        return;
    ch->kind = SENSOR_ENERGY_COUNTER;
    ch->provenance = SENSOR_MEASURED;
    ch->max_raw = UINT64_MAX; /* the hwmon ABI gives no wrap range: a decrease is flagged */
    hwmon_set_scope(s, c, ch);
}

/* powerN_input (instantaneous) if there is one, else powerN_average, whose window is
 * powerN_average_interval (ms) when the chip has it. */
static void hwmon_add_gauge(struct sensor *s, const struct hwmon_chip *c, const char *chip,
                            unsigned idx)
{
    char file[48];
    uint64_t interval_ms;
    snprintf(file, sizeof(file), "power%u_input", idx);
    int instant = hwmon_has(s, c, file);
    struct sensor_channel *ch =
        hwmon_open_attr(s, c, chip, "power", idx, instant ? "_input" : "_average");
    if (ch == NULL)
        return;
    ch->kind = SENSOR_POWER_GAUGE;
    ch->provenance = SENSOR_INTEGRATED;
    snprintf(file, sizeof(file), "power%u_average_interval", idx);
    if (instant)
        snprintf(ch->averaging, sizeof(ch->averaging), "instantaneous");
    else if (hwmon_read_u64(s, c, file, &interval_ms) == 0)
        snprintf(ch->averaging, sizeof(ch->averaging), "average over %llu ms",
                 (unsigned long long)interval_ms);
    else
        snprintf(ch->averaging, sizeof(ch->averaging), "driver average");
    snprintf(file, sizeof(file), "power%u_rated_max", idx);
    if (hwmon_read_u64(s, c, file, &ch->max_power_uw) < 0)
        ch->max_power_uw = 0;
    hwmon_set_scope(s, c, ch);
}

/* The chip's energy counters, or else its power gauges. */
static void hwmon_add_chip(struct sensor *s, const struct hwmon_chip *c, const char *chip)
{
    uint64_t energy, power;
    hwmon_list_attrs(s, c, &energy, &power);
    for (unsigned i = 1; i <= HWMON_MAX_INDEX; i++)
        if (energy & ((uint64_t)1 << i))
            hwmon_add_counter(s, c, chip, i);
    for (unsigned i = 1; i <= HWMON_MAX_INDEX && energy == 0; i++)
        if (power & ((uint64_t)1 << i))
            hwmon_add_gauge(s, c, chip, i);
    if (energy == 0 && power == 0)
        sensor_notef(s,
                     "ignored hwmon%u (%s): no energy*_input, power*_input or "
                     "power*_average",
                     c->num, c->name);
}

/* Adds the chips that --hwmon entry token[0..len) names; "<name>.<k>" tells apart several
 * chips of one name. Returns how many chips it names. */
static size_t hwmon_add_selected(struct sensor *s, const struct hwmon_chips *chips,
                                 const char *token, size_t len)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < chips->n; i++)
        n += (size_t)hwmon_selects(chips->chips[i].name, token, len);
    for (size_t i = 0; i < chips->n; i++) {
        const struct hwmon_chip *c = &chips->chips[i];
        char chip[HWMON_NAME_MAX + 24];
        if (!hwmon_selects(c->name, token, len))
            continue;
        if (n > 1)
            snprintf(chip, sizeof(chip), "%s.%zu", c->name, k++);
        else
            snprintf(chip, sizeof(chip), "%s", c->name);
        hwmon_add_chip(s, c, chip);
    }
    if (n == 0)
        sensor_notef(s, "chip '%.*s' not found", (int)len, token);
    return n;
}

/* None of the selected chips exists: say so, and name the chips there are. */
static int hwmon_not_found(struct sensor *s, const struct hwmon_chips *chips)
{
    int r = hwmon_fail(s, -ENODEV, "no selected hwmon chip");
    size_t len = strlen(s->errmsg);
    len += (size_t)snprintf(s->errmsg + len, sizeof(s->errmsg) - len, " under '%s/class/hwmon'",
                            s->sysfs_root);
    for (size_t i = 0; i < chips->n && len < sizeof(s->errmsg); i++)
        len += (size_t)snprintf(s->errmsg + len, sizeof(s->errmsg) - len, "%s%s",
                                i == 0 ? " (chips there: " : ", ", chips->chips[i].name);
    if (chips->n > 0 && len < sizeof(s->errmsg))
        snprintf(s->errmsg + len, sizeof(s->errmsg) - len, ")");
    return r;
}

static int generic_open(struct sensor *s)
{
    const char *list = s->cfg != NULL ? s->cfg->hwmon : NULL;
    struct hwmon_chips chips;
    size_t found = 0;
    hwmon_reset(s);
    if (list == NULL || *list == '\0')
        return sensor_errorf(s, -ENODEV, "no generic hwmon chips selected (use --hwmon NAME,...)");
    int r = hwmon_scan(s, &chips);
    if (r < 0)
        return r;
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len > 0)
            found += hwmon_add_selected(s, &chips, p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    if (s->n_channels > 0)
        return 0;
    if (found == 0)
        return hwmon_not_found(s, &chips);
    return hwmon_fail(s, -ENODEV, "no energy or power reading in the selected hwmon chips");
}

const struct sensor_ops hwmon_sensor_ops = {
    .name = "hwmon",
    .priv_size = sizeof(struct hwmon_priv),
    .open = generic_open,
    .read = hwmon_read,
    .close = hwmon_close,
};
