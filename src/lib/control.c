/* The control server of a session: a Unix stream socket in a private directory on
 * which a workload, in any language, sends one-line text messages that begin and end
 * windows and report units and metrics (docs/control-protocol.md). One thread; lines
 * are bounded; what does not parse is counted and reported, never fatal. */
#include "session.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_LINE_MAX 1024 /* bytes, newline included */
#define CONTROL_MAX_CLIENTS 64
#define CONTROL_MAX_WORDS 5
#define CONTROL_ERRORS_SHOWN 10

struct control_client {
    int fd;
    size_t len;
    int overlong; /* discarding the rest of a line that was too long */
    char buf[CONTROL_LINE_MAX];
};

struct session_control {
    struct wattprof_session *s;
    char dir[256];
    char path[300];
    int listen_fd;
    int wake_fd;
    pthread_t thread;
    int running;
    struct control_client clients[CONTROL_MAX_CLIENTS];
};

static void protocol_error(struct wattprof_session *s, const char *why, const char *line)
{
    pthread_mutex_lock(&s->wlock);
    if (++s->protocol_errors <= CONTROL_ERRORS_SHOWN)
        session_warnf(s, "control: %s: '%.60s'", why, line);
    pthread_mutex_unlock(&s->wlock);
}

static int parse_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int find(struct wattprof_session *s, const char *tag, uint64_t *id)
{
    return session_name_valid(tag) ? session_window_find_tag(s, tag, id) : -EINVAL;
}

/* Applies one parsed message. Returns 0, or -1 when it is not a valid message. */
static int apply(struct wattprof_session *s, char **w, int n)
{
    uint64_t id = 0;
    double v;
    if (strcmp(w[0], "begin") == 0 && n == 3)
        return session_name_valid(w[1]) && session_window_begin_tagged(s, w[2], w[1], &id) == 0
                   ? 0
                   : -1;
    if (strcmp(w[0], "end") == 0 && n == 2)
        return find(s, w[1], &id) == 0 && wattprof_session_window_end(s, id) == 0 ? 0 : -1;
    if (strcmp(w[0], "units") == 0 && (n == 3 || n == 4))
        return find(s, w[1], &id) == 0 && parse_number(w[2], &v) == 0 &&
                       wattprof_session_window_units(s, id, v, n == 4 ? w[3] : NULL) == 0
                   ? 0
                   : -1;
    if (strcmp(w[0], "metric") == 0 && (n == 3 || n == 4))
        return parse_number(w[2], &v) == 0 && (n == 3 || find(s, w[3], &id) == 0) &&
                       wattprof_session_metric(s, id, w[1], v) == 0
                   ? 0
                   : -1;
    if (strcmp(w[0], "run-units") == 0 && (n == 2 || n == 3))
        return parse_number(w[1], &v) == 0 &&
                       wattprof_session_set_units(s, v, n == 3 ? w[2] : NULL) == 0
                   ? 0
                   : -1;
    return -1;
}

/* Splits a line into words (in place) and applies it. */
static void handle_line(struct wattprof_session *s, char *line)
{
    char copy[CONTROL_LINE_MAX];
    snprintf(copy, sizeof(copy), "%s", line);
    char *w[CONTROL_MAX_WORDS + 1];
    int n = 0;
    for (char *p = line; *p && n <= CONTROL_MAX_WORDS;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            *p++ = '\0';
        if (!*p)
            break;
        w[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
    }
    if (n == 0 || w[0][0] == '#')
        return; /* empty lines and comments are allowed */
    if (n > CONTROL_MAX_WORDS || apply(s, w, n) < 0)
        protocol_error(s, "not understood", copy);
}

/* Consumes complete lines from a client's buffer. */
static void drain_lines(struct session_control *c, struct control_client *cl)
{
    char *start = cl->buf;
    char *nl;
    while ((nl = memchr(start, '\n', cl->len - (size_t)(start - cl->buf)))) {
        *nl = '\0';
        if (cl->overlong)
            cl->overlong = 0; /* the end of a line already reported */
        else
            handle_line(c->s, start);
        start = nl + 1;
    }
    cl->len -= (size_t)(start - cl->buf);
    memmove(cl->buf, start, cl->len);
    if (cl->len == sizeof(cl->buf)) {
        if (!cl->overlong)
            protocol_error(c->s, "line longer than 1023 bytes", cl->buf);
        cl->overlong = 1;
        cl->len = 0;
    }
}

static void drop_client(struct session_control *c, struct control_client *cl)
{
    if (cl->len > 0 && !cl->overlong) {
        cl->buf[cl->len < sizeof(cl->buf) ? cl->len : sizeof(cl->buf) - 1] = '\0';
        protocol_error(c->s, "connection closed in the middle of a line", cl->buf);
    }
    close(cl->fd);
    cl->fd = -1;
    cl->len = 0;
    cl->overlong = 0;
}

/* Returns 1 when bytes were read (more may wait), else 0. */
static int read_client(struct session_control *c, struct control_client *cl)
{
    ssize_t n = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        drop_client(c, cl);
        return 0;
    }
    cl->len += (size_t)n;
    drain_lines(c, cl);
    return 1;
}

