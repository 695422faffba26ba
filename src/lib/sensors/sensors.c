/* The backend list and the rules for choosing among backends (see sensors.h). */
#include "sensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct sensor_ops *const sensor_backends[] = {
    /* wattprof serve first: an unprivileged user reads its counters through it */
    &daemon_sensor_ops,
    &rapl_perf_sensor_ops,
    &rapl_powercap_sensor_ops,
    /* opt-in (raw MSR access re-opens the PLATYPUS side channel): tried only when named */
    &rapl_msr_sensor_ops,
    &nvml_sensor_ops,
    &amdgpu_sensor_ops,
    &intel_gpu_sensor_ops,
    &hwmon_sensor_ops,
    /* GPUs: nvml, amdgpu, intel-gpu; then generic hwmon; then whole-node meters:
     * ipmi-dcmi, meter, ptd. The model stays last. */
    &ipmi_dcmi_sensor_ops,
    &meter_sensor_ops,
    &ptd_sensor_ops,
    /* a recorded trace (--replay): tried only when a trace is given */
    &replay_sensor_ops,
    &model_sensor_ops,
    NULL,
};

int sensors_known(const char *name)
{
    for (size_t i = 0; sensor_backends[i]; i++)
        if (strcmp(sensor_backends[i]->name, name) == 0)
            return 1;
    return 0;
}

int sensors_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* Is the CPU side (packages, psys, DRAM) measured and in the total? Then the model
 * only compares; a measured GPU alone leaves the CPU and memory to the model. */
static int cpu_side_measured(const struct sensors *set)
{
    static const char *const domains[] = { "package", "psys", "dram", "cpu" };
    for (size_t i = 0; i < set->n; i++) {
        const struct sensor *s = set->entries[i].sensor;
        if (!s || set->entries[i].status != 0 || set->entries[i].skipped)
            continue;
        for (size_t j = 0; j < s->n_channels; j++) {
            const struct sensor_channel *c = &s->channels[j];
            if (!c->included_in_total || c->provenance == SENSOR_ESTIMATED)
                continue;
            for (size_t k = 0; k < sizeof(domains) / sizeof(domains[0]); k++)
                if (strcmp(c->domain, domains[k]) == 0)
                    return 1;
        }
    }
    return 0;
}

/* The RAPL backends, in priority order: each reads the same counters. */
static const struct sensor_ops *const rapl_backends[] = {
    &rapl_perf_sensor_ops,
    &rapl_powercap_sensor_ops,
    &rapl_msr_sensor_ops,
    NULL,
};

static int is_rapl(const struct sensor_ops *ops)
{
    for (size_t i = 0; rapl_backends[i]; i++)
        if (rapl_backends[i] == ops)
            return 1;
    return 0;
}

/* The name of an open RAPL backend that comes before ops, or NULL: ops would read the
 * same package counters again. */
static const char *rapl_read_before(const struct sensors *set, const struct sensor_ops *ops)
{
    if (!is_rapl(ops))
        return NULL;
    for (size_t i = 0; i < set->n; i++) {
        const struct sensors_entry *e = &set->entries[i];
        if (e->ops != ops && is_rapl(e->ops) && e->sensor && e->status == 0 && !e->skipped)
            return e->ops->name;
    }
    return NULL;
}

/* Does the open daemon backend already hand out what ops would read? RAPL is one set of
 * counters whichever interface the daemon used. */
static int read_by_daemon(const struct sensors *set, const struct sensor_ops *ops)
{
    int rapl = is_rapl(ops);
    for (size_t i = 0; i < set->n; i++) {
        const struct sensors_entry *e = &set->entries[i];
        if (e->ops != &daemon_sensor_ops || !e->sensor || e->status != 0 || e->skipped)
            continue;
        if (daemon_sensor_serves(e->sensor, ops->name))
            return 1;
        for (size_t j = 0; rapl && rapl_backends[j]; j++)
            if (daemon_sensor_serves(e->sensor, rapl_backends[j]->name))
                return 1;
    }
    return 0;
}

static const char *skip_reason(const struct sensors *set, const struct sensors_env *env,
                               const struct sensor_ops *ops, char *buf, size_t size)
{
    if (env->only && *env->only && !sensors_in_list(env->only, ops->name))
        return "not selected (--sensors)";
    if (ops == &rapl_msr_sensor_ops && !(env->only && sensors_in_list(env->only, ops->name)))
        return "opt-in: name it with --sensors rapl-msr";
    if (ops != &daemon_sensor_ops && read_by_daemon(set, ops))
        return "the same counters are read through the daemon (wattprof serve)";
    const char *rapl = rapl_read_before(set, ops);
    if (rapl) {
        snprintf(buf, size, "the same RAPL counters are read through %s", rapl);
        return buf;
    }
    return NULL;
}

