/* wattprof serve's Prometheus endpoint: GET /metrics over libmicrohttpd, from the
 * snapshot the socket thread refreshes every tick, so that a scrape never reads a sensor
 * nor changes the sampling. Bounded: connections, per-connection memory (request headers
 * included) and an idle timeout (docs/daemon.md). */
#include "daemon.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_MAX_CONNECTIONS 64
#define HTTP_TIMEOUT_S 5        /* an idle or slow connection is closed after this */
#define HTTP_MEMORY_LIMIT 16384 /* per connection: a bigger request gets 431 / 413 */
#define HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define HTTP_REALM "wattprof"

/* libmicrohttpd is loaded when `serve` starts, not linked: linking it would load GnuTLS
 * and its constructors into every `wattprof run` (about 2 ms of start-up each). The
 * header gives the types; these are the calls used. */
#define MHD_LIBRARY "libmicrohttpd.so.12"

struct daemon_mhd_api {
    void *lib;
    __typeof__(&MHD_start_daemon) start_daemon;
    __typeof__(&MHD_stop_daemon) stop_daemon;
    __typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
    __typeof__(&MHD_add_response_header) add_response_header;
    __typeof__(&MHD_queue_response) queue_response;
    __typeof__(&MHD_destroy_response) destroy_response;
    __typeof__(&MHD_basic_auth_get_username_password) basic_auth_get;
    __typeof__(&MHD_queue_basic_auth_fail_response) basic_auth_fail;
    __typeof__(&MHD_free) free;
    __typeof__(&MHD_is_feature_supported) is_feature_supported;
};

/* Resolves one symbol into *slot; returns 0 or -1. */
static int mhd_sym(void *lib, const char *name, void *slot)
{
    void *p = dlsym(lib, name);
    memcpy(slot, &p, sizeof(p));
    return p ? 0 : -1;
}

static int mhd_load(struct wattprof_daemon *d)
{
    struct daemon_mhd_api *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    d->mhd_api = a;
    a->lib = dlopen(MHD_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!a->lib)
        return daemon_errorf(d, -ENODEV,
                             "cannot load %s for /metrics: %s (apt-get install libmicrohttpd12)",
                             MHD_LIBRARY, dlerror());
    if (mhd_sym(a->lib, "MHD_start_daemon", &a->start_daemon) < 0 ||
        mhd_sym(a->lib, "MHD_stop_daemon", &a->stop_daemon) < 0 ||
        mhd_sym(a->lib, "MHD_create_response_from_buffer", &a->create_response_from_buffer) < 0 ||
        mhd_sym(a->lib, "MHD_add_response_header", &a->add_response_header) < 0 ||
        mhd_sym(a->lib, "MHD_queue_response", &a->queue_response) < 0 ||
        mhd_sym(a->lib, "MHD_destroy_response", &a->destroy_response) < 0 ||
        mhd_sym(a->lib, "MHD_basic_auth_get_username_password", &a->basic_auth_get) < 0 ||
        mhd_sym(a->lib, "MHD_queue_basic_auth_fail_response", &a->basic_auth_fail) < 0 ||
        mhd_sym(a->lib, "MHD_free", &a->free) < 0 ||
        mhd_sym(a->lib, "MHD_is_feature_supported", &a->is_feature_supported) < 0)
        return daemon_errorf(d, -EIO, "%s lacks a function wattprof needs", MHD_LIBRARY);
    return 0;
}

static void mhd_unload(struct wattprof_daemon *d)
{
    if (!d->mhd_api)
        return;
    if (d->mhd_api->lib)
        dlclose(d->mhd_api->lib);
    free(d->mhd_api);
    d->mhd_api = NULL;
}

struct text {
    char *buf;
    size_t size, len;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->len >= t->size)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    t->len = n < 0 ? t->size : t->len + (size_t)n;
}

void daemon_label_escape(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (; *in && n + 2 < size; in++) {
        char c = *in == '\n' ? 'n' : *in;
        if (*in == '\\' || *in == '"' || *in == '\n')
            out[n++] = '\\';
        out[n++] = c;
    }
    out[n] = '\0';
}

