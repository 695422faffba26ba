/* An external meter: `--meter CMD` runs CMD with /bin/sh -c in its own process group and
 * reads one reading per line from its stdout: a number is watts (a power gauge the
 * sampler integrates), a number with a "J" suffix is cumulative joules (an energy
 * counter). The first valid line decides which. Anything else is a garbage line: counted,
 * never integrated. Whatever the meter measures (a wall socket meter, a PDU, a script
 * around a vendor tool), it is taken as the whole node: a total of its own beside the
 * component sum. */
#include "meter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000ull
/* Readings above these are absurd: garbage. */
#define METER_MAX_MILLIWATTS (100ull * 1000 * 1000)                        /* 100 kW */
#define METER_MAX_MILLIJOULES (1000ull * 1000 * 1000 * 1000 * 1000 * 1000) /* 10^15 J */
/* The sampler's plausibility bound is 4 × this. */
#define METER_MAX_POWER_UW (25ull * 1000 * 1000 * 1000)
/* Bytes read from the pipe per read() call at most, so a chatty meter cannot hold the
 * sampler: the rest waits for the next tick. */
#define METER_DRAIN_MAX 65536
#define METER_REAP_STEP_MS 5

static unsigned or_default(unsigned v, unsigned fallback)
{
    return v != 0 ? v : fallback;
}

/* Parses one line: a reading and its kind, or -EINVAL. */
static int parse_line(const struct meter *st, const char *text, enum meter_kind *kind,
                      uint64_t *milli)
{
    const char *end;
    if (linebuf_parse_milli(text, st->c_locale, METER_MAX_MILLIJOULES, milli, &end) < 0)
        return -EINVAL;
    while (*end == ' ' || *end == '\t')
        end++;
    *kind = *end == 'J' ? METER_JOULES : METER_WATTS;
    if (*end == 'J' || *end == 'W')
        end++;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return -EINVAL;
    if (*kind == METER_WATTS && *milli > METER_MAX_MILLIWATTS)
        return -EINVAL;
    return 0;
}

static void on_line(void *arg, const char *text, int overlong)
{
    struct meter *st = arg;
    enum meter_kind kind;
    uint64_t milli;
    if (overlong || parse_line(st, text, &kind, &milli) < 0 ||
        (st->have_kind && kind != st->kind)) {
        if (st->n_garbage++ == 0)
            snprintf(st->garbage_example, sizeof(st->garbage_example), "%s", text);
        return;
    }
    if (!st->have_kind) {
        st->have_kind = 1;
        st->kind = kind;
    }
    st->value = milli;
    st->last_valid_ns = sensor_now_ns();
    if (st->n_valid++ == 0)
        st->first_valid_ns = st->last_valid_ns;
}

/* Reads what the meter has written so far, without blocking, and parses its lines.
 * Sets eof when the meter closed its stdout (exited). */
static void drain(struct meter *st)
{
    char buf[4096];
    for (size_t total = 0; !st->eof && total < METER_DRAIN_MAX;) {
        ssize_t n = read(st->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            st->eof = 1;
            linebuf_finish(&st->lines, on_line, st);
            return;
        }
        linebuf_feed(&st->lines, buf, (size_t)n, on_line, st);
        total += (size_t)n;
    }
}

/* posix_spawn: sh -c CMD, stdin /dev/null, stdout the pipe, stderr inherited, its own
 * process group, default signal handling. Returns 0 or a negative errno. */
static int spawn_meter(struct meter *st, const char *cmd, int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    int r = posix_spawn_file_actions_init(&fa);
    if (r != 0)
        return -r;
    r = posix_spawnattr_init(&attr);
    if (r == 0) {
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        r = posix_spawn(&st->pid, "/bin/sh", &fa, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0)
        st->pid = 0;
    return -r;
}

/* Starts the meter with its stdout on a non-blocking, close-on-exec pipe. */
static int start_meter(struct sensor *s, struct meter *st, const char *cmd)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return sensor_errorf(s, -EIO, "cannot create a pipe for the meter: %s", strerror(errno));
    int r = spawn_meter(st, cmd, pfd[1]);
    close(pfd[1]);
    if (r < 0) {
        close(pfd[0]);
        return sensor_errorf(s, r == -ENOMEM ? -ENOMEM : -EIO,
                             "cannot run the meter command with /bin/sh: %s", strerror(-r));
    }
    st->fd = pfd[0];
    st->have_fd = 1;
    if (fcntl(st->fd, F_SETFL, fcntl(st->fd, F_GETFL) | O_NONBLOCK) < 0)
        return sensor_errorf(s, -EIO, "cannot make the meter's pipe non-blocking: %s",
                             strerror(errno));
    return 0;
}

