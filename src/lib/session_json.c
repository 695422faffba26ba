/* The run as JSON, schema "wattprof.run/1" (docs/json-schema.md). Units are in the
 * member names; numbers are written from integers, so no locale can change them. */
#include "session.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"

#define RUN_SCHEMA "wattprof.run/1"

static void rfc3339_ms(char *buf, size_t size, uint64_t unix_ms)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(unix_ms % 1000));
}

/* A count of µJ as joules, µW as watts, ns as seconds. */
static void joules(struct json *j, const char *key, uint64_t uj)
{
    json_fixed(j, key, uj, 6);
}

static void seconds(struct json *j, const char *key, uint64_t ns)
{
    json_fixed(j, key, ns / 1000, 6);
}

static void write_channel(struct json *j, const struct wattprof_channel_result *c,
                          int idle_measured)
{
    json_begin_object(j, NULL);
    json_string(j, "name", c->info.name);
    json_string(j, "kind", c->info.kind);
    json_string(j, "domain", c->info.domain);
    json_string(j, "source", c->info.source);
    json_string(j, "provenance", c->info.provenance);
    json_string(j, "how", c->info.how);
    joules(j, "energy_j", c->energy_uj);
    json_fixed(j, "avg_power_w", c->avg_power_uw, 6);
    json_fixed(j, "peak_power_w", c->peak_power_uw, 6);
    json_string(j, "averaging", c->info.averaging[0] ? c->info.averaging : NULL);
    json_bool(j, "included_in_total", c->info.included_in_total);
    json_bool(j, "node_scope", c->info.node_scope);
    joules(j, "attributed_energy_j", c->attributed_uj);
    json_string(j, "attribution", c->attribution);
    if (idle_measured)
        json_fixed(j, "idle_power_w", c->idle_power_uw, 6);
    else
        json_null(j, "idle_power_w");
    json_string(j, "status", c->status);
    json_string(j, "status_detail", c->status_detail[0] ? c->status_detail : NULL);
    json_u64(j, "wraps", c->wraps);
    json_u64(j, "resets", c->resets);
    json_u64(j, "anomalies", c->anomalies);
    joules(j, "rejected_energy_j", c->rejected_uj);
    json_end_object(j);
}

static void write_host(struct json *j, const char *key, const struct host_info *h)
{
    json_begin_object(j, key);
    json_string(j, "hostname", h->hostname);
    json_string(j, "cpu_model", h->cpu_model[0] ? h->cpu_model : NULL);
    json_u64(j, "logical_cpus", h->logical_cpus);
    json_u64(j, "memory_bytes", h->memory_bytes);
    json_string(j, "kernel", h->kernel);
    json_end_object(j);
}

static void write_attribution(struct json *j, const struct wattprof_result *r)
{
    json_begin_object(j, "attribution");
    json_string(j, "method", "cpu-time share of the process tree");
    seconds(j, "workload_cpu_s", r->workload_cpu_ns);
    seconds(j, "machine_cpu_s", r->machine_cpu_ns);
    json_double(j, "cpu_share", r->cpu_share);
    json_end_object(j);
}

static void write_units(struct json *j, const struct wattprof_result *r)
{
    if (r->units > 0) {
        json_double(j, "units", r->units);
        json_string(j, "unit_name", r->unit_name);
        json_double(j, "energy_per_unit_j", (double)r->attributed_uj / 1e6 / r->units);
    } else {
        json_null(j, "units");
        json_null(j, "unit_name");
        json_null(j, "energy_per_unit_j");
    }
}

static void write_idle(struct json *j, const struct wattprof_result *r)
{
    if (r->idle_measured) {
        json_fixed(j, "idle_power_w", r->idle_power_uw, 6);
        joules(j, "idle_energy_j", r->idle_energy_uj);
        joules(j, "dynamic_energy_j", r->dynamic_energy_uj);
    } else {
        json_null(j, "idle_power_w");
        json_null(j, "idle_energy_j");
        json_null(j, "dynamic_energy_j");
    }
}

/* What each total includes: the component sum (energy_j) and the node total. */
static void write_totals(struct json *j, const struct wattprof_result *r)
{
    json_begin_object(j, "totals");
    json_begin_object(j, "components");
    joules(j, "energy_j", r->energy_uj);
    json_string(j, "provenance", r->total_provenance);
    json_begin_array(j, "includes");
    for (size_t i = 0; i < r->n_channels; i++)
        if (r->channels[i].info.included_in_total)
            json_string(j, NULL, r->channels[i].info.name);
    json_end_array(j);
    json_end_object(j);
    if (r->has_node) {
        json_begin_object(j, "node");
        joules(j, "energy_j", r->node_energy_uj);
        json_string(j, "provenance", r->node_provenance);
        json_begin_array(j, "includes");
        json_string(j, NULL, r->node_channel);
        json_end_array(j);
        json_end_object(j);
    } else {
        json_null(j, "node");
    }
    json_end_object(j);
}

/* A number that may be unknown: null for NAN. */
static void maybe(struct json *j, const char *key, double v)
{
    if (isnan(v))
        json_null(j, key);
    else
        json_double(j, key, v);
}

