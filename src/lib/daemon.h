/* wattprof serve inside the library: the daemon object shared by daemon.c (sensors,
 * sampling, snapshots), daemon_sock.c (the Unix socket) and daemon_http.c (/metrics). */
#ifndef WATTPROF_DAEMON_H
#define WATTPROF_DAEMON_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/un.h>

#include "daemon_proto.h"
#include "sampler.h"
#include "sensors.h"
#include "wattprof.h"

#define DAEMON_MAX_CLIENTS 64 /* socket connections at once; more wait in the backlog */

/* Cumulative energy of every channel at one sampler tick. */
struct daemon_snap {
    uint64_t t_ns;
    uint64_t samples;
    uint64_t overruns;
    uint64_t energy_uj[SAMPLER_MAX_CHANNELS];
};

struct daemon_client {
    int fd; /* -1: free slot */
    size_t len;
    char line[DAEMON_PROTO_REQUEST_MAX];
};

struct wattprof_daemon {
    struct wattprof_ctx *ctx;  /* borrowed */
    struct sensor_config scfg; /* ctx's, without the daemon socket */
    uint64_t interval_ns;
    uint64_t min_client_ns;

    /* Guards everything below it that the threads share. */
    pthread_mutex_t lock;
    struct sensors sensors;
    struct sampler *sp; /* NULL when nothing can be read */
    size_t n_chans;
    struct daemon_proto_channel chans[SAMPLER_MAX_CHANNELS];
    struct daemon_snap snap;   /* refreshed every tick, read by scrapes */
    struct daemon_snap client; /* the coarsened copy socket clients get */
    uint64_t client_taken_ns;  /* when `client` was taken, 0: never */
    uint64_t reloads;

    /* The socket thread: the listening socket, its clients, and the snapshot tick. */
    int listen_fd;
    int wake_fd; /* eventfd: stop */
    atomic_int stopping;
    pthread_t thread;
    int thread_running;
    struct daemon_client clients[DAEMON_MAX_CLIENTS];
    char reply[SAMPLER_MAX_CHANNELS * 320 + 64]; /* the socket thread's reply buffer */
    char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int socket_created;

    struct MHD_Daemon *mhd;
    struct daemon_mhd_api *mhd_api; /* libmicrohttpd, dlopen'ed by serve only */
    int http_fd;
    char listen_addr[64];

    char errmsg[1024];
};

/* Formats errmsg and returns err. */
int daemon_errorf(struct wattprof_daemon *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies the sampler's totals into snap; call with d->lock held. */
void daemon_take_snapshot(struct wattprof_daemon *d, struct daemon_snap *snap);

/* daemon_sock.c: binds the socket (mode, group) and starts the socket thread. */
int daemon_sock_start(struct wattprof_daemon *d, const char *path, unsigned mode, long gid);
void daemon_sock_stop(struct wattprof_daemon *d);

/* daemon_http.c: /metrics on addr ("HOST:PORT"). */
int daemon_http_start(struct wattprof_daemon *d, const char *addr);
void daemon_http_stop(struct wattprof_daemon *d);
/* The exposition text of the current snapshot (heap, caller frees), or NULL. Takes the
 * lock. */
char *daemon_http_metrics(struct wattprof_daemon *d, size_t *len);

#endif