static void open_one(struct sensors_entry *e, const struct sensors_env *env)
{
    struct sensor *s = e->sensor;
    s->ops = e->ops;
    s->sysfs_root = env->sysfs_root;
    s->proc_root = env->proc_root;
    s->dev_root = env->dev_root;
    s->data_dir = env->data_dir;
    s->sys = env->sys;
    s->cfg = env->cfg;
    e->status = e->ops->open(s);
    if (e->status == 0 && s->n_channels == 0)
        e->status = sensor_errorf(s, -ENODEV, "no channels found");
    if (e->status != 0) {
        e->ops->close(s);
        s->n_channels = 0;
    }
}

/* Allocates the sensor and its private state; returns -ENOMEM on failure. */
static int alloc_sensor(struct sensors_entry *e)
{
    e->sensor = calloc(1, sizeof(*e->sensor));
    if (!e->sensor)
        return -ENOMEM;
    if (e->ops->priv_size) {
        e->sensor->priv = calloc(1, e->ops->priv_size);
        if (!e->sensor->priv)
            return -ENOMEM;
    }
    return 0;
}

/* The model stays beside measured counters for comparison, out of the total. */
static void demote_model(struct sensors *set)
{
    if (!cpu_side_measured(set))
        return;
    for (size_t i = 0; i < set->n; i++) {
        struct sensor *s = set->entries[i].sensor;
        if (!s || set->entries[i].status != 0 || set->entries[i].ops != &model_sensor_ops)
            continue;
        for (size_t j = 0; j < s->n_channels; j++)
            s->channels[j].included_in_total = 0;
        sensor_notef(s, "not in the total: the CPU side is measured; shown for comparison");
    }
}

static int is_open(const struct sensors_entry *e)
{
    return e->sensor && e->status == 0 && !e->skipped;
}

/* A replayed trace is the total: live channels (and the model) would count the same
 * domains again, so they are listed beside it, out of the total. */
static void demote_live(struct sensors *set)
{
    int replaying = 0;
    for (size_t i = 0; i < set->n; i++)
        replaying |= set->entries[i].ops == &replay_sensor_ops && is_open(&set->entries[i]);
    for (size_t i = 0; replaying && i < set->n; i++) {
        struct sensor *s = set->entries[i].sensor;
        if (!is_open(&set->entries[i]) || set->entries[i].ops == &replay_sensor_ops)
            continue;
        for (size_t j = 0; j < s->n_channels; j++)
            s->channels[j].included_in_total = 0;
        sensor_notef(s, "not in the total: a recorded trace is replayed (--replay); shown for "
                        "comparison");
    }
}

int sensors_open(struct sensors *set, const struct sensors_env *env)
{
    int usable = 0;
    memset(set, 0, sizeof(*set));
    for (size_t i = 0; sensor_backends[i] && set->n < SENSORS_MAX; i++) {
        struct sensors_entry *e = &set->entries[set->n++];
        e->ops = sensor_backends[i];
        char buf[sizeof(e->skip_reason)];
        const char *why = skip_reason(set, env, e->ops, buf, sizeof(buf));
        if (why) {
            e->skipped = 1;
            snprintf(e->skip_reason, sizeof(e->skip_reason), "%s", why);
            continue;
        }
        if (alloc_sensor(e) < 0)
            return -ENOMEM;
        open_one(e, env);
        if (e->status == 0)
            usable += (int)e->sensor->n_channels;
    }
    demote_model(set);
    demote_live(set);
    return usable;
}

void sensors_close(struct sensors *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct sensors_entry *e = &set->entries[i];
        if (e->sensor && e->status == 0 && !e->skipped)
            e->ops->close(e->sensor);
        if (e->sensor)
            free(e->sensor->priv);
        free(e->sensor);
        e->sensor = NULL;
    }
    set->n = 0;
}

size_t sensors_active(struct sensors *set, struct sensor **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n && n < max; i++)
        if (set->entries[i].sensor && set->entries[i].status == 0 && !set->entries[i].skipped)
            out[n++] = set->entries[i].sensor;
    return n;
}
