/* Tests for the IPMI DCMI backend against a fake BMC behind the sensor_sys device calls:
 * the request it sends, the answers it parses (known watts, little-endian), error
 * completion codes, an inactive reading, timeouts and late answers, and its messages. */
#include <errno.h>
#include <fcntl.h>
#include <linux/ipmi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ipmi_dcmi.h"
#include "sensor.h"

enum fake_mode {
    FAKE_ANSWER, /* answer at once */
    FAKE_SILENT, /* never answer: the backend times out */
    FAKE_LATE,   /* first an answer to an older request, then this one */
    FAKE_SHORT,  /* a truncated DCMI answer */
};

struct fake_answer {
    enum fake_mode mode;
    uint8_t cc;
    uint16_t watts;
    uint8_t state;
};

struct fake_msg {
    long msgid;
    uint8_t data[32];
    size_t len;
};

/* The fakes have no user pointer, so the BMC is file-wide; reset by setup(). */
static struct {
    int open_err;
    char opened_path[64];
    int fd; /* a real fd on /dev/null, so closing it is harmless */
    int closed;
    int max_poll_ms;
    /* Answers, one per request; the last one repeats. */
    struct fake_answer script[8];
    size_t n_script;
    uint32_t period_ms;
    /* What the backend sent last, and how many requests. */
    unsigned n_sent;
    struct ipmi_system_interface_addr addr;
    unsigned char netfn;
    unsigned char cmd;
    unsigned char data[8];
    size_t data_len;
    /* Queued answers. */
    struct fake_msg queue[4];
    size_t n_queued;
} bmc;

static void queue_answer(long msgid, const struct fake_answer *a, uint16_t w)
{
    struct fake_msg *m = &bmc.queue[bmc.n_queued++];
    uint32_t p = bmc.period_ms;
    uint8_t full[] = {
        a->cc,
        0xDC,
        (uint8_t)w,
        (uint8_t)(w >> 8),
        0x10,
        0x00,
        0xFF,
        0x01, /* min 16 W, max 511 W */
        (uint8_t)w,
        (uint8_t)(w >> 8),
        0x78,
        0x56,
        0x34,
        0x12, /* timestamp */
        (uint8_t)p,
        (uint8_t)(p >> 8),
        (uint8_t)(p >> 16),
        (uint8_t)(p >> 24),
        a->state,
    };
    m->msgid = msgid;
    memcpy(m->data, full, sizeof(full));
    m->len = a->cc != 0 ? 1 : a->mode == FAKE_SHORT ? 9 : sizeof(full);
}

static int fake_open(const char *path, int flags)
{
    snprintf(bmc.opened_path, sizeof(bmc.opened_path), "%s", path);
    assert_true(flags & O_CLOEXEC);
    if (bmc.open_err != 0)
        return bmc.open_err;
    bmc.fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(bmc.fd >= 0);
    return bmc.fd;
}

static int fake_send(const struct ipmi_req *req)
{
    assert_int_equal(req->addr_len, sizeof(bmc.addr));
    memcpy(&bmc.addr, req->addr, sizeof(bmc.addr));
    bmc.netfn = req->msg.netfn;
    bmc.cmd = req->msg.cmd;
    bmc.data_len = req->msg.data_len;
    assert_true(bmc.data_len <= sizeof(bmc.data));
    memcpy(bmc.data, req->msg.data, bmc.data_len);
    size_t i = bmc.n_sent < bmc.n_script ? bmc.n_sent : bmc.n_script - 1;
    const struct fake_answer *a = &bmc.script[i];
    bmc.n_sent++;
    if (a->mode == FAKE_LATE) /* another value, so taking it would show */
        queue_answer(req->msgid - 1, a, (uint16_t)(a->watts + 1));
    if (a->mode != FAKE_SILENT)
        queue_answer(req->msgid, a, a->watts);
    return 0;
}

static int fake_receive(struct ipmi_recv *recv)
{
    if (bmc.n_queued == 0)
        return -EAGAIN;
    struct fake_msg m = bmc.queue[0];
    memmove(bmc.queue, bmc.queue + 1, --bmc.n_queued * sizeof(bmc.queue[0]));
    recv->recv_type = IPMI_RESPONSE_RECV_TYPE;
    recv->msgid = m.msgid;
    recv->msg.netfn = 0x2D;
    recv->msg.cmd = 0x02;
    size_t n = m.len < recv->msg.data_len ? m.len : recv->msg.data_len;
    memcpy(recv->msg.data, m.data, n);
    recv->msg.data_len = (unsigned short)n;
    return n < m.len ? -EMSGSIZE : 0;
}

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
    assert_int_equal(fd, bmc.fd);
    if (request == IPMICTL_SEND_COMMAND)
        return fake_send(arg);
    if (request == IPMICTL_RECEIVE_MSG_TRUNC)
        return fake_receive(arg);
    fail_msg("unexpected ioctl 0x%lx", request);
    return -EINVAL;
}

