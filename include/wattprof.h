/* wattprof — measure the energy of a program on Linux.
 *
 * This is the only installed header. A context finds the sensors of this machine; a
 * session measures one run (a wrapped command or a stretch of a program) on them.
 *
 *     struct wattprof_ctx *ctx;
 *     struct wattprof_session *run;
 *     wattprof_ctx_new(&ctx);
 *     if (wattprof_ctx_open_sensors(ctx) < 0)
 *         fprintf(stderr, "%s\n", wattprof_ctx_errmsg(ctx));
 *     wattprof_session_new(ctx, &run);
 *     wattprof_session_start(run);
 *     ... the work ...
 *     wattprof_session_stop(run);
 *     printf("%llu uJ\n", (unsigned long long)wattprof_session_result(run)->energy_uj);
 *     wattprof_session_free(run);
 *     wattprof_ctx_free(ctx);
 *
 * Units: energy in µJ (uint64_t, `_uj`), power in µW (`_uw`), time in ns (`_ns`);
 * convert at the edges. Errors: functions that can fail return 0 or a negative errno
 * (see wattprof_strerror); details are in wattprof_ctx_errmsg() of the context.
 * Threads: a context and its sessions are used from one thread at a time; two contexts
 * are independent. A session samples on a thread of its own between start and stop.
 */
#ifndef WATTPROF_H
#define WATTPROF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WATTPROF_API __attribute__((visibility("default")))

/* The error codes the library promises, with their stable messages. */
#define WATTPROF_ERRORS(X)                                                                         \
    X(0, "success")                                                                                \
    X(ENODEV, "no such sensor or interface on this machine")                                       \
    X(EACCES, "permission denied")                                                                 \
    X(EPERM, "operation not permitted")                                                            \
    X(EINVAL, "invalid argument")                                                                  \
    X(ENOMEM, "out of memory")                                                                     \
    X(EIO, "sensor does not work")                                                                 \
    X(ENOENT, "no such file")                                                                      \
    X(EBUSY, "session is running")                                                                 \
    X(EALREADY, "already done")                                                                    \
    X(EINTR, "interrupted")

/* Returns the stable message for a code returned by this library (0 or -errno); never
 * NULL. The string is static. */
WATTPROF_API const char *wattprof_strerror(int code);

/* Returns the library version, "MAJOR.MINOR.PATCH" (static string). */
WATTPROF_API const char *wattprof_version(void);

/* Frees memory the library handed to the caller (JSON text). Accepts NULL. */
WATTPROF_API void wattprof_free(void *p);

/* ---- Context: settings and the sensors of this machine ---------------------------- */

struct wattprof_ctx;

/* Creates a context. Paths come from the environment: WATTPROF_SYSFS (default "/sys"),
 * WATTPROF_PROCFS ("/proc"), WATTPROF_CGROUPFS (default "<sysfs>/fs/cgroup", read by
 * wattprof serve), WATTPROF_DATA (the data/ directory); WATTPROF_SENSORS
 * (a backend list, as wattprof_ctx_set_backends) when set. Fails only with
 * -ENOMEM. Free with wattprof_ctx_free(). */
WATTPROF_API int wattprof_ctx_new(struct wattprof_ctx **out);

/* Frees a context and its sensors; accepts NULL. Sessions must be freed first. */
WATTPROF_API void wattprof_ctx_free(struct wattprof_ctx *ctx);

/* The message of the last failure on this context (or its sessions); "" when none.
 * Borrowed: valid until the next call on the context. */
WATTPROF_API const char *wattprof_ctx_errmsg(const struct wattprof_ctx *ctx);

/* Sets one of the settings backends read, before open_sensors. Keys:
 *   "nvml-lib"    the NVML library to load (default: $WATTPROF_NVML_LIB, then
 *                 libnvidia-ml.so.1)
 *   "hwmon"       generic hwmon chips to read, comma-separated names (opt-in)
 *   "meter"       a command that prints one reading per line (watts, or joules with J)
 *   "ptd"         HOST:PORT of a SPEC PTDaemon (MLPerf Power)
 *   "replay"      a recorded trace to play back (default $WATTPROF_REPLAY; docs/replay.md):
 *                 its channels (provenance "replayed") are then the total, and
 *                 open_sensors fails when it cannot be read
 *   "ipmi-device" the IPMI device (default $WATTPROF_IPMI_DEV, then /dev/ipmi0)
 *   "require"     comma-separated backends that must work: open_sensors fails otherwise
 *   "daemon-socket" the Unix socket of a `wattprof serve` to read counters through
 *                 (default $WATTPROF_SOCKET, then /run/wattprof/wattprof.sock if it
 *                 exists, else $XDG_RUNTIME_DIR/wattprof.sock); "" : never use a daemon
 * and the accounting settings (docs/accounting.md), which may also be set after
 * open_sensors and are checked by wattprof_session_start() (-EINVAL naming the setting):
 *   "country"     ISO 3166 alpha-3 code of the grid ("DEU"); unknown: world average
 *   "region"      a region inside the country, recorded with the location
 *   "cloud"       PROVIDER:REGION ("gcp:europe-west4"); the region's intensity and PUE
 *   "pue"         power usage effectiveness, 1 to 3 (default: the provider's, else 1.0)
 *   "intensity"   grid intensity in gCO2e/kWh, 0 to 2000 (overrides country and cloud)
 *   "intensity-series" a file of intensity over time (CSV, Electricity Maps, WattTime,
 *                 Carbon Aware SDK)
 *   "price"       electricity price per kWh, 0 to 100, optionally followed by the
 *                 currency ("0.30EUR")
 *   "currency"    ISO 4217 code of the price ("EUR")
 *   "embodied-kg" embodied footprint of the server in kgCO2e (default from data/carbon)
 * value NULL or "" clears. Returns 0, -EINVAL (unknown key, too long), -EBUSY (after
 * open_sensors, except the accounting settings). The value is copied. */
