/* Tests for the SPEC PTDaemon client against a PTDaemon-protocol responder in a thread,
 * on 127.0.0.1: the handshake (Hello, Identify, Go), samples read with RL, error and
 * "no data" replies, invalid samples, a dropped connection, a daemon that stops
 * answering, Stop on close, and a port nobody listens on. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ptd.h"
#include "sensor.h"

#define MAX_COMMANDS 256

/* How the responder behaves, and what it saw. Written by its thread, read by the test
 * after joining it. */
struct responder {
    int listen_fd;
    int port;
    char addr[32];
    pthread_t thread;
    const char *hello;    /* reply to Hello; NULL: never answer anything */
    const char *identify; /* reply to Identify */
    const char *go;       /* reply to Go */
    const char *watts[4]; /* one per RL answer; the last one repeats */
    size_t n_watts;
    int rl_errors;     /* the first N RL get an error reply */
    int samples;       /* RL answers with a sample; later ones say "No data" (0: all) */
    int drop_after_rl; /* close the connection after answering N RL (0: never) */
    /* Seen. */
    char commands[MAX_COMMANDS][32];
    int n_commands;
    int n_rl;
};

static struct sensor_config cfg;

static void reply(int fd, const char *text)
{
    char line[256];
    int n = snprintf(line, sizeof(line), "%s\r\n", text);
    assert_int_equal(send(fd, line, (size_t)n, MSG_NOSIGNAL), n);
}

static void answer_rl(struct responder *r, int fd)
{
    char line[256];
    r->n_rl++;
    if (r->n_rl <= r->rl_errors) {
        reply(fd, "Error: invalid number of parameters");
        return;
    }
    int k = r->n_rl - r->rl_errors;
    if (r->samples != 0 && k > r->samples) {
        reply(fd, k % 2 ? "No data" : "Last 0 samples");
        return;
    }
    size_t i = (size_t)k - 1 < r->n_watts ? (size_t)k - 1 : r->n_watts - 1;
    reply(fd, "Last 1 sample");
    snprintf(line, sizeof(line),
             "Time,01-02-2024 10:00:%02d.000,Watts,%s,Volts,230.100000,Amps,0.540000,"
             "PF,0.990000,Mark,notset",
             k % 60, r->watts[i]);
    reply(fd, line);
}

/* Answers one command; returns 0 to go on, -1 to drop the connection. */
static int answer(struct responder *r, int fd, const char *cmd)
{
    if (r->n_commands < MAX_COMMANDS)
        snprintf(r->commands[r->n_commands++], sizeof(r->commands[0]), "%.31s", cmd);
    if (r->hello == NULL)
        return 0;
    if (strcmp(cmd, "Hello") == 0)
        reply(fd, r->hello);
    else if (strcmp(cmd, "Identify") == 0)
        reply(fd, r->identify);
    else if (strncmp(cmd, "Go,", 3) == 0)
        reply(fd, r->go);
    else if (strcmp(cmd, "Stop") == 0)
        reply(fd, "Stopping untimed measurement");
    else if (strcmp(cmd, "RL") == 0)
        answer_rl(r, fd);
    else
        reply(fd, "Unknown command");
    return r->drop_after_rl && r->n_rl >= r->drop_after_rl ? -1 : 0;
}

