/* Helpers shared by the sensor backend tests (cmocka): formatting that fails the test
 * instead of truncating, running a command, opening a sensor as an unprivileged user,
 * and finding a backend's entry in an opened set. */
#ifndef WATTPROF_SENSOR_TEST_UTIL_H
#define WATTPROF_SENSOR_TEST_UTIL_H

#include <stddef.h>

#include "sensor.h"
#include "sensors.h"

#define SENSOR_TEST_NOBODY 65534

/* snprintf that fails the test instead of truncating. */
void format_or_fail(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs argv[0] with no shell and asserts it exits 0. */
void run_argv(char *const argv[]);

/* Makes /tmp/wattprof-<what>-XXXXXX, mode 0755 so uid 65534 can traverse it, and keeps
 * its path (heap) in *state for remove_tmp_dir, so it goes even when the test fails. */
const char *make_tmp_dir(void **state, const char *what);

/* A cmocka teardown: removes the directory in *state (rm -rf) and frees the path. */
int remove_tmp_dir(void **state);

/* Closes a sensor the test opened by hand and frees its s->priv. */
void close_sensor(struct sensor *s);

/* What open() returned, for a run in a child that dropped its privileges. */
struct open_result {
    int setid_err; /* errno of setgroups/setresgid/setresuid, or 0 */
    int rc;
    char errmsg[SENSOR_ERRMSG_MAX];
};

/* Opens a sensor on root with open_at(s, root), keeps rc and errmsg, and closes it
 * (ops->close, then frees s->priv). Root reads root-only files anyway, so as root the
 * open runs in a child that became uid/gid 65534 and the result comes back through a
 * pipe; as another user it runs here. */
void open_unprivileged(int (*open_at)(struct sensor *s, const char *root), const char *root,
                       struct open_result *res);

/* The entry of backend name in an opened set; fails the test when there is none. */
const struct sensors_entry *sensors_entry_named(const struct sensors *set, const char *name);

#endif