WATTPROF_API int wattprof_ctx_set(struct wattprof_ctx *ctx, const char *key, const char *value);

/* Restricts the backends tried to a comma-separated list of names ("rapl-perf",
 * "rapl-powercap", "model"); NULL or "" means all. Call before open_sensors.
 * Returns 0, or -EINVAL naming the unknown backend in errmsg. */
WATTPROF_API int wattprof_ctx_set_backends(struct wattprof_ctx *ctx, const char *list);

/* Tries every backend in priority order (counters before gauges before models) and
 * keeps those that work. Returns 0 when at least one channel can be read, else -ENODEV
 * with the reasons in errmsg. Idempotent: a second call returns -EALREADY. */
WATTPROF_API int wattprof_ctx_open_sensors(struct wattprof_ctx *ctx);

/* What happened to one backend during open_sensors. All strings are borrowed from the
 * context. */
struct wattprof_backend_info {
    const char *name;    /* "rapl-perf", "rapl-powercap", "model" */
    int status;          /* 0 in use, or the negative errno that stopped it */
    int skipped;         /* 1 when not tried because another backend reads the same */
    const char *message; /* why it cannot be used, and the fix; "" when in use */
    const char *notes;   /* decisions a user should see (dropped duplicates, model
                            inputs), one per line; may be "" */
    size_t n_channels;
};

/* Number of backends tried by open_sensors (including the failed ones). */
WATTPROF_API size_t wattprof_ctx_backend_count(const struct wattprof_ctx *ctx);
/* Fills *out for backend i. Returns 0, or -EINVAL when i is out of range. */
WATTPROF_API int wattprof_ctx_backend(const struct wattprof_ctx *ctx, size_t i,
                                      struct wattprof_backend_info *out);

/* One channel of a backend, as found by open_sensors. */
struct wattprof_channel_info {
    const char *name;       /* "cpu-package:0", "dram:0", "psys", "cpu:estimated" */
    const char *domain;     /* "package", "dram", "psys", "core", "uncore", "cpu", ... */
    const char *kind;       /* "counter" or "gauge" */
    const char *source;     /* the backend name */
    const char *provenance; /* "measured", "integrated", "estimated" or "replayed" */
    const char *how;        /* how it is read, or the model and its inputs */
    int included_in_total;  /* adds to the non-overlapping machine total */
    uint64_t range_uj;      /* counter wrap range, 0 = none, UINT64_MAX = unknown */
    int node_scope;         /* covers the whole node (wall, BMC): its own total */
    const char *averaging;  /* how a gauge averages ("trailing 1 s average"); "" if n/a */
};

/* Fills *out for channel j of backend i. Returns 0 or -EINVAL. */
WATTPROF_API int wattprof_ctx_channel(const struct wattprof_ctx *ctx, size_t i, size_t j,
                                      struct wattprof_channel_info *out);

/* ---- Daemon: wattprof serve (docs/daemon.md) ----------------------------------------- */

/* Samples every channel continuously and serves the cumulative energy on a Unix socket
 * (line protocol, readings coarsened for clients) and as Prometheus /metrics. */
struct wattprof_daemon;

struct wattprof_daemon_config {
    const char *listen;              /* "ADDR:PORT" or "[IPV6]:PORT" of /metrics (port 0: any
                                        free port); NULL:
                                        127.0.0.1:9464; "" : no HTTP endpoint */
    const char *socket_path;         /* NULL: wattprof_daemon_default_socket(); "" : no socket */
    unsigned socket_mode;            /* permission bits of the socket; 0: 0660 */
    long socket_gid;                 /* group of the socket, -1: the daemon's own */
    unsigned interval_ms;            /* sampling interval; 0: 100 */
    unsigned min_client_interval_ms; /* socket clients see a new reading at most this
                                        often; 0: 50 */
    const char *auth_file;           /* NULL: /metrics open to all; else a file of mode 0600
                                        or stricter holding one line "user:password" that
                                        /metrics then asks for (HTTP basic auth) */
    int no_cgroups;                  /* 1: no per-cgroup attribution in /metrics */
    unsigned cgroup_depth;           /* deepest cgroup shown (the root is 0); 0: 3 */
    unsigned cgroup_max;             /* most cgroups shown; 0: 256 (at most 4096) */
    const char *tls_cert;            /* PEM certificate (chain) for HTTPS; NULL: plain HTTP */
    const char *tls_key;             /* its PEM private key: a file only its owner can read */
    int drop_capabilities;           /* 1: once the sensors are open and the socket and port
                                        bound, before any thread starts: no new privileges,
                                        an empty bounding set, no capability left */
    int keep_setid_capabilities;     /* with drop_capabilities: keep CAP_SETUID/CAP_SETGID
                                        in the main thread, to become another user after */
};

