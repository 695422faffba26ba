/* The line protocol of wattprof serve's Unix socket: parsing and formatting only (see
 * daemon_proto.h). */
#include "daemon_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROTO_FIELDS 8

static const struct {
    const char *word;
    enum daemon_cmd cmd;
} proto_commands[] = {
    { "channels", DAEMON_CMD_CHANNELS },
    { "read", DAEMON_CMD_READ },
};

enum daemon_cmd daemon_proto_command(const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len > 9 && memcmp(line, "register ", 9) == 0)
        return DAEMON_CMD_REGISTER;
    for (size_t i = 0; i < sizeof(proto_commands) / sizeof(proto_commands[0]); i++) {
        const char *w = proto_commands[i].word;
        if (strlen(w) == len && memcmp(w, line, len) == 0)
            return proto_commands[i].cmd;
    }
    return DAEMON_CMD_UNKNOWN;
}

static int job_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("._:@/-", c));
}

int daemon_proto_parse_register(const char *line, size_t len, int *pid, char *job)
{
    char buf[DAEMON_PROTO_REQUEST_MAX + 1], *end;
    size_t n = 0;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len <= 9 || len > DAEMON_PROTO_REQUEST_MAX || memchr(line, '\0', len) ||
        memcmp(line, "register ", 9) != 0)
        return -EINVAL;
    memcpy(buf, line + 9, len - 9);
    buf[len - 9] = '\0';
    errno = 0;
    long v = strtol(buf, &end, 10);
    /* a negative PID names a process group, as for kill(2) */
    if (errno || end == buf || *end != ' ' || v == 0 || v > 0x3fffffff || v < -0x3fffffff)
        return -EINVAL;
    for (const char *p = end + 1; *p; p++, n++)
        if (!job_char(*p) || n + 1 >= DAEMON_PROTO_JOB_MAX)
            return -EINVAL;
    if (n == 0)
        return -EINVAL;
    *pid = (int)v;
    memcpy(job, end + 1, n + 1);
    return 0;
}

void daemon_proto_job_name(const char *in, char *job)
{
    size_t n = 0;
    for (; in[n] && n + 1 < DAEMON_PROTO_JOB_MAX; n++)
        job[n] = job_char(in[n]) ? in[n] : '_';
    job[n] = '\0';
}

/* Copies src into the line at *len, tabs and newlines as spaces. */
static void put_field(char *buf, size_t size, size_t *len, const char *src, char end)
{
    for (const char *p = src; *p && *len + 1 < size; p++)
        buf[(*len)++] = (*p == '\t' || *p == '\n' || *p == '\r') ? ' ' : *p;
    if (*len + 1 < size)
        buf[(*len)++] = end;
    buf[*len < size ? *len : size - 1] = '\0';
}

int daemon_proto_format_channel(char *buf, size_t size, const struct daemon_proto_channel *c)
{
    const char *fields[] = { c->name,
                             c->kind,
                             c->domain,
                             c->source,
                             c->provenance,
                             c->included ? "1" : "0",
                             c->node_scope ? "1" : "0",
                             c->note };
    size_t len = 0;
    if (size == 0)
        return -ENOSPC;
    for (size_t i = 0; i < PROTO_FIELDS; i++)
        put_field(buf, size, &len, fields[i], i + 1 < PROTO_FIELDS ? '\t' : '\n');
    if (len == 0 || buf[len - 1] != '\n')
        return -ENOSPC;
    return (int)len;
}

/* Copies the field [p, end) into dst[size]; -EPROTO when it does not fit. */
static int take_field(char *dst, size_t size, const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    if (n >= size)
        return -EPROTO;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

static int parse_flag(const char *s, int *out)
{
    if ((s[0] != '0' && s[0] != '1') || s[1] != '\0')
        return -EPROTO;
    *out = s[0] == '1';
    return 0;
}

int daemon_proto_parse_channel(const char *line, struct daemon_proto_channel *c)
{
    char included[4], scope[4];
    struct {
        char *dst;
        size_t size;
    } f[PROTO_FIELDS] = {
        { c->name, sizeof(c->name) },
        { c->kind, sizeof(c->kind) },
        { c->domain, sizeof(c->domain) },
        { c->source, sizeof(c->source) },
        { c->provenance, sizeof(c->provenance) },
        { included, sizeof(included) },
        { scope, sizeof(scope) },
        { c->note, sizeof(c->note) },
    };
    const char *p = line;
    for (size_t i = 0; i < PROTO_FIELDS; i++) {
        const char *end = i + 1 < PROTO_FIELDS ? strchr(p, '\t') : p + strlen(p);
        if (!end || take_field(f[i].dst, f[i].size, p, end) < 0)
            return -EPROTO;
        p = end + 1;
    }
    if (!c->name[0] || parse_flag(included, &c->included) < 0 ||
        parse_flag(scope, &c->node_scope) < 0)
        return -EPROTO;
    return 0;
}

/* A decimal uint64 starting at s; *end points after it. Returns 0 or -EPROTO. */
static int parse_u64(const char *s, uint64_t *out, const char **end)
{
    char *e;
    if (*s < '0' || *s > '9')
        return -EPROTO;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno != 0)
        return -EPROTO;
    *out = v;
    *end = e;
    return 0;
}

/* Two numbers separated by one space, after prefix; nothing else. */
static int parse_pair(const char *line, const char *prefix, uint64_t *a, uint64_t *b)
{
    const char *p;
    size_t n = strlen(prefix);
    if (strncmp(line, prefix, n) != 0)
        return -EPROTO;
    if (parse_u64(line + n, a, &p) < 0 || *p != ' ')
        return -EPROTO;
    if (parse_u64(p + 1, b, &p) < 0 || *p != '\0')
        return -EPROTO;
    return 0;
}

int daemon_proto_parse_header(const char *line, uint64_t *n, uint64_t *x)
{
    if (strncmp(line, "err ", 4) == 0)
        return -EREMOTEIO;
    return parse_pair(line, "ok ", n, x);
}

int daemon_proto_parse_reading(const char *line, uint64_t *energy_uj, uint64_t *t_ns)
{
    return parse_pair(line, "", energy_uj, t_ns);
}

void daemon_proto_client_path(char *buf, size_t size)
{
    const char *env = getenv("WATTPROF_SOCKET");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    buf[0] = '\0';
    if (env) {
        snprintf(buf, size, "%s", env);
        return;
    }
    if (access(DAEMON_SYSTEM_SOCKET, F_OK) == 0) {
        snprintf(buf, size, "%s", DAEMON_SYSTEM_SOCKET);
        return;
    }
    if (xdg && xdg[0] == '/')
        snprintf(buf, size, "%s/%s", xdg, DAEMON_SOCKET_NAME);
}