static void put_family(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_backends(struct text *t, const struct wattprof_daemon *d)
{
    put_family(t, "wattprof_backend_up", "gauge",
               "Whether a sensor backend that exists on this node could be opened (1) or not "
               "(0).");
    for (size_t i = 0; i < d->sensors.n; i++) {
        const struct sensors_entry *e = &d->sensors.entries[i];
        if (e->skipped || e->status == -ENODEV)
            continue;
        put(t, "wattprof_backend_up{backend=\"%s\"} %d\n", e->ops->name, e->status == 0);
    }
}

static void put_channels(struct text *t, const struct wattprof_daemon *d)
{
    char name[2 * SENSOR_NAME_MAX];
    put_family(t, "wattprof_channel_energy_joules_total", "counter",
               "Energy of a channel since wattprof serve started or reloaded.");
    for (size_t i = 0; i < d->n_chans; i++) {
        const struct daemon_proto_channel *c = &d->chans[i];
        daemon_label_escape(name, sizeof(name), c->name);
        put(t,
            "wattprof_channel_energy_joules_total{channel=\"%s\",kind=\"%s\",provenance=\"%s\","
            "source=\"%s\"} %llu.%06llu\n",
            name, c->kind, c->provenance, c->source,
            (unsigned long long)(d->snap.energy_uj[i] / 1000000),
            (unsigned long long)(d->snap.energy_uj[i] % 1000000));
    }
}

char *daemon_http_metrics(struct wattprof_daemon *d, size_t *len)
{
    struct text t = { NULL,
                      4096 + SAMPLER_MAX_CHANNELS * 320 + SENSORS_MAX * 96 + DAEMON_MAX_JOBS * 160 +
                          d->cgroups.cap_entries * (2 * CGROUPS_PATH_MAX + 96),
                      0 };
    t.buf = malloc(t.size);
    if (!t.buf)
        return NULL;
    pthread_mutex_lock(&d->lock);
    put_family(&t, "wattprof_up", "gauge", "Whether wattprof serve reads at least one channel.");
    put(&t, "wattprof_up %d\n", d->sp && d->n_chans > 0);
    put_backends(&t, d);
    put_channels(&t, d);
    if (t.len < t.size)
        t.len += daemon_jobs_format(d, t.buf + t.len, t.size - t.len, sensor_now_ns());
    if (t.len < t.size)
        t.len += daemon_cgroups_format(d, t.buf + t.len, t.size - t.len);
    put_family(&t, "wattprof_sampler_samples_total", "counter", "Sampler ticks done.");
    put(&t, "wattprof_sampler_samples_total %llu\n", (unsigned long long)d->snap.samples);
    put_family(&t, "wattprof_sampler_overruns_total", "counter",
               "Sampler ticks missed because a read took too long.");
    put(&t, "wattprof_sampler_overruns_total %llu\n", (unsigned long long)d->snap.overruns);
    pthread_mutex_unlock(&d->lock);
    *len = t.len < t.size ? t.len : t.size - 1;
    return t.buf;
}

static enum MHD_Result reply(const struct daemon_mhd_api *m, struct MHD_Connection *conn,
                             unsigned status, const char *text)
{
    struct MHD_Response *r =
        m->create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    m->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        m->add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = m->queue_response(conn, status, r);
    m->destroy_response(r);
    return ret;
}

static enum MHD_Result reply_metrics(struct wattprof_daemon *d, struct MHD_Connection *conn)
{
    size_t len = 0;
    const struct daemon_mhd_api *m = d->mhd_api;
    char *text = daemon_http_metrics(d, &len);
    if (!text)
        return reply(m, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    struct MHD_Response *r = m->create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    m->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_CONTENT_TYPE);
    enum MHD_Result ret = m->queue_response(conn, MHD_HTTP_OK, r);
    m->destroy_response(r);
    return ret;
}

/* Compares without stopping at the first difference; 1 when equal. */
static int same_secret(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
    return diff == 0;
}

/* 1 when the request carries the user and password of --auth-file (or none is set). */
static int authorized(const struct wattprof_daemon *d, struct MHD_Connection *conn)
{
    char given[sizeof(d->auth)];
    char *pass = NULL;
    if (!d->auth[0])
        return 1;
    char *user = d->mhd_api->basic_auth_get(conn, &pass);
    snprintf(given, sizeof(given), "%s:%s", user ? user : "", pass ? pass : "");
    int ok = user && pass && same_secret(given, d->auth);
    if (user)
        d->mhd_api->free(user);
    if (pass)
        d->mhd_api->free(pass);
    explicit_bzero(given, sizeof(given));
    return ok;
}

static enum MHD_Result deny(const struct daemon_mhd_api *m, struct MHD_Connection *conn)
{
    static const char text[] = "unauthorized: give the user and password of --auth-file\n";
    struct MHD_Response *r =
        m->create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = m->basic_auth_fail(conn, HTTP_REALM, r);
    m->destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)req_cls;
    struct wattprof_daemon *d = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *upload_data_size = 0; /* the body is not read: the reply closes the connection */
        return reply(d->mhd_api, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
    }
    if (!authorized(d, conn))
        return deny(d->mhd_api, conn);
    if (strcmp(url, "/metrics") == 0)
        return reply_metrics(d, conn);
    if (strcmp(url, "/") == 0)
        return reply(d->mhd_api, conn, MHD_HTTP_OK, "wattprof serve: metrics at /metrics\n");
    return reply(d->mhd_api, conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
}

static void no_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap; /* the library never prints (STYLE.md §1) */
}

