/* A session recorded in a store: its id, labels and job identity, the runs row written at
 * start, a flusher thread that drains the sampler's ring every flush interval and writes
 * the samples and the 1 s power series, and the final row with the run's JSON. A store
 * failure never stops the measurement: it becomes one of the run's warnings. */
#include "session.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "store.h"

#define NS_PER_S 1000000000ull
#define BUCKET_NS NS_PER_S
/* The ring holds two flush intervals of samples (and some slack), at most this many
 * values, so a slow disk costs the oldest samples, never memory. */
#define RING_MAX_VALUES (8u << 20)

struct session_flusher {
    struct wattprof_session *s;
    struct wattprof_store *st;
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping; /* under lock */
    uint64_t flush_ns;

    size_t n_channels;
    size_t width; /* 1 + n_channels */
    size_t cap;   /* slots in the ring and in samples */
    uint64_t *samples;
    uint64_t *buckets;    /* (cap + 2) rows */
    uint64_t *prev, *ref; /* the last sample, and the current bucket's first edge */
    int have_prev;
    uint64_t origin_ns; /* the first sample's time: the run's start */
    uint64_t bucket;    /* index of the bucket being filled */
    char *energy_json;
    int included[SAMPLER_MAX_CHANNELS];

    uint64_t seq;
    uint64_t dropped; /* cumulative */
    unsigned long failures;
    char errmsg[STORE_ERRMSG_MAX]; /* the first failure */
};

static const struct {
    const char *env;
    const char *key;
    int k8s; /* only inside Kubernetes (KUBERNETES_SERVICE_HOST is set) */
} job_env[] = {
    { "SLURM_JOB_ID", "slurm.job_id", 0 },
    { "SLURM_PROCID", "slurm.procid", 0 },
    { "SLURM_NODEID", "slurm.nodeid", 0 },
    { "POD_NAME", "k8s.pod", 1 },
    { "MY_POD_NAME", "k8s.pod", 1 },
    { "POD_NAMESPACE", "k8s.namespace", 1 },
    { "MY_POD_NAMESPACE", "k8s.namespace", 1 },
    { "NODE_NAME", "k8s.node", 1 },
    { "MY_NODE_NAME", "k8s.node", 1 },
};

static int label_key_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    return n >= 1 && n < SESSION_NAME_MAX &&
           strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static struct session_label *label_find(struct wattprof_session *s, const char *key)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->labels[i].key, key) == 0)
            return &s->labels[i];
    return NULL;
}

WATTPROF_API int wattprof_session_add_label(struct wattprof_session *s, const char *key,
                                            const char *value)
{
    if (!label_key_valid(key))
        return ctx_errorf(s->ctx, -EINVAL, "invalid label key '%s': 1 to 64 of A-Z a-z 0-9 _ . -",
                          key ? key : "");
    if (!value || strlen(value) >= SESSION_LABEL_VALUE_MAX || strpbrk(value, ",\n"))
        return ctx_errorf(s->ctx, -EINVAL,
                          "invalid value for label '%s': at most 255 bytes, no ',' or newline",
                          key);
    if (s->started)
        return ctx_errorf(s->ctx, -EBUSY, "labels are set before start");
    struct session_label *l = label_find(s, key);
    if (!l && s->n_labels == SESSION_MAX_LABELS)
        return ctx_errorf(s->ctx, -EINVAL, "at most %d labels", SESSION_MAX_LABELS);
    if (!l)
        l = &s->labels[s->n_labels++];
    snprintf(l->key, sizeof(l->key), "%s", key);
    snprintf(l->value, sizeof(l->value), "%s", value);
    return 0;
}

WATTPROF_API int wattprof_session_set_store(struct wattprof_session *s, struct wattprof_store *st)
{
    if (s->started)
        return ctx_errorf(s->ctx, -EBUSY, "set the store before start");
    s->store = st;
    return 0;
}

WATTPROF_API const char *wattprof_session_id(const struct wattprof_session *s)
{
    return s->id[0] ? s->id : NULL;
}

