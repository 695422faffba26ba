/* Whole-node power from the BMC: DCMI "Get Power Reading" (NetFn 0x2C, command 0x02,
 * request {0xDC, 0x01, 0x00, 0x00}) sent through the Linux IPMI device (/dev/ipmi0, from
 * the ipmi_si and ipmi_devintf modules). The answer, after the completion code, is the
 * group id 0xDC, current/minimum/maximum/average power (u16 little-endian, whole watts),
 * a timestamp (u32), the statistics period (u32, ms) and a state byte (bit 6: reading
 * active). The channel is the current power, a gauge the sampler integrates; it covers
 * the whole node, so it is a total of its own beside the component sum. */
#include "ipmi_dcmi.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DCMI_NETFN 0x2C
#define DCMI_CMD_GET_POWER_READING 0x02
#define DCMI_GROUP_ID 0xDC
#define DCMI_MODE_POWER_STATUS 0x01
#define DCMI_STATE_ACTIVE 0x40
/* Completion code, group id, 4 × u16 power, u32 timestamp, u32 period, state. */
#define DCMI_RESPONSE_LEN 19
#define DCMI_DEFAULT_DEV "/dev/ipmi0"
/* Plausibility bound of a whole node (the sampler allows 4 × this). */
#define DCMI_MAX_POWER_UW (25ull * 1000 * 1000 * 1000)
#define NS_PER_MS 1000000ull

/* Completion codes (IPMI 2.0 table 5-2) and whether they mean "DCMI power reading is
 * not supported here" (-ENODEV) rather than a failure of this one request (-EIO). */
static const struct dcmi_completion {
    uint8_t code;
    int unsupported;
    const char *text;
} dcmi_completions[] = {
    { 0xC0, 0, "node busy" },
    { 0xC1, 1, "invalid command" },
    { 0xC2, 1, "command invalid for the given LUN" },
    { 0xC3, 0, "timeout while processing the command" },
    { 0xC9, 1, "parameter out of range" },
    { 0xCB, 1, "requested data not present" },
    { 0xCC, 1, "invalid data field in the request" },
    { 0xD4, 1, "insufficient privilege level" },
    { 0xD5, 1, "not supported in the present state" },
    { 0xD6, 1, "sub-function disabled or unavailable" },
};

/* One parsed answer. */
struct dcmi_reading {
    uint16_t current_w;
    uint16_t min_w;
    uint16_t max_w;
    uint16_t avg_w;
    uint32_t timestamp;
    uint32_t period_ms;
    uint8_t state;
};

static int dev_open(const struct sensor *s, const char *path, int flags)
{
    if (s->sys != NULL && s->sys->ipmi_open != NULL)
        return s->sys->ipmi_open(path, flags);
    int fd = open(path, flags);
    return fd < 0 ? -errno : fd;
}

static int dev_ioctl(const struct sensor *s, int fd, unsigned long request, void *arg)
{
    if (s->sys != NULL && s->sys->ipmi_ioctl != NULL)
        return s->sys->ipmi_ioctl(fd, request, arg);
    return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

/* 1 when fd is readable, 0 on timeout, or a negative errno. */
static int dev_poll(const struct sensor *s, int fd, int timeout_ms)
{
    if (s->sys != NULL && s->sys->ipmi_poll != NULL)
        return s->sys->ipmi_poll(fd, timeout_ms);
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0)
        return -errno;
    if (r > 0 && !(pfd.revents & POLLIN))
        return -EIO;
    return r;
}

static void dev_close(const struct sensor *s, int fd)
{
    if (s->sys != NULL && s->sys->ipmi_close != NULL)
        s->sys->ipmi_close(fd);
    else
        close(fd);
}

static const char *dev_path(const struct sensor *s)
{
    if (s->cfg != NULL && s->cfg->ipmi_dev != NULL && s->cfg->ipmi_dev[0] != '\0')
        return s->cfg->ipmi_dev;
    return DCMI_DEFAULT_DEV;
}

static int send_request(const struct sensor *s, struct ipmi_dcmi *st)
{
    struct ipmi_system_interface_addr addr = { IPMI_SYSTEM_INTERFACE_ADDR_TYPE, IPMI_BMC_CHANNEL,
                                               0 };
    unsigned char data[] = { DCMI_GROUP_ID, DCMI_MODE_POWER_STATUS, 0x00, 0x00 };
    struct ipmi_req req;
    memset(&req, 0, sizeof(req));
    req.addr = (unsigned char *)&addr;
    req.addr_len = sizeof(addr);
    req.msgid = ++st->msgid;
    req.msg.netfn = DCMI_NETFN;
    req.msg.cmd = DCMI_CMD_GET_POWER_READING;
    req.msg.data = data;
    req.msg.data_len = sizeof(data);
    return dev_ioctl(s, st->fd, IPMICTL_SEND_COMMAND, &req);
}

