/* A stored run read back from its JSON (see stored_run.h). */
#include "stored_run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t stored_run_micro(double v)
{
    if (!(v > 0))
        return 0;
    if (v * 1e6 >= 1.8e19)
        return UINT64_MAX;
    return (uint64_t)llround(v * 1e6);
}

static uint64_t to_ns(double s)
{
    if (!(s > 0))
        return 0;
    return s * 1e9 >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(s * 1e9);
}

/* n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

static int parse_clock(const char *p, struct tm *tm, int *ms)
{
    if (digits(&p, 2, &tm->tm_hour) < 0 || *p++ != ':' || digits(&p, 2, &tm->tm_min) < 0)
        return -EINVAL;
    if (*p == ':' && (p++, digits(&p, 2, &tm->tm_sec) < 0))
        return -EINVAL;
    if (*p == '.') {
        int scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            *ms += (*p - '0') * scale;
    }
    if (*p == 'Z')
        p++;
    if (*p || tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
        return -EINVAL;
    return 0;
}

int stored_run_parse_time(const char *s, uint64_t *unix_ms)
{
    struct tm tm = { 0 };
    int ms = 0;
    const char *p = s;
    if (digits(&p, 4, &tm.tm_year) < 0 || *p++ != '-' || digits(&p, 2, &tm.tm_mon) < 0 ||
        *p++ != '-' || digits(&p, 2, &tm.tm_mday) < 0)
        return -EINVAL;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970)
        return -EINVAL;
    if ((*p == 'T' || *p == ' ') && parse_clock(p + 1, &tm, &ms) < 0)
        return -EINVAL;
    if (*p && *p != 'T' && *p != ' ')
        return -EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t < 0)
        return -EINVAL;
    *unix_ms = (uint64_t)t * 1000 + (uint64_t)ms;
    return 0;
}

static int fill_metrics(const struct json_parse_node *obj, struct wattprof_metric **out, size_t *n)
{
    *n = 0;
    *out = NULL;
    if (!obj || obj->type != JSON_PARSE_OBJECT || obj->len == 0)
        return 0;
    *out = calloc(obj->len, sizeof(**out));
    if (!*out)
        return -ENOMEM;
    for (const struct json_parse_node *m = obj->child; m; m = m->next)
        if (m->type == JSON_PARSE_NUMBER)
            (*out)[(*n)++] = (struct wattprof_metric){ m->key, m->num };
    return 0;
}

static void fill_channel(struct wattprof_channel_result *c, const struct json_parse_node *j)
{
    c->info.name = json_parse_get_str(j, "name", "?");
    c->info.domain = json_parse_get_str(j, "domain", "");
    c->info.kind = json_parse_get_str(j, "kind", "");
    c->info.source = json_parse_get_str(j, "source", "");
    c->info.provenance = json_parse_get_str(j, "provenance", "");
    c->info.how = json_parse_get_str(j, "how", "");
    c->info.included_in_total = json_parse_bool(json_parse_get(j, "included_in_total"), 0);
    c->info.node_scope = json_parse_bool(json_parse_get(j, "node_scope"), 0);
    c->info.averaging = json_parse_get_str(j, "averaging", "");
    c->energy_uj = stored_run_micro(json_parse_get_num(j, "energy_j", 0));
    c->avg_power_uw = stored_run_micro(json_parse_get_num(j, "avg_power_w", 0));
    c->peak_power_uw = stored_run_micro(json_parse_get_num(j, "peak_power_w", 0));
    c->wraps = (uint64_t)json_parse_get_num(j, "wraps", 0);
    c->resets = (uint64_t)json_parse_get_num(j, "resets", 0);
    c->anomalies = (uint64_t)json_parse_get_num(j, "anomalies", 0);
    c->rejected_uj = stored_run_micro(json_parse_get_num(j, "rejected_energy_j", 0));
    c->attributed_uj = stored_run_micro(json_parse_get_num(j, "attributed_energy_j", 0));
    c->attribution = json_parse_get_str(j, "attribution", "");
    c->idle_power_uw = stored_run_micro(json_parse_get_num(j, "idle_power_w", 0));
    c->status = json_parse_get_str(j, "status", "ok");
    c->status_detail = json_parse_get_str(j, "status_detail", "");
}

/* The recorded accounting, as it was computed at the end of the run: nothing is
 * recomputed here (docs/accounting.md). Unknown numbers are NAN. */