/* The job's identity from the batch system, unless a label of that name was given. */
static void add_job_labels(struct wattprof_session *s)
{
    int in_k8s = getenv("KUBERNETES_SERVICE_HOST") != NULL;
    for (size_t i = 0; i < sizeof(job_env) / sizeof(job_env[0]); i++) {
        const char *v = getenv(job_env[i].env);
        if (!v || !*v || (job_env[i].k8s && !in_k8s) || label_find(s, job_env[i].key))
            continue;
        wattprof_session_add_label(s, job_env[i].key, v);
    }
}

/* The run's command, channels and labels as the runs row holds them. */
struct start_text {
    char *command_json;
    char *channels_json;
    char *host_json;
    char command[4096];
    char labels[4096];
    const char *keys[SESSION_MAX_LABELS];
    const char *values[SESSION_MAX_LABELS];
};

static char *channels_json(struct wattprof_session *s, int *included)
{
    struct json j;
    json_init(&j);
    json_begin_array(&j, NULL);
    for (size_t i = 0; i < s->sp->n_channels; i++) {
        struct wattprof_channel_info info;
        ctx_channel_info(s->sp->channels[i].sensor, s->sp->channels[i].ch, &info);
        included[i] = info.included_in_total;
        json_begin_object(&j, NULL);
        json_string(&j, "name", info.name);
        json_string(&j, "kind", info.kind);
        json_string(&j, "domain", info.domain);
        json_string(&j, "source", info.source);
        json_string(&j, "provenance", info.provenance);
        json_bool(&j, "included_in_total", info.included_in_total);
        json_end_object(&j);
    }
    json_end_array(&j);
    return json_take(&j);
}

static int start_text_build(struct wattprof_session *s, struct start_text *t, int *included)
{
    struct json j;
    json_init(&j);
    json_begin_array(&j, NULL);
    for (int i = 0; i < s->argc; i++) {
        json_string(&j, NULL, s->argv[i]);
        size_t len = strlen(t->command);
        snprintf(t->command + len, sizeof(t->command) - len, "%s%s", i ? " " : "", s->argv[i]);
    }
    json_end_array(&j);
    t->command_json = json_take(&j);
    for (size_t i = 0; i < s->n_labels; i++) {
        size_t len = strlen(t->labels);
        snprintf(t->labels + len, sizeof(t->labels) - len, "%s%s=%s", i ? "," : "",
                 s->labels[i].key, s->labels[i].value);
        t->keys[i] = s->labels[i].key;
        t->values[i] = s->labels[i].value;
    }
    t->channels_json = channels_json(s, included);
    t->host_json = session_host_json(s);
    return t->command_json && t->channels_json && t->host_json ? 0 : -ENOMEM;
}

static void start_text_release(struct start_text *t)
{
    free(t->command_json);
    free(t->channels_json);
    free(t->host_json);
}

/* Inserts the runs row (complete = 0) under a new id; a taken id is drawn again. */
static int record_start(struct wattprof_session *s, int *included)
{
    struct start_text *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    int r = start_text_build(s, t, included);
    struct store_run_start rs = {
        .started_at_unix_ms = s->started_at_unix_ms,
        .command_json = t->command_json,
        .command_text = t->command,
        .labels_text = t->labels,
        .label_keys = t->keys,
        .label_values = t->values,
        .n_labels = s->n_labels,
        .host_json = t->host_json,
        .channels_json = t->channels_json,
        .n_channels = s->sp->n_channels,
        .interval_ns = s->interval_ns,
        .hostname = s->host.hostname,
        .id = s->id,
    };
    for (int tries = 0; r == 0 || (r == -EEXIST && tries < 16); tries++) {
        r = store_new_id(s->id);
        if (r == 0)
            r = s->store->ops->run_begin(s->store, &rs);
        if (r != -EEXIST)
            break;
    }
    start_text_release(t);
    free(t);
    return r;
}

/* Closes the bucket being filled: mean power of each channel from ref to prev. */
static void emit_bucket(struct session_flusher *f, size_t *n)
{
    uint64_t dt = f->prev[0] - f->ref[0];
    if (dt == 0)
        return;
    uint64_t total = 0;
    for (size_t c = 0; c < f->n_channels; c++)
        total += f->included[c] ? f->prev[1 + c] : 0;
    session_timeline_append(f->s, (int64_t)(f->s->started_at_unix_ms + f->prev[0] / 1000000),
                            total);
    uint64_t *row = f->buckets + *n * f->width;
    row[0] = f->bucket;
    for (size_t c = 0; c < f->n_channels; c++) {
        uint64_t de = f->prev[1 + c] >= f->ref[1 + c] ? f->prev[1 + c] - f->ref[1 + c] : 0;
        row[1 + c] = (uint64_t)((sampler_u128)de * NS_PER_S / dt);
    }
    (*n)++;
}

