/* The sampler: reads every channel of a set of opened sensors at a fixed interval on
 * one thread, and turns raw values into cumulative 64-bit µJ per channel (wrap
 * correction, scaling, trapezoid integration of gauges, plausibility checks). All the
 * arithmetic on raw readings lives here, once. */
#ifndef WATTPROF_SAMPLER_H
#define WATTPROF_SAMPLER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor.h"

/* 128-bit intermediate for µW·ns integrals and rational scaling (GCC and clang). */
__extension__ typedef unsigned __int128 sampler_u128;

#define SAMPLER_MAX_SENSORS 16
#define SAMPLER_MAX_CHANNELS 128
/* Peak power is the highest mean power over consecutive spans of at least this long,
 * so that a 1 ms counter update seen over a 0.1 ms gap does not read as a spike. */
#define SAMPLER_PEAK_MIN_NS (10ull * 1000 * 1000)
/* Default plausibility bound when a channel declares none: 10 kW. */
#define SAMPLER_DEFAULT_MAX_POWER_UW (10ull * 1000 * 1000 * 1000)
/* A channel's declared max power times this is the most it can plausibly draw. */
#define SAMPLER_MAX_POWER_MARGIN 4
/* Slack added to an interval before a delta is judged implausible: counters update
 * about every 1 ms, so one update can land in a very short gap. */
#define SAMPLER_SLACK_NS (20ull * 1000 * 1000)

/* What happened to a counter between two reads. */
enum sampler_step {
    SAMPLER_STEP_OK,      /* now >= prev, plausible */
    SAMPLER_STEP_WRAP,    /* one wrap, corrected with the declared range */
    SAMPLER_STEP_RESET,   /* the counter restarted from 0 (driver reload, resume) */
    SAMPLER_STEP_ANOMALY, /* impossible: rejected and counted, never silently */
};

/* Per-channel state and totals. Owned by the sampler; read after sampler_stop(), or
 * under sampler_lock() while running. */
struct sampler_channel {
    struct sensor *sensor;           /* borrowed */
    const struct sensor_channel *ch; /* borrowed from sensor->channels */
    size_t index;                    /* index within the sensor */

    int have_last;
    uint64_t last_raw;
    uint64_t last_t_ns;
    uint64_t first_t_ns;

    uint64_t raw_total;       /* counters: wrap-corrected raw sum */
    sampler_u128 gauge_uw_ns; /* gauges: integral of power, µW·ns */
    uint64_t energy_uj;       /* cumulative energy since the first read */
    uint64_t attributed_uj;   /* has_share channels: the tracked tree's part */

    uint64_t peak_ref_t_ns;
    uint64_t peak_ref_uj;
    uint64_t peak_power_uw;

    uint64_t reads;
    uint64_t wraps;
    uint64_t resets;
    uint64_t anomalies;
    uint64_t rejected_uj; /* energy of rejected deltas, reported, not added */

    int lost;     /* the channel stopped reading: energy frozen */
    int lost_err; /* negative errno of the failed read */
    uint64_t lost_t_ns;
};

struct sampler {
    size_t n_sensors;
    struct sensor *sensors[SAMPLER_MAX_SENSORS];
    uint64_t sensor_last_ns[SAMPLER_MAX_SENSORS];
    size_t n_channels;
    struct sampler_channel channels[SAMPLER_MAX_CHANNELS];
    uint64_t values[SENSOR_MAX_CHANNELS]; /* scratch for one sensor's read */

    uint64_t interval_ns; /* as asked */
    uint64_t tick_ns;     /* as done: no shorter than every sensor's min_period_ns */
    uint64_t n_samples;
    uint64_t n_overruns; /* timer expirations missed because a read took too long */
    uint64_t start_t_ns;
    uint64_t last_t_ns;

    /* The ring of samples for the store (sampler_ring_init): slots of 1 + n_channels
     * uint64_t (t_ns, then each channel's cumulative energy_uj), oldest dropped when
     * full. Allocated before start, filled under the lock without allocating. */
    uint64_t *ring;
    size_t ring_cap;       /* slots */
    size_t ring_head;      /* next slot to write */
    size_t ring_len;       /* slots held */
    uint64_t ring_dropped; /* slots overwritten before they were drained */

    pthread_mutex_t lock;
    pthread_t thread;
    int thread_running;
    int timer_fd;
    atomic_int stopping; /* set by sampler_stop(), read by the thread */
};

/* Prepares a sampler over the channels of the given opened sensors (borrowed; they
 * must outlive the sampler). Returns 0, or -EINVAL when there are too many. */
int sampler_init(struct sampler *sp, struct sensor *const *sensors, size_t n_sensors,
                 uint64_t interval_ns);
/* Releases what sampler_init/start acquired; stops the thread if running. */
void sampler_release(struct sampler *sp);

/* Reads every sensor now (all of them when force, else those whose min_period has
 * passed) and updates the totals. Takes the lock. Never allocates. */
void sampler_sample(struct sampler *sp, int force);

/* Reads once, then starts the sampling thread. Returns 0 or a negative errno. */
int sampler_start(struct sampler *sp);
/* Stops and joins the thread, then reads every channel once more. */
void sampler_stop(struct sampler *sp);

/* Allocates the ring of samples (cap slots) that sampler_sample fills; call after
 * sampler_init, before start. Freed by sampler_release. Returns 0 or -ENOMEM. */
int sampler_ring_init(struct sampler *sp, size_t cap);
/* Copies out (oldest first) up to max slots accumulated since the last drain into out
 * (max * (1 + n_channels) uint64_t) and returns how many; *dropped receives the slots lost
 * to overflow since the last drain. Takes the lock; never allocates. */
size_t sampler_drain(struct sampler *sp, uint64_t *out, size_t max, uint64_t *dropped);

void sampler_lock(struct sampler *sp);
void sampler_unlock(struct sampler *sp);

/* The counter arithmetic, exposed for tests. Given the previous and current raw values
 * of a counter that wraps after max_raw (0: never wraps, UINT64_MAX: unknown range),
 * stores the raw delta and returns what happened. Plausibility is not judged here. */
enum sampler_step sampler_counter_delta(uint64_t prev, uint64_t now, uint64_t max_raw,
                                        uint64_t *delta);

/* Feeds one raw reading taken at t_ns into a channel's state (tests call this on
 * synthetic series; sampler_sample calls it for real readings). */
void sampler_channel_update(struct sampler_channel *c, uint64_t raw, uint64_t t_ns);

/* Marks a channel lost after a failed read. */
void sampler_channel_lose(struct sampler_channel *c, int err, uint64_t t_ns);

/* Converts a raw amount to µJ (counters) or µW (gauges) with the channel's scale. */
uint64_t sampler_scale(const struct sensor_channel *ch, uint64_t raw);

#endif
