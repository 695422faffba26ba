/* `wattprof run --defer`: the plan (the library's wattprof_schedule_plan), the message
 * saying until when and why, and an interruptible wait on the monotonic clock. */
#include "run_defer.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "schedule_cli.h"

/* The longest single sleep: the wait is re-measured after each. */
#define WAIT_CHUNK_MS 60000

/* Set by the handler while waiting: the signal that cancels the wait. */
static volatile sig_atomic_t defer_signal;

int run_defer_opt(struct run_defer_opts *o, int c, char *arg)
{
    switch (c - RUN_DEFER_OPT) {
    case 0:
        o->defer = 1;
        return 1;
    case 1:
        o->within = arg;
        return 1;
    case 2:
        o->duration = arg;
        return 1;
    case 3:
        o->now = arg;
        return 1;
    case 4:
        o->max_intensity = arg;
        return 1;
    case 5:
        if (o->n_forecasts == WATTPROF_SCHEDULE_MAX_FORECASTS)
            o->too_many = 1;
        else
            o->forecasts[o->n_forecasts++] = arg;
        return 1;
    }
    return 0;
}

static int bad(const char *opt, const char *arg, const char *hint)
{
    cli_error("run: invalid %s '%s': %s; see 'wattprof run --help'", opt, arg, hint);
    return EXIT_USAGE;
}

/* The request from the options; returns -1, or the usage status. */
static int build(const struct run_defer_opts *o, struct wattprof_schedule_request *q,
                 struct wattprof_schedule_forecast *f)
{
    static const char dur_hint[] = "give e.g. 3h, 90m, 1d, 2h30m (1s to 366d)";
    q->duration_ms = 3600000;
    q->within_ms = 12 * 3600000LL;
    q->now_unix_ms = schedule_cli_clock_ms();
    if (o->duration && schedule_cli_parse_duration(o->duration, &q->duration_ms) < 0)
        return bad("--duration", o->duration, dur_hint);
    if (o->within && schedule_cli_parse_duration(o->within, &q->within_ms) < 0)
        return bad("--within", o->within, dur_hint);
    if (o->now && schedule_cli_parse_now(o->now, &q->now_unix_ms) < 0)
        return bad("--now", o->now, "give RFC 3339 UTC, e.g. 2026-01-15T00:00:00Z");
    if (o->max_intensity && cli_parse_double(o->max_intensity, 0, 5000, &q->max_intensity) < 0)
        return bad("--max-intensity", o->max_intensity, "give gCO2e/kWh, 0 to 5000");
    if (o->too_many)
        return bad("--forecast", o->forecasts[0], "at most 16 forecasts");
    for (size_t i = 0; i < o->n_forecasts; i++)
        schedule_cli_add_forecast(f, &q->n_forecasts, o->forecasts[i]);
    if (q->n_forecasts == 0) {
        cli_error("run: --defer needs --forecast FILE; see 'wattprof run --help'");
        return EXIT_USAGE;
    }
    if (q->within_ms < q->duration_ms)
        return bad("--within", o->within ? o->within : "12h",
                   "it is shorter than --duration: the command cannot fit");
    return -1;
}

static void say_plan(const struct wattprof_schedule_request *q,
                     const struct wattprof_schedule_result *res, int64_t wait_ms)
{
    char at[32];
    const struct wattprof_schedule_window *b = &res->best;
    schedule_cli_fmt_time(at, sizeof(at), b->start_unix_ms);
    if (wait_ms > 0)
        fprintf(stderr, "wattprof: waiting until %s (%lld s; Ctrl-C cancels): ", at,
                (long long)((wait_ms + 999) / 1000));
    else
        fprintf(stderr, "wattprof: starting now: ");
    if (res->threshold_met)
        fprintf(stderr, "the first start below %.1f gCO2e/kWh", q->max_intensity);
    else
        fprintf(stderr, "the cleanest start within the window%s",
                isnan(q->max_intensity) ? "" : " (no slot is below --max-intensity)");
    fprintf(stderr, "%s%s, %.1f gCO2e/kWh", b->region[0] ? " in " : "", b->region,
            b->mean_g_per_kwh);
    if (res->now_known)
        fprintf(stderr, " against %.1f now (%.1f %% less)", res->now.mean_g_per_kwh,
                res->saving_pct);
    fprintf(stderr, "; forecast: %s\n", res->forecasts[b->forecast].source);
}

static void on_signal(int sig)
{
    defer_signal = sig;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps wait_ms in chunks; the signals are blocked except inside ppoll, so one that
 * comes between the check and the sleep still ends the sleep. Returns 0 or the signal. */
static int wait_for(int64_t wait_ms)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa, old[ARRAY_SIZE(sigs)];
    sigset_t block, during;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        sigaddset(&block, sigs[i]);
        sigaction(sigs[i], NULL, &old[i]);
        if (old[i].sa_handler != SIG_IGN) /* nohup: stays ignored */
            sigaction(sigs[i], &sa, NULL);
    }
    sigprocmask(SIG_BLOCK, &block, &during);
    int64_t end = mono_ms() + wait_ms;
    for (int64_t left = wait_ms; !defer_signal && left > 0; left = end - mono_ms()) {
        int64_t chunk = left < WAIT_CHUNK_MS ? left : WAIT_CHUNK_MS;
        struct timespec ts = { (time_t)(chunk / 1000), (long)(chunk % 1000) * 1000000L };
        ppoll(NULL, 0, &ts, &during);
    }
    sigprocmask(SIG_SETMASK, &during, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &old[i], NULL);
    return defer_signal;
}

int run_defer(const struct run_defer_opts *o)
{
    struct wattprof_schedule_forecast f[WATTPROF_SCHEDULE_MAX_FORECASTS];
    struct wattprof_schedule_request q;
    memset(&q, 0, sizeof(q));
    q.forecasts = f;
    q.energy_kwh = NAN;
    q.max_intensity = NAN;
    if (!o->defer) {
        if (!o->n_forecasts && !o->within && !o->duration && !o->now && !o->max_intensity)
            return -1;
        cli_error("run: --forecast, --within, --duration, --now and --max-intensity go with "
                  "--defer; see 'wattprof run --help'");
        return EXIT_USAGE;
    }
    int code = build(o, &q, f);
    if (code >= 0)
        return code;
    int64_t planned_at = schedule_cli_clock_ms();
    struct wattprof_schedule_result *res = NULL;
    int r = wattprof_schedule_plan(&q, &res);
    if (r < 0) {
        cli_error("run: %s", res ? res->errmsg : "out of memory");
        wattprof_free(res);
        return r == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
    }
    /* the wait counts from planning on the real clock, whatever --now said */
    int64_t wait_ms = res->best.start_unix_ms - q.now_unix_ms;
    wait_ms -= schedule_cli_clock_ms() - planned_at;
    say_plan(&q, res, wait_ms);
    wattprof_free(res);
    int sig = wait_ms > 0 ? wait_for(wait_ms) : 0;
    if (sig) {
        cli_error("run: interrupted while waiting (signal %d); the command did not run", sig);
        return 128 + sig;
    }
    return -1;
}
