/* The sampler: one thread, a timerfd, and all the arithmetic on raw sensor readings
 * (wrap correction, scaling to µJ, trapezoid integration of gauges, plausibility). */
#include "sampler.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define NS_PER_S 1000000000ull

uint64_t sampler_scale(const struct sensor_channel *ch, uint64_t raw)
{
    if (ch->scale_num == ch->scale_den)
        return raw;
    sampler_u128 v = (sampler_u128)raw * ch->scale_num / ch->scale_den;
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

enum sampler_step sampler_counter_delta(uint64_t prev, uint64_t now, uint64_t max_raw,
                                        uint64_t *delta)
{
    if (now >= prev) {
        *delta = now - prev;
        return SAMPLER_STEP_OK;
    }
    if (max_raw == UINT64_MAX) {
        *delta = 0; /* a decrease we cannot explain: the range is unknown */
        return SAMPLER_STEP_ANOMALY;
    }
    if (max_raw == 0 || prev > max_raw) {
        *delta = now;
        return SAMPLER_STEP_RESET;
    }
    *delta = (max_raw - prev) + now;
    return SAMPLER_STEP_WRAP;
}

/* The most energy (µJ) a channel can plausibly deliver in dt_ns. */
static uint64_t plausible_uj(const struct sensor_channel *ch, uint64_t dt_ns)
{
    /* A declared maximum (e.g. a RAPL constraint's max power, often the TDP) can be
     * exceeded for a while under a short-term limit: allow a margin. */
    uint64_t p = ch->max_power_uw ? ch->max_power_uw * SAMPLER_MAX_POWER_MARGIN
                                  : SAMPLER_DEFAULT_MAX_POWER_UW;
    sampler_u128 e = (sampler_u128)p * (dt_ns + SAMPLER_SLACK_NS) / NS_PER_S;
    return e > UINT64_MAX ? UINT64_MAX : (uint64_t)e;
}

static void counter_step(struct sampler_channel *c, uint64_t raw, uint64_t dt_ns)
{
    uint64_t d;
    enum sampler_step st = sampler_counter_delta(c->last_raw, raw, c->ch->max_raw, &d);
    uint64_t bound = plausible_uj(c->ch, dt_ns);

    if (st == SAMPLER_STEP_WRAP && sampler_scale(c->ch, d) > bound) {
        d = raw; /* too much for a wrap: the counter restarted */
        st = SAMPLER_STEP_RESET;
    }
    if (st != SAMPLER_STEP_ANOMALY && sampler_scale(c->ch, d) > bound) {
        c->rejected_uj += sampler_scale(c->ch, d);
        st = SAMPLER_STEP_ANOMALY;
    }
    switch (st) {
    case SAMPLER_STEP_ANOMALY:
        c->anomalies++;
        return;
    case SAMPLER_STEP_WRAP:
        c->wraps++;
        break;
    case SAMPLER_STEP_RESET:
        c->resets++;
        break;
    case SAMPLER_STEP_OK:
        break;
    }
    c->raw_total += d;
    c->energy_uj = sampler_scale(c->ch, c->raw_total);
}

/* Returns 0 when the reading was accepted, -1 when it was rejected as implausible. */
static int gauge_step(struct sampler_channel *c, uint64_t raw, uint64_t dt_ns)
{
    uint64_t p_now = sampler_scale(c->ch, raw);
    uint64_t limit = c->ch->max_power_uw ? c->ch->max_power_uw * SAMPLER_MAX_POWER_MARGIN
                                         : SAMPLER_DEFAULT_MAX_POWER_UW;
    if (p_now > limit) {
        c->anomalies++;
        return -1;
    }
    uint64_t p_prev = sampler_scale(c->ch, c->last_raw);
    c->gauge_uw_ns += ((sampler_u128)p_prev + p_now) * dt_ns / 2;
    sampler_u128 uj = c->gauge_uw_ns / 1000000000u;
    c->energy_uj = uj > UINT64_MAX ? UINT64_MAX : (uint64_t)uj;
    return 0;
}

static void peak_step(struct sampler_channel *c, uint64_t t_ns)
{
    uint64_t span = t_ns - c->peak_ref_t_ns;
    if (span < SAMPLER_PEAK_MIN_NS)
        return;
    sampler_u128 p = (sampler_u128)(c->energy_uj - c->peak_ref_uj) * NS_PER_S / span;
    if (p > c->peak_power_uw)
        c->peak_power_uw = p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
    c->peak_ref_t_ns = t_ns;
    c->peak_ref_uj = c->energy_uj;
}

void sampler_channel_update(struct sampler_channel *c, uint64_t raw, uint64_t t_ns)
{
    if (c->lost)
        return;
    c->reads++;
    if (!c->have_last) {
        c->have_last = 1;
        c->last_raw = raw;
        c->last_t_ns = t_ns;
        c->first_t_ns = t_ns;
        c->peak_ref_t_ns = t_ns;
        return;
    }
    uint64_t dt = t_ns > c->last_t_ns ? t_ns - c->last_t_ns : 0;
    uint64_t before = c->energy_uj;
    if (c->ch->kind == SENSOR_ENERGY_COUNTER) {
        counter_step(c, raw, dt);
    } else if (gauge_step(c, raw, dt) < 0) {
        return; /* keep the last good reading and its time */
    }
    if (c->ch->has_share) {
        uint32_t ppm = c->ch->share_ppm > 1000000 ? 1000000 : c->ch->share_ppm;
        c->attributed_uj += (uint64_t)((sampler_u128)(c->energy_uj - before) * ppm / 1000000);
    }
    c->last_raw = raw;
    c->last_t_ns = t_ns;
    peak_step(c, t_ns);
}

void sampler_channel_lose(struct sampler_channel *c, int err, uint64_t t_ns)
{
    if (c->lost)
        return;
    c->lost = 1;
    c->lost_err = err;
    c->lost_t_ns = t_ns;
}

int sampler_init(struct sampler *sp, struct sensor *const *sensors, size_t n_sensors,
                 uint64_t interval_ns)
{
    memset(sp, 0, sizeof(*sp));
    sp->timer_fd = -1;
    sp->interval_ns = interval_ns;
    pthread_mutex_init(&sp->lock, NULL);
    if (n_sensors > SAMPLER_MAX_SENSORS)
        return -EINVAL;
    for (size_t i = 0; i < n_sensors; i++) {
        struct sensor *s = sensors[i];
        sp->sensors[sp->n_sensors++] = s;
        for (size_t j = 0; j < s->n_channels; j++) {
            if (sp->n_channels >= SAMPLER_MAX_CHANNELS)
                return -EINVAL;
            struct sampler_channel *c = &sp->channels[sp->n_channels++];
            c->sensor = s;
            c->ch = &s->channels[j];
            c->index = j;
        }
    }
    return 0;
}

/* Reads sensor si. A scheduled read (a tick, or the first read) restarts the sensor's
 * minimum period; a forced read in between (a window edge, the end) does not, so the
 * next tick still reads it and the ticks keep their rhythm (a forced read must not turn
 * the next interval into an empty one followed by a double one). */
static void sample_sensor(struct sampler *sp, size_t si, struct sampler_channel *first,
                          int scheduled)
{
    struct sensor *s = sp->sensors[si];
    uint64_t t0 = sensor_now_ns();
    for (size_t j = 0; j < s->n_channels; j++)
        s->channels[j].read_err = 0;
    int r = s->ops->read(s, sp->values);
    uint64_t t1 = sensor_now_ns();
    uint64_t t = t0 + (t1 - t0) / 2; /* the read happened somewhere in [t0, t1] */
    if (scheduled || sp->sensor_last_ns[si] == 0)
        sp->sensor_last_ns[si] = t1;
    for (size_t j = 0; j < s->n_channels; j++) {
        struct sampler_channel *c = first + j;
        int err = r < 0 ? r : s->channels[j].read_err;
        if (err < 0)
            sampler_channel_lose(c, err, t);
        else
            sampler_channel_update(c, sp->values[j], t);
    }
}

/* Appends the current totals to the ring; the oldest slot goes when it is full. */
static void ring_append(struct sampler *sp, uint64_t t_ns)
{
    size_t width = 1 + sp->n_channels;
    uint64_t *slot = sp->ring + sp->ring_head * width;
    slot[0] = t_ns;
    for (size_t i = 0; i < sp->n_channels; i++)
        slot[1 + i] = sp->channels[i].energy_uj;
    sp->ring_head = (sp->ring_head + 1) % sp->ring_cap;
    if (sp->ring_len == sp->ring_cap)
        sp->ring_dropped++;
    else
        sp->ring_len++;
}

int sampler_ring_init(struct sampler *sp, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    sp->ring = calloc(cap * (1 + sp->n_channels), sizeof(uint64_t));
    if (!sp->ring)
        return -ENOMEM;
    sp->ring_cap = cap;
    return 0;
}

size_t sampler_drain(struct sampler *sp, uint64_t *out, size_t max, uint64_t *dropped)
{
    pthread_mutex_lock(&sp->lock);
    size_t width = 1 + sp->n_channels;
    size_t n = sp->ring_len < max ? sp->ring_len : max;
    size_t tail = (sp->ring_head + sp->ring_cap - sp->ring_len) % sp->ring_cap;
    for (size_t k = 0; k < n; k++) {
        size_t slot = (tail + k) % sp->ring_cap;
        memcpy(out + k * width, sp->ring + slot * width, width * sizeof(uint64_t));
    }
    sp->ring_len -= n;
    *dropped = sp->ring_dropped;
    sp->ring_dropped = 0;
    pthread_mutex_unlock(&sp->lock);
    return n;
}

void sampler_sample(struct sampler *sp, int force)
{
    pthread_mutex_lock(&sp->lock);
    uint64_t now = sensor_now_ns();
    struct sampler_channel *first = sp->channels;
    for (size_t i = 0; i < sp->n_sensors; i++) {
        struct sensor *s = sp->sensors[i];
        /* half a tick of slack: a timer that fires a few µs early must not skip a read
         * and leave a sensor whose minimum period equals the tick read every other tick */
        int due = force || s->min_period_ns == 0 ||
                  now - sp->sensor_last_ns[i] + sp->tick_ns / 2 >= s->min_period_ns;
        if (due)
            sample_sensor(sp, i, first, !force);
        first += s->n_channels;
    }
    sp->n_samples++;
    sp->last_t_ns = sensor_now_ns();
    if (sp->ring)
        ring_append(sp, sp->last_t_ns);
    pthread_mutex_unlock(&sp->lock);
}

/* One blocking read of the timerfd per tick, nothing else: stop() sets `stopping` and
 * makes the timer fire at once, so no second fd needs polling. */
static void *sampler_thread(void *arg)
{
    struct sampler *sp = arg;
    for (;;) {
        uint64_t expirations = 0;
        ssize_t n = read(sp->timer_fd, &expirations, sizeof(expirations));
        if (atomic_load(&sp->stopping))
            break;
        if (n != (ssize_t)sizeof(expirations))
            continue;
        if (expirations > 1)
            sp->n_overruns += expirations - 1;
        sampler_sample(sp, 0);
    }
    return NULL;
}

/* Waking up is most of a sampler's cost (a context switch each tick): when every sensor
 * declares a minimum period, ticking faster than the shortest one reads nothing new. */
static uint64_t effective_interval(const struct sampler *sp)
{
    uint64_t shortest = UINT64_MAX;
    for (size_t i = 0; i < sp->n_sensors; i++) {
        uint64_t p = sp->sensors[i]->min_period_ns;
        if (p == 0)
            return sp->interval_ns;
        if (p < shortest)
            shortest = p;
    }
    return sp->n_sensors && shortest > sp->interval_ns ? shortest : sp->interval_ns;
}

static int arm_timer(struct sampler *sp)
{
    sp->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (sp->timer_fd < 0)
        return -errno;
    sp->tick_ns = effective_interval(sp);
    struct itimerspec its = { 0 };
    its.it_interval.tv_sec = (time_t)(sp->tick_ns / NS_PER_S);
    its.it_interval.tv_nsec = (long)(sp->tick_ns % NS_PER_S);
    its.it_value = its.it_interval;
    if (timerfd_settime(sp->timer_fd, 0, &its, NULL) < 0)
        return -errno;
    return 0;
}

int sampler_start(struct sampler *sp)
{
    if (sp->interval_ns == 0)
        return -EINVAL;
    sampler_sample(sp, 1);
    sp->start_t_ns = sp->last_t_ns;
    int r = arm_timer(sp);
    if (r < 0)
        return r;
    /* The thread takes no signals: they belong to the main thread (wattprof run
     * forwards them to the workload). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = -pthread_create(&sp->thread, NULL, sampler_thread, sp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r == 0)
        sp->thread_running = 1;
    return r;
}

void sampler_stop(struct sampler *sp)
{
    if (sp->thread_running) {
        struct itimerspec now = { { 0, 0 }, { 0, 1 } }; /* fire in 1 ns, once */
        atomic_store(&sp->stopping, 1);
        timerfd_settime(sp->timer_fd, 0, &now, NULL);
        pthread_join(sp->thread, NULL);
        sp->thread_running = 0;
    }
    sampler_sample(sp, 1);
}

void sampler_lock(struct sampler *sp)
{
    pthread_mutex_lock(&sp->lock);
}

void sampler_unlock(struct sampler *sp)
{
    pthread_mutex_unlock(&sp->lock);
}

void sampler_release(struct sampler *sp)
{
    if (sp->thread_running)
        sampler_stop(sp);
    if (sp->timer_fd >= 0)
        close(sp->timer_fd);
    sp->timer_fd = -1;
    free(sp->ring);
    sp->ring = NULL;
    pthread_mutex_destroy(&sp->lock);
}
