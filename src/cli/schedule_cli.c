/* Shared pieces of `wattprof schedule` and `wattprof run --defer`: parsing durations,
 * forecasts and times, reading a stored run's energy profile, and printing a plan. Numbers
 * are printed with printf in the "C" locale (the CLI never calls setlocale). */
#include "schedule_cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "history.h"
#include "json_parse.h"
#include "stored_run.h"

int schedule_cli_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        char unit;
        int64_t ms;
    } units[] = { { 'd', 86400000 }, { 'h', 3600000 }, { 'm', 60000 }, { 's', 1000 } };
    size_t next = 0; /* the first unit still allowed */
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        int64_t v = 0;
        const char *start = p;
        for (; *p >= '0' && *p <= '9' && v <= 1000000; p++)
            v = v * 10 + (*p - '0');
        size_t u = next;
        while (u < ARRAY_SIZE(units) && units[u].unit != *p)
            u++;
        if (p == start || u == ARRAY_SIZE(units) || v > 1000000)
            return -EINVAL;
        total += v * units[u].ms;
        next = u + 1;
        p++;
    }
    if (p == s || total < 1000 || total > 366 * 86400000LL)
        return -EINVAL;
    *ms = total;
    return 0;
}

int schedule_cli_add_forecast(struct wattprof_schedule_forecast *f, size_t *n, char *arg)
{
    static const char region_chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
    if (*n == WATTPROF_SCHEDULE_MAX_FORECASTS)
        return -EINVAL;
    char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : 0;
    f[*n].region = NULL;
    f[*n].path = arg;
    if (eq && len > 0 && len < 64 && strspn(arg, region_chars) == len && eq[1]) {
        *eq = '\0';
        f[*n].region = arg;
        f[*n].path = eq + 1;
    }
    (*n)++;
    return 0;
}

int schedule_cli_parse_now(const char *s, int64_t *unix_ms)
{
    uint64_t ms;
    unsigned long secs;
    if (cli_parse_uint(s, 0, 100000000000UL, &secs) == 0) {
        *unix_ms = (int64_t)secs * 1000;
        return 0;
    }
    if (stored_run_parse_time(s, &ms) < 0 || !strchr(s, 'T'))
        return -EINVAL;
    *unix_ms = (int64_t)ms;
    return 0;
}

int64_t schedule_cli_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void schedule_cli_fmt_time(char *buf, size_t size, int64_t unix_ms)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "?");
}

/* The power of the channels in the total, per second, from the store's series. */
static int like_profile(struct wattprof_store *st, const char *id, const struct stored_run *sr,
                        double **profile, size_t *n)
{
    char *text = NULL;
    struct json_parse_node *root = NULL;
    struct json_parse_error jerr;
    *profile = NULL;
    *n = 0;
    if (wattprof_store_series_json(st, id, &text) < 0 ||
        json_parse(text, strlen(text), &root, &jerr) < 0) {
        wattprof_free(text);
        return 0; /* no series: a flat profile */
    }
    const struct json_parse_node *names = json_parse_get(root, "channels");
    const struct json_parse_node *rows = json_parse_get(root, "power_w");
    size_t len = rows && rows->type == JSON_PARSE_ARRAY ? rows->len : 0;
    *profile = len ? calloc(len, sizeof(**profile)) : NULL;
    for (size_t j = 0; *profile && j < len; j++) {
        const struct json_parse_node *row = json_parse_at(rows, j);
        for (size_t c = 0; c < sr->res.n_channels; c++) {
            const struct wattprof_channel_info *ci = &sr->res.channels[c].info;
            for (size_t k = 0; ci->included_in_total && k < names->len; k++)
                if (strcmp(json_parse_str(json_parse_at(names, k), ""), ci->name) == 0)
                    (*profile)[j] += json_parse_num(json_parse_at(row, k), 0);
        }
    }
    *n = *profile ? len : 0;
    json_parse_free(root);
    wattprof_free(text);
    return len && !*profile ? -1 : 0;
}

