/* wattprof serve in the library: opens the sensors once, samples them continuously with
 * the sampler, and keeps the snapshots that the socket (daemon_sock.c) and /metrics
 * (daemon_http.c) hand out, so that clients never touch the sampling (docs/daemon.md). */
#include "daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"

#define NS_PER_MS 1000000ull
#define DAEMON_DEFAULT_INTERVAL_MS 100
#define DAEMON_DEFAULT_MIN_CLIENT_MS 50
#define DAEMON_DEFAULT_LISTEN "127.0.0.1:9464"
#define DAEMON_RING_SLOTS 0 /* no ring: the daemon keeps totals only */

int daemon_errorf(struct wattprof_daemon *d, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

WATTPROF_API int wattprof_daemon_default_socket(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0) {
        snprintf(buf, size, "%s", DAEMON_SYSTEM_SOCKET);
        return 0;
    }
    if (!xdg || xdg[0] != '/')
        return -ENOENT;
    snprintf(buf, size, "%s/%s", xdg, DAEMON_SOCKET_NAME);
    return 0;
}

WATTPROF_API int wattprof_daemon_new(struct wattprof_ctx *ctx, struct wattprof_daemon **out)
{
    struct wattprof_daemon *d = calloc(1, sizeof(*d));
    *out = d;
    if (!d)
        return -ENOMEM;
    d->ctx = ctx;
    d->listen_fd = -1;
    d->wake_fd = -1;
    d->http_fd = -1;
    for (size_t i = 0; i < DAEMON_MAX_CLIENTS; i++)
        d->clients[i].fd = -1;
    pthread_mutex_init(&d->lock, NULL);
    return 0;
}

/* Describes channel ch of sensor s in the socket's terms. */
static void describe(struct daemon_proto_channel *dc, const struct sensor *s,
                     const struct sensor_channel *ch)
{
    struct wattprof_channel_info info;
    ctx_channel_info(s, ch, &info);
    memset(dc, 0, sizeof(*dc));
    snprintf(dc->name, sizeof(dc->name), "%s", info.name);
    snprintf(dc->kind, sizeof(dc->kind), "%s", info.kind);
    snprintf(dc->domain, sizeof(dc->domain), "%s", info.domain);
    snprintf(dc->source, sizeof(dc->source), "%s", info.source);
    snprintf(dc->provenance, sizeof(dc->provenance), "%s", info.provenance);
    dc->included = info.included_in_total;
    dc->node_scope = info.node_scope;
    snprintf(dc->note, sizeof(dc->note), "%s", info.how);
}

static void stop_sampling(struct wattprof_daemon *d)
{
    if (d->sp)
        sampler_release(d->sp);
    free(d->sp);
    d->sp = NULL;
    sensors_close(&d->sensors);
    d->n_chans = 0;
    memset(&d->snap, 0, sizeof(d->snap));
    d->client_taken_ns = 0;
}

/* Opens the sensors and readies the sampler (its thread starts in run_sampler); with
 * d->lock held. Nothing to read is not an error: the daemon serves wattprof_up 0. */
static int open_sampling(struct wattprof_daemon *d)
{
    struct sensors_env env;
    struct sensor *active[SAMPLER_MAX_SENSORS];
    ctx_sensors_env(d->ctx, &env);
    env.cfg = &d->scfg;
    if (sensors_open(&d->sensors, &env) < 0)
        return daemon_errorf(d, -ENOMEM, "out of memory while opening sensors");
    size_t n = sensors_active(&d->sensors, active, SAMPLER_MAX_SENSORS);
    if (n == 0)
        return 0;
    d->sp = calloc(1, sizeof(*d->sp));
    if (!d->sp)
        return daemon_errorf(d, -ENOMEM, "out of memory while starting the sampler");
    int r = sampler_init(d->sp, active, n, d->interval_ns);
    if (r < 0)
        return daemon_errorf(d, r, "cannot start sampling: %s", strerror(-r));
    d->n_chans = d->sp->n_channels;
    for (size_t i = 0; i < d->n_chans; i++)
        describe(&d->chans[i], d->sp->channels[i].sensor, d->sp->channels[i].ch);
    daemon_take_snapshot(d, &d->snap);
    return 0;
}