/* Waits (at most timeout_ms in all) for the answer to the last request; answers to
 * earlier requests that timed out, and anything that is not a response, are dropped.
 * Returns 0 with buf[0..*len), -ETIMEDOUT, or a negative errno. */
static int receive_response(const struct sensor *s, struct ipmi_dcmi *st, uint8_t *buf, size_t size,
                            size_t *len)
{
    uint64_t deadline = sensor_now_ns() + st->timeout_ms * NS_PER_MS;
    for (;;) {
        uint64_t now = sensor_now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        int r = dev_poll(s, st->fd, (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS));
        if (r == 0)
            return -ETIMEDOUT;
        if (r == -EINTR)
            continue;
        if (r < 0)
            return r;
        struct ipmi_addr addr;
        struct ipmi_recv recv;
        memset(&recv, 0, sizeof(recv));
        recv.addr = (unsigned char *)&addr;
        recv.addr_len = sizeof(addr);
        recv.msg.data = buf;
        recv.msg.data_len = (unsigned short)size;
        r = dev_ioctl(s, st->fd, IPMICTL_RECEIVE_MSG_TRUNC, &recv);
        if (r == -EAGAIN || r == -EINTR)
            continue;
        if (r < 0 && r != -EMSGSIZE) /* EMSGSIZE: truncated to size, still delivered */
            return r;
        if (recv.recv_type != IPMI_RESPONSE_RECV_TYPE || recv.msgid != st->msgid)
            continue;
        *len = recv.msg.data_len < size ? recv.msg.data_len : size;
        return 0;
    }
}

static uint32_t le_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Returns 0, the completion code (> 0) when it is not 0, or -EPROTO when the answer is
 * too short or is not a DCMI one. */
static int parse_reading(const uint8_t *d, size_t len, struct dcmi_reading *out)
{
    if (len < 1)
        return -EPROTO;
    if (d[0] != 0)
        return d[0];
    if (len < DCMI_RESPONSE_LEN || d[1] != DCMI_GROUP_ID)
        return -EPROTO;
    out->current_w = le_u16(d + 2);
    out->min_w = le_u16(d + 4);
    out->max_w = le_u16(d + 6);
    out->avg_w = le_u16(d + 8);
    out->timestamp = le_u32(d + 10);
    out->period_ms = le_u32(d + 14);
    out->state = d[18];
    return 0;
}

/* One request and its answer; no allocation. Returns what parse_reading() returns, or a
 * negative errno from the device (-ETIMEDOUT when the BMC does not answer in time). */
static int query(const struct sensor *s, struct ipmi_dcmi *st, struct dcmi_reading *out)
{
    uint8_t buf[64];
    size_t len = 0;
    int r = send_request(s, st);
    if (r == 0)
        r = receive_response(s, st, buf, sizeof(buf), &len);
    return r < 0 ? r : parse_reading(buf, len, out);
}

static const struct dcmi_completion *find_completion(int code)
{
    for (size_t i = 0; i < sizeof(dcmi_completions) / sizeof(dcmi_completions[0]); i++)
        if (dcmi_completions[i].code == code)
            return &dcmi_completions[i];
    return NULL;
}

static int open_error(struct sensor *s, const char *path, int err)
{
    if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
        return sensor_errorf(
            s, -ENODEV, "no IPMI device '%s' (modprobe ipmi_devintf ipmi_si, or no BMC)", path);
    if (err == -EACCES || err == -EPERM)
        return sensor_errorf(s, -EACCES,
                             "cannot open '%s': %s; run as root, or give the ipmi group access "
                             "with a udev rule (KERNEL==\"ipmi*\", GROUP=\"ipmi\", MODE=\"0660\") "
                             "and join that group",
                             path, strerror(-err));
    return sensor_errorf(s, -EIO, "cannot open '%s': %s", path, strerror(-err));
}

/* The first query failed: unsupported (-ENODEV) or not working (-EIO), with the reason. */
static int query_error(struct sensor *s, const char *path, int r)
{
    if (r == -ETIMEDOUT)
        return sensor_errorf(s, -EIO, "the BMC did not answer DCMI Get Power Reading within %u ms",
                             ((const struct ipmi_dcmi *)s->priv)->timeout_ms);
    if (r == -EPROTO)
        return sensor_errorf(s, -EIO, "the BMC's answer to DCMI Get Power Reading is not DCMI");
    if (r < 0)
        return sensor_errorf(s, -EIO, "cannot send DCMI Get Power Reading through '%s': %s", path,
                             strerror(-r));
    const struct dcmi_completion *c = find_completion(r);
    int unsupported = c == NULL || c->unsupported;
    return sensor_errorf(s, unsupported ? -ENODEV : -EIO,
                         "the BMC %s DCMI Get Power Reading (completion code 0x%02X: %s)",
                         unsupported ? "does not support" : "failed", (unsigned)r,
                         c != NULL ? c->text : "unknown");
}

