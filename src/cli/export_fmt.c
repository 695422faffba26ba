/* The formats of `wattprof export` (see export_fmt.h and docs/export.md). */
#include "export_fmt.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define J_PER_KWH 3.6e6
#define BYTES_PER_GB 1073741824.0 /* CodeCarbon's GB: 1024^3 bytes */

const char *const export_codecarbon_columns[EXPORT_CODECARBON_COLUMNS] = {
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
};

void export_json(FILE *f, const char *const *texts, size_t n)
{
    fputs(n ? "[\n" : "[", f);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(texts[i]);
        while (len > 0 && strchr(" \t\r\n", texts[i][len - 1]))
            len--;
        fprintf(f, "%.*s%s", (int)len, texts[i], i + 1 < n ? ",\n" : "\n");
    }
    fputs("]\n", f);
}

void export_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_command(FILE *f, const struct stored_run *r)
{
    char buf[4096] = "";
    for (int i = 0; i < r->argc; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? " " : "", r->argv[i]);
    }
    export_csv_field(f, buf);
}

static void csv_row(FILE *f, const struct stored_run *r, const struct wattprof_channel_result *c)
{
    const char *text[] = { r->id, r->started_at };
    for (size_t i = 0; i < 2; i++) {
        export_csv_field(f, text[i]);
        fputc(',', f);
    }
    csv_command(f, r);
    const char *info[] = { c->info.name, c->info.kind, c->info.domain, c->info.source,
                           c->info.provenance };
    for (size_t i = 0; i < 5; i++) {
        fputc(',', f);
        export_csv_field(f, info[i]);
    }
    fprintf(f, ",%s,%.6f,%.6f,%.6f,%.6f\r\n", c->info.included_in_total ? "true" : "false",
            (double)c->energy_uj / 1e6, (double)c->avg_power_uw / 1e6,
            (double)c->peak_power_uw / 1e6, (double)r->res.duration_ns / 1e9);
}

void export_csv(FILE *f, const struct stored_run *runs, size_t n)
{
    fputs("run_id,started_at,command,channel,kind,domain,source,provenance,included_in_total,"
          "energy_j,avg_power_w,peak_power_w,duration_s\r\n",
          f);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < runs[i].res.n_channels; j++)
            csv_row(f, &runs[i], &runs[i].res.channels[j]);
}

/* ---- CodeCarbon -------------------------------------------------------------------- */

struct cc_row {
    char v[EXPORT_CODECARBON_COLUMNS][256];
};

static void cc_set(struct cc_row *row, const char *column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cc_set(struct cc_row *row, const char *column, const char *fmt, ...)
{
    for (size_t i = 0; i < EXPORT_CODECARBON_COLUMNS; i++) {
        if (strcmp(export_codecarbon_columns[i], column) != 0)
            continue;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(row->v[i], sizeof(row->v[i]), fmt, ap);
        va_end(ap);
    }
}

/* Sums the channels in the total of one CodeCarbon component; 0 when there is none. */
static int cc_component(const struct wattprof_result *r, const char *const *domains, double *j,
                        double *w)
{
    int found = 0;
    *j = *w = 0;
    for (size_t i = 0; i < r->n_channels; i++) {
        const struct wattprof_channel_info *c = &r->channels[i].info;
        for (const char *const *d = domains; *d; d++) {
            if (!c->included_in_total || strcmp(c->domain, *d) != 0)
                continue;
            found = 1;
            *j += (double)r->channels[i].energy_uj / 1e6;
            *w += (double)r->channels[i].avg_power_uw / 1e6;
        }
    }
    return found;
}

static void cc_components(struct cc_row *row, const struct wattprof_result *r)
{
    static const char *const cpu[] = { "package", "cpu", NULL }, *const gpu[] = { "gpu", NULL },
                             *const ram[] = { "dram", "memory", NULL };
    static const struct {
        const char *power, *energy;
        const char *const *domains;
    } parts[] = { { "cpu_power", "cpu_energy", cpu },
                  { "gpu_power", "gpu_energy", gpu },
                  { "ram_power", "ram_energy", ram } };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        double j, w;
        if (!cc_component(r, parts[i].domains, &j, &w))
            continue;
        cc_set(row, parts[i].power, "%.6f", w);
        cc_set(row, parts[i].energy, "%.12g", j / J_PER_KWH);
    }
    size_t gpus = 0;
    for (size_t i = 0; i < r->n_channels; i++)
        gpus += strcmp(r->channels[i].info.domain, "gpu") == 0;
    if (gpus > 0)
        cc_set(row, "gpu_count", "%zu", gpus);
}

