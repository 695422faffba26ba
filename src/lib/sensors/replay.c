/* Replay of a recorded trace (docs/replay.md): `--replay FILE` loads a text trace of
 * cumulative energies at open and hands them out as energy counters, linearly
 * interpolated at the time elapsed since open. The channels keep their recorded names,
 * domains and total flags; their provenance is "replayed", so nothing claims to be a
 * live measurement. Time zero is the first read, not open(): the sampler's first sample
 * is its baseline, and whatever ran between open and that sample (the rest of the
 * backends opening, a loaded machine) must not eat the start of the trace. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sampler.h"

#define REPLAY_MAGIC "# wattprof trace 1"
#define REPLAY_CHANNEL "# channel "
#define NS_DIGITS 9 /* t_s: seconds with up to 9 decimals (ns) */
#define UJ_DIGITS 6 /* joules with up to 6 decimals (µJ) */

struct replay_priv {
    struct replay_trace trace;
    uint64_t start_ns; /* the first read's time (CLOCK_MONOTONIC); 0 before it */
};

/* The parser's position and its error message. */
struct parse {
    struct replay_trace *t;
    size_t line;
    size_t cap_rows;
    int have_header;
    char *err;
    size_t size;
};

static int parse_errorf(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int parse_errorf(struct parse *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->err, p->size, "line %zu: ", p->line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->size)
        vsnprintf(p->err + n, p->size - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A decimal number without sign or exponent, scaled by 10^digits: "1.5" with 6 digits
 * is 1500000. Further decimals are dropped. Returns 0, or -EINVAL (not a number, or
 * too large). *end is set after the number. */
static int parse_fixed(const char *s, unsigned digits, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;
    unsigned frac = 0;
    int any = 0;
    for (; *p >= '0' && *p <= '9'; p++, any = 1) {
        if (v > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, any = 1)
            if (frac < digits) {
                if (v > (UINT64_MAX - 9) / 10)
                    return -EINVAL;
                v = v * 10 + (uint64_t)(*p - '0');
                frac++;
            }
    for (; frac < digits; frac++) {
        if (v > UINT64_MAX / 10)
            return -EINVAL;
        v *= 10;
    }
    *out = v;
    *end = p;
    return any ? 0 : -EINVAL;
}

/* The next space-separated token of *pos, NUL-terminated in place; NULL at the end. */
static char *next_token(char **pos)
{
    char *p = *pos;
    while (*p == ' ')
        p++;
    if (!*p)
        return NULL;
    char *tok = p;
    p += strcspn(p, " ");
    if (*p)
        *p++ = '\0';
    *pos = p;
    return tok;
}

static const char *const provenances[] = { "measured", "integrated", "estimated", "replayed" };

static int parse_flag(const char *v, int *out)
{
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
        return -EINVAL;
    *out = v[0] == '1';
    return 0;
}

static int copy_value(char *dst, size_t size, const char *v)
{
    if (!*v || strlen(v) >= size)
        return -EINVAL;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int known_provenance(const char *v)
{
    for (size_t i = 0; i < sizeof(provenances) / sizeof(provenances[0]); i++)
        if (strcmp(v, provenances[i]) == 0)
            return 1;
    return 0;
}

/* One key=value of a channel line; *have_kind is set by kind=counter. */
static int channel_key(struct parse *p, struct replay_channel *c, const char *key, const char *v,
                       int *have_kind)
{
    int r = 0;
    if (strcmp(key, "kind") == 0) {
        if (strcmp(v, "counter") != 0)
            return parse_errorf(p, "kind '%s': a trace holds cumulative energy, kind=counter", v);
        *have_kind = 1;
    } else if (strcmp(key, "domain") == 0) {
        r = copy_value(c->domain, sizeof(c->domain), v);
    } else if (strcmp(key, "provenance") == 0) {
        if (!known_provenance(v))
            return parse_errorf(p,
                                "provenance '%s': use measured, integrated, estimated or "
                                "replayed",
                                v);
        r = copy_value(c->provenance, sizeof(c->provenance), v);
    } else if (strcmp(key, "source") == 0) {
        r = copy_value(c->source, sizeof(c->source), v);
    } else if (strcmp(key, "included") == 0) {
        r = parse_flag(v, &c->included);
    } else if (strcmp(key, "node") == 0) {
        r = parse_flag(v, &c->node);
    } else {
        return parse_errorf(p,
                            "unknown key '%s' (known: kind, domain, provenance, included, "
                            "node, source)",
                            key);
    }
    if (r < 0)
        return parse_errorf(p, "bad value '%s' for '%s'", v, key);
    return 0;
}

/* "# channel NAME key=value ..." (the text after "# channel " in buf, modified). */
static int parse_channel(struct parse *p, char *buf)
{
    struct replay_trace *t = p->t;
    if (p->have_header)
        return parse_errorf(p, "a channel line after the CSV header: channels come first");
    if (t->n_channels >= SENSOR_MAX_CHANNELS)
        return parse_errorf(p, "more than %d channels, the most one sensor may have",
                            SENSOR_MAX_CHANNELS);
    struct replay_channel *c = &t->channels[t->n_channels];
    memset(c, 0, sizeof(*c));
    c->included = 1;
    snprintf(c->provenance, sizeof(c->provenance), "unknown");
    snprintf(c->source, sizeof(c->source), "unknown");
    char *pos = buf, *name = next_token(&pos);
    if (!name || strchr(name, '=') || strchr(name, ',') || strlen(name) >= sizeof(c->name))
        return parse_errorf(p,
                            "a channel line needs a name (no '=' or ',', under %zu bytes) "
                            "before its keys",
                            sizeof(c->name));
    memcpy(c->name, name, strlen(name) + 1);
    for (size_t i = 0; i < t->n_channels; i++)
        if (strcmp(t->channels[i].name, c->name) == 0)
            return parse_errorf(p, "channel '%s' appears twice", c->name);
    int have_kind = 0;
    for (char *kv = next_token(&pos); kv; kv = next_token(&pos)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return parse_errorf(p, "'%s' is not key=value", kv);
        *eq = '\0';
        int r = channel_key(p, c, kv, eq + 1, &have_kind);
        if (r < 0)
            return r;
    }
    if (!have_kind || !c->domain[0])
        return parse_errorf(p, "channel '%s' needs kind=counter and domain=DOMAIN", c->name);
    t->n_channels++;
    return 0;
}

/* "t_s,NAME,..." with the channel lines' names in their order. */
static int parse_header(struct parse *p, const char *line)
{
    struct replay_trace *t = p->t;
    if (t->n_channels == 0)
        return parse_errorf(p, "no '# channel' lines before the CSV header");
    if (strncmp(line, "t_s", 3) != 0)
        return parse_errorf(p, "expected the CSV header 't_s,%s,...'", t->channels[0].name);
    const char *q = line + 3;
    for (size_t i = 0; i < t->n_channels; i++) {
        size_t n = strlen(t->channels[i].name);
        if (*q != ',' || strncmp(q + 1, t->channels[i].name, n) != 0 ||
            (q[1 + n] != ',' && q[1 + n] != '\0'))
            return parse_errorf(p,
                                "the header's column %zu is not '%s': it must name the "
                                "channel lines in their order",
                                i + 2, t->channels[i].name);
        q += 1 + n;
    }
    if (*q != '\0')
        return parse_errorf(p, "the header has more columns than the %zu channel lines",
                            t->n_channels);
    p->have_header = 1;
    return 0;
}

static int grow_rows(struct parse *p)
{
    struct replay_trace *t = p->t;
    if (t->n_rows < p->cap_rows)
        return 0;
    size_t cap = p->cap_rows ? p->cap_rows * 2 : 256;
    uint64_t *rows = realloc(t->rows, cap * (1 + t->n_channels) * sizeof(*rows));
    if (!rows)
        return -ENOMEM;
    t->rows = rows;
    p->cap_rows = cap;
    return 0;
}

/* One row: the time, then each channel's cumulative joules; checked against the
 * previous row. */
static int parse_row(struct parse *p, const char *line)
{
    struct replay_trace *t = p->t;
    size_t w = 1 + t->n_channels;
    if (grow_rows(p) < 0)
        return -ENOMEM;
    uint64_t *row = &t->rows[t->n_rows * w];
    const char *q = line;
    for (size_t i = 0; i < w; i++) {
        const char *end;
        if (i > 0 && *q++ != ',')
            return parse_errorf(p, "%zu values where the header has %zu", i, w);
        if (parse_fixed(q, i == 0 ? NS_DIGITS : UJ_DIGITS, &row[i], &end) < 0 ||
            (*end != ',' && *end != '\0'))
            return parse_errorf(p, "column %zu is not a number (%s): %.*s", i + 1,
                                i == 0 ? "seconds" : "joules", (int)strcspn(q, ","), q);
        q = end;
    }
    if (*q != '\0')
        return parse_errorf(p, "more values than the header's %zu columns", w);
    const uint64_t *prev = t->n_rows ? row - w : NULL;
    if (prev && row[0] < prev[0])
        return parse_errorf(p, "time goes backwards (t_s must not decrease)");
    for (size_t i = 1; prev && i < w; i++)
        if (row[i] < prev[i])
            return parse_errorf(p,
                                "the energy of '%s' goes down: the values are cumulative "
                                "joules and never decrease",
                                t->channels[i - 1].name);
    t->n_rows++;
    return 0;
}

static int parse_line(struct parse *p, char *line)
{
    if (p->line == 1)
        return strcmp(line, REPLAY_MAGIC) == 0
                   ? 0
                   : parse_errorf(p, "not a wattprof trace: the first line must be '%s'",
                                  REPLAY_MAGIC);
    if (strncmp(line, REPLAY_CHANNEL, strlen(REPLAY_CHANNEL)) == 0)
        return parse_channel(p, line + strlen(REPLAY_CHANNEL));
    if (line[0] == '#')
        return parse_errorf(p, "unknown line '%.40s' (only '# channel' lines start with '#')",
                            line);
    if (!p->have_header)
        return parse_header(p, line);
    return parse_row(p, line);
}

int replay_parse(struct replay_trace *t, const char *text, size_t len, char *err, size_t size)
{
    struct parse p = { .t = t, .err = err, .size = size };
    memset(t, 0, sizeof(*t));
    char *buf = malloc(len + 1);
    int r = buf ? 0 : -ENOMEM;
    for (size_t pos = 0; r == 0 && pos < len;) {
        size_t n = 0;
        while (pos + n < len && text[pos + n] != '\n')
            n++;
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos += n + 1;
        p.line++;
        if (strlen(buf) != n) {
            r = parse_errorf(&p, "a NUL byte: not a text file");
            break;
        }
        if (n > 0 && buf[n - 1] == '\r')
            buf[n - 1] = '\0';
        if (buf[0] != '\0' || p.line == 1)
            r = parse_line(&p, buf);
    }
    if (r == 0 && len == 0) {
        p.line = 1;
        r = parse_errorf(&p, "empty file: the first line must be '%s'", REPLAY_MAGIC);
    }
    if (r == 0 && !p.have_header)
        r = parse_errorf(&p, "no CSV header 't_s,NAME,...' after the channel lines");
    if (r == 0 && t->n_rows < 2)
        r = parse_errorf(&p, "%zu row%s: a trace needs at least 2 rows", t->n_rows,
                         t->n_rows == 1 ? "" : "s");
    if (r == -ENOMEM)
        snprintf(err, size, "out of memory");
    if (r < 0)
        replay_trace_release(t);
    free(buf);
    return r;
}

void replay_trace_release(struct replay_trace *t)
{
    free(t->rows);
    memset(t, 0, sizeof(*t));
}

uint64_t replay_end_ns(const struct replay_trace *t)
{
    return t->n_rows ? t->rows[(t->n_rows - 1) * (1 + t->n_channels)] : 0;
}

void replay_values_at(const struct replay_trace *t, uint64_t t_ns, uint64_t *values)
{
    size_t w = 1 + t->n_channels, lo = 0, hi = t->n_rows;
    /* the last row at or before t_ns (row 0 when t_ns comes before it) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->rows[mid * w] <= t_ns)
            lo = mid;
        else
            hi = mid;
    }
    const uint64_t *a = &t->rows[lo * w];
    const uint64_t *b = lo + 1 < t->n_rows ? a + w : NULL;
    int between = b && t_ns > a[0] && b[0] > a[0];
    for (size_t i = 1; i < w; i++) {
        values[i - 1] = a[i];
        if (between)
            values[i - 1] +=
                (uint64_t)((sampler_u128)(b[i] - a[i]) * (t_ns - a[0]) / (b[0] - a[0]));
    }
}

/* Reads the whole file into a heap buffer (caller frees), refusing one too large. */
static int load_file(struct sensor *s, const char *path, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return sensor_errorf(s, -errno,
                             "cannot open the trace '%s': %s (check --replay or "
                             "WATTPROF_REPLAY)",
                             path, strerror(errno));
    int r = fstat(fd, &sb) < 0
                ? sensor_errorf(s, -errno, "cannot stat the trace '%s': %s", path, strerror(errno))
                : 0;
    if (r == 0 && (size_t)sb.st_size > REPLAY_MAX_BYTES)
        r = sensor_errorf(s, -EFBIG,
                          "the trace '%s' has %lld bytes, more than the %u MiB "
                          "replay loads: cut it to a shorter stretch",
                          path, (long long)sb.st_size, REPLAY_MAX_BYTES >> 20);
    *text = r == 0 ? malloc((size_t)sb.st_size + 1) : NULL;
    if (r == 0 && !*text)
        r = sensor_errorf(s, -ENOMEM, "out of memory");
    for (*len = 0; r == 0 && *len < (size_t)sb.st_size;) {
        ssize_t n = read(fd, *text + *len, (size_t)sb.st_size - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            r = sensor_errorf(s, -EIO, "cannot read the trace '%s': %s", path,
                              n < 0 ? strerror(errno) : "it got shorter");
        else
            *len += (size_t)n;
    }
    close(fd);
    return r;
}

static void add_channels(struct sensor *s, const struct replay_trace *t, const char *path)
{
    for (size_t i = 0; i < t->n_channels; i++) {
        const struct replay_channel *rc = &t->channels[i];
        struct sensor_channel *ch = sensor_add_channel(s, rc->name);
        snprintf(ch->domain, sizeof(ch->domain), "%s", rc->domain);
        ch->kind = SENSOR_ENERGY_COUNTER;
        ch->provenance = SENSOR_REPLAYED;
        ch->scale_num = 1;
        ch->scale_den = 1;
        ch->included_in_total = rc->included && !rc->node;
        ch->node_scope = rc->node;
        snprintf(ch->note, sizeof(ch->note), "replayed from %.80s (recorded by %s, %s)", path,
                 rc->source, rc->provenance);
    }
}

static void replay_close(struct sensor *s)
{
    struct replay_priv *st = s->priv;
    replay_trace_release(&st->trace);
}

static int replay_open(struct sensor *s)
{
    struct replay_priv *st = s->priv;
    const char *path = s->cfg ? s->cfg->replay_path : NULL;
    if (!path)
        return sensor_errorf(s, -ENODEV, "no trace given (--replay FILE or WATTPROF_REPLAY)");
    char *text = NULL, err[REPLAY_ERRMSG_MAX];
    size_t len = 0;
    int r = load_file(s, path, &text, &len);
    if (r == 0)
        r = replay_parse(&st->trace, text, len, err, sizeof(err));
    free(text);
    if (r == -EINVAL)
        return sensor_errorf(s, r, "cannot replay '%s': %s (docs/replay.md)", path, err);
    if (r < 0)
        return r == -ENOMEM ? sensor_errorf(s, r, "out of memory") : r;
    add_channels(s, &st->trace, path);
    uint64_t end = replay_end_ns(&st->trace);
    sensor_notef(s,
                 "trace '%s': %zu rows over %llu.%03llu s; after that each channel holds "
                 "its last value",
                 path, st->trace.n_rows, (unsigned long long)(end / 1000000000u),
                 (unsigned long long)(end / 1000000u % 1000u));
    st->start_ns = 0;
    return 0;
}

/* The trace's values at the time since the first read; allocates nothing. */
static int replay_read(struct sensor *s, uint64_t *values)
{
    struct replay_priv *st = s->priv;
    uint64_t now = sensor_now_ns();
    if (st->start_ns == 0)
        st->start_ns = now;
    replay_values_at(&st->trace, now - st->start_ns, values);
    return 0;
}

int replay_sensor_times(const struct sensor *s, uint64_t *end_ns, uint64_t *elapsed_ns)
{
    if (s->ops != &replay_sensor_ops || !s->priv)
        return 0;
    const struct replay_priv *st = s->priv;
    *end_ns = replay_end_ns(&st->trace);
    *elapsed_ns = st->start_ns ? sensor_now_ns() - st->start_ns : 0;
    return 1;
}

const struct sensor_ops replay_sensor_ops = {
    .name = "replay",
    .priv_size = sizeof(struct replay_priv),
    .open = replay_open,
    .read = replay_read,
    .close = replay_close,
};