static int fake_poll(int fd, int timeout_ms)
{
    assert_int_equal(fd, bmc.fd);
    if (timeout_ms > bmc.max_poll_ms)
        bmc.max_poll_ms = timeout_ms;
    return bmc.n_queued > 0 ? 1 : 0; /* 0: the whole timeout passed */
}

static int fake_close(int fd)
{
    assert_int_equal(fd, bmc.fd);
    bmc.closed++;
    return close(fd);
}

static const struct sensor_sys fake_sys = {
    .ipmi_open = fake_open,
    .ipmi_ioctl = fake_ioctl,
    .ipmi_poll = fake_poll,
    .ipmi_close = fake_close,
};

static struct sensor_config cfg;

static int setup(void **state)
{
    (void)state;
    memset(&bmc, 0, sizeof(bmc));
    bmc.fd = -1;
    bmc.period_ms = 1000;
    bmc.n_script = 1;
    bmc.script[0] = (struct fake_answer){ FAKE_ANSWER, 0, 250, 0x40 };
    memset(&cfg, 0, sizeof(cfg));
    return 0;
}

static void script(size_t n, const struct fake_answer *answers)
{
    memcpy(bmc.script, answers, n * sizeof(answers[0]));
    bmc.n_script = n;
}

static int open_sensor(struct sensor *s)
{
    memset(s, 0, sizeof(*s));
    s->ops = &ipmi_dcmi_sensor_ops;
    s->sys = &fake_sys;
    s->cfg = &cfg;
    s->priv = calloc(1, s->ops->priv_size);
    assert_non_null(s->priv);
    return s->ops->open(s);
}

static void close_sensor(struct sensor *s)
{
    s->ops->close(s);
    free(s->priv);
}

/* One read; returns the value, or the channel's read_err (negative). */
static long long read_once(struct sensor *s)
{
    uint64_t v = 0;
    s->channels[0].read_err = 0;
    assert_int_equal(s->ops->read(s, &v), 0);
    return s->channels[0].read_err != 0 ? s->channels[0].read_err : (long long)v;
}

static void test_ipmi_dcmi_sends_get_power_reading(void **state)
{
    (void)state;
    struct sensor s;
    assert_int_equal(open_sensor(&s), 0);
    assert_string_equal(bmc.opened_path, "/dev/ipmi0");
    assert_int_equal(bmc.addr.addr_type, IPMI_SYSTEM_INTERFACE_ADDR_TYPE);
    assert_int_equal(bmc.addr.channel, IPMI_BMC_CHANNEL);
    assert_int_equal(bmc.netfn, 0x2C);
    assert_int_equal(bmc.cmd, 0x02);
    static const unsigned char want[] = { 0xDC, 0x01, 0x00, 0x00 };
    assert_int_equal(bmc.data_len, sizeof(want));
    assert_memory_equal(bmc.data, want, sizeof(want));
    assert_true(bmc.max_poll_ms > 0 && bmc.max_poll_ms <= IPMI_DCMI_TIMEOUT_MS);
    close_sensor(&s);
    assert_int_equal(bmc.closed, 1);
}

static void test_ipmi_dcmi_channel_is_a_node_gauge(void **state)
{
    (void)state;
    struct sensor s;
    bmc.period_ms = 5000;
    assert_int_equal(open_sensor(&s), 0);
    assert_int_equal(s.n_channels, 1);
    const struct sensor_channel *c = &s.channels[0];
    assert_string_equal(c->name, "node:ipmi");
    assert_string_equal(c->domain, "node");
    assert_int_equal(c->kind, SENSOR_POWER_GAUGE);
    assert_int_equal(c->provenance, SENSOR_INTEGRATED);
    assert_int_equal(c->scale_num, 1000000);
    assert_int_equal(c->scale_den, 1);
    assert_int_equal(c->node_scope, 1);
    assert_int_equal(c->included_in_total, 0);
    assert_string_equal(c->averaging, "whole watts; BMC reading (period 5000 ms)");
    assert_non_null(strstr(c->note, "statistics period 5000 ms"));
    assert_int_equal(s.min_period_ns, 1000000000ull);
    close_sensor(&s);
}

