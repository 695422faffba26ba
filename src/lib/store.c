/* The run store's public face: the default path, the handle and its message, run ids,
 * and the calls, each passed to the backend's operations (store.h). */
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MS_PER_DAY (24ull * 3600 * 1000)

int store_errorf(struct wattprof_store *st, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

int store_new_id(char id[16])
{
    unsigned char b[STORE_ID_LEN / 2];
    ssize_t n;
    do {
        n = getrandom(b, sizeof(b), 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(b))
        return n < 0 ? -errno : -EIO;
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
    return 0;
}

void store_pack_le(unsigned char *out, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++)
            out[i * 8 + (size_t)k] = (unsigned char)(v[i] >> (8 * k));
}

uint64_t store_get_le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

static int path_join(char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s%s", a, b);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

WATTPROF_API int wattprof_store_default_path(char *buf, size_t size)
{
    const char *env = getenv("WATTPROF_DB");
    if (env && *env)
        return path_join(buf, size, env, "");
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && xdg[0] == '/')
        return path_join(buf, size, xdg, "/wattprof/wattprof.db");
    const char *home = getenv("HOME");
    if (!home || !*home)
        return -ENOENT;
    return path_join(buf, size, home, "/.local/share/wattprof/wattprof.db");
}

WATTPROF_API int wattprof_store_open(const char *path, struct wattprof_store **out)
{
    struct wattprof_store *st = calloc(1, sizeof(*st));
    *out = st;
    if (!st)
        return -ENOMEM;
    st->ops = &store_sqlite_ops;
    st->flush_ms = STORE_FLUSH_MS_DEFAULT;
    const char *env = getenv("WATTPROF_FLUSH_MS");
    char *end = NULL;
    errno = 0;
    unsigned long ms = env ? strtoul(env, &end, 10) : 0;
    if (env && errno == 0 && end != env && *end == '\0' && ms >= 1 && ms <= 3600000)
        st->flush_ms = (unsigned)ms;
    if (!path || !*path)
        return store_errorf(st, -EINVAL, "no database path given");
    if (snprintf(st->path, sizeof(st->path), "%s", path) >= (int)sizeof(st->path))
        return store_errorf(st, -EINVAL, "database path too long");
    /* only the default location is created; a path the user gave must exist up to its
     * directory, so a typo is an error rather than a new tree */
    char def[PATH_MAX];
    st->create_parents =
        wattprof_store_default_path(def, sizeof(def)) == 0 && strcmp(def, path) == 0;
    return st->ops->open(st, path);
}

WATTPROF_API int wattprof_store_set_flush_ms(struct wattprof_store *st, unsigned ms)
{
    if (ms < 1 || ms > 3600000)
        return store_errorf(st, -EINVAL, "the flush interval must be 1 to 3600000 ms");
    st->flush_ms = ms;
    return 0;
}

WATTPROF_API void wattprof_store_close(struct wattprof_store *st)
{
    if (!st)
        return;
    if (st->ops)
        st->ops->close(st);
    free(st);
}

WATTPROF_API const char *wattprof_store_errmsg(const struct wattprof_store *st)
{
    return st ? st->errmsg : "out of memory";
}

/* Every call below needs an opened backend. */
static int usable(struct wattprof_store *st)
{
    if (!st->priv)
        return store_errorf(st, -EINVAL, "the store '%s' is not open", st->path);
    st->errmsg[0] = '\0';
    return 0;
}

WATTPROF_API int wattprof_store_list(struct wattprof_store *st,
                                     const struct wattprof_list_filter *f,
                                     struct wattprof_run_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    int r = usable(st);
    return r < 0 ? r : st->ops->list(st, f, rows, n);
}

WATTPROF_API int wattprof_store_resolve(struct wattprof_store *st, const char *prefix, char id[16])
{
    id[0] = '\0';
    size_t len = prefix ? strlen(prefix) : 0;
    if (len == 0 || len > STORE_ID_LEN || strspn(prefix, "0123456789abcdef") != len)
        return store_errorf(st, -ENOENT, "no run '%s': ids are 1 to 8 of 0-9 a-f",
                            prefix ? prefix : "");
    int r = usable(st);
    return r < 0 ? r : st->ops->resolve(st, prefix, id);
}

WATTPROF_API int wattprof_store_run_json(struct wattprof_store *st, const char *id, char **json)
{
    *json = NULL;
    int r = usable(st);
    return r < 0 ? r : st->ops->run_json(st, id, json);
}

WATTPROF_API int wattprof_store_series_json(struct wattprof_store *st, const char *id, char **json)
{
    *json = NULL;
    int r = usable(st);
    return r < 0 ? r : st->ops->series_json(st, id, json);
}

WATTPROF_API int wattprof_store_labels_json(struct wattprof_store *st, const char *id, char **json)
{
    *json = NULL;
    int r = usable(st);
    return r < 0 ? r : st->ops->labels_json(st, id, json);
}

WATTPROF_API int wattprof_store_power_json(struct wattprof_store *st, const char *id,
                                           unsigned max_points, char **json)
{
    *json = NULL;
    int r = usable(st);
    if (r < 0)
        return r;
    if (max_points < 2 || max_points > WATTPROF_POWER_POINTS_MAX)
        return store_errorf(st, -EINVAL, "cannot chart %u points: give 2 to %d", max_points,
                            WATTPROF_POWER_POINTS_MAX);
    return st->ops->power_json(st, id, max_points, json);
}

WATTPROF_API int wattprof_store_trace(struct wattprof_store *st, const char *id, char **text)
{
    *text = NULL;
    int r = usable(st);
    return r < 0 ? r : st->ops->trace(st, id, text);
}

/* json with "id" added: right after a "schema" member that opens the object (so it reads
 * like a stored run's), else as the first member. malloc'd; NULL on -ENOMEM. */
static char *with_id(const char *json, const char *id)
{
    const char *at = strchr(json, '{') + 1, *sep = "", *tail = ", ";
    const char *first = at + strspn(at, " \t\r\n");
    const char *comma = strchr(first, ','), *nl = strchr(first, '\n');
    if (strncmp(first, "\"schema\"", 8) == 0 && comma && (!nl || comma < nl)) {
        at = comma + 1; /* {"schema": ...,<here> */
        sep = nl ? "\n  " : " ";
        tail = ",";
    } else if (*first == '}') {
        tail = "";
    }
    size_t len = strlen(json) + 64;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*s%s\"id\": \"%s\"%s%s", (int)(at - json), json, sep, id, tail, at);
    return out;
}