/* "HOST:PORT": an IPv4 address, or an IPv6 one in brackets ("[::1]:9464"); -EINVAL
 * naming what is wrong. */
static int parse_addr(struct wattprof_daemon *d, const char *addr, struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN];
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hlen = colon ? (size_t)(colon - addr) : 0;
    char *end;
    if (!colon)
        return daemon_errorf(d, -EINVAL, "--listen '%s' is not ADDR:PORT", addr);
    if (addr[0] == '[') {
        if (hlen < 2 || colon[-1] != ']')
            return daemon_errorf(d, -EINVAL, "--listen '%s': write an IPv6 address as [ADDR]:PORT",
                                 addr);
        h++;
        hlen -= 2;
    } else if (memchr(addr, ':', hlen)) {
        return daemon_errorf(
            d, -EINVAL, "--listen '%s': put an IPv6 address in brackets, e.g. [::1]:9464", addr);
    }
    if (hlen >= sizeof(host))
        return daemon_errorf(d, -EINVAL, "--listen '%s': the address is too long", addr);
    snprintf(host, sizeof(host), "%.*s", (int)hlen, h);
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || colon[1] < '0' || colon[1] > '9' || port > 65535)
        return daemon_errorf(d, -EINVAL, "--listen '%s': the port must be 0 to 65535", addr);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (addr[0] != '[') {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
            return daemon_errorf(d, -EINVAL, "--listen '%s': '%s' is not an IPv4 address", addr,
                                 host);
        return 0;
    }
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
        return daemon_errorf(d, -EINVAL, "--listen '%s': '%s' is not an IPv6 address", addr, host);
    return 0;
}

/* "ADDR:PORT" or "[ADDR]:PORT" of a bound socket, into d->listen_addr. */
static void name_listen_addr(struct wattprof_daemon *d, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN] = "";
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(d->listen_addr, sizeof(d->listen_addr), "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        snprintf(d->listen_addr, sizeof(d->listen_addr), "%s:%u", host, ntohs(in4->sin_port));
    }
}