/* Waits up to ms for the meter's shell (pid > 0), or for all our children in its process
 * group (pid = -pgid), to exit, and reaps them. Returns 0 when they are gone (or were
 * reaped by someone else: `wattprof run` reaps orphans), -1 when one still runs.
 * *status gets the last wait status, or -1 when unknown. */
static int reap(pid_t pid, unsigned ms, int *status)
{
    struct timespec step = { 0, METER_REAP_STEP_MS * 1000000L };
    *status = -1;
    for (unsigned waited = 0;; waited += METER_REAP_STEP_MS) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r > 0 && pid < 0)
            continue;
        if (r == pid || (r < 0 && errno == ECHILD))
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (waited >= ms)
            return -1;
        nanosleep(&step, NULL);
    }
}

/* Ends the meter's process group: SIGTERM; SIGKILL to whatever remains once the shell
 * is gone, or after the grace period. Bounded: never waits more than 3 grace periods. */
static void stop_meter(struct meter *st)
{
    unsigned grace = or_default(st->kill_grace_ms, METER_KILL_GRACE_MS);
    int status;
    kill(-st->pid, SIGTERM);
    int alive = reap(st->pid, grace, &status) < 0;
    if (alive || kill(-st->pid, 0) == 0) /* the group exists: its id is not reused */
        kill(-st->pid, SIGKILL);
    if (alive)
        reap(st->pid, grace, &status);
    /* The shell's children (`sleep` in a loop) come back to us when we are a subreaper,
     * as `wattprof run` is: reap them too. */
    reap(-st->pid, grace, &status);
    st->pid = 0;
}

static void meter_close(struct sensor *s)
{
    struct meter *st = s->priv;
    if (st == NULL)
        return;
    if (st->have_fd)
        close(st->fd); /* first: a meter blocked on a full pipe gets SIGPIPE */
    st->have_fd = 0;
    if (st->pid > 0)
        stop_meter(st);
    if (st->c_locale != (locale_t)0)
        freelocale(st->c_locale);
    st->c_locale = (locale_t)0;
}

/* "exit status 3", "killed by signal 9", or "" when unknown. */
static void describe_exit(struct meter *st, char *buf, size_t size)
{
    int status;
    buf[0] = '\0';
    if (reap(st->pid, 100, &status) < 0)
        return; /* closed its stdout but runs on: close() ends it */
    st->pid = 0;
    if (status != -1 && WIFEXITED(status))
        snprintf(buf, size, " (exit status %d)", WEXITSTATUS(status));
    else if (status != -1 && WIFSIGNALED(status))
        snprintf(buf, size, " (killed by signal %d)", WTERMSIG(status));
}

/* Waits for the first valid line. Returns 0, or -EIO when the meter exits or prints no
 * reading in time (garbage lines are counted meanwhile). */
static int wait_first_line(struct sensor *s, struct meter *st)
{
    unsigned ms = or_default(st->first_line_ms, METER_FIRST_LINE_MS);
    uint64_t deadline = sensor_now_ns() + ms * NS_PER_MS;
    char why[64];
    for (;;) {
        drain(st);
        if (st->have_kind)
            return 0;
        uint64_t now = sensor_now_ns();
        if (st->eof || now >= deadline)
            break;
        struct pollfd pfd = { .fd = st->fd, .events = POLLIN };
        poll(&pfd, 1, (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS));
    }
    const char *what = st->eof ? "exited before printing a reading" : "printed no reading";
    if (st->eof)
        describe_exit(st, why, sizeof(why));
    else
        snprintf(why, sizeof(why), " within %.1f s", ms / 1000.0);
    if (st->n_garbage == 0)
        return sensor_errorf(s, -EIO, "the meter command %s%s", what, why);
    return sensor_errorf(s, -EIO,
                         "the meter command %s%s: %llu line(s) were not readings, e.g. '%s' "
                         "(print watts, or cumulative joules with a J suffix, one per line)",
                         what, why, (unsigned long long)st->n_garbage, st->garbage_example);
}