static void test_ipmi_dcmi_reads_little_endian_watts(void **state)
{
    (void)state;
    struct sensor s;
    const struct fake_answer answers[] = {
        { FAKE_ANSWER, 0, 250, 0x40 },
        { FAKE_ANSWER, 0, 0x0102, 0x40 }, /* 258 W */
        { FAKE_ANSWER, 0, 0xFFFF, 0x40 },
        { FAKE_ANSWER, 0, 0, 0xC0 }, /* other state bits do not matter */
    };
    script(4, answers);
    assert_int_equal(open_sensor(&s), 0);
    assert_int_equal(read_once(&s), 258);
    assert_int_equal(read_once(&s), 65535);
    assert_int_equal(read_once(&s), 0);
    close_sensor(&s);
}

static void test_ipmi_dcmi_uses_the_configured_device(void **state)
{
    (void)state;
    struct sensor s;
    cfg.ipmi_dev = "/dev/ipmi3";
    assert_int_equal(open_sensor(&s), 0);
    assert_string_equal(bmc.opened_path, "/dev/ipmi3");
    assert_non_null(strstr(s.channels[0].note, "'/dev/ipmi3'"));
    close_sensor(&s);
}

static void test_ipmi_dcmi_no_device(void **state)
{
    (void)state;
    struct sensor s;
    bmc.open_err = -ENOENT;
    assert_int_equal(open_sensor(&s), -ENODEV);
    assert_string_equal(s.errmsg,
                        "no IPMI device '/dev/ipmi0' (modprobe ipmi_devintf ipmi_si, or no BMC)");
    assert_int_equal(s.n_channels, 0);
    close_sensor(&s);
    assert_int_equal(bmc.closed, 0);
}

static void test_ipmi_dcmi_permission_denied(void **state)
{
    (void)state;
    struct sensor s;
    bmc.open_err = -EACCES;
    assert_int_equal(open_sensor(&s), -EACCES);
    assert_non_null(strstr(s.errmsg, "cannot open '/dev/ipmi0': Permission denied"));
    assert_non_null(strstr(s.errmsg, "root"));
    assert_non_null(strstr(s.errmsg, "udev rule"));
    assert_non_null(strstr(s.errmsg, "GROUP=\"ipmi\""));
    close_sensor(&s);
}

static void test_ipmi_dcmi_unsupported_completion_code(void **state)
{
    (void)state;
    struct sensor s;
    bmc.script[0] = (struct fake_answer){ FAKE_ANSWER, 0xC1, 0, 0 };
    assert_int_equal(open_sensor(&s), -ENODEV);
    assert_string_equal(s.errmsg, "the BMC does not support DCMI Get Power Reading "
                                  "(completion code 0xC1: invalid command)");
    close_sensor(&s);
    assert_int_equal(bmc.closed, 1);
}

static void test_ipmi_dcmi_busy_at_open_is_an_error(void **state)
{
    (void)state;
    struct sensor s;
    bmc.script[0] = (struct fake_answer){ FAKE_ANSWER, 0xC0, 0, 0 };
    assert_int_equal(open_sensor(&s), -EIO);
    assert_non_null(strstr(s.errmsg, "failed DCMI Get Power Reading (completion code 0xC0: "
                                     "node busy)"));
    close_sensor(&s);
}

static void test_ipmi_dcmi_inactive_reading(void **state)
{
    (void)state;
    struct sensor s;
    bmc.script[0] = (struct fake_answer){ FAKE_ANSWER, 0, 120, 0x00 };
    assert_int_equal(open_sensor(&s), -EIO);
    assert_string_equal(s.errmsg,
                        "the BMC's power reading is not active (DCMI power reading state 0x00)");
    assert_int_equal(s.n_channels, 0);
    close_sensor(&s);
}

static void test_ipmi_dcmi_timeout_at_open(void **state)
{
    (void)state;
    struct sensor s;
    bmc.script[0] = (struct fake_answer){ FAKE_SILENT, 0, 0, 0 };
    assert_int_equal(open_sensor(&s), -EIO);
    assert_string_equal(s.errmsg, "the BMC did not answer DCMI Get Power Reading within 1000 ms");
    close_sensor(&s);
}