/* Serves one connection: lines end with "\r\n" as the real daemon expects. */
static void *responder_main(void *arg)
{
    struct responder *r = arg;
    struct pollfd pfd = { .fd = r->listen_fd, .events = POLLIN };
    if (poll(&pfd, 1, 5000) != 1)
        return NULL;
    int fd = accept(r->listen_fd, NULL, NULL);
    char buf[1024];
    size_t len = 0;
    for (ssize_t n; fd >= 0 && (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0;) {
        len += (size_t)n;
        buf[len] = '\0';
        char *eol;
        while ((eol = strstr(buf, "\r\n")) != NULL) {
            *eol = '\0';
            if (answer(r, fd, buf) < 0) {
                close(fd);
                return NULL;
            }
            len -= (size_t)(eol + 2 - buf);
            memmove(buf, eol + 2, len + 1);
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* A listening socket on 127.0.0.1 and an ephemeral port. */
static int listen_local(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void responder_defaults(struct responder *r)
{
    memset(r, 0, sizeof(*r));
    r->hello = "Hello, PTDaemon here!";
    r->identify = "WT310,1000,1,1,1,1,0,0,1,version=1.10.0-0123abcd-20220101,OS=Linux,"
                  "mode=power,1,1,1,1";
    r->go = "Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup "
            "samples";
    r->watts[0] = "123.450000";
    r->n_watts = 1;
}

static void responder_start(struct responder *r)
{
    r->listen_fd = listen_local(&r->port);
    snprintf(r->addr, sizeof(r->addr), "127.0.0.1:%d", r->port);
    assert_int_equal(pthread_create(&r->thread, NULL, responder_main, r), 0);
}

static void responder_join(struct responder *r)
{
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
}

static struct ptd *priv_of(struct sensor *s)
{
    return s->priv;
}

/* Prepares (does not open) a PTD sensor for addr, with short timeouts. */
static void setup_ptd(struct sensor *s, const char *addr)
{
    memset(s, 0, sizeof(*s));
    memset(&cfg, 0, sizeof(cfg));
    cfg.ptd_addr = addr;
    s->ops = &ptd_sensor_ops;
    s->cfg = &cfg;
    s->priv = calloc(1, s->ops->priv_size);
    assert_non_null(s->priv);
    priv_of(s)->poll_ms = 20;
    priv_of(s)->reply_ms = 1000;
    priv_of(s)->first_sample_ms = 1000;
    priv_of(s)->stale_ms = 1000;
    priv_of(s)->stop_ms = 500;
}

static void close_sensor(struct sensor *s)
{
    s->ops->close(s);
    free(s->priv);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* One read; returns the value, or the channel's read_err (negative). */
static long long read_once(struct sensor *s)
{
    uint64_t v = 0;
    s->channels[0].read_err = 0;
    assert_int_equal(s->ops->read(s, &v), 0);
    return s->channels[0].read_err != 0 ? s->channels[0].read_err : (long long)v;
}

/* Reads every 10 ms until the value is `want` or an error, for up to 1 s. */
static long long read_until(struct sensor *s, long long want)
{
    long long v = read_once(s);
    for (int i = 0; i < 100 && v != want && v >= 0; i++) {
        sleep_ms(10);
        v = read_once(s);
    }
    return v;
}

static void test_ptd_handshake_and_samples(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.watts[1] = "130.000000";
    r.n_watts = 2;
    responder_start(&r);
    setup_ptd(&s, r.addr);
    assert_int_equal(s.ops->open(&s), 0);
    const struct sensor_channel *c = &s.channels[0];
    assert_int_equal(s.n_channels, 1);
    assert_string_equal(c->name, "node:ptd");
    assert_string_equal(c->domain, "node");
    assert_int_equal(c->kind, SENSOR_POWER_GAUGE);
    assert_int_equal(c->provenance, SENSOR_INTEGRATED);
    assert_int_equal(c->scale_num, 1000);
    assert_int_equal(c->scale_den, 1);
    assert_int_equal(c->node_scope, 1);
    assert_int_equal(c->included_in_total, 0);
    assert_string_equal(c->averaging, "analyzer, 1 s samples");
    char note[96];
    snprintf(note, sizeof(note), "analyzer: WT310 (PTDaemon at %s)", r.addr);
    assert_string_equal(s.notes, note);
    assert_int_equal(read_once(&s), 123450);
    assert_int_equal(read_until(&s, 130000), 130000);
    close_sensor(&s);
    responder_join(&r);
    assert_true(r.n_commands >= 5);
    assert_string_equal(r.commands[0], "Hello");
    assert_string_equal(r.commands[1], "Identify");
    assert_string_equal(r.commands[2], "Go,1000,0");
    assert_string_equal(r.commands[3], "RL");
    assert_string_equal(r.commands[r.n_commands - 1], "Stop");
}

static void test_ptd_error_reply_to_go(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.go = "Error: measurement already running";
    responder_start(&r);
    setup_ptd(&s, r.addr);
    assert_int_equal(s.ops->open(&s), -EIO);
    char want[160];
    snprintf(want, sizeof(want),
             "PTDaemon at %s refused 'Go,1000,0': Error: measurement already running", r.addr);
    assert_string_equal(s.errmsg, want);
    close_sensor(&s);
    responder_join(&r);
    assert_int_equal(r.n_commands, 3); /* no Stop: the measurement is not ours */
}

static void test_ptd_not_a_ptdaemon(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.hello = "SSH-2.0-OpenSSH_9.2";
    responder_start(&r);
    setup_ptd(&s, r.addr);
    assert_int_equal(s.ops->open(&s), -EIO);
    assert_non_null(strstr(s.errmsg, "is not a PTDaemon: it answered 'SSH-2.0-OpenSSH_9.2'"));
    close_sensor(&s);
    responder_join(&r);
}

static void test_ptd_temperature_daemon_is_refused(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.identify = "PCsensor USB,5000,1,0,0,0,0,0,1,version=1.9.1-a2d19f26-20190717,OS=Linux,"
                 "mode=temperature,0,0,1,0";
    responder_start(&r);
    setup_ptd(&s, r.addr);
    assert_int_equal(s.ops->open(&s), -EIO);
    assert_non_null(strstr(s.errmsg, "temperature sensor, not a power analyzer"));
    close_sensor(&s);
    responder_join(&r);
}

static void test_ptd_error_replies_and_invalid_samples_are_counted(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.rl_errors = 2;
    r.watts[0] = "-1.000000"; /* the analyzer's mark for an invalid sample */
    r.watts[1] = "50.500000";
    r.n_watts = 2;
    responder_start(&r);
    setup_ptd(&s, r.addr);
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_once(&s), 50500);
    assert_int_equal(priv_of(&s)->n_errors, 2);
    assert_int_equal(priv_of(&s)->n_invalid, 1);
    assert_non_null(strstr(s.notes, "1 invalid sample(s) ignored; 2 error reply(ies), last: "
                                    "'Error: invalid number of parameters'"));
    close_sensor(&s);
    responder_join(&r);
}

static void test_ptd_dropped_connection(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.drop_after_rl = 2;
    responder_start(&r);
    setup_ptd(&s, r.addr);
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_until(&s, -1), -ECONNRESET);
    assert_int_equal(read_once(&s), -ECONNRESET);
    close_sensor(&s);
    responder_join(&r);
    assert_string_equal(r.commands[r.n_commands - 1], "RL"); /* no Stop on a dead line */
}

static void test_ptd_no_data_times_out(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.samples = 1; /* then "No data" and "Last 0 samples" */
    responder_start(&r);
    setup_ptd(&s, r.addr);
    priv_of(&s)->stale_ms = 200;
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_once(&s), 123450);
    assert_int_equal(read_until(&s, -1), -ETIMEDOUT);
    assert_int_equal(priv_of(&s)->n_errors, 0); /* "no data" is not an error */
    close_sensor(&s);
    responder_join(&r);
    assert_true(r.n_rl >= 3);
    assert_string_equal(r.commands[r.n_commands - 1], "Stop");
}

static void test_ptd_silent_daemon(void **state)
{
    (void)state;
    struct responder r;
    struct sensor s;
    responder_defaults(&r);
    r.hello = NULL;
    responder_start(&r);
    setup_ptd(&s, r.addr);
    priv_of(&s)->reply_ms = 200;
    assert_int_equal(s.ops->open(&s), -EIO);
    char want[128];
    snprintf(want, sizeof(want), "PTDaemon at %s did not answer 'Hello' within 0.2 s", r.addr);
    assert_string_equal(s.errmsg, want);
    close_sensor(&s);
    responder_join(&r);
}

static void test_ptd_unreachable_port(void **state)
{
    (void)state;
    struct sensor s;
    int port;
    close(listen_local(&port)); /* nobody listens there now */
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    setup_ptd(&s, addr);
    assert_int_equal(s.ops->open(&s), -ENODEV);
    char want[96];
    snprintf(want, sizeof(want), "cannot reach PTDaemon at %s: Connection refused", addr);
    assert_string_equal(s.errmsg, want);
    close_sensor(&s);
}

static void test_ptd_addresses(void **state)
{
    (void)state;
    static const char *const bad[] = { "127.0.0.1",  "127.0.0.1:", ":8888",     "host:0",
                                       "host:65536", "::1:8888",   "[::1]8888", "host:88x" };
    struct sensor s;
    setup_ptd(&s, NULL);
    assert_int_equal(s.ops->open(&s), -ENODEV);
    assert_string_equal(s.errmsg, "no --ptd address given");
    close_sensor(&s);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setup_ptd(&s, bad[i]);
        if (s.ops->open(&s) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(s.errmsg, "expected HOST:PORT"));
        close_sensor(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptd_handshake_and_samples),
        cmocka_unit_test(test_ptd_error_reply_to_go),
        cmocka_unit_test(test_ptd_not_a_ptdaemon),
        cmocka_unit_test(test_ptd_temperature_daemon_is_refused),
        cmocka_unit_test(test_ptd_error_replies_and_invalid_samples_are_counted),
        cmocka_unit_test(test_ptd_dropped_connection),
        cmocka_unit_test(test_ptd_no_data_times_out),
        cmocka_unit_test(test_ptd_silent_daemon),
        cmocka_unit_test(test_ptd_unreachable_port),
        cmocka_unit_test(test_ptd_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
