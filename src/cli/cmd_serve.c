/* wattprof serve: the collector daemon. Parses the options, blocks the signals so that
 * the library's threads never take them, starts the daemon and waits: SIGHUP re-opens
 * the sensors, SIGTERM and SIGINT stop it and remove the socket (docs/daemon.md). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "wattprof.h"

static const char serve_usage[] =
    "usage: wattprof serve [options]\n"
    "  -l, --listen ADDR:PORT         /metrics address (default 127.0.0.1:9464; IPv6 in\n"
    "                                 brackets: [::1]:9464; port 0: any; 'none': off)\n"
    "  -s, --socket PATH              Unix socket (default /run/wattprof/wattprof.sock as\n"
    "                                 root, else $XDG_RUNTIME_DIR/wattprof.sock; 'none': off)\n"
    "      --socket-mode MODE         octal permissions of the socket (default 0660)\n"
    "      --socket-group GROUP       group of the socket (default: the daemon's)\n"
    "  -i, --interval MS              sampling interval (default 100)\n"
    "      --min-client-interval MS   socket clients get a new reading at most this often\n"
    "                                 (default 50; see docs/daemon.md, PLATYPUS)\n"
    "      --auth-file FILE           /metrics asks for the 'user:password' in FILE (HTTP\n"
    "                                 basic auth; FILE must be mode 0600 or stricter)\n"
    "  -u, --user USER                as root: also become USER once the sensors are open\n"
    "                                 and the socket and port are bound\n"
    "      --tls-cert FILE            serve /metrics over HTTPS with this PEM certificate\n"
    "      --tls-key FILE             and this PEM key (mode 0600 or stricter)\n"
    "      --cgroup-depth N           per-cgroup energy down to depth N (default 3; 0: off)\n"
    "      --cgroup-max N             at most N cgroup series (default 256, at most 4096)\n"
    "      --replay FILE              serve a recorded trace (docs/replay.md); its channels\n"
    "                                 are the total (also WATTPROF_REPLAY)\n"
    "Once the sensors are open and the socket and port bound, serve drops every\n"
    "capability (and sets no_new_privs). SIGHUP re-opens the sensors without them:\n"
    "counters that needed a capability become unavailable until a restart. SIGTERM\n"
    "or SIGINT stop. Energy per cgroup: WATTPROF_CGROUPFS replaces /sys/fs/cgroup.\n";

enum {
    OPT_MODE = 400,
    OPT_GROUP,
    OPT_MIN_CLIENT,
    OPT_AUTH,
    OPT_CG_DEPTH,
    OPT_CG_MAX,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_REPLAY
};

static int parse_uint(const char *s, int base, unsigned long max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, base);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_group(const char *name, long *gid)
{
    const struct group *g = getgrnam(name);
    unsigned n;
    if (g) {
        *gid = (long)g->gr_gid;
        return 0;
    }
    if (parse_uint(name, 10, 0x7fffffff, &n) < 0)
        return -1;
    *gid = (long)n;
    return 0;
}

/* --user: the account serve becomes after start; NULL: stay. */
static const char *serve_user;
/* --replay: a trace to serve (the ctx's "replay" setting); NULL: WATTPROF_REPLAY or none. */
static const char *serve_replay;

static int parse_option(int c, struct wattprof_daemon_config *cfg)
{
    switch (c) {
    case 'u':
        serve_user = optarg;
        return 0;
    case OPT_REPLAY:
        serve_replay = optarg;
        return 0;
    case OPT_AUTH:
        cfg->auth_file = optarg;
        return 0;
    case 'l':
        cfg->listen = strcmp(optarg, "none") == 0 ? "" : optarg;
        return 0;
    case 's':
        cfg->socket_path = strcmp(optarg, "none") == 0 ? "" : optarg;
        return 0;
    case OPT_MODE:
        return parse_uint(optarg, 8, 0777, &cfg->socket_mode) < 0 || cfg->socket_mode == 0 ? -1 : 0;
    case OPT_GROUP:
        return parse_group(optarg, &cfg->socket_gid);
    case 'i':
        return parse_uint(optarg, 10, 3600000, &cfg->interval_ms) < 0 || !cfg->interval_ms ? -1 : 0;
    case OPT_TLS_CERT:
        cfg->tls_cert = optarg;
        return 0;
    case OPT_TLS_KEY:
        cfg->tls_key = optarg;
        return 0;
    case OPT_CG_DEPTH:
        if (parse_uint(optarg, 10, 64, &cfg->cgroup_depth) < 0)
            return -1;
        cfg->no_cgroups = cfg->cgroup_depth == 0;
        return 0;
    case OPT_CG_MAX:
        return parse_uint(optarg, 10, 4096, &cfg->cgroup_max) < 0 || !cfg->cgroup_max ? -1 : 0;
    case OPT_MIN_CLIENT:
        return parse_uint(optarg, 10, 3600000, &cfg->min_client_interval_ms) < 0 ||
                       !cfg->min_client_interval_ms
                   ? -1
                   : 0;
    }
    return -1;
}