/* The socket path `wattprof serve` uses by default: /run/wattprof/wattprof.sock as root,
 * else $XDG_RUNTIME_DIR/wattprof.sock. Returns 0, or -ENOENT when neither applies. */
WATTPROF_API int wattprof_daemon_default_socket(char *buf, size_t size);

/* Allocates a daemon over ctx (borrowed: it must outlive the daemon; its sensors are
 * not opened, the daemon opens its own, never through another daemon). Fails only
 * with -ENOMEM. */
WATTPROF_API int wattprof_daemon_new(struct wattprof_ctx *ctx, struct wattprof_daemon **out);

/* Opens the sensors, starts sampling, then the socket and the HTTP endpoint. A sensor
 * that fails is served as unavailable, not fatal. Returns 0, or a negative errno with
 * the reason and fix in errmsg (-EADDRINUSE, -EACCES, ...). Threads are started with
 * every signal blocked: the caller's thread takes them. */
WATTPROF_API int wattprof_daemon_start(struct wattprof_daemon *d,
                                       const struct wattprof_daemon_config *cfg);

/* Closes and re-opens the sensors (SIGHUP): counters restart from 0, which Prometheus
 * reads as a counter reset. Returns 0 or a negative errno (errmsg). */
WATTPROF_API int wattprof_daemon_reload(struct wattprof_daemon *d);

/* The address /metrics listens on ("127.0.0.1:9464") and the socket path; "" when not
 * serving. Borrowed from d. */
WATTPROF_API const char *wattprof_daemon_listen_address(const struct wattprof_daemon *d);
WATTPROF_API const char *wattprof_daemon_socket_path(const struct wattprof_daemon *d);

/* The cgroup hierarchy /metrics attributes energy to, e.g. "v2 at /sys/fs/cgroup" or
 * "v1 at /sys/fs/cgroup/cpuacct"; "" when none (or --cgroup-depth 0). Borrowed from d. */
WATTPROF_API const char *wattprof_daemon_cgroup_hierarchy(const struct wattprof_daemon *d);

/* Number of channels served, and of backends that failed at start. */
WATTPROF_API size_t wattprof_daemon_channel_count(const struct wattprof_daemon *d);

WATTPROF_API const char *wattprof_daemon_errmsg(const struct wattprof_daemon *d);

/* Stops serving, removes the socket, stops sampling and frees. Accepts NULL. Not
 * thread-safe with the other daemon calls: call it from the thread that started it. */
WATTPROF_API void wattprof_daemon_free(struct wattprof_daemon *d);

/* ---- Session: one measured run ------------------------------------------------------ */

struct wattprof_session;

/* Creates a session on a context whose sensors are open. Fails only with -ENOMEM
 * (or -EINVAL when the context has no open sensors). */
WATTPROF_API int wattprof_session_new(struct wattprof_ctx *ctx, struct wattprof_session **out);
/* Stops the session if running and frees it; accepts NULL. */
WATTPROF_API void wattprof_session_free(struct wattprof_session *s);

/* Sampling interval in ms (default 100). Call before start. Returns 0 or -EINVAL. */
WATTPROF_API int wattprof_session_set_interval_ms(struct wattprof_session *s, unsigned ms);

/* Measures the machine's idle power for ms milliseconds, before start; the result then
 * reports idle and dynamic energy apart. Blocks for that long. Returns 0, -EINTR when a
 * signal handler ran meanwhile (nothing is recorded), or another -errno. */
WATTPROF_API int wattprof_session_idle_baseline(struct wattprof_session *s, unsigned ms);

/* Starts measuring: reads every counter now, then samples on a thread. Checks the
 * accounting settings first: -EINVAL with the setting named in errmsg. */
WATTPROF_API int wattprof_session_start(struct wattprof_session *s);
/* Stops: joins the sampler thread, reads every counter once more, computes the result.
 * Returns 0, or -EALREADY when not running. */
WATTPROF_API int wattprof_session_stop(struct wattprof_session *s);

/* Run metadata, for the result and its JSON. The strings are copied. */
WATTPROF_API int wattprof_session_set_command(struct wattprof_session *s, int argc,
                                              char *const argv[]);
/* The workload's exit status (0..255, or 128+N when killed by signal N) and whether the
 * run completed (0 when interrupted or killed). */
WATTPROF_API int wattprof_session_set_exit(struct wattprof_session *s, int exit_code, int complete);
/* Units of work done (e.g. 8000 samples); name may be NULL ("units"). */
WATTPROF_API int wattprof_session_set_units(struct wattprof_session *s, double units,
                                            const char *name);
/* CPU time (user + system, ns) used by the workload's whole process tree, e.g. from
 * getrusage(RUSAGE_CHILDREN) after the tree was reaped. Used for attribution; without
 * it the workload is taken to own all busy CPU time. Call before stop. */
WATTPROF_API int wattprof_session_set_workload_cpu_ns(struct wattprof_session *s, uint64_t cpu_ns);

