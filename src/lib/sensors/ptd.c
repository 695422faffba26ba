/* A client for SPEC PTDaemon, the power analyzer daemon MLPerf Power and SPECpower use
 * (`--ptd HOST:PORT`). The protocol is text over TCP, one "\r\n"-terminated line per
 * command and per reply: "Hello" → "Hello, PTDaemon here!"; "Identify" → the analyzer's
 * description, comma-separated, driver and model first; "Go,1000,0" → "Starting untimed
 * measurement, ..." (1000 ms samples, untimed); "Stop" → "Stopping untimed measurement".
 * Go makes the daemon sample and log; it sends nothing by itself. Samples are asked for:
 * "RL" (read the unread samples) → "Last N samples", then N lines
 * "Time,<ts>,Watts,<w>,Volts,<v>,Amps,<a>,PF,<pf>,Mark,<mark>"; a negative value marks
 * an invalid sample. The channel is the latest valid sample, a gauge the sampler
 * integrates (the analyzer's timestamps are not used); it covers what the analyzer
 * measures, taken as the whole node. */
#include "ptd.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NS_PER_MS 1000000ull
#define PTD_MAX_MILLIWATTS (100ull * 1000 * 1000) /* 100 kW */
#define PTD_MAX_POWER_UW (25ull * 1000 * 1000 * 1000)
/* Bytes read per read() call at most: the rest waits for the next tick. */
#define PTD_DRAIN_MAX 65536

static uint64_t ms_or(unsigned v, unsigned fallback)
{
    return (uint64_t)(v != 0 ? v : fallback) * NS_PER_MS;
}

static const char *ptd_addr(const struct sensor *s)
{
    return s->cfg != NULL ? s->cfg->ptd_addr : NULL;
}

static int starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static int is_error_reply(const char *text)
{
    return starts_with(text, "Error") || starts_with(text, "Invalid") ||
           starts_with(text, "Unknown");
}

/* The value after the first "Watts" field of a line, or -EINVAL; -ERANGE for negative
 * (invalid) samples. */