static void accept_client(struct session_control *c);

/* At stop: everything the clients sent before is read, from the connections already
 * accepted and from those still waiting in the backlog (a last message sent just
 * before the workload exited). */
static void drain_all(struct session_control *c)
{
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
        while (c->clients[i].fd >= 0 && read_client(c, &c->clients[i]))
            ;
    for (int more = 1; more;) {
        size_t before = 0;
        for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
            before += c->clients[i].fd >= 0;
        accept_client(c);
        size_t after = 0;
        for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
            after += c->clients[i].fd >= 0;
        more = after > before;
        for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
            while (c->clients[i].fd >= 0 && read_client(c, &c->clients[i]))
                ;
    }
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
        while (c->clients[i].fd >= 0 && read_client(c, &c->clients[i]))
            ;
}

static void accept_client(struct session_control *c)
{
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        if (c->clients[i].fd < 0) {
            c->clients[i].fd = fd;
            return;
        }
    }
    close(fd); /* too many clients at once */
    protocol_error(c->s, "too many connections", "");
}

static void *control_thread(void *arg)
{
    struct session_control *c = arg;
    struct pollfd p[CONTROL_MAX_CLIENTS + 2];
    for (;;) {
        p[0] = (struct pollfd){ .fd = c->wake_fd, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
        for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
            p[i + 2] = (struct pollfd){ .fd = c->clients[i].fd, .events = POLLIN };
        if (poll(p, CONTROL_MAX_CLIENTS + 2, -1) < 0 && errno != EINTR)
            break;
        for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
            if (c->clients[i].fd >= 0 && p[i + 2].revents)
                read_client(c, &c->clients[i]);
        if (p[1].revents & POLLIN)
            accept_client(c);
        if (p[0].revents) {
            drain_all(c);
            break;
        }
    }
    return NULL;
}

static int open_socket(struct session_control *c)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof(c->dir), "%s/wattprof-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(c->dir))
        return -errno;
    snprintf(c->path, sizeof(c->path), "%s/control", c->dir);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(c->path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->listen_fd < 0)
        return -errno;
    if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(c->listen_fd, 16) < 0)
        return -errno;
    c->wake_fd = eventfd(0, EFD_CLOEXEC);
    return c->wake_fd < 0 ? -errno : 0;
}

static void control_free(struct session_control *c)
{
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
        if (c->clients[i].fd >= 0)
            close(c->clients[i].fd);
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    if (c->path[0])
        unlink(c->path);
    if (c->dir[0])
        rmdir(c->dir);
    free(c);
}

WATTPROF_API int wattprof_session_control_start(struct wattprof_session *s, const char **address)
{
    if (!s->started || s->stopped || s->control)
        return ctx_errorf(s->ctx, -EINVAL, "the control server starts once, while running");
    struct session_control *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->s = s;
    c->listen_fd = c->wake_fd = -1;
    for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
        c->clients[i].fd = -1;
    int r = open_socket(c);
    if (r == 0)
        r = -pthread_create(&c->thread, NULL, control_thread, c);
    if (r < 0) {
        ctx_errorf(s->ctx, r, "cannot start the control server in '%s': %s", c->dir, strerror(-r));
        control_free(c);
        return r;
    }
    c->running = 1;
    s->control = c;
    *address = c->path;
    return 0;
}

WATTPROF_API void wattprof_session_control_stop(struct wattprof_session *s)
{
    struct session_control *c = s->control;
    if (!c)
        return;
    uint64_t one = 1;
    if (c->running && write(c->wake_fd, &one, sizeof(one)) == sizeof(one))
        pthread_join(c->thread, NULL);
    s->control = NULL;
    control_free(c);
}