WATTPROF_API int wattprof_store_save_study(struct wattprof_store *st, const char *name,
                                           uint64_t started_at_unix_ms, const char *json,
                                           char id[16])
{
    id[0] = '\0';
    if (!json || !strchr(json, '{'))
        return store_errorf(st, -EINVAL, "a study's JSON must be an object");
    int r = usable(st);
    for (int attempt = 0; r == 0 && attempt < 8; attempt++) {
        char fresh[16];
        r = store_new_id(fresh);
        if (r < 0)
            return store_errorf(st, r, "cannot make a study id: %s", strerror(-r));
        char *text = with_id(json, fresh);
        if (!text)
            return store_errorf(st, -ENOMEM, "out of memory");
        r = st->ops->save_study(st, fresh, name ? name : "", started_at_unix_ms, text);
        free(text);
        if (r == 0)
            snprintf(id, 16, "%s", fresh);
        else if (r == -EEXIST)
            r = 0; /* the id is taken: another one */
        else
            return r;
        if (id[0])
            return 0;
    }
    return r < 0 ? r : store_errorf(st, -EIO, "cannot find a free study id");
}

WATTPROF_API int wattprof_store_study_json(struct wattprof_store *st, const char *id_or_prefix,
                                           char **json)
{
    *json = NULL;
    char id[16];
    size_t len = id_or_prefix ? strlen(id_or_prefix) : 0;
    if (len == 0 || len > STORE_ID_LEN || strspn(id_or_prefix, "0123456789abcdef") != len)
        return store_errorf(st, -ENOENT, "no study '%s': ids are 1 to 8 of 0-9 a-f",
                            id_or_prefix ? id_or_prefix : "");
    int r = usable(st);
    if (r == 0)
        r = st->ops->resolve_study(st, id_or_prefix, id);
    return r < 0 ? r : st->ops->study_json(st, id, json);
}

WATTPROF_API int wattprof_store_delete(struct wattprof_store *st, const char *id)
{
    int r = usable(st);
    return r < 0 ? r : st->ops->delete_run(st, id);
}

WATTPROF_API int wattprof_store_gc(struct wattprof_store *st, unsigned keep_days,
                                   uint64_t *runs_pruned)
{
    *runs_pruned = 0;
    int r = usable(st);
    if (r < 0)
        return r;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    uint64_t keep = (uint64_t)keep_days * MS_PER_DAY;
    return st->ops->gc(st, now_ms > keep ? now_ms - keep : 0, runs_pruned);
}
