/* wattprof serve's Unix socket: one thread polls the listening socket, its clients and
 * the snapshot tick. Clients send one-line requests (daemon_proto.h); the readings they
 * get are coarsened to at most one new value per min_client_ns for all clients together,
 * so that the socket does not reopen the PLATYPUS side channel (docs/daemon.md). */
#include "daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SOCK_BACKLOG 64
#define NS_PER_MS 1000000ull

/* An existing path: a live daemon is an error, a stale socket is removed. */
static int clear_stale(struct wattprof_daemon *d, const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(sa->sun_path, &st) != 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return daemon_errorf(d, -EEXIST,
                             "'%s' exists and is not a socket: remove it or give "
                             "another --socket",
                             sa->sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return daemon_errorf(d, -errno, "cannot create a socket: %s", strerror(errno));
    int live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(fd);
    if (live)
        return daemon_errorf(d, -EADDRINUSE,
                             "another wattprof serve is serving '%s': stop "
                             "it or give another --socket",
                             sa->sun_path);
    unlink(sa->sun_path);
    return 0;
}

static int bind_socket(struct wattprof_daemon *d, const struct sockaddr_un *sa, unsigned mode,
                       long gid)
{
    d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (d->listen_fd < 0)
        return daemon_errorf(d, -errno, "cannot create a socket: %s", strerror(errno));
    if (bind(d->listen_fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
        return daemon_errorf(d, -errno,
                             "cannot create the socket '%s': %s (give a writable --socket "
                             "PATH, or run as root for %s)",
                             sa->sun_path, strerror(errno), DAEMON_SYSTEM_SOCKET);
    d->socket_created = 1;
    if (chmod(sa->sun_path, mode) < 0)
        return daemon_errorf(d, -errno, "cannot set the mode of '%s': %s", sa->sun_path,
                             strerror(errno));
    if (gid >= 0 && chown(sa->sun_path, (uid_t)-1, (gid_t)gid) < 0)
        return daemon_errorf(d, -errno, "cannot give '%s' to group %ld: %s", sa->sun_path, gid,
                             strerror(errno));
    if (listen(d->listen_fd, SOCK_BACKLOG) < 0)
        return daemon_errorf(d, -errno, "cannot listen on '%s': %s", sa->sun_path, strerror(errno));
    return 0;
}

/* The readings clients get: a new snapshot at most every min_client_ns. */
static size_t format_read(struct wattprof_daemon *d)
{
    uint64_t now = sensor_now_ns();
    if (d->client_taken_ns == 0 || now - d->client_taken_ns >= d->min_client_ns) {
        daemon_take_snapshot(d, &d->client);
        d->client_taken_ns = now;
    }
    size_t len = (size_t)snprintf(d->reply, sizeof(d->reply), "ok %zu %llu\n", d->n_chans,
                                  (unsigned long long)d->client.t_ns);
    for (size_t i = 0; i < d->n_chans && len < sizeof(d->reply); i++)
        len += (size_t)snprintf(d->reply + len, sizeof(d->reply) - len, "%llu %llu\n",
                                (unsigned long long)d->client.energy_uj[i],
                                (unsigned long long)d->client.t_ns);
    return len;
}

static size_t format_channels(struct wattprof_daemon *d)
{
    size_t len = (size_t)snprintf(d->reply, sizeof(d->reply), "ok %zu %llu\n", d->n_chans,
                                  (unsigned long long)d->min_client_ns);
    for (size_t i = 0; i < d->n_chans && len < sizeof(d->reply); i++) {
        int n = daemon_proto_format_channel(d->reply + len, sizeof(d->reply) - len, &d->chans[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return len;
}

/* "register PID JOB": checked against the client's uid (SO_PEERCRED). */
static size_t format_register(struct wattprof_daemon *d, struct daemon_client *c)
{
    char job[DAEMON_PROTO_JOB_MAX];
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    int pid = 0;
    int r = daemon_proto_parse_register(c->line, c->len, &pid, job);
    if (r == 0 && getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
        r = -EPERM;
    if (r == 0)
        r = daemon_jobs_register(d, pid, job, (long)cred.uid);
    if (r == 0)
        return (size_t)snprintf(d->reply, sizeof(d->reply), "ok 0 0\n");
    return (size_t)snprintf(d->reply, sizeof(d->reply), "err register: %s\n",
                            r == -EINVAL ? "expected 'register PID JOB'" : strerror(-r));
}

/* Answers one request line; returns 0, or -1 when the client must be dropped. */
static int answer(struct wattprof_daemon *d, struct daemon_client *c)
{
    size_t len;
    enum daemon_cmd cmd = daemon_proto_command(c->line, c->len);
    pthread_mutex_lock(&d->lock);
    if (cmd == DAEMON_CMD_READ)
        len = format_read(d);
    else if (cmd == DAEMON_CMD_CHANNELS)
        len = format_channels(d);
    else if (cmd == DAEMON_CMD_REGISTER)
        len = format_register(d, c);
    else
        len = (size_t)snprintf(d->reply, sizeof(d->reply),
                               "err unknown request (known: channels, read, register)\n");
    pthread_mutex_unlock(&d->lock);
    if (len >= sizeof(d->reply))
        len = sizeof(d->reply) - 1;
    ssize_t n = send(c->fd, d->reply, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == (ssize_t)len ? 0 : -1; /* a client that does not read is dropped */
}

static void drop(struct daemon_client *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

/* Reads what a client sent and answers every complete line. */
static void serve_client(struct wattprof_daemon *d, struct daemon_client *c)
{
    char in[512];
    ssize_t n = read(c->fd, in, sizeof(in));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        drop(c);
        return;
    }
    for (ssize_t i = 0; i < n && c->fd >= 0; i++) {
        if (in[i] == '\n') {
            if (answer(d, c) < 0)
                drop(c);
            c->len = 0;
        } else if (c->len + 1 < sizeof(c->line)) {
            c->line[c->len++] = in[i];
        } else {
            send(c->fd, "err request too long\n", 21, MSG_NOSIGNAL | MSG_DONTWAIT);
            drop(c);
        }
    }
}

static void accept_client(struct wattprof_daemon *d)
{
    int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (size_t i = 0; i < DAEMON_MAX_CLIENTS; i++) {
        if (d->clients[i].fd < 0) {
            d->clients[i].fd = fd;
            d->clients[i].len = 0;
            return;
        }
    }
    close(fd); /* full: poll() stops accepting before this happens */
}

/* Fills pfds: the wake fd, the listening socket while there is room, the clients;
 * slot[k] is the client of pfds[k] (or -1). Returns how many. */
static nfds_t build_poll(struct wattprof_daemon *d, struct pollfd *pfds, int *slot)
{
    nfds_t n = 0, used = 0;
    pfds[n] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
    slot[n++] = -1;
    for (size_t i = 0; i < DAEMON_MAX_CLIENTS; i++) {
        if (d->clients[i].fd < 0)
            continue;
        pfds[n] = (struct pollfd){ .fd = d->clients[i].fd, .events = POLLIN };
        slot[n++] = (int)i;
        used++;
    }
    pfds[n] =
        (struct pollfd){ .fd = used < DAEMON_MAX_CLIENTS ? d->listen_fd : -1, .events = POLLIN };
    slot[n++] = -1;
    return n;
}

static void refresh_snapshot(struct wattprof_daemon *d, uint64_t *next_ns)
{
    uint64_t now = sensor_now_ns();
    if (now < *next_ns)
        return;
    pthread_mutex_lock(&d->lock);
    daemon_take_snapshot(d, &d->snap);
    pthread_mutex_unlock(&d->lock);
    /* these read /proc and the cgroup files first, then take the lock briefly */
    daemon_jobs_tick(d, now);
    daemon_cgroups_tick(d, now);
    *next_ns = now + d->interval_ns;
}

static void *sock_thread(void *arg)
{
    struct wattprof_daemon *d = arg;
    struct pollfd pfds[DAEMON_MAX_CLIENTS + 2];
    int slot[DAEMON_MAX_CLIENTS + 2];
    uint64_t next_ns = 0;
    while (!atomic_load(&d->stopping)) {
        nfds_t n = build_poll(d, pfds, slot);
        uint64_t now = sensor_now_ns();
        int timeout = next_ns > now ? (int)((next_ns - now) / NS_PER_MS) + 1 : 0;
        if (poll(pfds, n, timeout) < 0 && errno != EINTR)
            break;
        if (pfds[0].revents)
            break;
        for (nfds_t k = 1; k + 1 < n; k++)
            if (pfds[k].revents)
                serve_client(d, &d->clients[slot[k]]);
        if (pfds[n - 1].revents & POLLIN)
            accept_client(d);
        refresh_snapshot(d, &next_ns);
    }
    return NULL;
}

static int start_thread(struct wattprof_daemon *d)
{
    sigset_t all, old;
    d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->wake_fd < 0)
        return daemon_errorf(d, -errno, "cannot create an eventfd: %s", strerror(errno));
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = -pthread_create(&d->thread, NULL, sock_thread, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r < 0)
        return daemon_errorf(d, r, "cannot start the socket thread: %s", strerror(-r));
    d->thread_running = 1;
    return 0;
}

int daemon_sock_bind(struct wattprof_daemon *d, const char *path, unsigned mode, long gid)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (*path) {
        if (strlen(path) >= sizeof(sa.sun_path))
            return daemon_errorf(d, -ENAMETOOLONG, "the socket path '%s' is too long", path);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        snprintf(d->socket_path, sizeof(d->socket_path), "%s", path);
        if (strcmp(path, DAEMON_SYSTEM_SOCKET) == 0)
            mkdir("/run/wattprof", 0755); /* systemd's RuntimeDirectory= makes it otherwise */
        int r = clear_stale(d, &sa);
        if (r == 0)
            r = bind_socket(d, &sa, mode, gid);
        if (r < 0)
            return r;
    }
    return 0;
}

int daemon_sock_run(struct wattprof_daemon *d)
{
    return start_thread(d);
}

void daemon_sock_stop(struct wattprof_daemon *d)
{
    if (d->thread_running) {
        uint64_t one = 1;
        atomic_store(&d->stopping, 1);
        if (write(d->wake_fd, &one, sizeof(one)) < 0) {
            /* the flag alone stops it at the next tick */
        }
        pthread_join(d->thread, NULL);
        d->thread_running = 0;
    }
    for (size_t i = 0; i < DAEMON_MAX_CLIENTS; i++)
        if (d->clients[i].fd >= 0)
            drop(&d->clients[i]);
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    d->listen_fd = d->wake_fd = -1;
    if (d->socket_created)
        unlink(d->socket_path);
    d->socket_created = 0;
}