/* The root of the workload's process tree, once it runs: backends that attribute per
 * process (GPUs) follow its descendants. Returns 0 or -EINVAL. */
WATTPROF_API int wattprof_session_set_workload_pid(struct wattprof_session *s, int pid);

/* The result of one channel over the run. */
struct wattprof_channel_result {
    struct wattprof_channel_info info;
    uint64_t energy_uj;
    uint64_t avg_power_uw;
    uint64_t peak_power_uw;    /* highest mean power over spans >= 10 ms */
    uint64_t wraps;            /* counter wraps corrected */
    uint64_t resets;           /* counter restarts detected */
    uint64_t anomalies;        /* impossible readings rejected (and counted here) */
    uint64_t rejected_uj;      /* energy of the rejected deltas, not in energy_uj */
    uint64_t attributed_uj;    /* the workload's part of the dynamic energy */
    const char *attribution;   /* "cpu-time share of the process tree" or "device share of
                                  the process tree" */
    uint64_t idle_power_uw;    /* from the idle baseline, 0 when not measured */
    const char *status;        /* "ok", "lost" (stopped reading mid-run), "not working" */
    const char *status_detail; /* why, for lost / not working; "" for ok */
};

/* A named value reported by the workload (accuracy, loss). */
struct wattprof_metric {
    const char *name;
    double value;
};

/* Carbon, cost and SCI of a run or a window (docs/accounting.md). Doubles are NAN when they
 * cannot be known (never 0 in their place); strings are NULL when unknown, borrowed from
 * the session. */
struct wattprof_accounting {
    int computed;                 /* 0: no accounting (the other fields are unset) */
    double pue;                   /* facility / IT energy, >= 1 */
    const char *pue_source;       /* "user setting", "unknown (default 1.0)", a provider figure */
    double facility_energy_j;     /* energy_uj × pue, in J */
    double intensity_g_per_kwh;   /* effective mean over the run (or window) */
    const char *intensity_kind;   /* "average" or "marginal" */
    const char *intensity_source; /* dataset, year, region, or "world-average-default" */
    const char *location;         /* as resolved: "DEU", "gcp:europe-west4", "unknown" */
    double operational_g;         /* facility energy × intensity */
    double embodied_g;            /* SCI M = TE × TiR/EL × RR/ToR */
    const char *embodied_source;
    double total_g;          /* operational + embodied */
    double price_per_kwh;    /* NAN without a price */
    const char *currency;    /* ISO 4217, NULL when not given */
    double cost;             /* facility kWh × price; NAN without a price */
    double sci_g_per_unit;   /* total_g / units; NAN without units */
    const char *country_iso; /* ISO 3166 alpha-3 of the intensity used, NULL if unknown */
    const char *country_name;
    const char *region;         /* --region as given, NULL when none */
    const char *cloud_provider; /* NULL off cloud */
    const char *cloud_region;
};

/* The result of one window. */
struct wattprof_window_result {
    uint64_t id; /* 1, 2, ... in the order windows began */
    const char *name;
    uint64_t start_ns;      /* from the run's start */
    uint64_t end_ns;        /* the run's end when the window was never ended */
    int complete;           /* 0 when it was still open at the end of the run */
    uint64_t energy_uj;     /* the channels in the total, between the edges */
    uint64_t attributed_uj; /* the workload's part, as for the run */
    double units;           /* 0 when not given */
    const char *unit_name;
    size_t n_metrics;
    const struct wattprof_metric *metrics;
    size_t n_channels;                     /* same order as the run's channels */
    const uint64_t *channel_uj;            /* energy of each channel in the window */
    struct wattprof_accounting accounting; /* from the window's energy and time */
};

/* The result of a run; valid after stop, borrowed from the session. */
struct wattprof_result {
    uint64_t started_at_unix_ms; /* wall clock at start, for RFC 3339 */
    uint64_t duration_ns;
    uint64_t energy_uj;           /* non-overlapping machine total */
    const char *total_provenance; /* "measured", "estimated", "integrated", "replayed" or
                                     "mixed" */
    uint64_t attributed_uj; /* the workload's share of dynamic_energy_uj, summed over the channels
                               in the total; never above energy_uj */
    int idle_measured;
    uint64_t idle_power_uw;     /* when idle_measured */
    uint64_t idle_energy_uj;    /* idle_power × duration, capped at energy_uj */
    uint64_t dynamic_energy_uj; /* energy_uj − idle_energy_uj */
    uint64_t workload_cpu_ns;   /* as set, or the machine's busy time when not set */
    uint64_t machine_cpu_ns;    /* busy CPU time of the whole machine (steal excluded) */
    double cpu_share;           /* workload / machine busy time, 0..1 */
    int exit_code;
    int complete;
    double units; /* 0 when not given */
    const char *unit_name;
    size_t n_channels;
    const struct wattprof_channel_result *channels;
    const char *warnings;     /* one per line, "" when none */
    int has_node;             /* a channel covers the whole node (wall meter, BMC) */
    uint64_t node_energy_uj;  /* its energy: beside energy_uj, never added to it */
    const char *node_channel; /* its name, NULL when !has_node */
    const char *node_provenance;
    size_t n_windows;
    const struct wattprof_window_result *windows;
    size_t n_metrics; /* run-level metrics */
    const struct wattprof_metric *metrics;
    struct wattprof_accounting accounting; /* carbon, cost, SCI (docs/accounting.md) */
};

