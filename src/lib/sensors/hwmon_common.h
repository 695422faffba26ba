/* What the backends over hwmon (amdgpu.c, intel_gpu.c, hwmon.c) share: walking
 * <sysfs_root>/class/hwmon, paths into a chip's directory, and one open fd per channel
 * with the read() and close() that go with them. hwmon files hold µJ (energy*) and µW
 * (power*) as decimals that the kernel prints signed. */
#ifndef WATTPROF_HWMON_COMMON_H
#define WATTPROF_HWMON_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "sensor.h"

#define HWMON_MAX_CHIPS 64
#define HWMON_NAME_MAX 32

/* One class/hwmon/hwmonN directory. */
struct hwmon_chip {
    unsigned num;              /* N of hwmonN */
    char name[HWMON_NAME_MAX]; /* its `name`: "amdgpu", "i915_gt0", "power_meter" */
    char dev[HWMON_NAME_MAX];  /* last part of its `device` link: "0000:03:00.0",
                                  "0-0040", "ACPI000D:00"; "" when there is none */
};

struct hwmon_chips {
    size_t n;
    struct hwmon_chip chips[HWMON_MAX_CHIPS]; /* sorted by dev, then by num */
};

/* The private state of every hwmon backend (ops->priv_size), zeroed by the core. */
struct hwmon_priv {
    size_t n_fds;                /* fd[0..n_fds) are open; fd[i] is channel i's file */
    int fd[SENSOR_MAX_CHANNELS]; /* owned here, closed by hwmon_close() */
    int denied;                  /* a file was not readable: errmsg says which */
};

/* Lists the chips under class/hwmon that have a name. Returns 0 (out->n may be 0 when
 * there is no class/hwmon), or -EACCES with errmsg set. */
int hwmon_scan(struct sensor *s, struct hwmon_chips *out);

/* <sysfs_root>/class/hwmon/hwmonN/<file> into buf; file may go down links
 * ("device/mem_info_vram_total"). Returns 0 or -ENAMETOOLONG. */
int hwmon_path(char *buf, size_t size, const struct sensor *s, const struct hwmon_chip *c,
               const char *file);

/* 1 when the chip has that file, else 0. */
int hwmon_has(const struct sensor *s, const struct hwmon_chip *c, const char *file);

/* Reads a chip's file: a string (trailing newlines stripped; returns its length) or an
 * unsigned number (returns 0); a negative errno otherwise (-ERANGE for a negative value). */
int hwmon_read_str(const struct sensor *s, const struct hwmon_chip *c, const char *file, char *buf,
                   size_t size);
int hwmon_read_u64(const struct sensor *s, const struct hwmon_chip *c, const char *file,
                   uint64_t *out);

/* Reads one value at offset 0 of an open fd without allocating: sysfs_pread_u64(), but
 * a value the kernel printed negative ("-5") gives -ERANGE instead of -EINVAL. */
int hwmon_pread(int fd, uint64_t *out);

/* Opens the chip's file, reads it once, and adds a channel that reads it, with scale 1,
 * and note "class/hwmon/hwmonN/<file> (<name>, <dev>)". Returns 0 and *out, or a
 * negative errno: -ENOENT (no such file), -ENOSPC (no channel left), or the open or read
 * error (-EACCES, the file's mode, also sets errmsg and priv->denied; -EPERM is the
 * driver refusing the read). Nothing is kept open on failure. */
int hwmon_add_channel(struct sensor *s, const char *name, const struct hwmon_chip *c,
                      const char *file, struct sensor_channel **out);

/* For open(): no channel and no open fd yet. */
void hwmon_reset(struct sensor *s);

/* For open() when no channel could be made: err with errmsg "<what>: <notes>" (the
 * notes joined by "; "), or -EACCES when a file was not readable (errmsg names it).
 * Closes what was opened. */
int hwmon_fail(struct sensor *s, int err, const char *what);

/* The read() and close() of the three backends: one pread per channel; a channel whose
 * file fails reports read_err alone. */
int hwmon_read(struct sensor *s, uint64_t *values);
void hwmon_close(struct sensor *s);

#endif