static void fill_accounting(struct wattprof_accounting *a, const struct json_parse_node *j)
{
    memset(a, 0, sizeof(*a));
    if (!j || j->type != JSON_PARSE_OBJECT)
        return;
    a->computed = 1;
    a->pue = json_parse_get_num(j, "pue", NAN);
    a->pue_source = json_parse_get_str(j, "pue_source", NULL);
    a->facility_energy_j = json_parse_get_num(j, "facility_energy_j", NAN);
    a->intensity_g_per_kwh = json_parse_get_num(j, "intensity_g_per_kwh", NAN);
    a->intensity_kind = json_parse_get_str(j, "intensity_kind", NULL);
    a->intensity_source = json_parse_get_str(j, "intensity_source", NULL);
    a->location = json_parse_get_str(j, "location", NULL);
    a->country_iso = json_parse_get_str(j, "country_iso_code", NULL);
    a->country_name = json_parse_get_str(j, "country_name", NULL);
    a->region = json_parse_get_str(j, "region", NULL);
    a->cloud_provider = json_parse_get_str(j, "cloud_provider", NULL);
    a->cloud_region = json_parse_get_str(j, "cloud_region", NULL);
    a->operational_g = json_parse_get_num(j, "operational_g", NAN);
    a->embodied_g = json_parse_get_num(j, "embodied_g", NAN);
    a->embodied_source = json_parse_get_str(j, "embodied_source", NULL);
    a->total_g = json_parse_get_num(j, "total_g", NAN);
    a->price_per_kwh = json_parse_get_num(j, "price_per_kwh", NAN);
    a->currency = json_parse_get_str(j, "currency", NULL);
    a->cost = json_parse_get_num(j, "cost", NAN);
    a->sci_g_per_unit = json_parse_get_num(j, "sci_g_per_unit", NAN);
}

static int fill_window(struct wattprof_window_result *w, const struct json_parse_node *j)
{
    w->id = (uint64_t)json_parse_get_num(j, "id", 0);
    w->name = json_parse_get_str(j, "name", "?");
    w->start_ns = to_ns(json_parse_get_num(j, "start_s", 0));
    w->end_ns = to_ns(json_parse_get_num(j, "end_s", 0));
    if (w->end_ns < w->start_ns)
        w->end_ns = w->start_ns;
    w->complete = json_parse_bool(json_parse_get(j, "complete"), 1);
    w->energy_uj = stored_run_micro(json_parse_get_num(j, "energy_j", 0));
    w->attributed_uj = stored_run_micro(json_parse_get_num(j, "attributed_energy_j", 0));
    w->units = json_parse_get_num(j, "units", 0);
    w->unit_name = json_parse_get_str(j, "unit_name", "units");
    fill_accounting(&w->accounting, json_parse_get(j, "accounting"));
    const struct json_parse_node *ch = json_parse_get(j, "channels");
    size_t n = ch && ch->type == JSON_PARSE_ARRAY ? ch->len : 0;
    uint64_t *uj = calloc(n ? n : 1, sizeof(*uj));
    if (!uj)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        uj[i] = stored_run_micro(json_parse_get_num(json_parse_at(ch, i), "energy_j", 0));
    w->channel_uj = uj;
    w->n_channels = n;
    struct wattprof_metric *m;
    int r = fill_metrics(json_parse_get(j, "metrics"), &m, &w->n_metrics);
    w->metrics = m;
    return r;
}

static size_t array_len(const struct json_parse_node *a)
{
    return a && a->type == JSON_PARSE_ARRAY ? a->len : 0;
}

static int fill_lists(struct stored_run *sr, const struct json_parse_node *d)
{
    struct wattprof_result *r = &sr->res;
    const struct json_parse_node *ch = json_parse_get(d, "channels"),
                                 *wi = json_parse_get(d, "windows");
    r->n_channels = array_len(ch);
    r->n_windows = array_len(wi);
    sr->channels = calloc(r->n_channels + 1, sizeof(*sr->channels));
    sr->windows = calloc(r->n_windows + 1, sizeof(*sr->windows));
    if (!sr->channels || !sr->windows)
        return -ENOMEM;
    r->channels = sr->channels;
    r->windows = sr->windows;
    for (size_t i = 0; i < r->n_channels; i++)
        fill_channel(&sr->channels[i], json_parse_at(ch, i));
    for (size_t i = 0; i < r->n_windows; i++)
        if (fill_window(&sr->windows[i], json_parse_at(wi, i)) < 0)
            return -ENOMEM;
    int rc = fill_metrics(json_parse_get(d, "metrics"), &sr->metrics, &r->n_metrics);
    r->metrics = sr->metrics;
    return rc;
}