static int parse_watts(const struct ptd *st, const char *text, uint64_t *mw)
{
    const char *end;
    for (const char *f = text; f != NULL; f = strchr(f, ',')) {
        if (*f == ',')
            f++;
        if (strncmp(f, "Watts,", 6) != 0)
            continue;
        const char *v = f + 6;
        if (*v == '-')
            return -ERANGE;
        if (linebuf_parse_milli(v, st->c_locale, PTD_MAX_MILLIWATTS, mw, &end) < 0)
            return -EINVAL;
        return *end == ',' || *end == '\0' ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static void error_line(struct ptd *st, const char *text)
{
    st->n_errors++;
    snprintf(st->last_error, sizeof(st->last_error), "%s", text);
}

/* A line while sampling: a sample, "Last N samples" (more follows), "No data" and the
 * like (nothing new), or an error reply. */
static void sample_line(struct ptd *st, const char *text)
{
    uint64_t mw;
    if (starts_with(text, "Last "))
        return;
    st->request_pending = 0;
    if (starts_with(text, "Time,") || starts_with(text, "Watts,")) {
        int r = parse_watts(st, text, &mw);
        if (r == -ERANGE) {
            st->n_invalid++;
        } else if (r < 0) {
            error_line(st, text);
        } else {
            st->value = mw;
            st->have_value = 1;
            st->last_value_ns = sensor_now_ns();
            st->n_samples++;
        }
    } else if (is_error_reply(text)) {
        error_line(st, text);
    }
}

static void on_line(void *arg, const char *text, int overlong)
{
    struct ptd *st = arg;
    (void)overlong; /* a long sample line still starts with the sum's Watts */
    if (st->phase == PTD_SAMPLING) {
        sample_line(st, text);
        return;
    }
    if (st->phase == PTD_STOPPING && !starts_with(text, "Stopping") && !is_error_reply(text))
        return; /* a late answer to RL */
    snprintf(st->reply, sizeof(st->reply), "%s", text);
    st->have_reply = 1;
}

/* Reads whatever arrived, without blocking. Sets closed when the daemon went away. */
static void drain(struct ptd *st)
{
    char buf[4096];
    for (size_t total = 0; !st->closed && total < PTD_DRAIN_MAX;) {
        ssize_t n = recv(st->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            st->closed = 1;
            return;
        }
        linebuf_feed(&st->lines, buf, (size_t)n, on_line, st);
        total += (size_t)n;
    }
}

/* Sends one command line. Returns 0, -EAGAIN when the socket buffer is full, or
 * -ECONNRESET. */
static int send_command(struct ptd *st, const char *cmd)
{
    char line[64];
    int len = snprintf(line, sizeof(line), "%s\r\n", cmd);
    ssize_t n;
    do {
        n = send(st->fd, line, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == len)
        return 0;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -EAGAIN;
    st->closed = 1; /* a partial line cannot be finished sensibly */
    return -ECONNRESET;
}

/* Waits up to ns for input (or until deadline passed). */
static void wait_input(const struct ptd *st, uint64_t ns)
{
    struct pollfd pfd = { .fd = st->fd, .events = POLLIN };
    poll(&pfd, 1, (int)((ns + NS_PER_MS - 1) / NS_PER_MS));
}

/* Sends cmd and waits for one reply line into st->reply. Returns 0, -ETIMEDOUT or
 * -ECONNRESET. */
static int command(struct ptd *st, const char *cmd, uint64_t timeout_ns)
{
    uint64_t deadline = sensor_now_ns() + timeout_ns;
    st->have_reply = 0;
    if (send_command(st, cmd) < 0)
        return -ECONNRESET;
    for (;;) {
        drain(st);
        if (st->have_reply)
            return 0;
        if (st->closed)
            return -ECONNRESET;
        uint64_t now = sensor_now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        wait_input(st, deadline - now);
    }
}

/* Splits "HOST:PORT" or "[V6ADDR]:PORT". Returns 0 or -EINVAL. */
static int split_addr(const char *addr, char *host, size_t hsize, char *port, size_t psize)
{
    const char *colon;
    const char *h = addr;
    size_t hlen;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':')
            return -EINVAL;
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL || memchr(addr, ':', (size_t)(colon - addr)) != NULL)
            return -EINVAL;
        hlen = (size_t)(colon - addr);
    }
    const char *p = colon + 1;
    char *end;
    unsigned long n = strtoul(p, &end, 10);
    if (hlen == 0 || hlen >= hsize || *p < '0' || *p > '9' || *end != '\0' || n == 0 || n > 65535 ||
        strlen(p) >= psize)
        return -EINVAL;
    snprintf(host, hsize, "%.*s", (int)hlen, h);
    snprintf(port, psize, "%s", p);
    return 0;
}

/* A non-blocking connect to one address, waiting until deadline. Returns the socket or
 * a negative errno. */
static int connect_one(const struct addrinfo *ai, uint64_t deadline)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        err = errno;
    while (err == EINPROGRESS || err == EINTR) {
        uint64_t now = sensor_now_ns();
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        if (now >= deadline) {
            err = ETIMEDOUT;
            break;
        }
        int r = poll(&pfd, 1, (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS));
        socklen_t len = sizeof(err);
        if (r < 0)
            err = errno; /* EINTR: poll again */
        else if (r == 0)
            err = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
    }
    if (err != 0) {
        close(fd);
        return -err;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Connects within connect_ms, trying each address of HOST in turn. */
static int connect_daemon(struct sensor *s, struct ptd *st, const char *addr)
{
    char host[256], port[8];
    struct addrinfo hints, *list = NULL;
    if (split_addr(addr, host, sizeof(host), port, sizeof(port)) < 0)
        return sensor_errorf(s, -EINVAL, "invalid --ptd address '%s' (expected HOST:PORT)", addr);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int r = getaddrinfo(host, port, &hints, &list);
    if (r != 0)
        return sensor_errorf(s, r == EAI_MEMORY ? -ENOMEM : -ENODEV,
                             "cannot reach PTDaemon at %s: %s", addr, gai_strerror(r));
    uint64_t deadline = sensor_now_ns() + ms_or(st->connect_ms, PTD_CONNECT_MS);
    int fd = -EHOSTUNREACH;
    for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, deadline);
    freeaddrinfo(list);
    if (fd < 0)
        return sensor_errorf(s, -ENODEV, "cannot reach PTDaemon at %s: %s", addr, strerror(-fd));
    st->fd = fd;
    st->have_fd = 1;
    return 0;
}