/* The result after stop, or NULL before. Borrowed from the session. */
WATTPROF_API const struct wattprof_result *
wattprof_session_result(const struct wattprof_session *s);

/* The run as JSON, schema "wattprof.run/1" (docs/json-schema.md), in *out, to be
 * released with wattprof_free(). Returns 0, -EINVAL before stop, or -ENOMEM. */
WATTPROF_API int wattprof_session_json(const struct wattprof_session *s, char **out);

/* ---- Windows and metrics: named intervals inside a run ------------------------------ *
 * A window is a named interval (an epoch, a batch, the inference phase). Windows may nest
 * and overlap; each has its own energy per channel, read from the counters at its edges
 * (not taken from the nearest sample), its units of work and its metrics. Thread-safe
 * against the session's sampler; one caller thread at a time. Windows are numbered from
 * 1 in the order they began. */

/* Begins a window now. *id receives its number. Names are 1 to 64 of
 * A-Z a-z 0-9 _ . : / - (as metric and unit names). Returns 0, -EINVAL (bad name, session
 * not running) or -ENOMEM. */
WATTPROF_API int wattprof_session_window_begin(struct wattprof_session *s, const char *name,
                                               uint64_t *id);
/* Ends window id now. Returns 0, -ENOENT (no such window), -EALREADY (already ended). */
WATTPROF_API int wattprof_session_window_end(struct wattprof_session *s, uint64_t id);
/* Sets the units of work of window id (open or ended); name may be NULL ("units").
 * Returns 0, -ENOENT, or -EINVAL (units not a finite number > 0). */
WATTPROF_API int wattprof_session_window_units(struct wattprof_session *s, uint64_t id,
                                               double units, const char *name);
/* Records a metric (e.g. "accuracy" 0.97) on window id, or on the run when id is 0.
 * A later value of the same name replaces the earlier one. Returns 0, -ENOENT, or
 * -EINVAL (name empty, over 64 bytes or not [A-Za-z0-9_.:/-]; value not finite). */
WATTPROF_API int wattprof_session_metric(struct wattprof_session *s, uint64_t id, const char *name,
                                         double value);

/* ---- Control protocol: windows from a workload in any language ----------------------- *
 * `wattprof run` starts a control server and gives the workload its address in the
 * environment variable WATTPROF_CONTROL. Programs write one-line text messages to it
 * (docs/control-protocol.md). */

/* Starts the control server of a running session on a new Unix socket in a private
 * directory; *address receives its path (borrowed from the session). Returns 0 or a
 * negative errno. */
WATTPROF_API int wattprof_session_control_start(struct wattprof_session *s, const char **address);
/* Stops the control server (stop does it too). Accepts a session without one. */
WATTPROF_API void wattprof_session_control_stop(struct wattprof_session *s);

/* ---- Tracker: measuring from inside a program ---------------------------------------- *
 * The tracker is what a workload uses. Under `wattprof run` (WATTPROF_CONTROL is set) it
 * reports its windows, units and metrics to the enclosing run, which measures; otherwise
 * it opens the sensors and measures in this process. The calls are the same either way.
 *
 *     struct wattprof_tracker *t;
 *     uint64_t w;
 *     wattprof_tracker_open(&t);
 *     wattprof_tracker_window_begin(t, "epoch", &w);
 *     train_one_epoch();
 *     wattprof_tracker_window_end(t, w);
 *     wattprof_tracker_window_units(t, w, 60000, "samples");
 *     wattprof_tracker_metric(t, 0, "accuracy", 0.97);
 *     wattprof_tracker_close(t);
 *     wattprof_tracker_json(t, &json);          (in-process mode only)
 *     wattprof_tracker_free(t);
 */
struct wattprof_tracker;

/* Creates and starts a tracker. Fails only with -ENOMEM; when measuring or connecting
 * fails the tracker still exists and the error is in wattprof_tracker_errmsg(), with the
 * negative errno returned (the caller may carry on without measurement). */
WATTPROF_API int wattprof_tracker_open(struct wattprof_tracker **out);
/* Stops measuring (in-process) or closes the connection (remote); open windows are
 * closed and marked incomplete. Returns 0 or -EALREADY. */
WATTPROF_API int wattprof_tracker_close(struct wattprof_tracker *t);
/* Frees the tracker, closing it first if needed; accepts NULL. */
WATTPROF_API void wattprof_tracker_free(struct wattprof_tracker *t);
/* The last error message ("" when none); borrowed until the next call on t. */
WATTPROF_API const char *wattprof_tracker_errmsg(const struct wattprof_tracker *t);
/* 1 when reporting to an enclosing `wattprof run`, 0 when measuring in-process. */
WATTPROF_API int wattprof_tracker_is_remote(const struct wattprof_tracker *t);

/* The window calls work as their wattprof_session_* counterparts (same names, same
 * rules, same errors), on the in-process session or sent to the enclosing run. In remote
 * mode a message the run cannot apply (ending a window twice) is reported in the run's
 * warnings, not returned here. -ENODEV when the tracker could not start. */
