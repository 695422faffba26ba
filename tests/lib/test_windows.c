/* Tests for windows and metrics (C API) and for the control protocol server: nesting,
 * overlap, bad calls, edges read at their instant, garbage and overlong lines, and a
 * client that disconnects in the middle of a line. Runs on the model backend. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wattprof.h"

struct fixture {
    struct wattprof_ctx *ctx;
    struct wattprof_session *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(wattprof_ctx_new(&f->ctx), 0);
    assert_int_equal(wattprof_ctx_set_backends(f->ctx, "model"), 0);
    assert_int_equal(wattprof_ctx_open_sensors(f->ctx), 0);
    assert_int_equal(wattprof_session_new(f->ctx, &f->s), 0);
    /* a long interval: window edges must not depend on the periodic samples */
    assert_int_equal(wattprof_session_set_interval_ms(f->s, 5000), 0);
    assert_int_equal(wattprof_session_start(f->s), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    wattprof_session_free(f->s);
    wattprof_ctx_free(f->ctx);
    free(f);
    return 0;
}

static void burn_ms(long ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    volatile unsigned long x = 0;
    do {
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static void test_windows_nest_and_overlap(void **state)
{
    struct fixture *f = *state;
    uint64_t outer, inner, overlap;
    assert_int_equal(wattprof_session_window_begin(f->s, "train", &outer), 0);
    burn_ms(120);
    assert_int_equal(wattprof_session_window_begin(f->s, "epoch-1", &inner), 0);
    burn_ms(120);
    assert_int_equal(wattprof_session_window_begin(f->s, "overlap", &overlap), 0);
    assert_int_equal(wattprof_session_window_end(f->s, inner), 0);
    burn_ms(120);
    assert_int_equal(wattprof_session_window_end(f->s, outer), 0);
    assert_int_equal(wattprof_session_window_end(f->s, overlap), 0);
    assert_int_equal(wattprof_session_window_units(f->s, inner, 512, "samples"), 0);
    assert_int_equal(wattprof_session_metric(f->s, inner, "accuracy", 0.5), 0);
    assert_int_equal(wattprof_session_metric(f->s, inner, "accuracy", 0.75), 0);
    assert_int_equal(wattprof_session_metric(f->s, 0, "final_loss", 0.125), 0);
    assert_int_equal(wattprof_session_stop(f->s), 0);
    const struct wattprof_result *r = wattprof_session_result(f->s);
    assert_int_equal(r->n_windows, 3);
    const struct wattprof_window_result *w = r->windows;
    assert_string_equal(w[0].name, "train");
    assert_string_equal(w[1].name, "epoch-1");
    /* every window was read at its edges although the sampler ticks every 5 s */
    for (int i = 0; i < 3; i++) {
        assert_true(w[i].complete);
        assert_true(w[i].energy_uj > 0);
        assert_true(w[i].attributed_uj <= w[i].energy_uj);
        assert_true(w[i].end_ns > w[i].start_ns);
    }
    /* nesting: the outer window holds the inner one */
    assert_true(w[0].start_ns <= w[1].start_ns && w[1].end_ns <= w[0].end_ns);
    assert_true(w[0].energy_uj >= w[1].energy_uj);
    assert_true(w[0].energy_uj <= r->energy_uj);
    /* overlap: starts inside epoch-1, ends after train */
    assert_true(w[2].start_ns < w[1].end_ns && w[2].end_ns >= w[0].end_ns);
    assert_true(w[1].units == 512);
    assert_string_equal(w[1].unit_name, "samples");
    assert_int_equal(w[1].n_metrics, 1);
    assert_true(w[1].metrics[0].value == 0.75);
    assert_int_equal(r->n_metrics, 1);
    assert_string_equal(r->metrics[0].name, "final_loss");
    /* per-channel energies add up to the window's energy */
    uint64_t sum = 0;
    for (size_t c = 0; c < w[0].n_channels; c++)
        if (r->channels[c].info.included_in_total)
            sum += w[0].channel_uj[c];
    assert_true(sum == w[0].energy_uj);
}

static void test_windows_bad_calls(void **state)
{
    struct fixture *f = *state;
    uint64_t id;
    assert_int_equal(wattprof_session_window_end(f->s, 42), -ENOENT);
    assert_non_null(strstr(wattprof_ctx_errmsg(f->ctx), "no window 42"));
    assert_int_equal(wattprof_session_window_begin(f->s, "", &id), -EINVAL);
    assert_int_equal(wattprof_session_window_begin(f->s, "has space", &id), -EINVAL);
    char long_name[80];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[79] = '\0';
    assert_int_equal(wattprof_session_window_begin(f->s, long_name, &id), -EINVAL);
    assert_int_equal(wattprof_session_window_begin(f->s, "ok", &id), 0);
    assert_int_equal(wattprof_session_window_end(f->s, id), 0);
    assert_int_equal(wattprof_session_window_end(f->s, id), -EALREADY);
    /* units may be given after the window ended (the count is known then) */
    assert_int_equal(wattprof_session_window_units(f->s, id, 10, NULL), 0);
    assert_int_equal(wattprof_session_window_units(f->s, id, 0, NULL), -EINVAL);
    assert_int_equal(wattprof_session_window_units(f->s, id, NAN, NULL), -EINVAL);
    assert_int_equal(wattprof_session_metric(f->s, id, "acc", INFINITY), -EINVAL);
    assert_int_equal(wattprof_session_metric(f->s, id, "bad name", 1), -EINVAL);
    assert_int_equal(wattprof_session_metric(f->s, 99, "acc", 1), -ENOENT);
    assert_int_equal(wattprof_session_window_begin(f->s, "left-open", &id), 0);
    assert_int_equal(wattprof_session_stop(f->s), 0);
    const struct wattprof_result *r = wattprof_session_result(f->s);
    assert_int_equal(r->n_windows, 2);
    assert_false(r->windows[1].complete);
    assert_true(r->windows[1].end_ns >= r->windows[1].start_ns);
    assert_non_null(strstr(r->warnings, "still open at the end"));
    assert_string_equal(r->windows[0].unit_name, "units");
    assert_int_equal(wattprof_session_window_begin(f->s, "late", &id), -EINVAL);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_text(int fd, const char *text)
{
    assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

static void test_control_protocol(void **state)
{
    struct fixture *f = *state;
    const char *addr;
    assert_int_equal(wattprof_session_control_start(f->s, &addr), 0);
    int a = connect_to(addr);
    int b = connect_to(addr);
    send_text(a, "begin t1 train\n# a comment\n\nbegin t2 epoch\n");
    burn_ms(50);
    send_text(a, "end t2\nunits t2 256 samples\nmetric accuracy 0.9 t2\n");
    send_text(b, "metric loss 0.25\nrun-units 1000 samples\nthis is garbage\n");
    send_text(b, "end nosuchtag\nmetric acc NaN\nbegin x bad name here\n");
    char big[3000];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    assert_int_equal(send(b, big, sizeof(big), MSG_NOSIGNAL), (ssize_t)sizeof(big));
    send_text(b, "begin t3 after-overlong\nend t3\n");
    send_text(a, "end t1\nbegin t4 cut-off"); /* disconnects mid-line */
    close(a);
    close(b);
    usleep(100000);
    assert_int_equal(wattprof_session_stop(f->s), 0);
    const struct wattprof_result *r = wattprof_session_result(f->s);
    assert_int_equal(r->n_windows, 3);
    assert_string_equal(r->windows[0].name, "train");
    assert_string_equal(r->windows[1].name, "epoch");
    assert_string_equal(r->windows[2].name, "after-overlong");
    for (int i = 0; i < 3; i++)
        assert_true(r->windows[i].complete);
    assert_true(r->windows[1].units == 256);
    assert_true(r->windows[1].n_metrics == 1 && r->windows[1].metrics[0].value == 0.9);
    assert_true(r->units == 1000);
    assert_int_equal(r->n_metrics, 1);
    /* garbage, unknown tag, NaN, too many words, overlong, cut-off: 6 errors */
    assert_non_null(strstr(r->warnings, "6 control message(s) could not be understood"));
    assert_non_null(strstr(r->warnings, "line longer than 1023 bytes"));
    assert_non_null(strstr(r->warnings, "connection closed in the middle of a line"));
    /* the socket is gone after stop */
    assert_int_equal(access(addr, F_OK), -1);
}

static void test_tracker_in_process(void **state)
{
    (void)state;
    unsetenv("WATTPROF_CONTROL");
    setenv("WATTPROF_SENSORS", "model", 1);
    struct wattprof_tracker *t;
    int r = wattprof_tracker_open(&t);
    assert_int_equal(r, 0);
    assert_false(wattprof_tracker_is_remote(t));
    uint64_t w;
    assert_int_equal(wattprof_tracker_window_begin(t, "epoch", &w), 0);
    burn_ms(50);
    assert_int_equal(wattprof_tracker_window_end(t, w), 0);
    assert_int_equal(wattprof_tracker_window_units(t, w, 100, "samples"), 0);
    assert_int_equal(wattprof_tracker_metric(t, w, "accuracy", 0.5), 0);
    assert_int_equal(wattprof_tracker_window_begin(t, "bad name", &w), -EINVAL);
    assert_non_null(strstr(wattprof_tracker_errmsg(t), "invalid window name"));
    assert_null(wattprof_tracker_result(t));
    assert_int_equal(wattprof_tracker_close(t), 0);
    assert_int_equal(wattprof_tracker_close(t), -EALREADY);
    const struct wattprof_result *res = wattprof_tracker_result(t);
    assert_non_null(res);
    assert_int_equal(res->n_windows, 1);
    assert_true(res->windows[0].energy_uj > 0);
    char *json = NULL;
    assert_int_equal(wattprof_tracker_json(t, &json), 0);
    assert_non_null(strstr(json, "\"energy_per_unit_j\""));
    wattprof_free(json);
    wattprof_tracker_free(t);
}

static void test_tracker_remote_unreachable(void **state)
{
    (void)state;
    setenv("WATTPROF_CONTROL", "/nonexistent/wattprof/control", 1);
    struct wattprof_tracker *t;
    int r = wattprof_tracker_open(&t);
    assert_true(r < 0);
    assert_non_null(t);
    assert_true(wattprof_tracker_is_remote(t));
    assert_non_null(strstr(wattprof_tracker_errmsg(t), "cannot connect"));
    uint64_t w;
    assert_int_equal(wattprof_tracker_window_begin(t, "x", &w), -ENODEV);
    wattprof_tracker_free(t);
    unsetenv("WATTPROF_CONTROL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_windows_nest_and_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_windows_bad_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_protocol, setup, teardown),
        cmocka_unit_test(test_tracker_in_process),
        cmocka_unit_test(test_tracker_remote_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