static int listen_tcp(struct wattprof_daemon *d, const char *addr)
{
    struct sockaddr_storage ss = { 0 };
    int one = 1;
    int r = parse_addr(d, addr, &ss);
    if (r < 0)
        return r;
    socklen_t salen =
        ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    d->http_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (d->http_fd < 0)
        return daemon_errorf(d, -errno, "cannot create a socket for %s: %s", addr, strerror(errno));
    setsockopt(d->http_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(d->http_fd, (struct sockaddr *)&ss, salen) < 0 ||
        listen(d->http_fd, HTTP_MAX_CONNECTIONS) < 0)
        return daemon_errorf(d, -errno, "cannot listen on %s: %s (give another --listen)", addr,
                             strerror(errno));
    getsockname(d->http_fd, (struct sockaddr *)&ss, &salen);
    name_listen_addr(d, &ss);
    return 0;
}

/* Reads "user:password" from path into d->auth; the file must be private to its owner. */
static int load_auth(struct wattprof_daemon *d, const char *path)
{
    int n = daemon_read_file(d, "--auth-file", path, 1, d->auth, sizeof(d->auth));
    if (n < 0) {
        d->auth[0] = '\0';
        return n;
    }
    d->auth[strcspn(d->auth, "\r\n")] = '\0';
    const char *colon = strchr(d->auth, ':');
    if (!colon || colon == d->auth || !colon[1]) {
        explicit_bzero(d->auth, sizeof(d->auth));
        return daemon_errorf(d, -EINVAL, "--auth-file '%s' must hold one line 'user:password'",
                             path);
    }
    return 0;
}

/* HTTPS needs a libmicrohttpd built with TLS (Debian's is, with GnuTLS). */
static int check_tls(struct wattprof_daemon *d)
{
    if (!d->tls_cert || d->mhd_api->is_feature_supported(MHD_FEATURE_TLS) == MHD_YES)
        return 0;
    return daemon_errorf(d, -ENOTSUP,
                         "%s here was built without TLS: install Debian's libmicrohttpd12 (built "
                         "with GnuTLS), or leave out --tls-cert/--tls-key and put a "
                         "TLS-terminating proxy in front",
                         MHD_LIBRARY);
}

int daemon_http_bind(struct wattprof_daemon *d, const char *addr,
                     const struct wattprof_daemon_config *cfg)
{
    int r = cfg->auth_file ? load_auth(d, cfg->auth_file) : 0;
    if (r == 0)
        r = daemon_tls_load(d, cfg->tls_cert, cfg->tls_key);
    if (r == 0)
        r = mhd_load(d);
    if (r == 0)
        r = check_tls(d);
    if (r == 0)
        r = listen_tcp(d, addr);
    return r; /* daemon_http_stop undoes what was done */
}

int daemon_http_run(struct wattprof_daemon *d, const char *addr,
                    const struct wattprof_daemon_config *cfg)
{
    sigset_t all, old;
    /* the key and certificate: in memory, read by GnuTLS when the daemon starts */
    struct MHD_OptionItem tls[] = {
        { d->tls_key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, d->tls_key },
        { MHD_OPTION_HTTPS_MEM_CERT, 0, d->tls_cert },
        { MHD_OPTION_END, 0, NULL },
    };
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    d->mhd = d->mhd_api->start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | (d->tls_key ? MHD_USE_TLS : 0), 0, NULL, NULL, on_request,
        d, MHD_OPTION_LISTEN_SOCKET, d->http_fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_EXTERNAL_LOGGER,
        no_log, NULL, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!d->mhd && d->tls_key)
        return daemon_errorf(d, -EINVAL,
                             "cannot start HTTPS on %s: check that --tls-cert '%s' and "
                             "--tls-key '%s' are a PEM certificate and its private key",
                             addr, cfg->tls_cert, cfg->tls_key);
    if (!d->mhd)
        return daemon_errorf(d, -EIO, "cannot start the HTTP server on %s", addr);
    d->http_fd = -1; /* MHD owns it now */
    return 0;
}

void daemon_http_stop(struct wattprof_daemon *d)
{
    if (d->mhd)
        d->mhd_api->stop_daemon(d->mhd);
    d->mhd = NULL;
    mhd_unload(d);
    daemon_tls_free(d);
    if (d->http_fd >= 0)
        close(d->http_fd);
    d->http_fd = -1;
    d->listen_addr[0] = '\0';
}