/* Makes the samples' times relative to the run's start and feeds the 1 s buckets;
 * returns how many buckets were completed. */
static size_t series_feed(struct session_flusher *f, size_t n_samples, int last)
{
    size_t nb = 0, w = f->width * sizeof(uint64_t);
    for (size_t k = 0; k < n_samples; k++) {
        uint64_t *v = f->samples + k * f->width;
        if (!f->have_prev)
            f->origin_ns = v[0];
        v[0] = v[0] >= f->origin_ns ? v[0] - f->origin_ns : 0;
        uint64_t b = v[0] / BUCKET_NS;
        if (!f->have_prev) {
            memcpy(f->ref, v, w);
            f->bucket = b;
            f->have_prev = 1;
        } else if (b != f->bucket) {
            emit_bucket(f, &nb);
            memcpy(f->ref, f->prev, w);
            f->bucket = b;
        }
        memcpy(f->prev, v, w);
    }
    if (last && f->have_prev)
        emit_bucket(f, &nb);
    return nb;
}

/* [energy_j per channel] of the last sample, from integers (no locale). */
#define ENERGY_JSON_PER_CHANNEL 28

static void energy_json(struct session_flusher *f)
{
    size_t size = f->n_channels * ENERGY_JSON_PER_CHANNEL + 3, len = 1;
    snprintf(f->energy_json, size, "[");
    for (size_t c = 0; c < f->n_channels; c++) {
        uint64_t uj = f->prev[1 + c];
        len += (size_t)snprintf(f->energy_json + len, size - len, "%s%llu.%06llu", c ? "," : "",
                                (unsigned long long)(uj / 1000000),
                                (unsigned long long)(uj % 1000000));
    }
    snprintf(f->energy_json + len, size - len, "]");
}

/* Drains the ring and writes what it held; a failure is kept for the run's warnings. */
static void flush_once(struct session_flusher *f, int last)
{
    uint64_t dropped = 0;
    size_t n = sampler_drain(f->s->sp, f->samples, f->cap, &dropped);
    f->dropped += dropped;
    size_t nb = series_feed(f, n, last);
    if ((n == 0 && nb == 0 && !dropped) || !f->st)
        return; /* nothing new, or only the accounting timeline is kept (no store) */
    uint64_t energy = 0;
    for (size_t c = 0; c < f->n_channels; c++)
        energy += f->included[c] ? f->prev[1 + c] : 0;
    energy_json(f);
    struct store_batch b = {
        .id = f->s->id,
        .seq = f->seq++,
        .samples = f->samples,
        .n_samples = n,
        .buckets = f->buckets,
        .n_buckets = nb,
        .n_channels = f->n_channels,
        .duration_ns = f->prev[0],
        .energy_uj = energy,
        .dropped = f->dropped,
        .channel_energy_json = f->energy_json,
    };
    if (f->st->ops->write_batch(f->st, &b) < 0 && f->failures++ == 0)
        snprintf(f->errmsg, sizeof(f->errmsg), "%s", wattprof_store_errmsg(f->st));
}