static int fill_strings(struct stored_run *sr, const struct json_parse_node *d)
{
    const struct json_parse_node *cmd = json_parse_get(d, "command"),
                                 *w = json_parse_get(d, "warnings");
    sr->argc = (int)array_len(cmd);
    sr->argv = calloc((size_t)sr->argc + 1, sizeof(*sr->argv));
    if (!sr->argv)
        return -ENOMEM;
    for (int i = 0; i < sr->argc; i++)
        sr->argv[i] = (char *)json_parse_str(json_parse_at(cmd, (size_t)i), "?");
    size_t size = 1;
    for (size_t i = 0; i < array_len(w); i++)
        size += strlen(json_parse_str(json_parse_at(w, i), "")) + 1;
    sr->warnings = calloc(size, 1);
    if (!sr->warnings)
        return -ENOMEM;
    for (size_t i = 0; i < array_len(w); i++) {
        strcat(sr->warnings, json_parse_str(json_parse_at(w, i), ""));
        if (i + 1 < array_len(w))
            strcat(sr->warnings, "\n");
    }
    sr->res.warnings = sr->warnings;
    return 0;
}

static void fill_totals(struct wattprof_result *r, const struct json_parse_node *d)
{
    const struct json_parse_node *att = json_parse_get(d, "attribution");
    const struct json_parse_node *node = json_parse_get(json_parse_get(d, "totals"), "node");
    r->duration_ns = to_ns(json_parse_get_num(d, "duration_s", 0));
    r->energy_uj = stored_run_micro(json_parse_get_num(d, "energy_j", 0));
    r->total_provenance = json_parse_get_str(d, "energy_provenance", "none");
    r->attributed_uj = stored_run_micro(json_parse_get_num(d, "attributed_energy_j", 0));
    r->idle_measured = json_parse_get(d, "idle_power_w") &&
                       json_parse_get(d, "idle_power_w")->type == JSON_PARSE_NUMBER;
    r->idle_power_uw = stored_run_micro(json_parse_get_num(d, "idle_power_w", 0));
    r->idle_energy_uj = stored_run_micro(json_parse_get_num(d, "idle_energy_j", 0));
    r->dynamic_energy_uj = stored_run_micro(json_parse_get_num(d, "dynamic_energy_j", 0));
    r->workload_cpu_ns = to_ns(json_parse_get_num(att, "workload_cpu_s", 0));
    r->machine_cpu_ns = to_ns(json_parse_get_num(att, "machine_cpu_s", 0));
    r->cpu_share = json_parse_get_num(att, "cpu_share", 0);
    r->exit_code = (int)json_parse_get_num(d, "exit_code", 0);
    r->complete = json_parse_bool(json_parse_get(d, "complete"), 1);
    r->units = json_parse_get_num(d, "units", 0);
    r->unit_name = json_parse_get_str(d, "unit_name", "units");
    r->has_node = node && node->type == JSON_PARSE_OBJECT;
    r->node_energy_uj = stored_run_micro(json_parse_get_num(node, "energy_j", 0));
    r->node_channel = r->has_node
                          ? json_parse_str(json_parse_at(json_parse_get(node, "includes"), 0), "?")
                          : NULL;
    r->node_provenance = json_parse_get_str(node, "provenance", "");
    fill_accounting(&r->accounting, json_parse_get(d, "accounting"));
}

int stored_run_parse(struct stored_run *sr, const char *text, char *msg, size_t msg_size)
{
    memset(sr, 0, sizeof(*sr));
    struct json_parse_error err;
    int r = json_parse(text, strlen(text), &sr->root, &err);
    if (r == -EINVAL)
        snprintf(msg, msg_size, "not valid JSON at byte %zu: %s", err.pos, err.msg);
    if (r < 0)
        return r;
    const struct json_parse_node *d = sr->root;
    if (strcmp(json_parse_get_str(d, "schema", ""), "wattprof.run/1") != 0) {
        snprintf(msg, msg_size, "not a wattprof.run/1 document");
        return -EINVAL;
    }
    sr->id = json_parse_get_str(d, "id", "");
    sr->started_at = json_parse_get_str(d, "started_at", "");
    fill_totals(&sr->res, d);
    if (stored_run_parse_time(sr->started_at, &sr->res.started_at_unix_ms) < 0)
        sr->res.started_at_unix_ms = 0;
    r = fill_strings(sr, d);
    if (r == 0)
        r = fill_lists(sr, d);
    if (r == -ENOMEM)
        snprintf(msg, msg_size, "out of memory");
    return r;
}

void stored_run_release(struct stored_run *sr)
{
    for (size_t i = 0; sr->windows && i < sr->res.n_windows; i++) {
        free((void *)sr->windows[i].channel_uj);
        free((void *)sr->windows[i].metrics);
    }
    free(sr->windows);
    free(sr->channels);
    free(sr->metrics);
    free(sr->argv);
    free(sr->warnings);
    json_parse_free(sr->root);
    memset(sr, 0, sizeof(*sr));
}
