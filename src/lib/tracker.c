/* The tracker: what a workload uses to measure itself. Under `wattprof run` it sends
 * its windows, units and metrics to the run's control socket (WATTPROF_CONTROL), so
 * nothing is measured twice; otherwise it opens the sensors and measures in-process. */
#include "session.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct wattprof_tracker {
    int remote;
    int fd; /* remote: the control socket */
    uint64_t next_id;
    int closed;
    struct wattprof_ctx *ctx;         /* in-process */
    struct wattprof_session *session; /* in-process; NULL when measuring failed */
    uint64_t cpu_at_open_ns;          /* in-process: this process's CPU time at open */
    char errmsg[2048];
    char start_error[2048]; /* why it could not start, kept for later calls */
};

static int tracker_errorf(struct wattprof_tracker *t, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int tracker_errorf(struct wattprof_tracker *t, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

/* Copies the context's message for a failed in-process call. */
static int from_ctx(struct wattprof_tracker *t, int r)
{
    if (r < 0)
        tracker_errorf(t, r, "%s", wattprof_ctx_errmsg(t->ctx));
    return r;
}

static int connect_control(struct wattprof_tracker *t, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return tracker_errorf(t, -ENAMETOOLONG, "WATTPROF_CONTROL '%s' is too long", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->fd >= 0 && connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return 0;
    int e = errno;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    return tracker_errorf(t, -e,
                          "cannot connect to the enclosing wattprof run at '%s' "
                          "(WATTPROF_CONTROL): %s",
                          path, strerror(e));
}

static int open_local(struct wattprof_tracker *t)
{
    int r = wattprof_ctx_new(&t->ctx);
    if (r < 0)
        return tracker_errorf(t, r, "out of memory");
    r = from_ctx(t, wattprof_ctx_open_sensors(t->ctx));
    if (r == 0)
        r = from_ctx(t, wattprof_session_new(t->ctx, &t->session));
    if (r == 0)
        r = from_ctx(t, wattprof_session_start(t->session));
    if (r < 0) {
        wattprof_session_free(t->session);
        t->session = NULL;
    }
    return r;
}

/* CPU time of this process and its reaped children, ns. */
static uint64_t own_cpu_ns(void)
{
    struct timespec ts;
    struct rusage ru;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    getrusage(RUSAGE_CHILDREN, &ru);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
           (uint64_t)ru.ru_utime.tv_sec * 1000000000u + (uint64_t)ru.ru_utime.tv_usec * 1000 +
           (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000;
}

WATTPROF_API int wattprof_tracker_open(struct wattprof_tracker **out)
{
    struct wattprof_tracker *t = calloc(1, sizeof(*t));
    *out = t;
    if (!t)
        return -ENOMEM;
    t->fd = -1;
    t->cpu_at_open_ns = own_cpu_ns();
    const char *control = getenv("WATTPROF_CONTROL");
    int r;
    if (control && *control) {
        t->remote = 1;
        r = connect_control(t, control);
    } else {
        r = open_local(t);
    }
    if (r < 0)
        snprintf(t->start_error, sizeof(t->start_error), "%s", t->errmsg);
    return r;
}

WATTPROF_API const char *wattprof_tracker_errmsg(const struct wattprof_tracker *t)
{
    return t ? t->errmsg : "";
}

WATTPROF_API int wattprof_tracker_is_remote(const struct wattprof_tracker *t)
{
    return t->remote;
}

/* A double as text that strtod reads back in the "C" locale, whatever ours is. */
static void format_number(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.17g", v);
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
}

static int send_line(struct wattprof_tracker *t, const char *line)
{
    size_t len = strlen(line);
    while (len > 0) {
        ssize_t n = send(t->fd, line, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tracker_errorf(t, -errno,
                                  "lost the connection to the enclosing wattprof "
                                  "run: %s",
                                  strerror(errno));
        line += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Checks the state and a name common to every call. */
static int usable(struct wattprof_tracker *t, const char *name, const char *what)
{
    if (t->closed)
        return tracker_errorf(t, -EINVAL, "the tracker is closed");
    if (t->remote ? t->fd < 0 : !t->session)
        return tracker_errorf(t, -ENODEV, "the tracker is not measuring: %s", t->start_error);
    if (name && !session_name_valid(name))
        return tracker_errorf(
            t, -EINVAL, "invalid %s name '%.80s': 1 to 64 of A-Z a-z 0-9 _ . : / -", what, name);
    return 0;
}

WATTPROF_API int wattprof_tracker_window_begin(struct wattprof_tracker *t, const char *name,
                                               uint64_t *id)
{
    int r = usable(t, name ? name : "", "window");
    if (r < 0)
        return r;
    if (!t->remote)
        return from_ctx(t, wattprof_session_window_begin(t->session, name, id));
    char line[256];
    *id = ++t->next_id;
    snprintf(line, sizeof(line), "begin %d.%llu %s\n", (int)getpid(), (unsigned long long)*id,
             name);
    return send_line(t, line);
}

WATTPROF_API int wattprof_tracker_window_end(struct wattprof_tracker *t, uint64_t id)
{
    int r = usable(t, NULL, NULL);
    if (r < 0)
        return r;
    if (!t->remote)
        return from_ctx(t, wattprof_session_window_end(t->session, id));
    if (id == 0 || id > t->next_id)
        return tracker_errorf(t, -ENOENT, "no window %llu", (unsigned long long)id);
    char line[128];
    snprintf(line, sizeof(line), "end %d.%llu\n", (int)getpid(), (unsigned long long)id);
    return send_line(t, line);
}

WATTPROF_API int wattprof_tracker_window_units(struct wattprof_tracker *t, uint64_t id,
                                               double units, const char *name)
{
    int r = usable(t, name && *name ? name : NULL, "unit");
    if (r < 0)
        return r;
    if (!t->remote)
        return from_ctx(t, wattprof_session_window_units(t->session, id, units, name));
    if (!(units > 0) || !isfinite(units))
        return tracker_errorf(t, -EINVAL, "units must be a finite number > 0");
    char line[256], num[64];
    format_number(num, sizeof(num), units);
    snprintf(line, sizeof(line), "units %d.%llu %s %s\n", (int)getpid(), (unsigned long long)id,
             num, name && *name ? name : "units");
    return send_line(t, line);
}

WATTPROF_API int wattprof_tracker_metric(struct wattprof_tracker *t, uint64_t id, const char *name,
                                         double value)
{
    int r = usable(t, name ? name : "", "metric");
    if (r < 0)
        return r;
    if (!t->remote)
        return from_ctx(t, wattprof_session_metric(t->session, id, name, value));
    if (!isfinite(value))
        return tracker_errorf(t, -EINVAL, "metric '%s' is not a finite number", name);
    char line[256], num[64], tag[64] = "";
    format_number(num, sizeof(num), value);
    if (id)
        snprintf(tag, sizeof(tag), " %d.%llu", (int)getpid(), (unsigned long long)id);
    snprintf(line, sizeof(line), "metric %s %s%s\n", name, num, tag);
    return send_line(t, line);
}

WATTPROF_API int wattprof_tracker_units(struct wattprof_tracker *t, double units, const char *name)
{
    int r = usable(t, name && *name ? name : NULL, "unit");
    if (r < 0)
        return r;
    if (!t->remote)
        return from_ctx(t, wattprof_session_set_units(t->session, units, name));
    if (!(units > 0) || !isfinite(units))
        return tracker_errorf(t, -EINVAL, "units must be a finite number > 0");
    char line[256], num[64];
    format_number(num, sizeof(num), units);
    snprintf(line, sizeof(line), "run-units %s %s\n", num, name && *name ? name : "units");
    return send_line(t, line);
}

WATTPROF_API int wattprof_tracker_close(struct wattprof_tracker *t)
{
    if (t->closed)
        return tracker_errorf(t, -EALREADY, "the tracker is already closed");
    t->closed = 1;
    if (t->remote) {
        if (t->fd >= 0)
            close(t->fd);
        t->fd = -1;
        return 0;
    }
    if (!t->session)
        return 0;
    /* the workload is this process: its CPU time since open is the attribution basis */
    uint64_t cpu = own_cpu_ns();
    wattprof_session_set_workload_cpu_ns(t->session,
                                         cpu > t->cpu_at_open_ns ? cpu - t->cpu_at_open_ns : 0);
    return from_ctx(t, wattprof_session_stop(t->session));
}

WATTPROF_API void wattprof_tracker_free(struct wattprof_tracker *t)
{
    if (!t)
        return;
    if (!t->closed)
        wattprof_tracker_close(t);
    wattprof_session_free(t->session);
    wattprof_ctx_free(t->ctx);
    free(t);
}

WATTPROF_API const struct wattprof_result *wattprof_tracker_result(const struct wattprof_tracker *t)
{
    return t->session && t->closed ? wattprof_session_result(t->session) : NULL;
}

WATTPROF_API int wattprof_tracker_json(const struct wattprof_tracker *t, char **out)
{
    *out = NULL;
    if (!t->session || !t->closed)
        return -EINVAL;
    return wattprof_session_json(t->session, out);
}