/* Starts the sampler's thread; with d->lock held. */
static int run_sampling(struct wattprof_daemon *d)
{
    int r = d->sp ? sampler_start(d->sp) : 0;
    if (r < 0)
        return daemon_errorf(d, r, "cannot start sampling: %s", strerror(-r));
    return 0;
}

void daemon_take_snapshot(struct wattprof_daemon *d, struct daemon_snap *snap)
{
    if (!d->sp)
        return;
    sampler_lock(d->sp);
    snap->t_ns = d->sp->last_t_ns;
    snap->samples = d->sp->n_samples;
    snap->overruns = d->sp->n_overruns;
    for (size_t i = 0; i < d->sp->n_channels; i++)
        snap->energy_uj[i] = d->sp->channels[i].energy_uj;
    sampler_unlock(d->sp);
}

static void apply_config(struct wattprof_daemon *d, const struct wattprof_daemon_config *cfg)
{
    d->scfg = d->ctx->cfg;
    d->scfg.daemon_socket = NULL; /* never read through a daemon, least of all ourselves */
    d->interval_ns = (cfg->interval_ms ? cfg->interval_ms : DAEMON_DEFAULT_INTERVAL_MS) * NS_PER_MS;
    d->min_client_ns =
        (cfg->min_client_interval_ms ? cfg->min_client_interval_ms : DAEMON_DEFAULT_MIN_CLIENT_MS) *
        NS_PER_MS;
}

WATTPROF_API int wattprof_daemon_start(struct wattprof_daemon *d,
                                       const struct wattprof_daemon_config *cfg)
{
    char path[sizeof(d->socket_path)];
    const char *sock = cfg->socket_path;
    apply_config(d, cfg);
    if (!sock) {
        if (wattprof_daemon_default_socket(path, sizeof(path)) < 0)
            return daemon_errorf(d, -ENOENT,
                                 "no default socket path: XDG_RUNTIME_DIR is not "
                                 "set; give --socket PATH");
        sock = path;
    }
    int r = daemon_cgroups_open(d, cfg);
    if (r < 0)
        return r;
    /* everything that needs privileges first (sensors, socket, port), then the drop,
     * then the threads, which inherit the dropped capabilities */
    pthread_mutex_lock(&d->lock);
    r = open_sampling(d);
    pthread_mutex_unlock(&d->lock);
    const char *listen = cfg->listen ? cfg->listen : DAEMON_DEFAULT_LISTEN;
    if (r == 0)
        r = daemon_sock_bind(d, sock, cfg->socket_mode ? cfg->socket_mode : 0660, cfg->socket_gid);
    if (r == 0 && *listen)
        r = daemon_http_bind(d, listen, cfg);
    if (r == 0 && cfg->drop_capabilities)
        r = daemon_drop_capabilities(d, cfg->keep_setid_capabilities);
    pthread_mutex_lock(&d->lock);
    if (r == 0)
        r = run_sampling(d);
    pthread_mutex_unlock(&d->lock);
    if (r == 0)
        r = daemon_sock_run(d);
    if (r == 0 && *listen)
        r = daemon_http_run(d, listen, cfg);
    return r;
}

WATTPROF_API int wattprof_daemon_reload(struct wattprof_daemon *d)
{
    pthread_mutex_lock(&d->lock);
    stop_sampling(d);
    int r = open_sampling(d);
    if (r == 0)
        r = run_sampling(d);
    d->reloads++;
    pthread_mutex_unlock(&d->lock);
    return r;
}

WATTPROF_API const char *wattprof_daemon_listen_address(const struct wattprof_daemon *d)
{
    return d->listen_addr;
}

WATTPROF_API const char *wattprof_daemon_socket_path(const struct wattprof_daemon *d)
{
    return d->socket_created ? d->socket_path : "";
}

WATTPROF_API size_t wattprof_daemon_channel_count(const struct wattprof_daemon *d)
{
    return d->n_chans;
}

WATTPROF_API const char *wattprof_daemon_errmsg(const struct wattprof_daemon *d)
{
    return d ? d->errmsg : "";
}

WATTPROF_API void wattprof_daemon_free(struct wattprof_daemon *d)
{
    if (!d)
        return;
    daemon_http_stop(d);
    daemon_sock_stop(d);
    stop_sampling(d);
    cgroups_close(&d->cgroups);
    pthread_mutex_destroy(&d->lock);
    explicit_bzero(d->auth, sizeof(d->auth));
    free(d);
}