static void cc_host(struct cc_row *row, const struct stored_run *sr)
{
    const struct json_parse_node *host = json_parse_get(sr->root, "host");
    double cpus = json_parse_get_num(host, "logical_cpus", 0);
    double mem = json_parse_get_num(host, "memory_bytes", 0);
    double dur = (double)sr->res.duration_ns / 1e9;
    const char *kernel = json_parse_get_str(host, "kernel", NULL);
    if (kernel)
        cc_set(row, "os", "Linux-%s", kernel);
    if (cpus > 0)
        cc_set(row, "cpu_count", "%.0f", cpus);
    cc_set(row, "cpu_model", "%s", json_parse_get_str(host, "cpu_model", ""));
    if (mem > 0)
        cc_set(row, "ram_total_size", "%.3f", mem / BYTES_PER_GB);
    if (cpus > 0 && dur > 0 && sr->res.machine_cpu_ns > 0)
        cc_set(row, "cpu_utilization_percent", "%.1f",
               (double)sr->res.machine_cpu_ns / 1e9 / (dur * cpus) * 100);
}

/* The stored accounting's figures; columns stay empty when unknown. */
static void cc_accounting(struct cc_row *row, const struct stored_run *sr)
{
    const struct wattprof_accounting *a = &sr->res.accounting;
    double dur = (double)sr->res.duration_ns / 1e9;
    if (!a->computed)
        return;
    if (!isnan(a->total_g)) {
        cc_set(row, "emissions", "%.12g", a->total_g / 1000);
        if (dur > 0)
            cc_set(row, "emissions_rate", "%.12g", a->total_g / 1000 / dur);
    }
    if (!isnan(a->pue))
        cc_set(row, "pue", "%.4g", a->pue);
    cc_set(row, "country_iso_code", "%s", a->country_iso ? a->country_iso : "");
    cc_set(row, "country_name", "%s", a->country_name ? a->country_name : "");
    cc_set(row, "region", "%s", a->region ? a->region : "");
    cc_set(row, "cloud_provider", "%s", a->cloud_provider ? a->cloud_provider : "");
    cc_set(row, "cloud_region", "%s", a->cloud_region ? a->cloud_region : "");
    cc_set(row, "on_cloud", "%s", a->cloud_provider ? "Y" : "N");
}

static void codecarbon_row(FILE *f, const struct stored_run *sr)
{
    static struct cc_row row;
    memset(&row, 0, sizeof(row));
    cc_set(&row, "timestamp", "%s", sr->started_at);
    cc_set(&row, "run_id", "%s", sr->id);
    cc_set(&row, "duration", "%.6f", (double)sr->res.duration_ns / 1e9);
    cc_set(&row, "energy_consumed", "%.12g", (double)sr->res.energy_uj / 1e6 / J_PER_KWH);
    cc_set(&row, "tracking_mode", "machine");
    cc_components(&row, &sr->res);
    cc_host(&row, sr);
    cc_accounting(&row, sr);
    for (size_t i = 0; i < EXPORT_CODECARBON_COLUMNS; i++) {
        if (i)
            fputc(',', f);
        export_csv_field(f, row.v[i]);
    }
    fputc('\n', f);
}

void export_codecarbon(FILE *f, const struct stored_run *runs, size_t n)
{
    for (size_t i = 0; i < EXPORT_CODECARBON_COLUMNS; i++)
        fprintf(f, "%s%s", i ? "," : "", export_codecarbon_columns[i]);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++)
        codecarbon_row(f, &runs[i]);
}

/* ---- OpenMetrics ------------------------------------------------------------------- */

void export_om_label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '"')
            fputs("\\\"", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void om_family(FILE *f, const char *name, const char *type, const char *unit,
                      const char *help)
{
    fprintf(f, "# TYPE %s %s\n# UNIT %s %s\n# HELP %s %s\n", name, type, name, unit, name, help);
}

static void om_run_label(FILE *f, const char *metric, const struct stored_run *r)
{
    fprintf(f, "%s{run=\"", metric);
    export_om_label(f, r->id);
    fputc('"', f);
}

void export_openmetrics(FILE *f, const struct stored_run *runs, size_t n)
{
    om_family(f, "wattprof_run_energy_joules", "counter", "joules",
              "Energy of each channel over a stored run.");
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < runs[i].res.n_channels; j++) {
            const struct wattprof_channel_result *c = &runs[i].res.channels[j];
            om_run_label(f, "wattprof_run_energy_joules_total", &runs[i]);
            fputs(",channel=\"", f);
            export_om_label(f, c->info.name);
            fputs("\",provenance=\"", f);
            export_om_label(f, c->info.provenance);
            fprintf(f, "\",in_total=\"%s\"} %.6f\n", c->info.included_in_total ? "true" : "false",
                    (double)c->energy_uj / 1e6);
        }
    }
    om_family(f, "wattprof_run_duration_seconds", "gauge", "seconds", "Duration of a stored run.");
    for (size_t i = 0; i < n; i++) {
        om_run_label(f, "wattprof_run_duration_seconds", &runs[i]);
        fprintf(f, "} %.6f\n", (double)runs[i].res.duration_ns / 1e9);
    }
    fputs("# EOF\n", f);
}
