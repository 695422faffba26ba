/* Tests for the sampler's arithmetic on synthetic series (wraps, resets, impossible
 * deltas, gauges, scaling, peaks, lost channels) and for its thread on a fake sensor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sampler.h"

#define MS 1000000ull
#define S 1000000000ull

static struct sensor_channel counter_ch(uint64_t max_raw)
{
    struct sensor_channel ch;
    memset(&ch, 0, sizeof(ch));
    ch.kind = SENSOR_ENERGY_COUNTER;
    ch.scale_num = 1;
    ch.scale_den = 1;
    ch.max_raw = max_raw;
    return ch;
}

static void init_channel(struct sampler_channel *c, const struct sensor_channel *ch)
{
    memset(c, 0, sizeof(*c));
    c->ch = ch;
}

static void test_counter_delta_cases(void **state)
{
    (void)state;
    uint64_t d;
    assert_int_equal(sampler_counter_delta(10, 25, 100, &d), SAMPLER_STEP_OK);
    assert_true(d == 15);
    assert_int_equal(sampler_counter_delta(90, 5, 100, &d), SAMPLER_STEP_WRAP);
    assert_true(d == 15);
    assert_int_equal(sampler_counter_delta(90, 5, 0, &d), SAMPLER_STEP_RESET);
    assert_true(d == 5);
    assert_int_equal(sampler_counter_delta(90, 5, UINT64_MAX, &d), SAMPLER_STEP_ANOMALY);
    assert_true(d == 0);
    /* a previous value beyond the declared range cannot be a wrap */
    assert_int_equal(sampler_counter_delta(150, 5, 100, &d), SAMPLER_STEP_RESET);
}

static void test_sampler_counter_single_wrap(void **state)
{
    (void)state;
    /* Intel package range; 50 W read every 100 ms across a wrap. */
    const uint64_t range = 262143328850ull;
    struct sensor_channel ch = counter_ch(range);
    struct sampler_channel c;
    init_channel(&c, &ch);
    uint64_t v = range - 12000000; /* 12 J before the wrap */
    uint64_t t = 1 * S;
    for (int i = 0; i <= 10; i++) {
        sampler_channel_update(&c, v, t);
        v = (v + 5000000) % range; /* +5 J per 100 ms = 50 W */
        t += 100 * MS;
    }
    assert_true(c.wraps == 1);
    assert_true(c.anomalies == 0);
    /* 10 steps of 5 J; the wrap step loses the 1 µJ between max and 0 by the kernel's
     * own convention (range = max value). */
    assert_true(c.energy_uj >= 50000000 - 1 && c.energy_uj <= 50000000);
    assert_true(c.peak_power_uw >= 49999000 && c.peak_power_uw <= 50000000);
}

static void test_sampler_counter_reset_is_counted(void **state)
{
    (void)state;
    struct sensor_channel ch = counter_ch(262143328850ull);
    ch.max_power_uw = 500000000; /* 500 W */
    struct sampler_channel c;
    init_channel(&c, &ch);
    sampler_channel_update(&c, 100000000, 1 * S);
    sampler_channel_update(&c, 105000000, 1 * S + 100 * MS); /* +5 J */
    /* counter restarts from zero (driver reload): a "wrap" would mean 262 kJ in 100 ms */
    sampler_channel_update(&c, 3000000, 1 * S + 200 * MS);
    assert_true(c.resets == 1);
    assert_true(c.wraps == 0);
    assert_true(c.energy_uj == 8000000);
}

static void test_sampler_impossible_delta_is_flagged(void **state)
{
    (void)state;
    struct sensor_channel ch = counter_ch(262143328850ull);
    ch.max_power_uw = 500000000; /* 500 W */
    struct sampler_channel c;
    init_channel(&c, &ch);
    sampler_channel_update(&c, 1000000, 1 * S);
    sampler_channel_update(&c, 2000000, 1 * S + 100 * MS);
    /* +100 kJ in 100 ms: impossible, rejected and reported */
    sampler_channel_update(&c, 100002000000ull, 1 * S + 200 * MS);
    sampler_channel_update(&c, 100003000000ull, 1 * S + 300 * MS);
    assert_true(c.anomalies == 1);
    assert_true(c.rejected_uj == 100000000000ull);
    assert_true(c.energy_uj == 2000000);
}

