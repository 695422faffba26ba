/* The daemon client backend: reads the cumulative energy that `wattprof serve` hands
 * out on its Unix socket (daemon_proto.h), so that an unprivileged user gets measured
 * counters. Every daemon channel becomes a counter in µJ that does not wrap (the daemon
 * already corrected the wraps); estimated channels are left to the local model. */
#include "sensor.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_proto.h"

#define DAEMON_REMOTE_MAX 128  /* channels a daemon may serve (its sampler's limit) */
#define DAEMON_TIMEOUT_MS 2000 /* a reply slower than this is a failed read */
#define DAEMON_BUF_SIZE 49152  /* a full reply: 128 channels of < 320 bytes */

struct daemon_priv {
    int fd; /* the connection, -1 when closed; owned here */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int registered_pid;                   /* the workload registered with the daemon, 0: none */
    size_t n_remote;                      /* channels the daemon serves */
    int local_of[DAEMON_REMOTE_MAX];      /* local channel + 1 of each remote one, 0: unused */
    char source[SENSOR_MAX_CHANNELS][24]; /* the backend each channel has in the daemon */
    char buf[DAEMON_BUF_SIZE];
    size_t len;
};

static int daemon_connect(struct daemon_priv *p)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, p->path, sizeof(p->path));
    p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->fd < 0)
        return -errno;
    if (connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int r = -errno;
        close(p->fd);
        p->fd = -1;
        return r;
    }
    return 0;
}

/* Counts the complete lines in buf[0..len). */
static size_t count_lines(const char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n';
    return n;
}