/* The channel's note and the notes' last line, with the garbage count. Cheap: only
 * called when the count changed. */
static void describe(struct sensor *s, struct meter *st)
{
    struct sensor_channel *c = &s->channels[0];
    const char *unit = st->kind == METER_WATTS ? "watts" : "cumulative joules";
    snprintf(c->note, sizeof(c->note), "%s per line from '%s'", unit, s->cfg->meter_cmd);
    st->n_garbage_noted = st->n_garbage;
    if (st->n_garbage == 0 || st->notes_base + 2 >= sizeof(s->notes))
        return;
    snprintf(s->notes + st->notes_base, sizeof(s->notes) - st->notes_base,
             "%s%llu garbage line(s) ignored, e.g. '%s'", st->notes_base ? "\n" : "",
             (unsigned long long)st->n_garbage, st->garbage_example);
}

static void add_channel(struct sensor *s, struct meter *st)
{
    struct sensor_channel *c = sensor_add_channel(s, "node:meter");
    snprintf(c->domain, sizeof(c->domain), "node");
    c->scale_num = 1000; /* mW to µW, mJ to µJ */
    c->scale_den = 1;
    c->max_power_uw = METER_MAX_POWER_UW;
    c->included_in_total = 0;
    c->node_scope = 1;
    if (st->kind == METER_WATTS) {
        c->kind = SENSOR_POWER_GAUGE;
        c->provenance = SENSOR_INTEGRATED;
        snprintf(c->averaging, sizeof(c->averaging), "as the meter reports");
    } else {
        c->kind = SENSOR_ENERGY_COUNTER;
        c->provenance = SENSOR_MEASURED;
        c->max_raw = 0; /* a decrease means the meter restarted its count */
        snprintf(c->averaging, sizeof(c->averaging), "cumulative, as the meter reports");
    }
    describe(s, st);
}

static int meter_open(struct sensor *s)
{
    struct meter *st = s->priv;
    const char *cmd = s->cfg != NULL ? s->cfg->meter_cmd : NULL;
    s->n_channels = 0;
    st->have_fd = 0;
    st->pid = 0;
    if (cmd == NULL || cmd[0] == '\0')
        return sensor_errorf(s, -ENODEV, "no --meter command given");
    linebuf_init(&st->lines, METER_LINE_MAX);
    st->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (st->c_locale == (locale_t)0)
        return sensor_errorf(s, -ENOMEM, "out of memory");
    int r = start_meter(s, st, cmd);
    if (r == 0)
        r = wait_first_line(s, st);
    if (r < 0) {
        meter_close(s);
        return r;
    }
    st->notes_base = strlen(s->notes);
    add_channel(s, st);
    return 0;
}

/* No valid line for max(hang_min_ms, METER_HANG_PERIODS × the observed line period). */
static int hung(const struct meter *st, uint64_t now)
{
    uint64_t limit = or_default(st->hang_min_ms, METER_HANG_MIN_MS) * NS_PER_MS;
    if (st->n_valid >= 2) {
        uint64_t period = (st->last_valid_ns - st->first_valid_ns) / (st->n_valid - 1);
        if (period * METER_HANG_PERIODS > limit)
            limit = period * METER_HANG_PERIODS;
    }
    return now - st->last_valid_ns > limit;
}

/* The latest valid reading; never blocks, never allocates. A meter that exited loses
 * the channel with -EPIPE, one that hangs with -ETIMEDOUT. */
static int meter_read(struct sensor *s, uint64_t *values)
{
    struct meter *st = s->priv;
    if (st->lost_err == 0) {
        drain(st);
        if (st->eof)
            st->lost_err = -EPIPE;
        else if (hung(st, sensor_now_ns()))
            st->lost_err = -ETIMEDOUT;
    }
    if (st->n_garbage != st->n_garbage_noted)
        describe(s, st);
    s->channels[0].read_err = st->lost_err;
    values[0] = st->value;
    return 0;
}

const struct sensor_ops meter_sensor_ops = {
    .name = "meter",
    .priv_size = sizeof(struct meter),
    .open = meter_open,
    .read = meter_read,
    .close = meter_close,
};
