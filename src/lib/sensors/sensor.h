/* The sensor backend interface: what every backend implements and what the core
 * (sensors.c, sampler.c) expects of it. Backends report raw values; the core does the
 * scaling, the wrap correction and the integration (STYLE.md §5). */
#ifndef WATTPROF_SENSOR_H
#define WATTPROF_SENSOR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define SENSOR_MAX_CHANNELS 32
#define SENSOR_NAME_MAX 48
#define SENSOR_NOTE_MAX 160
#define SENSOR_ERRMSG_MAX 512

enum sensor_kind {
    SENSOR_ENERGY_COUNTER, /* cumulative energy, raw units, may wrap at max_raw */
    SENSOR_POWER_GAUGE,    /* instantaneous (or averaged) power, raw units */
};

enum sensor_provenance {
    SENSOR_MEASURED,   /* a hardware energy counter */
    SENSOR_INTEGRATED, /* a power gauge integrated over time by the sampler */
    SENSOR_ESTIMATED,  /* a model: no hardware reading at all */
    SENSOR_REPLAYED,   /* a recorded trace played back (--replay): not a live reading */
};

/* One energy stream. Filled by the backend's open(); read-only afterwards, except
 * read_err which read() sets per channel. */
struct sensor_channel {
    char name[SENSOR_NAME_MAX]; /* "cpu-package:0", "dram:1", "psys", "cpu:estimated" */
    char domain[16];            /* "package", "dram", "psys", "core", "uncore", "cpu",
                                   "memory" */
    enum sensor_kind kind;
    enum sensor_provenance provenance;
    /* raw value × scale_num / scale_den = µJ (counters) or µW (gauges). */
    uint64_t scale_num;
    uint64_t scale_den;
    /* Counters: the raw value wraps to 0 after max_raw (e.g. max_energy_range_uj).
     * 0 means the counter does not wrap within 64 bits (perf, model). UINT64_MAX
     * means the range is unknown: a decrease cannot be corrected and is flagged. */
    uint64_t max_raw;
    /* Plausibility bound for a delta, in µW; 0 = use the sampler's default. */
    uint64_t max_power_uw;
    int included_in_total; /* 1 when this channel adds to the non-overlapping total */
    /* 1 for a channel that covers the whole node (wall AC meter, BMC/IPMI, PDU): it is a
     * total of its own beside the component sum, never added to it. */
    int node_scope;
    /* Per-device attribution (GPUs): when has_share is set, read() also sets share_ppm to
     * the tracked process tree's share of this device over the interval that just ended
     * (0..1000000); the sampler attributes that share of the interval's energy. */
    int has_share;
    uint32_t share_ppm;
    /* How a gauge averages, or how fresh a counter is, for users:
     * "trailing 1 s average", "instantaneous", "whole watts, 1 s average". "" if n/a. */
    char averaging[48];
    char note[SENSOR_NOTE_MAX]; /* how it is read: "perf power/energy-pkg/ on cpu 0",
                                   "intel-rapl:0/energy_uj", "model ccf-vcpu: ..." */
    int read_err;               /* set by read(): 0, or a negative errno for this channel only */
};

struct sensor;

/* System calls a backend makes that tests must be able to replace (a fake tree cannot
 * fake a syscall). NULL members, or a NULL table, mean the real system call. */
struct sensor_sys {
    /* perf_event_open(2): returns an fd, or a negative errno. attr is a
     * struct perf_event_attr *. */
    int (*perf_event_open)(void *attr, int pid, int cpu, int group_fd, unsigned long flags);
    /* read(2) of one perf counter: returns 0 and the count, or a negative errno. */
    int (*perf_read)(int fd, uint64_t *count);
    /* The IPMI device (ipmi-dcmi): open(2) returns an fd, ioctl(2) 0, or a negative errno;
     * ipmi_poll waits for input on fd: 1 when readable, 0 on timeout, or a negative errno. */
    int (*ipmi_open)(const char *path, int flags);
    int (*ipmi_ioctl)(int fd, unsigned long request, void *arg);
    int (*ipmi_poll)(int fd, int timeout_ms);
    int (*ipmi_close)(int fd);
};

/* User settings some backends need; strings borrowed, NULL when not set. */
struct sensor_config {
    const char *nvml_lib;             /* $WATTPROF_NVML_LIB: the NVML library to load */
    const char *cuda_visible_devices; /* $CUDA_VISIBLE_DEVICES (NULL when unset) */
    const char *hwmon;                /* --hwmon NAME,...: generic hwmon chips opted in */
    const char *meter_cmd;            /* --meter CMD: an external meter command */
    const char *ptd_addr;             /* --ptd HOST:PORT: a SPEC PTDaemon */
    const char *replay_path;          /* --replay FILE or $WATTPROF_REPLAY: a trace */
    const char *ipmi_dev;             /* $WATTPROF_IPMI_DEV, default /dev/ipmi0 */
    const char *daemon_socket;        /* $WATTPROF_SOCKET or the default path; NULL: the
                                         daemon backend is not tried (wattprof serve) */
};