static void test_sampler_unknown_range_decrease_not_corrected(void **state)
{
    (void)state;
    struct sensor_channel ch = counter_ch(UINT64_MAX);
    struct sampler_channel c;
    init_channel(&c, &ch);
    sampler_channel_update(&c, 5000000, 1 * S);
    sampler_channel_update(&c, 1000000, 1 * S + 100 * MS);
    sampler_channel_update(&c, 2000000, 1 * S + 200 * MS);
    assert_true(c.anomalies == 1);
    assert_true(c.energy_uj == 1000000); /* never negative, never a guessed wrap */
}

static void test_sampler_perf_scale_is_exact(void **state)
{
    (void)state;
    struct sensor_channel ch = counter_ch(0);
    ch.scale_num = 1000000;
    ch.scale_den = 1ull << 32;
    struct sampler_channel c;
    init_channel(&c, &ch);
    sampler_channel_update(&c, 0, 1 * S);
    /* 3 J in 2^-32 J units */
    sampler_channel_update(&c, 3ull << 32, 2 * S);
    assert_true(c.energy_uj == 3000000);
    assert_true(sampler_scale(&ch, 1) == 0);
}

static void test_sampler_gauge_trapezoid(void **state)
{
    (void)state;
    struct sensor_channel ch;
    memset(&ch, 0, sizeof(ch));
    ch.kind = SENSOR_POWER_GAUGE;
    ch.scale_num = 1000; /* raw in mW */
    ch.scale_den = 1;
    struct sampler_channel c;
    init_channel(&c, &ch);
    /* a ramp 100 W -> 200 W over 1 s, read every 250 ms: trapezoid is exact: 150 J */
    for (int i = 0; i <= 4; i++)
        sampler_channel_update(&c, 100000 + (uint64_t)i * 25000, 1 * S + (uint64_t)i * 250 * MS);
    assert_true(c.energy_uj == 150000000);
    /* an implausible reading is rejected, not integrated */
    sampler_channel_update(&c, 50000000000ull, 2 * S + 250 * MS);
    assert_true(c.anomalies == 1);
    assert_true(c.energy_uj == 150000000);
}

static void test_sampler_lost_channel_freezes(void **state)
{
    (void)state;
    struct sensor_channel ch = counter_ch(1000000000);
    struct sampler_channel c;
    init_channel(&c, &ch);
    sampler_channel_update(&c, 0, 1 * S);
    sampler_channel_update(&c, 1000000, 2 * S);
    sampler_channel_lose(&c, -ENOENT, 3 * S);
    sampler_channel_update(&c, 9000000, 4 * S);
    assert_true(c.lost);
    assert_int_equal(c.lost_err, -ENOENT);
    assert_true(c.energy_uj == 1000000);
}

static void test_sampler_device_share_is_attributed(void **state)
{
    (void)state;
    struct sensor_channel ch = counter_ch(0);
    ch.has_share = 1;
    struct sampler_channel c;
    init_channel(&c, &ch);
    sampler_channel_update(&c, 0, 1 * S);
    ch.share_ppm = 250000; /* the tree used a quarter of the device in this interval */
    sampler_channel_update(&c, 4000000, 2 * S);
    ch.share_ppm = 1000000;
    sampler_channel_update(&c, 6000000, 3 * S);
    ch.share_ppm = 0;
    sampler_channel_update(&c, 9000000, 4 * S);
    assert_true(c.energy_uj == 9000000);
    assert_true(c.attributed_uj == 1000000 + 2000000);
}

/* A fake counter backend: 20 W exactly, derived from the monotonic clock. */
struct fake_priv {
    uint64_t t0;
    unsigned reads;
};

static int fake_open(struct sensor *s)
{
    struct fake_priv *p = s->priv;
    p->t0 = sensor_now_ns();
    struct sensor_channel *c = sensor_add_channel(s, "fake:0");
    c->kind = SENSOR_ENERGY_COUNTER;
    c->max_raw = 1000000; /* wraps every 50 ms at 20 W */
    return 0;
}

static int fake_read(struct sensor *s, uint64_t *values)
{
    struct fake_priv *p = s->priv;
    p->reads++;
    uint64_t uj = (sensor_now_ns() - p->t0) * 20 / 1000; /* 20 W = 20 µJ per µs */
    values[0] = uj % 1000000;
    return 0;
}

static void fake_close(struct sensor *s)
{
    (void)s;
}

static const struct sensor_ops fake_ops = { "fake", sizeof(struct fake_priv), fake_open, fake_read,
                                            fake_close };