int schedule_cli_load_like(const char *db, const char *run, double *energy_kwh, double **profile,
                           size_t *n, int64_t *duration_ms)
{
    struct wattprof_store *st = NULL;
    struct stored_run sr;
    char id[16];
    *profile = NULL;
    *n = 0;
    if (history_open(db, &st) < 0)
        return -1;
    int r = history_resolve(st, run, id) < 0 ? -1 : history_load(st, id, &sr, NULL);
    if (r == 0) {
        *energy_kwh = (double)sr.res.energy_uj / 3.6e12;
        *duration_ms = (int64_t)((sr.res.duration_ns + 999999999) / 1000000000) * 1000;
        r = like_profile(st, id, &sr, profile, n);
        double sum = 0;
        for (size_t j = 0; j < *n; j++)
            sum += (*profile)[j];
        /* the energy of each second, scaled so that they add up to the run's energy */
        for (size_t j = 0; j < *n; j++)
            (*profile)[j] = sum > 0 ? (*profile)[j] / sum * *energy_kwh : *energy_kwh / *n;
        stored_run_release(&sr);
    }
    if (r < 0)
        cli_error("out of memory");
    wattprof_store_close(st);
    return r;
}

/* Numbers: NAN as "null" in JSON. */
static void json_num(FILE *f, const char *key, double v, const char *after)
{
    if (isnan(v))
        fprintf(f, "\"%s\": null%s", key, after);
    else
        fprintf(f, "\"%s\": %.10g%s", key, v, after);
}