static void test_ipmi_dcmi_short_answer(void **state)
{
    (void)state;
    struct sensor s;
    bmc.script[0] = (struct fake_answer){ FAKE_SHORT, 0, 100, 0x40 };
    assert_int_equal(open_sensor(&s), -EIO);
    assert_non_null(strstr(s.errmsg, "is not DCMI"));
    close_sensor(&s);
}

static void test_ipmi_dcmi_timeouts_hold_then_lose_the_channel(void **state)
{
    (void)state;
    struct sensor s;
    const struct fake_answer answers[] = {
        { FAKE_ANSWER, 0, 300, 0x40 },
        { FAKE_SILENT, 0, 0, 0 },
    };
    script(2, answers);
    assert_int_equal(open_sensor(&s), 0);
    assert_int_equal(read_once(&s), 300); /* held */
    assert_int_equal(read_once(&s), 300); /* held */
    assert_non_null(strstr(s.notes, "2 failed reading(s)"));
    assert_int_equal(read_once(&s), -ETIMEDOUT);
    unsigned sent = bmc.n_sent;
    assert_int_equal(read_once(&s), -ETIMEDOUT);
    assert_int_equal(bmc.n_sent, sent); /* a lost channel does not ask the BMC again */
    close_sensor(&s);
}

static void test_ipmi_dcmi_error_codes_then_recovery(void **state)
{
    (void)state;
    struct sensor s;
    const struct fake_answer answers[] = {
        { FAKE_ANSWER, 0, 200, 0x40 }, { FAKE_ANSWER, 0xC0, 0, 0 }, { FAKE_ANSWER, 0, 0, 0x00 },
        { FAKE_ANSWER, 0, 210, 0x40 }, { FAKE_ANSWER, 0xC3, 0, 0 }, { FAKE_ANSWER, 0xC3, 0, 0 },
        { FAKE_ANSWER, 0xC3, 0, 0 },
    };
    script(7, answers);
    assert_int_equal(open_sensor(&s), 0);
    assert_int_equal(read_once(&s), 200); /* node busy: held */
    assert_int_equal(read_once(&s), 200); /* inactive: held */
    assert_int_equal(read_once(&s), 210); /* recovered: the count starts again */
    assert_int_equal(read_once(&s), 210);
    assert_int_equal(read_once(&s), 210);
    assert_int_equal(read_once(&s), -EIO);
    close_sensor(&s);
}

static void test_ipmi_dcmi_max_failures_setting(void **state)
{
    (void)state;
    struct sensor s;
    const struct fake_answer answers[] = {
        { FAKE_ANSWER, 0, 300, 0x40 },
        { FAKE_SILENT, 0, 0, 0 },
    };
    script(2, answers);
    memset(&s, 0, sizeof(s));
    s.ops = &ipmi_dcmi_sensor_ops;
    s.sys = &fake_sys;
    s.cfg = &cfg;
    s.priv = calloc(1, s.ops->priv_size);
    assert_non_null(s.priv);
    ((struct ipmi_dcmi *)s.priv)->max_failures = 1;
    ((struct ipmi_dcmi *)s.priv)->timeout_ms = 50;
    assert_int_equal(s.ops->open(&s), 0);
    assert_int_equal(read_once(&s), -ETIMEDOUT);
    assert_true(bmc.max_poll_ms <= 50);
    close_sensor(&s);
}

static void test_ipmi_dcmi_drops_late_answers(void **state)
{
    (void)state;
    struct sensor s;
    const struct fake_answer answers[] = {
        { FAKE_ANSWER, 0, 100, 0x40 },
        { FAKE_LATE, 0, 444, 0x40 },
    };
    script(2, answers);
    assert_int_equal(open_sensor(&s), 0);
    assert_int_equal(read_once(&s), 444);
    assert_int_equal(bmc.n_queued, 0);
    close_sensor(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ipmi_dcmi_sends_get_power_reading, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_channel_is_a_node_gauge, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_reads_little_endian_watts, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_uses_the_configured_device, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_no_device, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_permission_denied, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_unsupported_completion_code, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_busy_at_open_is_an_error, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_inactive_reading, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_timeout_at_open, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_short_answer, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_timeouts_hold_then_lose_the_channel, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_error_codes_then_recovery, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_max_failures_setting, setup),
        cmocka_unit_test_setup(test_ipmi_dcmi_drops_late_answers, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