static void *flusher_thread(void *arg)
{
    struct session_flusher *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t at = (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec + f->flush_ns;
        ts.tv_sec = (time_t)(at / NS_PER_S);
        ts.tv_nsec = (long)(at % NS_PER_S);
        while (!f->stopping && pthread_cond_timedwait(&f->cond, &f->lock, &ts) == 0)
            ;
        if (f->stopping)
            break;
        pthread_mutex_unlock(&f->lock);
        flush_once(f, 0);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static void flusher_free(struct session_flusher *f)
{
    if (!f)
        return;
    free(f->samples);
    free(f->buckets);
    free(f->prev);
    free(f->ref);
    free(f->energy_json);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static struct session_flusher *flusher_new(struct wattprof_session *s)
{
    struct session_flusher *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&f->lock, NULL);
    f->s = s;
    f->st = s->store;
    /* without a store the flusher only keeps the accounting timeline: every second */
    f->flush_ns = (uint64_t)(s->store ? s->store->flush_ms : 1000) * 1000000;
    f->n_channels = s->sp->n_channels;
    f->width = 1 + f->n_channels;
    size_t cap = (size_t)(2 * f->flush_ns / s->interval_ns) + 64;
    f->cap = cap * f->width > RING_MAX_VALUES ? RING_MAX_VALUES / f->width : cap;
    f->samples = calloc(f->cap * f->width, sizeof(uint64_t));
    f->buckets = calloc((f->cap + 2) * f->width, sizeof(uint64_t));
    f->prev = calloc(f->width, sizeof(uint64_t));
    f->ref = calloc(f->width, sizeof(uint64_t));
    f->energy_json = malloc(f->n_channels * ENERGY_JSON_PER_CHANNEL + 3);
    if (!f->samples || !f->buckets || !f->prev || !f->ref || !f->energy_json ||
        sampler_ring_init(s->sp, f->cap) < 0) {
        flusher_free(f);
        return NULL;
    }
    return f;
}

static int flusher_launch(struct session_flusher *f)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = -pthread_create(&f->thread, NULL, flusher_thread, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    f->running = r == 0;
    return r;
}

int session_store_start(struct wattprof_session *s)
{
    if (!s->store && !s->plan.series)
        return 0;
    if (s->store)
        add_job_labels(s);
    s->flusher = flusher_new(s);
    if (!s->flusher)
        return -ENOMEM;
    int r = 0;
    if (s->store) {
        r = record_start(s, s->flusher->included);
    } else {
        int *inc = s->flusher->included;
        for (size_t i = 0; i < s->sp->n_channels; i++) {
            struct wattprof_channel_info info;
            ctx_channel_info(s->sp->channels[i].sensor, s->sp->channels[i].ch, &info);
            inc[i] = info.included_in_total;
        }
    }
    if (r == 0)
        r = flusher_launch(s->flusher);
    if (r < 0) {
        session_warnf(s, "the run is not stored: %s",
                      wattprof_store_errmsg(s->store)[0] ? wattprof_store_errmsg(s->store)
                                                         : strerror(-r));
        s->id[0] = '\0';
        s->store = NULL;
    }
    return 0;
}

/* Stops the flusher after the sampler stopped, and writes what is left. */
void session_store_stop(struct wattprof_session *s)
{
    struct session_flusher *f = s->flusher;
    if (!f || !f->running)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    f->running = 0;
    flush_once(f, 1);
    if (f->dropped)
        session_warnf(s, "store: %llu sample(s) dropped (the writer fell behind the sampler)",
                      (unsigned long long)f->dropped);
    if (f->failures)
        session_warnf(s, "store: %lu write(s) of samples failed: %s", f->failures, f->errmsg);
}

void session_store_finish(struct wattprof_session *s)
{
    if (!s->store || !s->have_result)
        return;
    char *json = NULL;
    const struct wattprof_result *r = &s->result;
    if (wattprof_session_json(s, &json) < 0)
        return;
    struct store_run_end e = {
        .id = s->id,
        .duration_ns = r->duration_ns,
        .energy_uj = r->energy_uj,
        .energy_provenance = r->total_provenance,
        .complete = r->complete,
        .exit_code = r->exit_code,
        .units = r->units,
        .unit_name = r->unit_name,
        .co2e_g = r->accounting.computed ? r->accounting.total_g : NAN,
        .json = json,
    };
    if (s->store->ops->run_end(s->store, &e) < 0) {
        session_warnf(s, "the run's result is not stored: %s", wattprof_store_errmsg(s->store));
        s->store = NULL; /* the row stays as last flushed: incomplete */
    }
    free(json);
}

void session_store_free(struct wattprof_session *s)
{
    struct session_flusher *f = s->flusher;
    if (f && f->running) {
        pthread_mutex_lock(&f->lock);
        f->stopping = 1;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
    }
    flusher_free(f);
    s->flusher = NULL;
}