WATTPROF_API int wattprof_tracker_window_begin(struct wattprof_tracker *t, const char *name,
                                               uint64_t *id);
WATTPROF_API int wattprof_tracker_window_end(struct wattprof_tracker *t, uint64_t id);
WATTPROF_API int wattprof_tracker_window_units(struct wattprof_tracker *t, uint64_t id,
                                               double units, const char *name);
/* Metric on window id, or on the run when id is 0. */
WATTPROF_API int wattprof_tracker_metric(struct wattprof_tracker *t, uint64_t id, const char *name,
                                         double value);
/* Units of work of the whole run. */
WATTPROF_API int wattprof_tracker_units(struct wattprof_tracker *t, double units, const char *name);

/* The result after close, in-process mode: NULL before close or when remote (the
 * enclosing run holds it). Borrowed from the tracker. */
WATTPROF_API const struct wattprof_result *
wattprof_tracker_result(const struct wattprof_tracker *t);
/* The run as JSON (with windows and metrics) after close, in-process mode; released
 * with wattprof_free(). Returns 0, -EINVAL (before close, or remote), -ENOMEM. */
WATTPROF_API int wattprof_tracker_json(const struct wattprof_tracker *t, char **out);

/* ---- Run history: the store ----------------------------------------------------------- *
 * Every run can be recorded in a store: one SQLite file (docs/store.md) that several
 * processes may write at once. A session given a store (wattprof_session_set_store) writes
 * its run at start (marked incomplete), its samples every flush interval while it runs,
 * and its result at stop, so a killed process loses at most one flush interval. Runs are
 * named by ids of 8 lowercase hex characters; any unambiguous prefix resolves to one.
 * Threads: a store is used by one thread at a time, except that the sessions recording
 * into it write from their own threads; close it after freeing those sessions.
 *
 *     struct wattprof_store *st;
 *     if (wattprof_store_open(path, &st) < 0)
 *         fprintf(stderr, "%s\n", wattprof_store_errmsg(st));   (st may be NULL: ENOMEM)
 *     wattprof_session_set_store(run, st);
 *     wattprof_session_add_label(run, "model", "mlp");
 *     ... start, stop ...
 *     printf("run %s\n", wattprof_session_id(run));
 *     wattprof_session_free(run);
 *     wattprof_store_close(st);
 */
struct wattprof_store;

/* The default path: $WATTPROF_DB, else $XDG_DATA_HOME/wattprof/wattprof.db, else
 * $HOME/.local/share/wattprof/wattprof.db. Writes into buf; returns 0 or -ENAMETOOLONG/-ENOENT
 * (no HOME). */
WATTPROF_API int wattprof_store_default_path(char *buf, size_t size);

/* Opens (creating, with its missing directories 0700, and migrating) a store. *out is set
 * even on failure (NULL only on -ENOMEM), so wattprof_store_errmsg() can say why; free it
 * with wattprof_store_close() either way. Returns 0, -EINVAL (a directory, not SQLite, a
 * newer schema: "'PATH' was written by a newer wattprof (schema 7; this one knows up to
 * 2)"), -EACCES (read-only), -EIO (corrupt, or SQLite failed) or -ENOMEM. A file that
 * is refused is never written to. The flush interval is $WATTPROF_FLUSH_MS when set
 * (1 to 3600000), else 5000 ms. */
WATTPROF_API int wattprof_store_open(const char *path, struct wattprof_store **out);
/* Closes the store; accepts NULL. Sessions recording into it must be freed first. */
WATTPROF_API void wattprof_store_close(struct wattprof_store *st);
/* The message of the last failure ("" when none); borrowed until the next call on st. */
WATTPROF_API const char *wattprof_store_errmsg(const struct wattprof_store *st);
/* How often (ms, 1 to 3600000) sessions started from now on write their samples.
 * Returns 0 or -EINVAL. */
WATTPROF_API int wattprof_store_set_flush_ms(struct wattprof_store *st, unsigned ms);

/* Before start: the session records itself in st (borrowed; must outlive the session);
 * NULL: not stored. When the store cannot record the run, start still succeeds and the
 * reason is in the run's warnings. Returns 0 or -EBUSY (after start). */
WATTPROF_API int wattprof_session_set_store(struct wattprof_session *s, struct wattprof_store *st);
/* Before start: a label stored with the run (key: 1 to 64 of A-Z a-z 0-9 _ . -; value: up
 * to 255 bytes without ',' or newline); a later value of the same key replaces the
 * earlier. Slurm's SLURM_JOB_ID, SLURM_PROCID, SLURM_NODEID and, inside Kubernetes,
 * POD_NAME, POD_NAMESPACE, NODE_NAME (or MY_POD_NAME ...) are added at start as
 * slurm.job_id, slurm.procid, slurm.nodeid, k8s.pod, k8s.namespace, k8s.node unless
 * given. Strings are copied. Returns 0, -EINVAL (bad key or value, over 64 labels) or
 * -EBUSY (after start). */
WATTPROF_API int wattprof_session_add_label(struct wattprof_session *s, const char *key,
                                            const char *value);
/* The run id once started with a store, else NULL. Borrowed from the session. */
WATTPROF_API const char *wattprof_session_id(const struct wattprof_session *s);

