/* The list of sensor backends and the rules for choosing among them: priority order
 * (counters before gauges before models), one source per set of counters, and the
 * model kept beside measured counters only for comparison. */
#ifndef WATTPROF_SENSORS_H
#define WATTPROF_SENSORS_H

#include <stddef.h>

#include "sensor.h"

#define SENSORS_MAX 16

struct sensors_entry {
    const struct sensor_ops *ops;
    int status;  /* 0 open, or the negative errno from open() */
    int skipped; /* not tried: another backend reads the same counters, or
                    not selected */
    char skip_reason[160];
    struct sensor *sensor; /* heap; open when status == 0 and !skipped */
};

struct sensors {
    size_t n;
    struct sensors_entry entries[SENSORS_MAX];
};

/* Where backends read from; borrowed strings. */
struct sensors_env {
    const char *sysfs_root;
    const char *proc_root;
    const char *data_dir;
    const struct sensor_sys *sys; /* NULL: real system calls */
    const char *only;             /* comma-separated backend names, or NULL for all */
    const struct sensor_config *cfg;
    const char *dev_root; /* "/dev", or $WATTPROF_DEVFS; NULL: "/dev" */
};

/* The backends, in priority order, NULL-terminated. */
extern const struct sensor_ops *const sensor_backends[];

/* Returns 1 when name is a backend name. */
int sensors_known(const char *name);

/* Is name in the comma-separated list? */
int sensors_in_list(const char *list, const char *name);

/* Tries every backend. Returns the number of usable channels (>= 0) or -ENOMEM. */
int sensors_open(struct sensors *set, const struct sensors_env *env);
/* Closes and frees every opened backend; the set can be opened again. */
void sensors_close(struct sensors *set);

/* Fills out[] with the open sensors (at most max); returns how many. */
size_t sensors_active(struct sensors *set, struct sensor **out, size_t max);

#endif