struct sensor_ops {
    const char *name; /* "rapl-perf", "rapl-powercap", "model": the JSON `source` */
    size_t priv_size; /* state the core allocates (zeroed) before open() */
    /* Discover and open channels. Returns 0 with n_channels > 0, -ENODEV when the
     * hardware or interface is absent (skipped quietly), -EACCES / -EPERM when it exists
     * but cannot be read, -EIO when it reads but does not work. On failure errmsg holds
     * the exact reason and the fix, in one line. */
    int (*open)(struct sensor *s);
    /* Read one raw value per channel into values[0..n_channels). Returns 0, or a
     * negative errno when nothing could be read. A single channel's failure is reported
     * in channels[i].read_err and its value is ignored. Must not allocate. */
    int (*read)(struct sensor *s, uint64_t *values);
    /* Release what open() acquired; copes with a half-opened sensor. */
    void (*close)(struct sensor *s);
};

struct sensor {
    const struct sensor_ops *ops;
    const char *sysfs_root;          /* "/sys", or $WATTPROF_SYSFS; borrowed */
    const char *proc_root;           /* "/proc", or $WATTPROF_PROCFS; borrowed */
    const char *dev_root;            /* "/dev", or $WATTPROF_DEVFS (rapl-msr); NULL: "/dev" */
    const char *data_dir;            /* the project's data/ (CPU tables), or $WATTPROF_DATA */
    const struct sensor_sys *sys;    /* NULL: real system calls; tests pass fakes */
    const struct sensor_config *cfg; /* never NULL when the core opens the sensor */
    /* Root of the tracked process tree (0 until the workload starts); set by the
     * session, read by backends that attribute per process (GPUs). */
    _Atomic int workload_pid;
    void *priv; /* ops->priv_size bytes, owned by the core */
    /* The sampler reads this sensor at most once per min_period_ns (0 = every tick);
     * set by open() for backends whose reads are costly or slow to change. */
    uint64_t min_period_ns;
    /* A backend that reads the machine's busy CPU time anyway (the model, from
     * /proc/stat) leaves it here at each read, with the time of the read
     * (sensor_now_ns(); 0: never), so that a window edge, which reads every sensor,
     * need not read /proc/stat a second time. Written under the sampler's lock. */
    uint64_t machine_busy_ticks;
    uint64_t machine_busy_read_ns;
    size_t n_channels;
    struct sensor_channel channels[SENSOR_MAX_CHANNELS];
    char errmsg[SENSOR_ERRMSG_MAX];
    /* What open() decided that a user should see in `wattprof sensors`, one item per
     * line: zones dropped as duplicates, unknown wrap ranges, the model's inputs. */
    char notes[SENSOR_ERRMSG_MAX];
};

/* Appends a line to a NUL-terminated text of lines in buf[size], with a newline before
 * it unless buf is empty; truncates quietly when full. */
void sensor_vappend_line(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Appends one line to s->notes (truncates quietly when full). */
void sensor_notef(struct sensor *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats errmsg and returns err, so a backend can write
 * `return sensor_errorf(s, -EACCES, "cannot read '%s': ...", path);`. */
int sensor_errorf(struct sensor *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a channel and returns it (zeroed but for name), or NULL when full. */
struct sensor_channel *sensor_add_channel(struct sensor *s, const char *name);

/* A backend's read() when each channel reads alone: read_one(s, i, &values[i]) returns 0
 * or a negative errno, which goes into channels[i].read_err. Returns 0 when a channel was
 * read (or there are none), else the first channel's error. Allocates nothing. */
int sensor_read_each(struct sensor *s, uint64_t *values,
                     int (*read_one)(struct sensor *s, size_t i, uint64_t *value));

/* How long a liveness check keeps the CPU busy waiting for a counter to move, and how
 * often it polls meanwhile. RAPL updates its counters about every 1 ms, so working
 * hardware passes in 1-2 ms; a VM's counter that counts nothing costs the full 5 ms once. */
#define SENSOR_LIVENESS_SPIN_NS 5000000ull
#define SENSOR_LIVENESS_POLL_NS 200000ull

/* Keeps the CPU busy (the point is to make the package consume energy) for up to
 * SENSOR_LIVENESS_SPIN_NS and reads every channel with read_all each poll. Returns 1 as
 * soon as a value differs from base[0..n_channels), 0 when none moved, or the negative
 * errno of read_all. Used by open() of counters that may exist without counting (VMs). */
int sensor_counters_move(struct sensor *s, int (*read_all)(struct sensor *, uint64_t *),
                         const uint64_t *base);

/* Monotonic clock in ns (CLOCK_MONOTONIC). */
uint64_t sensor_now_ns(void);

extern const struct sensor_ops daemon_sensor_ops;
extern const struct sensor_ops rapl_perf_sensor_ops;
extern const struct sensor_ops rapl_powercap_sensor_ops;
extern const struct sensor_ops rapl_msr_sensor_ops;
extern const struct sensor_ops model_sensor_ops;
extern const struct sensor_ops nvml_sensor_ops;
extern const struct sensor_ops amdgpu_sensor_ops;
extern const struct sensor_ops intel_gpu_sensor_ops;
extern const struct sensor_ops hwmon_sensor_ops;
extern const struct sensor_ops ipmi_dcmi_sensor_ops;
extern const struct sensor_ops meter_sensor_ops;
extern const struct sensor_ops ptd_sensor_ops;
extern const struct sensor_ops replay_sensor_ops;

/* Returns 1 when an open daemon sensor hands out channels that the backend `name` reads
 * in the daemon, so the local backend would read the same counters again (daemon.c). */
int daemon_sensor_serves(const struct sensor *s, const char *name);

/* Returns 1 when pid is root or one of its descendants (walks PPid in
 * <proc_root>/<pid>/status; no allocation), else 0. */
int sensor_pid_in_tree(const char *proc_root, int pid, int root);

#endif