struct wattprof_run_row { /* one line of `wattprof list` */
    char id[16];
    uint64_t started_at_unix_ms;
    uint64_t duration_ns;
    char command[256]; /* argv joined by spaces, truncated */
    uint64_t energy_uj;
    const char *energy_provenance; /* static string */
    int complete;
    int exit_code; /* -1 while unknown (an incomplete run) */
    double units;
    char unit_name[64];
    char labels[256]; /* "k=v,k2=v2" */
    double co2e_g;    /* total CO2e in grams (operational + embodied); NAN when unknown */
};
struct wattprof_list_filter {
    size_t limit;           /* 0 = no limit; newest first */
    uint64_t since_unix_ms; /* 0 = all */
    const char *label;      /* "k=v" or NULL */
};
/* Rows newest first into a malloc'd array released with wattprof_free() (NULL and 0 when
 * none); f may be NULL (all runs). An incomplete run shows what was saved so far. Returns 0,
 * -EINVAL (label filter without '='), -EIO or -ENOMEM. */
WATTPROF_API int wattprof_store_list(struct wattprof_store *st,
                                     const struct wattprof_list_filter *f,
                                     struct wattprof_run_row **rows, size_t *n);
/* Resolves an id prefix: 0 and the full id, -ENOENT (no run), -EINVAL ambiguous (errmsg lists
 * the candidates). */
WATTPROF_API int wattprof_store_resolve(struct wattprof_store *st, const char *prefix, char id[16]);
/* The stored run's JSON, schema wattprof.run/1 with "id": for a finished run exactly what
 * wattprof_session_json() gave; for an incomplete run what was saved so far, built from the
 * tables, with "complete": false. Release with wattprof_free(). Returns 0, -ENOENT, -EIO,
 * -ENOMEM. */
WATTPROF_API int wattprof_store_run_json(struct wattprof_store *st, const char *id, char **json);
/* The downsampled power series of a run: one point per second of the run, the mean power of
 * each channel over that second, as JSON {"channels": [names], "t_s": [0, 1, ...] (the
 * second's start, from the run's start), "power_w": [[per channel], ...]}. Kept by gc.
 * Release with wattprof_free(). Returns 0, -ENOENT, -EIO, -ENOMEM. */
WATTPROF_API int wattprof_store_series_json(struct wattprof_store *st, const char *id, char **json);
/* The run's labels (--label, study/variant/rep, Slurm and Kubernetes identity) as a JSON
 * object {"key": "value"} sorted by key, {} when none. Release with wattprof_free().
 * Returns 0, -ENOENT, -EIO, -ENOMEM. */
WATTPROF_API int wattprof_store_labels_json(struct wattprof_store *st, const char *id, char **json);
/* The run's power per channel for a chart, downsampled to at most max_points (2 ..
 * WATTPROF_POWER_POINTS_MAX) equal time buckets, each with the mean, the lowest and the
 * highest power of each channel in it (so spikes survive). Read from the raw samples while
 * the run keeps them (each sample interval's power) unless there are more than 2 M of them,
 * else from the 1 s series (after gc, or a long run). JSON {"source": "samples"|"series",
 * "bucket_s", "channels": [names], "t_s": [the middle of the time each bucket covers, from
 * the run's start], "mean_w": [[per channel], ...], "min_w": [...], "max_w": [...]}; buckets
 * without data are left out, so a run without samples has empty arrays. Release with
 * wattprof_free(). Returns 0, -ENOENT, -EINVAL (max_points), -EIO, -ENOMEM. */
#define WATTPROF_POWER_POINTS_MAX 100000
WATTPROF_API int wattprof_store_power_json(struct wattprof_store *st, const char *id,
                                           unsigned max_points, char **json);
/* The run's raw samples as a replay trace (docs/replay.md), the text `--replay FILE`
 * reads: "# wattprof trace 1", one "# channel" line per channel in sample order (kind
 * counter, the recorded domain, provenance, total and node flags and source), the CSV
 * header "t_s,NAME,...", then one row per raw sample: seconds since the first sample (9
 * decimals) and each channel's cumulative joules (6 decimals), exact and locale-free. id is
 * a full id (see wattprof_store_resolve()). Release with wattprof_free(). Returns 0,
 * -ENOENT (no such run), -ENODATA (gc dropped the raw samples, or fewer than 2), -EINVAL
 * (more channels than a trace holds, or a name it cannot hold), -EIO, -ENOMEM; errmsg says
 * which. Not thread-safe on one store. */
WATTPROF_API int wattprof_store_trace(struct wattprof_store *st, const char *id, char **text);
/* Stores a study (wattprof bench) started at started_at_unix_ms: its JSON (an object,
 * schema wattprof.study/1) is kept with "id" added, right after "schema" (the first member
 * when there is none); id receives the new id, 8 lowercase hex characters like a run's.
 * Returns 0, -EINVAL (not a JSON object), -EIO, -ENOSPC, -ENOMEM. */
WATTPROF_API int wattprof_store_save_study(struct wattprof_store *st, const char *name,
                                           uint64_t started_at_unix_ms, const char *json,
                                           char id[16]);