static void test_sampler_thread_follows_wrapping_counter(void **state)
{
    (void)state;
    struct fake_priv priv;
    struct sensor s;
    memset(&s, 0, sizeof(s));
    s.ops = &fake_ops;
    s.priv = &priv;
    assert_int_equal(fake_open(&s), 0);
    struct sensor *list[] = { &s };
    struct sampler *sp = calloc(1, sizeof(*sp));
    assert_non_null(sp);
    assert_int_equal(sampler_init(sp, list, 1, 10 * MS), 0);
    assert_int_equal(sampler_start(sp), 0);
    struct timespec ts = { 0, 300000000 };
    nanosleep(&ts, NULL);
    sampler_stop(sp);
    const struct sampler_channel *c = &sp->channels[0];
    uint64_t dt = c->last_t_ns - c->first_t_ns;
    uint64_t expect = dt * 20 / 1000;
    assert_true(c->wraps >= 5);
    assert_true(c->anomalies == 0);
    /* within 0.5 % (the read time is known to within the read's own duration) */
    assert_true(c->energy_uj * 1000 >= expect * 995 && c->energy_uj * 1000 <= expect * 1005);
    assert_true(sp->n_samples >= 20);
    sampler_release(sp);
    free(sp);
}

static void test_sampler_ticks_no_faster_than_sensors_change(void **state)
{
    (void)state;
    struct fake_priv priv;
    struct sensor slow, fast;
    memset(&slow, 0, sizeof(slow));
    memset(&fast, 0, sizeof(fast));
    slow.ops = fast.ops = &fake_ops;
    slow.priv = fast.priv = &priv;
    assert_int_equal(fake_open(&slow), 0);
    assert_int_equal(fake_open(&fast), 0);
    slow.min_period_ns = 50 * MS;
    struct sampler *sp = calloc(1, sizeof(*sp));
    assert_non_null(sp);
    struct sensor *only_slow[] = { &slow };
    assert_int_equal(sampler_init(sp, only_slow, 1, 10 * MS), 0);
    assert_int_equal(sampler_start(sp), 0);
    assert_true(sp->tick_ns == 50 * MS);
    sampler_release(sp);
    struct sensor *both[] = { &slow, &fast };
    assert_int_equal(sampler_init(sp, both, 2, 10 * MS), 0);
    assert_int_equal(sampler_start(sp), 0);
    assert_true(sp->tick_ns == 10 * MS);
    sampler_release(sp);
    free(sp);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) < 0)
        ;
}

/* A sensor with a minimum period: ticks closer than it skip it, a forced read (a window
 * edge) always reads it and does not delay its next scheduled read. */
static void test_sampler_forced_read_keeps_the_schedule(void **state)
{
    (void)state;
    struct fake_priv priv = { 0 };
    struct sensor slow;
    memset(&slow, 0, sizeof(slow));
    slow.ops = &fake_ops;
    slow.priv = &priv;
    assert_int_equal(fake_open(&slow), 0);
    slow.min_period_ns = 200 * MS;
    struct sampler *sp = calloc(1, sizeof(*sp));
    assert_non_null(sp);
    struct sensor *list[] = { &slow };
    assert_int_equal(sampler_init(sp, list, 1, 200 * MS), 0);
    sp->tick_ns = 200 * MS; /* as sampler_start sets it; no thread here */
    sampler_sample(sp, 1);  /* the first read: the schedule starts */
    assert_int_equal(priv.reads, 1);
    sampler_sample(sp, 0); /* a tick right after: too early, skipped */
    assert_int_equal(priv.reads, 1);
    sleep_ms(150);
    sampler_sample(sp, 1); /* a window edge: read */
    assert_int_equal(priv.reads, 2);
    sleep_ms(60);
    sampler_sample(sp, 0); /* 210 ms after the first read: due, the edge did not delay it */
    assert_int_equal(priv.reads, 3);
    sampler_release(sp);
    free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sampler_forced_read_keeps_the_schedule),
        cmocka_unit_test(test_counter_delta_cases),
        cmocka_unit_test(test_sampler_counter_single_wrap),
        cmocka_unit_test(test_sampler_counter_reset_is_counted),
        cmocka_unit_test(test_sampler_impossible_delta_is_flagged),
        cmocka_unit_test(test_sampler_unknown_range_decrease_not_corrected),
        cmocka_unit_test(test_sampler_perf_scale_is_exact),
        cmocka_unit_test(test_sampler_gauge_trapezoid),
        cmocka_unit_test(test_sampler_lost_channel_freezes),
        cmocka_unit_test(test_sampler_device_share_is_attributed),
        cmocka_unit_test(test_sampler_thread_follows_wrapping_counter),
        cmocka_unit_test(test_sampler_ticks_no_faster_than_sensors_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