/* The accounting object (docs/accounting.md); null when none was computed. */
static void write_accounting(struct json *j, const struct wattprof_accounting *a)
{
    if (!a->computed) {
        json_null(j, "accounting");
        return;
    }
    json_begin_object(j, "accounting");
    json_double(j, "pue", a->pue);
    json_string(j, "pue_source", a->pue_source);
    maybe(j, "facility_energy_j", a->facility_energy_j);
    maybe(j, "intensity_g_per_kwh", a->intensity_g_per_kwh);
    json_string(j, "intensity_kind", a->intensity_kind);
    json_string(j, "intensity_source", a->intensity_source);
    json_string(j, "location", a->location);
    json_string(j, "country_iso_code", a->country_iso);
    json_string(j, "country_name", a->country_name);
    json_string(j, "region", a->region);
    json_string(j, "cloud_provider", a->cloud_provider);
    json_string(j, "cloud_region", a->cloud_region);
    maybe(j, "operational_g", a->operational_g);
    maybe(j, "embodied_g", a->embodied_g);
    json_string(j, "embodied_source", a->embodied_source);
    maybe(j, "total_g", a->total_g);
    maybe(j, "price_per_kwh", a->price_per_kwh);
    json_string(j, "currency", a->currency);
    maybe(j, "cost", a->cost);
    maybe(j, "sci_g_per_unit", a->sci_g_per_unit);
    json_end_object(j);
}

static void write_metrics(struct json *j, const char *key, const struct wattprof_metric *m,
                          size_t n)
{
    json_begin_object(j, key);
    for (size_t i = 0; i < n; i++)
        json_double(j, m[i].name, m[i].value);
    json_end_object(j);
}

static void write_window(struct json *j, const struct wattprof_result *r,
                         const struct wattprof_window_result *w)
{
    json_begin_object(j, NULL);
    json_u64(j, "id", w->id);
    json_string(j, "name", w->name);
    seconds(j, "start_s", w->start_ns);
    seconds(j, "end_s", w->end_ns);
    joules(j, "energy_j", w->energy_uj);
    joules(j, "attributed_energy_j", w->attributed_uj);
    if (w->units > 0) {
        json_double(j, "units", w->units);
        json_string(j, "unit_name", w->unit_name);
        json_double(j, "energy_per_unit_j", (double)w->attributed_uj / 1e6 / w->units);
    } else {
        json_null(j, "units");
        json_null(j, "unit_name");
        json_null(j, "energy_per_unit_j");
    }
    write_metrics(j, "metrics", w->metrics, w->n_metrics);
    json_begin_array(j, "channels");
    for (size_t c = 0; c < w->n_channels && c < r->n_channels; c++) {
        json_begin_object(j, NULL);
        json_string(j, "name", r->channels[c].info.name);
        joules(j, "energy_j", w->channel_uj[c]);
        json_end_object(j);
    }
    json_end_array(j);
    json_bool(j, "complete", w->complete);
    write_accounting(j, &w->accounting);
    json_end_object(j);
}

static void write_lines(struct json *j, const char *key, const char *text)
{
    json_begin_array(j, key);
    char line[512];
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        snprintf(line, sizeof(line), "%.*s", (int)len, p);
        json_string(j, NULL, line);
        p += len;
        if (*p == '\n')
            p++;
    }
    json_end_array(j);
}

static void write_run(struct json *j, const struct wattprof_session *s)
{
    const struct wattprof_result *r = &s->result;
    char when[64];
    rfc3339_ms(when, sizeof(when), r->started_at_unix_ms);
    json_string(j, "schema", RUN_SCHEMA);
    json_string(j, "id", s->id[0] ? s->id : NULL);
    json_begin_array(j, "command");
    for (int i = 0; i < s->argc; i++)
        json_string(j, NULL, s->argv[i]);
    json_end_array(j);
    json_i64(j, "exit_code", r->exit_code);
    json_bool(j, "complete", r->complete);
    json_string(j, "started_at", when);
    seconds(j, "duration_s", r->duration_ns);
    joules(j, "energy_j", r->energy_uj);
    json_string(j, "energy_provenance", r->total_provenance);
    joules(j, "attributed_energy_j", r->attributed_uj);
    write_idle(j, r);
    write_units(j, r);
    write_attribution(j, r);
    write_accounting(j, &r->accounting);
    write_host(j, "host", &s->host);
    json_begin_object(j, "sampler");
    json_u64(j, "interval_ms", s->sp->interval_ns / 1000000);
    json_u64(j, "effective_interval_ms", s->sp->tick_ns / 1000000);
    json_u64(j, "samples", s->sp->n_samples);
    json_u64(j, "overruns", s->sp->n_overruns);
    json_string(j, "wattprof_version", WATTPROF_VERSION);
    json_end_object(j);
    write_totals(j, r);
    json_begin_array(j, "channels");
    for (size_t i = 0; i < r->n_channels; i++)
        write_channel(j, &r->channels[i], r->idle_measured);
    json_end_array(j);
    write_metrics(j, "metrics", r->metrics, r->n_metrics);
    json_begin_array(j, "windows");
    for (size_t i = 0; i < r->n_windows; i++)
        write_window(j, r, &r->windows[i]);
    json_end_array(j);
    write_lines(j, "warnings", r->warnings);
}

WATTPROF_API int wattprof_session_json(const struct wattprof_session *s, char **out)
{
    *out = NULL;
    if (!s->have_result)
        return -EINVAL;
    struct json j;
    json_init(&j);
    json_begin_object(&j, NULL);
    write_run(&j, s);
    json_end_object(&j);
    *out = json_take(&j);
    return *out ? 0 : -ENOMEM;
}

char *session_host_json(const struct wattprof_session *s)
{
    struct json j;
    json_init(&j);
    write_host(&j, NULL, &s->host);
    return json_take(&j);
}