/* A stored study's JSON, with its "id", by id or id prefix. Release with wattprof_free().
 * Returns 0, -ENOENT (no such study), -EINVAL (an ambiguous prefix: errmsg lists the
 * candidates), -EIO, -ENOMEM. */
WATTPROF_API int wattprof_store_study_json(struct wattprof_store *st, const char *id_or_prefix,
                                           char **json);
/* Deletes a run (full id) with its labels, samples and series. Returns 0 or -ENOENT. */
WATTPROF_API int wattprof_store_delete(struct wattprof_store *st, const char *id);
/* Drops raw samples of runs older than keep_days (summaries and downsampled series stay);
 * *runs_pruned receives how many runs lost theirs. Returns 0 or -EIO. */
WATTPROF_API int wattprof_store_gc(struct wattprof_store *st, unsigned keep_days,
                                   uint64_t *runs_pruned);

/* ---- Carbon-aware scheduling ----------------------------------------------------------- *
 * When (and where) to start a job of a known length so that the grid is cleanest, from
 * forecasts of carbon intensity (the formats of "intensity-series": CSV, Electricity Maps,
 * WattTime, Carbon Aware SDK). The rule is the Carbon Aware SDK's: the lowest time-weighted
 * mean intensity over the job, ties to the earliest start (docs/schedule.md). Pure
 * computation on files: no context, thread-safe. */

#define WATTPROF_SCHEDULE_MAX_FORECASTS 16
#define WATTPROF_SCHEDULE_MAX_ALTERNATIVES 16
#define WATTPROF_SCHEDULE_MAX_CHUNKS 64

struct wattprof_schedule_forecast {
    const char *path;   /* the forecast file */
    const char *region; /* a name for it ("DE"), or NULL */
};

struct wattprof_schedule_request {
    const struct wattprof_schedule_forecast *forecasts; /* 1 to 16; the first is "here" */
    size_t n_forecasts;
    int64_t now_unix_ms;       /* the plan's "now" */
    int64_t duration_ms;       /* the job's length, > 0 */
    int64_t within_ms;         /* the job must end by now + within; >= duration */
    double energy_kwh;         /* the job's energy, NAN when unknown (no grams) */
    const double *profile_kwh; /* or: the energy of n_profile equal slices of the job, in
                                  order (from a stored run's power); NULL: flat */
    size_t n_profile;
    size_t n_alternatives; /* how many next-best starts, 0 to 16 */
    unsigned chunks;       /* > 1: an interruptible job in that many pieces (up to 64) */
    double max_intensity;  /* g/kWh: start at the first slot below it; NAN: off */
};

/* A planned start. end - start is the duration (or, for chunks, the span they cover). */
struct wattprof_schedule_window {
    int64_t start_unix_ms, end_unix_ms;
    size_t forecast;       /* index into the request's forecasts */
    char region[64];       /* the forecast's region, "" when none */
    double mean_g_per_kwh; /* time-weighted mean over the window */
    double expected_g;     /* grams CO2e; NAN when the energy is unknown */
};

/* What each forecast file held. */
struct wattprof_schedule_forecast_info {
    char source[160];                   /* "WattTime forecast, region CAISO_NORTH, co2_moer" */
    char kind[16];                      /* "average" or "marginal" */
    int64_t generated_at_unix_ms;       /* 0 when the file does not say */
    int64_t step_ms;                    /* its resolution (median step) */
    int64_t first_unix_ms, end_unix_ms; /* the span it covers */
};

struct wattprof_schedule_result {
    struct wattprof_schedule_window best;
    int now_known; /* 0 when the first forecast does not cover [now, now + duration] */
    struct wattprof_schedule_window now; /* starting now with the first forecast */
    double saving_g;                     /* now - best, grams; NAN when unknown */
    double saving_pct;     /* (now - best) / now × 100 (of grams with a profile, else of the
                              mean intensity); NAN when unknown */
    int threshold_met;     /* with max_intensity: 1 when a slot below it was found (else best
                              is the lowest mean) */
    size_t n_alternatives; /* next best starts, none overlapping best or each other in the
                              same forecast */
    struct wattprof_schedule_window alternatives[WATTPROF_SCHEDULE_MAX_ALTERNATIVES];
    size_t n_chunks; /* interruptible: the chosen pieces, in time order */
    struct wattprof_schedule_window chunks[WATTPROF_SCHEDULE_MAX_CHUNKS];
    size_t candidates; /* starts rated */
    size_t excluded;   /* starts left out because the forecast lacks data for them */
    size_t n_forecasts;
    struct wattprof_schedule_forecast_info forecasts[WATTPROF_SCHEDULE_MAX_FORECASTS];
    char errmsg[512]; /* why the plan failed; "" on success */
};

/* Plans a job. *out is set even on failure (NULL only on -ENOMEM) so errmsg can say why;
 * release it with wattprof_free(). Returns 0, -EINVAL (a bad request, a malformed forecast
 * file with PATH:LINE:COLUMN, a window shorter than the job, no start that the forecasts
 * cover: errmsg names the missing span), -ENOENT / -EACCES (a forecast file), -ENOMEM. */
WATTPROF_API int wattprof_schedule_plan(const struct wattprof_schedule_request *req,
                                        struct wattprof_schedule_result **out);

#ifdef __cplusplus
}
#endif

#endif