/* A JSON string with the escapes RFC 8259 requires. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_window(FILE *f, const struct wattprof_schedule_window *w)
{
    char a[32], b[32];
    schedule_cli_fmt_time(a, sizeof(a), w->start_unix_ms);
    schedule_cli_fmt_time(b, sizeof(b), w->end_unix_ms);
    fprintf(f, "{\"start\": \"%s\", \"end\": \"%s\", ", a, b);
    if (w->region[0]) {
        fprintf(f, "\"region\": ");
        json_str(f, w->region);
        fprintf(f, ", ");
    }
    if (!isnan(w->expected_g))
        json_num(f, "expected_g", w->expected_g, ", ");
    json_num(f, "mean_g_per_kwh", w->mean_g_per_kwh, "}");
}

static void json_windows(FILE *f, const char *key, const struct wattprof_schedule_window *w,
                         size_t n)
{
    fprintf(f, "  \"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        json_window(f, &w[i]);
    }
    fprintf(f, "%s],\n", n ? "\n  " : "");
}

static void json_forecast(FILE *f, const struct wattprof_schedule_forecast_info *fi,
                          const char *path)
{
    char t[32];
    fprintf(f, "{\"path\": ");
    json_str(f, path);
    fprintf(f, ", \"source\": ");
    json_str(f, fi->source);
    fprintf(f, ", \"kind\": \"%s\", \"resolution_s\": %.3f", fi->kind, (double)fi->step_ms / 1e3);
    if (fi->generated_at_unix_ms) {
        schedule_cli_fmt_time(t, sizeof(t), fi->generated_at_unix_ms);
        fprintf(f, ", \"generated_at\": \"%s\"", t);
    }
    fprintf(f, "}");
}

void schedule_cli_print_json(FILE *f, const struct wattprof_schedule_request *q,
                             const struct wattprof_schedule_result *res)
{
    char now[32];
    schedule_cli_fmt_time(now, sizeof(now), q->now_unix_ms);
    fprintf(f, "{\n  \"schema\": \"wattprof.schedule/1\",\n  \"planned_at\": \"%s\",\n", now);
    fprintf(f, "  \"duration_s\": %lld,\n  \"within_s\": %lld,\n  \"best\": ",
            (long long)(q->duration_ms / 1000), (long long)(q->within_ms / 1000));
    json_window(f, &res->best);
    fprintf(f, ",\n  \"now\": ");
    if (res->now_known)
        json_window(f, &res->now);
    else
        fprintf(f, "null");
    fprintf(f, ",\n  ");
    if (!isnan(res->saving_g))
        json_num(f, "saving_g", res->saving_g, ",\n  ");
    json_num(f, "saving_pct", res->saving_pct, ",\n");
    json_windows(f, "alternatives", res->alternatives, res->n_alternatives);
    if (q->chunks > 1)
        json_windows(f, "chunks", res->chunks, res->n_chunks);
    if (!isnan(q->max_intensity))
        fprintf(f, "  \"max_intensity_met\": %s,\n", res->threshold_met ? "true" : "false");
    fprintf(f, "  \"candidates\": %zu,\n  \"excluded\": %zu,\n  \"forecast\": ", res->candidates,
            res->excluded);
    json_forecast(f, &res->forecasts[res->best.forecast], q->forecasts[res->best.forecast].path);
    fprintf(f, ",\n  \"forecasts\": [");
    for (size_t i = 0; i < res->n_forecasts; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_forecast(f, &res->forecasts[i], q->forecasts[i].path);
    }
    fprintf(f, "]\n}\n");
}

static void text_window(FILE *f, const char *label, const struct wattprof_schedule_window *w)
{
    char a[32], b[32];
    schedule_cli_fmt_time(a, sizeof(a), w->start_unix_ms);
    schedule_cli_fmt_time(b, sizeof(b), w->end_unix_ms);
    fprintf(f, "%-13s %s to %s%s%s: %.1f gCO2e/kWh", label, a, b, w->region[0] ? " in " : "",
            w->region, w->mean_g_per_kwh);
    if (!isnan(w->expected_g))
        fprintf(f, ", %.1f g CO2e expected", w->expected_g);
    fputc('\n', f);
}

void schedule_cli_print_text(FILE *f, const struct wattprof_schedule_request *q,
                             const struct wattprof_schedule_result *res)
{
    text_window(f, "best start:", &res->best);
    for (size_t i = 0; i < res->n_chunks; i++)
        text_window(f, i == 0 ? "  chunks:" : "", &res->chunks[i]);
    if (res->now_known)
        text_window(f, "start now:", &res->now);
    else
        fprintf(f, "start now:    unknown (the first forecast does not cover it)\n");
    if (!isnan(res->saving_g))
        fprintf(f, "saving:       %.1f g CO2e (%.1f %%) against starting now\n", res->saving_g,
                res->saving_pct);
    else if (!isnan(res->saving_pct))
        fprintf(f, "saving:       %.1f %% against starting now\n", res->saving_pct);
    if (!isnan(q->max_intensity) && !res->threshold_met)
        fprintf(f, "note:         no slot below %.1f gCO2e/kWh; this is the cleanest start\n",
                q->max_intensity);
    for (size_t i = 0; i < res->n_alternatives; i++)
        text_window(f, i == 0 ? "alternatives:" : "", &res->alternatives[i]);
    const struct wattprof_schedule_forecast_info *fi = &res->forecasts[res->best.forecast];
    fprintf(f,
            "forecast:     %s (%s, every %lld s); %zu starts rated, %zu left out for lack of "
            "data\n",
            fi->source, fi->kind, (long long)(fi->step_ms / 1000), res->candidates, res->excluded);
}

/* One shell word, single-quoted when it holds anything but safe characters. */
static void shell_word(FILE *f, const char *s)
{
    if (*s &&
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./=:,@%+") ==
            strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++)
        fputs(*s == '\'' ? "'\\''" : (char[]){ *s, '\0' }, f);
    fputc('\'', f);
}

void schedule_cli_print_sbatch(FILE *f, const struct wattprof_schedule_result *res, int argc,
                               char **argv)
{
    char utc[32], local[32];
    time_t t = (time_t)(res->best.start_unix_ms / 1000);
    struct tm tm;
    schedule_cli_fmt_time(utc, sizeof(utc), res->best.start_unix_ms);
    if (!localtime_r(&t, &tm) || strftime(local, sizeof(local), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(local, sizeof(local), "now");
    fprintf(f, "# best start %s (UTC) = %s local time (%s); Slurm reads --begin as local time\n",
            utc, local, tm.tm_zone ? tm.tm_zone : "?");
    fprintf(f, "sbatch --begin=%s", local);
    for (int i = 0; i < argc; i++) {
        fputc(' ', f);
        shell_word(f, argv[i]);
    }
    fputc('\n', f);
}