static int parse_args(int argc, char **argv, struct wattprof_daemon_config *cfg)
{
    static const struct option longopts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "socket", required_argument, NULL, 's' },
        { "socket-mode", required_argument, NULL, OPT_MODE },
        { "socket-group", required_argument, NULL, OPT_GROUP },
        { "interval", required_argument, NULL, 'i' },
        { "min-client-interval", required_argument, NULL, OPT_MIN_CLIENT },
        { "user", required_argument, NULL, 'u' },
        { "auth-file", required_argument, NULL, OPT_AUTH },
        { "tls-cert", required_argument, NULL, OPT_TLS_CERT },
        { "tls-key", required_argument, NULL, OPT_TLS_KEY },
        { "cgroup-depth", required_argument, NULL, OPT_CG_DEPTH },
        { "cgroup-max", required_argument, NULL, OPT_CG_MAX },
        { "replay", required_argument, NULL, OPT_REPLAY },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "l:s:i:u:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(serve_usage, stdout);
            return 1;
        }
        if (c == '?' || parse_option(c, cfg) < 0) {
            if (c != '?')
                cli_error("invalid value '%s' (see 'wattprof serve --help')", optarg);
            fputs(serve_usage, stderr);
            return -1;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

/* Becomes `user` (name or uid): its groups, gid and uid, in every thread. The sensors'
 * fds stay open, so reading root-only counters and perf events goes on; the library
 * left only CAP_SETUID and CAP_SETGID, which setuid() to a non-root uid clears. Returns 0
 * or -1 (printed). */
static int drop_privileges(const char *user)
{
    const struct passwd *pw = getpwnam(user);
    unsigned uid;
    if (!pw && parse_uint(user, 10, 0x7fffffff, &uid) == 0)
        pw = getpwuid((uid_t)uid);
    if (!pw) {
        cli_error("--user: no such user '%s'", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0) {
        cli_error("--user %s: cannot drop privileges: %s (run serve as root)", user,
                  strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        cli_error("--user %s: could regain root after dropping it", user);
        return -1;
    }
    return 0;
}

/* Waits for signals: SIGHUP reloads, SIGTERM/SIGINT return. The sensors re-open without
 * the capabilities dropped at start: what needed them comes back unavailable. */
static void wait_signals(struct wattprof_daemon *d, const sigset_t *set)
{
    for (;;) {
        int sig = 0;
        size_t before = wattprof_daemon_channel_count(d);
        if (sigwait(set, &sig) != 0 || sig != SIGHUP)
            return;
        if (wattprof_daemon_reload(d) < 0) {
            cli_error("reload: %s", wattprof_daemon_errmsg(d));
            continue;
        }
        size_t now = wattprof_daemon_channel_count(d);
        fprintf(stderr, "wattprof: reloaded: %zu channels\n", now);
        if (now < before)
            fprintf(stderr,
                    "wattprof: reload: %zu channels fewer than before: serve dropped its "
                    "capabilities after start (perf events need CAP_PERFMON, files of other "
                    "owners CAP_DAC_READ_SEARCH); restart serve to open them again\n",
                    before - now);
    }
}

static void announce(const struct wattprof_daemon *d, int tls)
{
    const char *addr = wattprof_daemon_listen_address(d);
    const char *path = wattprof_daemon_socket_path(d);
    fprintf(stderr, "wattprof: serving %zu channels%s%s%s%s%s\n", wattprof_daemon_channel_count(d),
            *addr ? (tls ? " on https://" : " on http://") : "", addr, *addr ? "/metrics" : "",
            *path ? " and " : "", path);
    if (*wattprof_daemon_cgroup_hierarchy(d))
        fprintf(stderr, "wattprof: energy per cgroup: %s\n", wattprof_daemon_cgroup_hierarchy(d));
}

int cmd_serve(int argc, char **argv)
{
    struct wattprof_daemon_config cfg = { .socket_gid = -1 };
    struct wattprof_ctx *ctx = NULL;
    struct wattprof_daemon *d = NULL;
    sigset_t set;
    int status = 1;
    int r = parse_args(argc, argv, &cfg);
    if (r != 0)
        return r > 0 ? cli_finish_stdout() : EXIT_USAGE;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (wattprof_ctx_new(&ctx) < 0 || wattprof_daemon_new(ctx, &d) < 0) {
        cli_error("out of memory");
        goto out;
    }
    if (serve_replay && wattprof_ctx_set(ctx, "replay", serve_replay) < 0) {
        cli_error("%s", wattprof_ctx_errmsg(ctx));
        goto out;
    }
    cfg.drop_capabilities = 1;
    cfg.keep_setid_capabilities = serve_user != NULL;
    if (wattprof_daemon_start(d, &cfg) < 0) {
        cli_error("%s", wattprof_daemon_errmsg(d));
        goto out;
    }
    if (serve_user && drop_privileges(serve_user) < 0)
        goto out;
    announce(d, cfg.tls_cert != NULL);
    wait_signals(d, &set);
    status = 0;
out:
    wattprof_daemon_free(d);
    wattprof_ctx_free(ctx);
    return status;
}