/* Reads more of the reply into buf; -ETIMEDOUT, -EPIPE (closed) or -EMSGSIZE. */
static int recv_some(struct daemon_priv *p)
{
    struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
    int r = poll(&pfd, 1, DAEMON_TIMEOUT_MS);
    if (r <= 0)
        return r == 0 ? -ETIMEDOUT : -errno;
    if (p->len + 1 >= sizeof(p->buf))
        return -EMSGSIZE;
    ssize_t n = read(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
    if (n <= 0)
        return n == 0 ? -EPIPE : -errno;
    p->len += (size_t)n;
    p->buf[p->len] = '\0';
    return 0;
}

/* Sends a request and reads the whole reply: buf then holds "ok N X\n" and N lines.
 * Never allocates. */
static int daemon_exchange(struct daemon_priv *p, const char *req, uint64_t *n, uint64_t *x)
{
    size_t want = 1;
    int have_header = 0;
    p->len = 0;
    if (send(p->fd, req, strlen(req), MSG_NOSIGNAL) < 0)
        return -errno;
    while (count_lines(p->buf, p->len) < want) {
        int r = recv_some(p);
        if (r < 0)
            return r;
        if (!have_header && count_lines(p->buf, p->len) >= 1) {
            *strchr(p->buf, '\n') = '\0';
            r = daemon_proto_parse_header(p->buf, n, x);
            p->buf[strlen(p->buf)] = '\n';
            if (r < 0 || *n > DAEMON_REMOTE_MAX)
                return r < 0 ? r : -EPROTO;
            have_header = 1;
            want = 1 + (size_t)*n;
        }
    }
    return 0;
}

/* The next line of the reply at *pos (newline replaced by NUL), or NULL. */
static char *next_line(struct daemon_priv *p, size_t *pos)
{
    if (*pos >= p->len)
        return NULL;
    char *line = p->buf + *pos;
    char *nl = memchr(line, '\n', p->len - *pos);
    if (!nl)
        return NULL;
    *nl = '\0';
    *pos = (size_t)(nl - p->buf) + 1;
    return line;
}

static enum sensor_provenance provenance_of(const char *name)
{
    if (strcmp(name, "replayed") == 0)
        return SENSOR_REPLAYED;
    return strcmp(name, "measured") == 0 ? SENSOR_MEASURED : SENSOR_INTEGRATED;
}

static int add_remote(struct sensor *s, struct daemon_priv *p, size_t k,
                      const struct daemon_proto_channel *dc)
{
    if (strcmp(dc->provenance, "estimated") == 0)
        return 0; /* the local model estimates for this process tree */
    struct sensor_channel *ch = sensor_add_channel(s, dc->name);
    if (!ch)
        return sensor_errorf(s, -EIO, "the daemon at '%s' serves too many channels", p->path);
    snprintf(ch->domain, sizeof(ch->domain), "%s", dc->domain);
    ch->kind = SENSOR_ENERGY_COUNTER;
    ch->provenance = provenance_of(dc->provenance);
    ch->scale_num = 1;
    ch->scale_den = 1;
    ch->included_in_total = dc->included;
    ch->node_scope = dc->node_scope;
    snprintf(ch->note, sizeof(ch->note), "via wattprof serve at %s", p->path);
    size_t len = strlen(ch->note);
    snprintf(ch->note + len, sizeof(ch->note) - len, " (%s: %s)", dc->source, dc->note);
    snprintf(p->source[s->n_channels - 1], sizeof(p->source[0]), "%s", dc->source);
    p->local_of[k] = (int)s->n_channels;
    return 0;
}

static int load_channels(struct sensor *s, struct daemon_priv *p)
{
    uint64_t n = 0, interval_ns = 0;
    int r = daemon_exchange(p, "channels\n", &n, &interval_ns);
    if (r < 0)
        return sensor_errorf(s, -EIO, "the daemon at '%s' does not answer: %s", p->path,
                             strerror(-r));
    size_t pos = (size_t)(strchr(p->buf, '\n') - p->buf) + 1;
    for (size_t k = 0; k < n; k++) {
        struct daemon_proto_channel dc;
        const char *line = next_line(p, &pos);
        if (!line || daemon_proto_parse_channel(line, &dc) < 0)
            return sensor_errorf(s, -EIO, "the daemon at '%s' sent a malformed channel line",
                                 p->path);
        r = add_remote(s, p, k, &dc);
        if (r < 0)
            return r;
    }
    p->n_remote = (size_t)n;
    s->min_period_ns = interval_ns;
    return 0;
}

static int daemon_open(struct sensor *s)
{
    struct daemon_priv *p = s->priv;
    const char *path = s->cfg ? s->cfg->daemon_socket : NULL;
    p->fd = -1;
    if (!path || !*path)
        return sensor_errorf(s, -ENODEV, "no daemon socket (set WATTPROF_SOCKET)");
    if (strlen(path) >= sizeof(p->path))
        return sensor_errorf(s, -EINVAL, "the socket path '%s' is too long", path);
    snprintf(p->path, sizeof(p->path), "%s", path);
    if (access(path, F_OK) != 0)
        return sensor_errorf(s, -ENODEV, "no wattprof serve socket at '%s'", path);
    int r = daemon_connect(p);
    if (r == -EACCES || r == -EPERM)
        return sensor_errorf(s, -EACCES,
                             "cannot connect to '%s': %s (join the socket's group, see "
                             "--socket-group in docs/daemon.md)",
                             path, strerror(-r));
    if (r < 0)
        return sensor_errorf(s, -ENODEV, "'%s' is not served (%s): is wattprof serve running?",
                             path, strerror(-r));
    r = load_channels(s, p);
    if (r == 0 && s->n_channels == 0)
        return sensor_errorf(s, -ENODEV, "the daemon at '%s' serves no measured channel", path);
    if (r == 0)
        sensor_notef(s, "readings come through wattprof serve at '%s', new at most every %llu ms",
                     path, (unsigned long long)(s->min_period_ns / 1000000));
    return r;
}

static int read_reply(struct sensor *s, struct daemon_priv *p, uint64_t *values)
{
    uint64_t n = 0, t_ns = 0;
    int r = daemon_exchange(p, "read\n", &n, &t_ns);
    if (r < 0)
        return r;
    if (n != p->n_remote)
        return -ESTALE; /* the daemon reloaded with other channels */
    size_t pos = (size_t)(strchr(p->buf, '\n') - p->buf) + 1;
    for (size_t k = 0; k < n; k++) {
        uint64_t uj, t;
        const char *line = next_line(p, &pos);
        if (!line || daemon_proto_parse_reading(line, &uj, &t) < 0)
            return -EPROTO;
        if (p->local_of[k])
            values[p->local_of[k] - 1] = uj;
    }
    return 0;
}

/* Registers the workload's tree under its job id ($SLURM_JOB_ID, else $POD_NAME, else
 * the pid) for the daemon's per-job energy in /metrics; once per workload. A refusal
 * changes nothing for this run's own readings. */
static void register_workload(struct sensor *s, struct daemon_priv *p)
{
    int pid = atomic_load(&s->workload_pid);
    const char *id = getenv("SLURM_JOB_ID");
    char job[DAEMON_PROTO_JOB_MAX], req[DAEMON_PROTO_REQUEST_MAX];
    uint64_t n, x;
    if (pid <= 0 || pid == p->registered_pid || p->fd < 0)
        return;
    p->registered_pid = pid;
    if (!id || !*id)
        id = getenv("POD_NAME");
    snprintf(job, sizeof(job), "%d", pid);
    if (id && *id)
        daemon_proto_job_name(id, job);
    snprintf(req, sizeof(req), "register %d %s\n", pid, job);
    daemon_exchange(p, req, &n, &x);
}

/* One request; on a broken connection (the daemon restarted) one reconnect. */
static int daemon_read(struct sensor *s, uint64_t *values)
{
    struct daemon_priv *p = s->priv;
    register_workload(s, p);
    int r = p->fd >= 0 ? read_reply(s, p, values) : -EPIPE;
    if (r == -EPIPE || r == -ECONNRESET) {
        if (p->fd >= 0)
            close(p->fd);
        p->fd = -1;
        r = daemon_connect(p);
        if (r == 0)
            r = read_reply(s, p, values);
    }
    return r < 0 ? -EIO : 0;
}

static void daemon_close(struct sensor *s)
{
    struct daemon_priv *p = s->priv;
    if (p && p->fd >= 0)
        close(p->fd);
    if (p)
        p->fd = -1;
}

int daemon_sensor_serves(const struct sensor *s, const char *name)
{
    const struct daemon_priv *p = s->priv;
    if (s->ops != &daemon_sensor_ops || !p)
        return 0;
    for (size_t i = 0; i < s->n_channels; i++)
        if (strcmp(p->source[i], name) == 0)
            return 1;
    return 0;
}

const struct sensor_ops daemon_sensor_ops = {
    .name = "daemon",
    .priv_size = sizeof(struct daemon_priv),
    .open = daemon_open,
    .read = daemon_read,
    .close = daemon_close,
};