/* A failed handshake command: no answer, or a dropped connection. */
static int handshake_error(struct sensor *s, const char *addr, const char *cmd, int r,
                           uint64_t timeout_ns)
{
    if (r == -ETIMEDOUT)
        return sensor_errorf(s, -EIO, "PTDaemon at %s did not answer '%s' within %.1f s", addr, cmd,
                             (double)timeout_ns / 1e9);
    return sensor_errorf(s, -EIO, "PTDaemon at %s closed the connection after '%s'", addr, cmd);
}

/* Hello, Identify, Go. Records the analyzer in the notes. */
static int handshake(struct sensor *s, struct ptd *st, const char *addr)
{
    uint64_t t = ms_or(st->reply_ms, PTD_REPLY_MS);
    int r = command(st, "Hello", t);
    if (r < 0)
        return handshake_error(s, addr, "Hello", r, t);
    if (!starts_with(st->reply, "Hello, PTDaemon here!"))
        return sensor_errorf(s, -EIO, "%s is not a PTDaemon: it answered '%s' to 'Hello'", addr,
                             st->reply);
    r = command(st, "Identify", t);
    if (r < 0)
        return handshake_error(s, addr, "Identify", r, t);
    if (strstr(st->reply, ",mode=temperature") != NULL)
        return sensor_errorf(
            s, -EIO, "PTDaemon at %s reads a temperature sensor, not a power analyzer", addr);
    const char *name = is_error_reply(st->reply) ? "unknown" : st->reply;
    sensor_notef(s, "analyzer: %.*s (PTDaemon at %s)", (int)strcspn(name, ","), name, addr);
    r = command(st, PTD_GO_COMMAND, t);
    if (r < 0)
        return handshake_error(s, addr, PTD_GO_COMMAND, r, t);
    if (!starts_with(st->reply, "Starting"))
        return sensor_errorf(s, -EIO, "PTDaemon at %s refused '%s': %s", addr, PTD_GO_COMMAND,
                             st->reply);
    st->measuring = 1;
    return 0;
}

/* Asks for the unread samples once per poll period; again after 3 periods without an
 * answer. Returns 0 or -ECONNRESET. */
static int request_samples(struct ptd *st, uint64_t now)
{
    uint64_t period = ms_or(st->poll_ms, PTD_POLL_MS);
    uint64_t since = now - st->last_request_ns;
    if (st->last_request_ns != 0 && (since < period || (st->request_pending && since < 3 * period)))
        return 0;
    int r = send_command(st, "RL");
    if (r == -EAGAIN)
        return 0;
    if (r < 0)
        return r;
    st->request_pending = 1;
    st->last_request_ns = now;
    return 0;
}

/* Waits for the first valid sample after Go. */
static int wait_first_sample(struct sensor *s, struct ptd *st, const char *addr)
{
    uint64_t timeout = ms_or(st->first_sample_ms, PTD_FIRST_SAMPLE_MS);
    uint64_t deadline = sensor_now_ns() + timeout;
    uint64_t period = ms_or(st->poll_ms, PTD_POLL_MS);
    st->phase = PTD_SAMPLING;
    for (;;) {
        uint64_t now = sensor_now_ns();
        if (request_samples(st, now) < 0)
            break;
        drain(st);
        if (st->have_value || st->closed || now >= deadline)
            break;
        wait_input(st, deadline - now < period ? deadline - now : period);
    }
    if (st->have_value)
        return 0;
    if (st->closed)
        return sensor_errorf(s, -EIO, "PTDaemon at %s closed the connection after '%s'", addr,
                             PTD_GO_COMMAND);
    char why[128] = "";
    if (st->n_errors)
        snprintf(why, sizeof(why), "; last error: '%s'", st->last_error);
    else if (st->n_invalid)
        snprintf(why, sizeof(why), "; %llu invalid sample(s): is the analyzer connected?",
                 (unsigned long long)st->n_invalid);
    return sensor_errorf(s, -EIO, "PTDaemon at %s gave no valid sample within %.1f s%s", addr,
                         (double)timeout / 1e9, why);
}