static void add_channel(struct sensor *s, const char *path, const struct dcmi_reading *rd)
{
    struct sensor_channel *c = sensor_add_channel(s, "node:ipmi");
    snprintf(c->domain, sizeof(c->domain), "node");
    c->kind = SENSOR_POWER_GAUGE;
    c->provenance = SENSOR_INTEGRATED;
    c->scale_num = 1000000; /* whole watts to µW */
    c->scale_den = 1;
    c->max_power_uw = DCMI_MAX_POWER_UW;
    c->included_in_total = 0;
    c->node_scope = 1;
    snprintf(c->averaging, sizeof(c->averaging), "whole watts; BMC reading (period %u ms)",
             (unsigned)rd->period_ms);
    snprintf(c->note, sizeof(c->note),
             "DCMI Get Power Reading (current power) through '%s'; BMC statistics period %u ms",
             path, (unsigned)rd->period_ms);
}

static void ipmi_dcmi_close(struct sensor *s)
{
    struct ipmi_dcmi *st = s->priv;
    if (st == NULL || !st->have_fd)
        return;
    dev_close(s, st->fd);
    st->have_fd = 0;
}

static int ipmi_dcmi_open(struct sensor *s)
{
    struct ipmi_dcmi *st = s->priv;
    const char *path = dev_path(s);
    struct dcmi_reading rd;
    if (st->timeout_ms == 0)
        st->timeout_ms = IPMI_DCMI_TIMEOUT_MS;
    if (st->max_failures == 0)
        st->max_failures = IPMI_DCMI_MAX_FAILURES;
    st->have_fd = 0;
    s->n_channels = 0;
    int fd = dev_open(s, path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return open_error(s, path, fd);
    st->fd = fd;
    st->have_fd = 1;
    int r = query(s, st, &rd);
    if (r != 0) {
        r = query_error(s, path, r);
        goto fail;
    }
    if (!(rd.state & DCMI_STATE_ACTIVE)) {
        r = sensor_errorf(s, -EIO,
                          "the BMC's power reading is not active (DCMI power reading state 0x%02X)",
                          (unsigned)rd.state);
        goto fail;
    }
    add_channel(s, path, &rd);
    st->last_w = rd.current_w;
    s->min_period_ns = IPMI_DCMI_PERIOD_NS;
    st->notes_base = strlen(s->notes);
    return 0;
fail:
    ipmi_dcmi_close(s);
    return r;
}

/* Rewrites the line after the open-time notes when the failure count changes. */
static void note_failures(struct sensor *s, const struct ipmi_dcmi *st)
{
    if (st->notes_base + 2 >= sizeof(s->notes))
        return;
    snprintf(s->notes + st->notes_base, sizeof(s->notes) - st->notes_base,
             "%s%llu failed reading(s); the last good one was held", st->notes_base ? "\n" : "",
             (unsigned long long)st->n_failed);
}

/* One reading per call, blocking at most timeout_ms. A failure holds the last good
 * reading until max_failures in a row; then the channel is lost (-ETIMEDOUT when the
 * BMC stopped answering, -EIO otherwise) and the BMC is not asked again. */
static int ipmi_dcmi_read(struct sensor *s, uint64_t *values)
{
    struct ipmi_dcmi *st = s->priv;
    struct dcmi_reading rd;
    if (st->lost_err != 0) {
        s->channels[0].read_err = st->lost_err;
        return 0;
    }
    int r = query(s, st, &rd);
    if (r == 0 && (rd.state & DCMI_STATE_ACTIVE)) {
        st->failures = 0;
        st->last_w = rd.current_w;
        values[0] = st->last_w;
        return 0;
    }
    st->failures++;
    st->n_failed++;
    note_failures(s, st);
    if (st->failures < st->max_failures) {
        values[0] = st->last_w;
        return 0;
    }
    st->lost_err = r == -ETIMEDOUT ? -ETIMEDOUT : -EIO;
    s->channels[0].read_err = st->lost_err;
    return 0;
}

const struct sensor_ops ipmi_dcmi_sensor_ops = {
    .name = "ipmi-dcmi",
    .priv_size = sizeof(struct ipmi_dcmi),
    .open = ipmi_dcmi_open,
    .read = ipmi_dcmi_read,
    .close = ipmi_dcmi_close,
};
