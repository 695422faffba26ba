/* wattprof serve inside the library: the daemon object shared by daemon.c (sensors,
 * sampling, snapshots), daemon_sock.c (the Unix socket) and daemon_http.c (/metrics). */
#ifndef WATTPROF_DAEMON_H
#define WATTPROF_DAEMON_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/un.h>

#include "cgroups.h"
#include "daemon_proto.h"
#include "sampler.h"
#include "sensors.h"
#include "wattprof.h"

#define DAEMON_MAX_CLIENTS 64 /* socket connections at once; more wait in the backlog */
#define DAEMON_MAX_JOBS 64    /* registered process trees (daemon_jobs.c) */

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

/* A registered process tree and the energy attributed to it. */
struct daemon_job {
    int pid;
    int gone;    /* the tree ended at gone_ns */
    int scraped; /* gone, and shown by one scrape since: dropped at the next */
    uint64_t gone_ns;
    uint64_t start;     /* the root's starttime, 0 until the first tick */
    uint64_t cpu_ticks; /* CPU time of the tree at the last tick */
    double energy_uj;
    char name[DAEMON_PROTO_JOB_MAX];
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
    struct daemon_job jobs[DAEMON_MAX_JOBS];
    size_t n_jobs;
    uint64_t jobs_next_ns;      /* the next attribution tick */
    uint64_t jobs_busy;         /* machine busy ticks at the last one, 0: none yet */
    uint64_t jobs_energy_uj;    /* included channels' energy then */
    struct cgroups cgroups;     /* entries guarded by lock; the walk is the socket thread's */
    uint64_t cgroups_next_ns;   /* the next walk */
    uint64_t cgroups_busy_ns;   /* machine busy CPU time at the last walk */
    uint64_t cgroups_energy_uj; /* included channels' energy then */
    char cgroups_desc[PATH_MAX + 16];

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
    char auth[512]; /* "user:password" for /metrics, "": none */
    char *tls_cert; /* PEM, heap; NULL: plain HTTP */
    char *tls_key;  /* PEM, heap, wiped when freed */

    char errmsg[1024];
};

/* Formats errmsg and returns err. */
int daemon_errorf(struct wattprof_daemon *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies the sampler's totals into snap; call with d->lock held. */
void daemon_take_snapshot(struct wattprof_daemon *d, struct daemon_snap *snap);

/* daemon_sock.c: binds the socket (mode, group); starts the socket thread. */
int daemon_sock_bind(struct wattprof_daemon *d, const char *path, unsigned mode, long gid);
int daemon_sock_run(struct wattprof_daemon *d);
void daemon_sock_stop(struct wattprof_daemon *d);

/* daemon_jobs.c: registers PID's tree as JOB for a client of uid peer_uid (-ESRCH,
 * -EPERM: not the client's process, -ENOSPC; d->lock held); attributes the energy since
 * the last tick (socket thread, without the lock: it reads /proc first, then takes it);
 * formats wattprof_job_energy_joules_total into buf and drops ended jobs that a scrape
 * has shown (d->lock held). */
int daemon_jobs_register(struct wattprof_daemon *d, int pid, const char *job, long peer_uid);
void daemon_jobs_tick(struct wattprof_daemon *d, uint64_t now);
size_t daemon_jobs_format(struct wattprof_daemon *d, char *buf, size_t size, uint64_t now);

/* The energy of the channels included in the total, in the current snapshot (d->lock
 * held); the machine's busy CPU time from <proc>/stat in ticks (0 if unreadable). */
uint64_t daemon_included_energy(const struct wattprof_daemon *d);
uint64_t daemon_busy_ticks(const struct wattprof_daemon *d);

/* daemon_cgroups.c: finds the cgroup hierarchy (not an error when there is none);
 * walks it at most every second without the lock and attributes with it (socket
 * thread); formats wattprof_cgroup_energy_joules_total (d->lock held). */
int daemon_cgroups_open(struct wattprof_daemon *d, const struct wattprof_daemon_config *cfg);
void daemon_cgroups_tick(struct wattprof_daemon *d, uint64_t now);
size_t daemon_cgroups_format(struct wattprof_daemon *d, char *buf, size_t size);

/* A Prometheus label value: \\, \" and \n escaped (daemon_http.c). */
void daemon_label_escape(char *out, size_t size, const char *in);

/* daemon_http.c: /metrics on addr ("HOST:PORT", "[IPV6]:PORT"), with cfg's basic auth
 * and TLS when given: bind reads the files, loads libmicrohttpd and binds the port; run
 * starts serving (MHD's thread). daemon_http_stop undoes either. */
int daemon_http_bind(struct wattprof_daemon *d, const char *addr,
                     const struct wattprof_daemon_config *cfg);
int daemon_http_run(struct wattprof_daemon *d, const char *addr,
                    const struct wattprof_daemon_config *cfg);

/* daemon_caps.c: PR_SET_NO_NEW_PRIVS, an empty bounding set (when allowed to change it)
 * and no capability left in the calling thread, except CAP_SETUID and CAP_SETGID with
 * keep_setid (for a later setuid). Call it before starting threads: they inherit it. */
int daemon_drop_capabilities(struct wattprof_daemon *d, int keep_setid);

/* daemon_tls.c: reads the file of `option` into buf (NUL-terminated); a secret must be a
 * regular file only its owner can read. Returns its length, or a negative errno with the
 * fix in errmsg. daemon_tls_load reads the certificate and key (both or neither) into
 * d->tls_cert / d->tls_key; daemon_tls_free wipes and frees them. */
int daemon_read_file(struct wattprof_daemon *d, const char *option, const char *path, int secret,
                     char *buf, size_t size);
int daemon_tls_load(struct wattprof_daemon *d, const char *cert, const char *key);
void daemon_tls_free(struct wattprof_daemon *d);
void daemon_http_stop(struct wattprof_daemon *d);
/* The exposition text of the current snapshot (heap, caller frees), or NULL. Takes the
 * lock. */
char *daemon_http_metrics(struct wattprof_daemon *d, size_t *len);

#endif