static void add_channel(struct sensor *s, const char *addr)
{
    struct sensor_channel *c = sensor_add_channel(s, "node:ptd");
    snprintf(c->domain, sizeof(c->domain), "node");
    c->kind = SENSOR_POWER_GAUGE;
    c->provenance = SENSOR_INTEGRATED;
    c->scale_num = 1000; /* mW to µW */
    c->scale_den = 1;
    c->max_power_uw = PTD_MAX_POWER_UW;
    c->included_in_total = 0;
    c->node_scope = 1;
    snprintf(c->averaging, sizeof(c->averaging), "analyzer, 1 s samples");
    snprintf(c->note, sizeof(c->note), "PTDaemon at %s: '%s', then 'RL' each second", addr,
             PTD_GO_COMMAND);
}

/* Sends Stop when a measurement runs and waits (bounded) for its answer, then closes. */
static void ptd_close(struct sensor *s)
{
    struct ptd *st = s->priv;
    if (st == NULL)
        return;
    if (st->have_fd && st->measuring && !st->closed) {
        uint64_t deadline = sensor_now_ns() + ms_or(st->stop_ms, PTD_STOP_MS);
        st->phase = PTD_STOPPING;
        st->have_reply = 0;
        if (send_command(st, "Stop") == 0) {
            for (uint64_t now = sensor_now_ns(); !st->have_reply && !st->closed && now < deadline;
                 now = sensor_now_ns()) {
                wait_input(st, deadline - now);
                drain(st);
            }
        }
    }
    st->measuring = 0;
    if (st->have_fd)
        close(st->fd);
    st->have_fd = 0;
    if (st->c_locale != (locale_t)0)
        freelocale(st->c_locale);
    st->c_locale = (locale_t)0;
}

static int ptd_open(struct sensor *s)
{
    struct ptd *st = s->priv;
    const char *addr = ptd_addr(s);
    s->n_channels = 0;
    st->have_fd = 0;
    if (addr == NULL || addr[0] == '\0')
        return sensor_errorf(s, -ENODEV, "no --ptd address given");
    st->phase = PTD_HANDSHAKE;
    linebuf_init(&st->lines, 0);
    st->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (st->c_locale == (locale_t)0)
        return sensor_errorf(s, -ENOMEM, "out of memory");
    int r = connect_daemon(s, st, addr);
    if (r == 0)
        r = handshake(s, st, addr);
    if (r == 0)
        r = wait_first_sample(s, st, addr);
    if (r < 0) {
        ptd_close(s);
        return r;
    }
    add_channel(s, addr);
    st->notes_base = strlen(s->notes);
    st->n_noted = 0;
    return 0;
}

/* The line after the open-time notes: invalid samples and error replies, if any. */
static void note_problems(struct sensor *s, struct ptd *st)
{
    st->n_noted = st->n_invalid + st->n_errors;
    if (st->notes_base + 2 >= sizeof(s->notes))
        return;
    snprintf(s->notes + st->notes_base, sizeof(s->notes) - st->notes_base,
             "%s%llu invalid sample(s) ignored; %llu error reply(ies)%s%s%s",
             st->notes_base ? "\n" : "", (unsigned long long)st->n_invalid,
             (unsigned long long)st->n_errors, st->n_errors ? ", last: '" : "",
             st->n_errors ? st->last_error : "", st->n_errors ? "'" : "");
}

/* The latest valid sample; never blocks, never allocates. A dropped connection loses
 * the channel with -ECONNRESET, no valid sample for stale_ms with -ETIMEDOUT. */
static int ptd_read(struct sensor *s, uint64_t *values)
{
    struct ptd *st = s->priv;
    if (st->lost_err == 0) {
        drain(st);
        uint64_t now = sensor_now_ns(); /* after drain: it may stamp a new sample */
        if (!st->closed)
            request_samples(st, now);
        if (st->closed)
            st->lost_err = -ECONNRESET;
        else if (now - st->last_value_ns > ms_or(st->stale_ms, PTD_STALE_MS))
            st->lost_err = -ETIMEDOUT;
    }
    if (st->n_invalid + st->n_errors != st->n_noted)
        note_problems(s, st);
    s->channels[0].read_err = st->lost_err;
    values[0] = st->value;
    return 0;
}

const struct sensor_ops ptd_sensor_ops = {
    .name = "ptd",
    .priv_size = sizeof(struct ptd),
    .open = ptd_open,
    .read = ptd_read,
    .close = ptd_close,
};
