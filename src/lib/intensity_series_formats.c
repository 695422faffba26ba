/* The file formats of carbon-intensity series: RFC 3339 times, CSV, and the JSON of
 * Electricity Maps, WattTime v3 and the Carbon Aware SDK (docs/intensity-series.md).
 * Every number is read in the "C" locale. */
#include "intensity_series.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_parse.h"

#define LBS_PER_MWH_TO_G_PER_KWH 0.45359237

/* Reads between min and max digits at *p into *v. 0 or -EINVAL. */
static int digits(const char **p, const char *end, int min, int max, int64_t *v)
{
    int k = 0;
    *v = 0;
    while (*p < end && k < max && **p >= '0' && **p <= '9') {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        k++;
    }
    return k >= min ? 0 : -EINVAL;
}

static int expect(const char **p, const char *end, const char *any)
{
    if (*p >= end || !strchr(any, **p) || **p == '\0')
        return -EINVAL;
    (*p)++;
    return 0;
}

/* ".fff…": milliseconds from the first three digits; further digits are ignored. */
static int fraction_ms(const char **p, const char *end, int64_t *ms)
{
    *ms = 0;
    if (*p >= end || **p != '.')
        return 0;
    (*p)++;
    int64_t scale = 100, d;
    const char *start = *p;
    while (*p < end && **p >= '0' && **p <= '9') {
        d = **p - '0';
        *ms += d * scale;
        scale /= 10;
        (*p)++;
    }
    return *p > start ? 0 : -EINVAL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int valid_date(int64_t y, int64_t m, int64_t d)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* "Z", or "+hh:mm" / "-hh:mm": the offset in minutes east of UTC. */
static int parse_offset(const char **p, const char *end, int64_t *off_min)
{
    int64_t oh, om;
    *off_min = 0;
    if (*p < end && (**p == 'Z' || **p == 'z')) {
        (*p)++;
        return 0;
    }
    if (*p >= end || (**p != '+' && **p != '-'))
        return -EINVAL;
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (digits(p, end, 2, 2, &oh) < 0 || expect(p, end, ":") < 0 || digits(p, end, 2, 2, &om) < 0 ||
        oh > 23 || om > 59)
        return -EINVAL;
    *off_min = sign * (oh * 60 + om);
    return 0;
}

int intensity_series_parse_time(const char *s, size_t len, int64_t *t_ms)
{
    const char *p = s, *end = s + len;
    int64_t y, mo, d, h, mi, sec = 0, ms = 0, off;
    if (digits(&p, end, 4, 4, &y) < 0 || expect(&p, end, "-") < 0 ||
        digits(&p, end, 2, 2, &mo) < 0 || expect(&p, end, "-") < 0 ||
        digits(&p, end, 2, 2, &d) < 0 || expect(&p, end, "Tt ") < 0 ||
        digits(&p, end, 2, 2, &h) < 0 || expect(&p, end, ":") < 0 || digits(&p, end, 2, 2, &mi) < 0)
        return -EINVAL;
    if (p < end && *p == ':' &&
        (p++, digits(&p, end, 2, 2, &sec) < 0 || fraction_ms(&p, end, &ms) < 0))
        return -EINVAL;
    if (parse_offset(&p, end, &off) < 0 || p != end)
        return -EINVAL;
    if (!valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 59)
        return -EINVAL;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off * 60;
    *t_ms = secs * 1000 + ms;
    return 0;
}

/* Unix seconds, optionally with a fraction (CSV only). */
static int parse_unix(const char *s, size_t len, int64_t *t_ms)
{
    const char *p = s, *end = s + len;
    int64_t secs, ms;
    if (digits(&p, end, 1, 12, &secs) < 0 || fraction_ms(&p, end, &ms) < 0 || p != end)
        return -EINVAL;
    *t_ms = secs * 1000 + ms;
    return 0;
}

/* A whole number in s[0..len), in the "C" locale. 0 or -EINVAL. */
static int parse_number(struct series_loader *ld, const char *s, size_t len, double *v)
{
    char buf[64];
    char *endp;
    if (len == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *v = strtod_l(buf, &endp, ld->c_locale);
    /* decimal only: strtod would also take "0x1p4", "inf" and "nan" */
    if (*endp != '\0' || !strchr("+-.0123456789", buf[0]) || strpbrk(buf, "xXiInN"))
        return -EINVAL;
    return 0;
}

/* ---- CSV ---- */

struct csv_field {
    size_t pos, len; /* in the text, without blanks and quotes */
};

/* Splits the line text[pos..eol) at commas into at most max fields; returns the count. */
static size_t csv_split(const char *t, size_t pos, size_t eol, struct csv_field *f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        size_t a = pos, b = pos;
        while (b < eol && t[b] != ',')
            b++;
        size_t next = b;
        while (a < b && (t[a] == ' ' || t[a] == '\t'))
            a++;
        while (b > a && strchr(" \t\r", t[b - 1]))
            b--;
        if (b - a >= 2 && t[a] == '"' && t[b - 1] == '"') {
            a++;
            b--;
        }
        f[n++] = (struct csv_field){ a, b - a };
        if (next >= eol)
            break;
        pos = next + 1;
    }
    return n;
}

static int csv_time(const char *s, size_t len, int64_t *t_ms)
{
    if (parse_unix(s, len, t_ms) == 0)
        return 0;
    return intensity_series_parse_time(s, len, t_ms);
}

static int csv_header(struct series_loader *ld, size_t pos, size_t eol)
{
    struct csv_field f[3];
    int64_t t;
    size_t n = csv_split(ld->text, pos, eol, f, 3);
    if (n >= 1 && csv_time(ld->text + f[0].pos, f[0].len, &t) == 0)
        return intensity_series_fail(ld, pos, "expected a header line 'timestamp,g_per_kwh'");
    if (n != 2)
        return intensity_series_fail(ld, pos, "the header must have 2 columns, has %zu", n);
    int marginal = memmem(ld->text + f[1].pos, f[1].len, "marginal", 8) != NULL;
    const char *name = strrchr(ld->path, '/');
    char source[160];
    snprintf(source, sizeof(source), "CSV file %s", name ? name + 1 : ld->path);
    intensity_series_set(ld, marginal ? "marginal" : "average", source);
    return 0;
}

static int csv_row(struct series_loader *ld, size_t pos, size_t eol)
{
    struct csv_field f[3];
    const char *t = ld->text;
    int64_t t_ms;
    double v;
    size_t n = csv_split(t, pos, eol, f, 3);
    if (n < 2)
        return intensity_series_fail(ld, eol, "missing column 2 (g_per_kwh)");
    if (n > 2)
        return intensity_series_fail(ld, f[2].pos, "unexpected column 3");
    if (csv_time(t + f[0].pos, f[0].len, &t_ms) < 0)
        return intensity_series_fail(ld, f[0].pos, "bad timestamp '%.*s'", (int)f[0].len,
                                     t + f[0].pos);
    if (parse_number(ld, t + f[1].pos, f[1].len, &v) < 0)
        return intensity_series_fail(ld, f[1].pos, "not a number '%.*s'", (int)f[1].len,
                                     t + f[1].pos);
    return intensity_series_add(ld, f[0].pos, t_ms, 0, v, f[1].pos);
}

int intensity_series_parse_csv(struct series_loader *ld)
{
    const char *t = ld->text;
    int header = 0, r = 0;
    size_t pos = ld->len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (r == 0 && pos < ld->len) {
        const char *nl = memchr(t + pos, '\n', ld->len - pos);
        size_t eol = nl ? (size_t)(nl - t) : ld->len;
        size_t a = pos;
        while (a < eol && strchr(" \t\r", t[a]))
            a++;
        if (a < eol && t[a] != '#')
            r = header ? csv_row(ld, pos, eol) : csv_header(ld, pos, eol);
        header |= a < eol && t[a] != '#';
        pos = eol + 1;
    }
    return r;
}

/* ---- JSON ---- */

/* A member of obj, matched exactly or ignoring case (the SDK's two spellings). */
static const struct json_parse_node *member(const struct json_parse_node *obj, const char *key,
                                            int ci)
{
    return ci ? json_parse_get_ci(obj, key) : json_parse_get(obj, key);
}

struct json_format {
    const char *name;
    const char *time_key, *value_key, *dur_key; /* dur_key: NULL if none per point */
    int ci;                                     /* keys ignore case */
};

static const struct json_format em_format = { "Electricity Maps", "datetime", "carbonIntensity",
                                              NULL, 0 };
static const struct json_format wt_format = { "WattTime", "point_time", "value", NULL, 0 };
static const struct json_format sdk_format = { "Carbon Aware SDK", "time", "rating", "duration",
                                               1 };
static const struct json_format sdk_forecast_format = { "Carbon Aware SDK forecast", "timestamp",
                                                        "value", "duration", 1 };

/* The SDK's TimeSpan "[d.]hh:mm[:ss[.fffffff]]", or a number of minutes. */
static int parse_timespan(const struct json_parse_node *n, int64_t *ms)
{
    if (n->type == JSON_PARSE_NUMBER && n->num >= 0 && n->num < 1e7) {
        *ms = (int64_t)(n->num * 60000.0 + 0.5);
        return 0;
    }
    if (n->type != JSON_PARSE_STRING)
        return -EINVAL;
    const char *p = n->str, *end = n->str + n->len, *colon = strchr(p, ':');
    const char *dot = strchr(p, '.');
    int64_t days = 0, h, m, s = 0, frac = 0;
    if (dot && colon && dot < colon &&
        (digits(&p, end, 1, 8, &days) < 0 || expect(&p, end, ".") < 0))
        return -EINVAL;
    if (digits(&p, end, 1, 2, &h) < 0 || expect(&p, end, ":") < 0 || digits(&p, end, 2, 2, &m) < 0)
        return -EINVAL;
    if (p < end && *p == ':' &&
        (p++, digits(&p, end, 2, 2, &s) < 0 || fraction_ms(&p, end, &frac) < 0))
        return -EINVAL;
    if (p != end || h > 23 || m > 59 || s > 59)
        return -EINVAL;
    *ms = (((days * 24 + h) * 60 + m) * 60 + s) * 1000 + frac;
    return 0;
}

/* A number, or (SDK demo files) a string holding one. */
static int node_number(struct series_loader *ld, const struct json_parse_node *n, double *v)
{
    if (n->type == JSON_PARSE_NUMBER) {
        *v = n->num;
        return 0;
    }
    if (n->type == JSON_PARSE_STRING)
        return parse_number(ld, n->str, n->len, v);
    return -EINVAL;
}

static int read_point(struct series_loader *ld, const struct json_parse_node *pt,
                      const struct json_format *f, int64_t dur_ms, double scale)
{
    const struct json_parse_node *tn = member(pt, f->time_key, f->ci),
                                 *vn = member(pt, f->value_key, f->ci);
    const struct json_parse_node *dn = f->dur_key ? member(pt, f->dur_key, f->ci) : NULL;
    int64_t t_ms;
    double v;
    if (pt->type != JSON_PARSE_OBJECT)
        return intensity_series_fail(ld, pt->pos, "expected an object");
    if (!tn || !vn)
        return intensity_series_fail(ld, pt->pos, "missing \"%s\"",
                                     tn ? f->value_key : f->time_key);
    if (tn->type != JSON_PARSE_STRING || intensity_series_parse_time(tn->str, tn->len, &t_ms) < 0)
        return intensity_series_fail(ld, tn->pos, "bad timestamp in \"%s\"", f->time_key);
    if (node_number(ld, vn, &v) < 0)
        return intensity_series_fail(ld, vn->pos, "\"%s\" is not a number", f->value_key);
    if (dn && dn->type != JSON_PARSE_NULL && parse_timespan(dn, &dur_ms) < 0)
        return intensity_series_fail(ld, dn->pos, "bad duration in \"%s\"", f->dur_key);
    return intensity_series_add(ld, pt->pos, t_ms, dur_ms, v * scale, vn->pos);
}

static int read_points(struct series_loader *ld, const struct json_parse_node *arr,
                       const struct json_format *f, int64_t dur_ms, double scale)
{
    if (!arr || arr->type != JSON_PARSE_ARRAY)
        return intensity_series_fail(ld, arr ? arr->pos : 0, "expected an array of %s points",
                                     f->name);
    int r = 0;
    for (const struct json_parse_node *pt = arr->child; pt && r == 0; pt = pt->next)
        r = read_point(ld, pt, f, dur_ms, scale);
    return r;
}

/* Records the string member key of obj as the time the data was made. */
static void set_generated(struct series_loader *ld, const struct json_parse_node *obj,
                          const char *key)
{
    const struct json_parse_node *n = json_parse_get_ci(obj, key);
    if (n && n->type == JSON_PARSE_STRING)
        intensity_series_set_generated(ld, n->str, n->len);
}

/* Electricity Maps: {"zone", "history": [...]} (history), {"zone", "forecast": [...],
 * "updatedAt"} (forecast), {"zone", "data": [...]} (past-range) or one point (latest). */
static int parse_em(struct series_loader *ld, const struct json_parse_node *root)
{
    static const struct {
        const char *name;
        int64_t ms;
    } grains[] = { { "5_minutes", 300000 },
                   { "15_minutes", 900000 },
                   { "hourly", 3600000 },
                   { "daily", 86400000 } };
    const struct json_parse_node *fc = json_parse_get(root, "forecast");
    const struct json_parse_node *arr = fc ? fc : json_parse_get(root, "history");
    arr = arr ? arr : json_parse_get(root, "data");
    const struct json_parse_node *first = arr ? json_parse_at(arr, 0) : root;
    const char *zone = json_parse_get_str(root, "zone", json_parse_get_str(first, "zone", "?"));
    const char *eft = json_parse_get_str(root, "emissionFactorType",
                                         json_parse_get_str(first, "emissionFactorType", NULL));
    const char *grain = json_parse_get_str(root, "temporalGranularity", "");
    int64_t dur = 0;
    for (size_t i = 0; i < sizeof(grains) / sizeof(grains[0]); i++)
        if (strcmp(grain, grains[i].name) == 0)
            dur = grains[i].ms;
    char source[160];
    snprintf(source, sizeof(source), "Electricity Maps %s, zone %s, %s%s",
             fc    ? "forecast"
             : arr ? "history"
                   : "latest",
             zone, eft ? eft : "lifecycle", eft ? "" : " (API default; not stated in the file)");
    intensity_series_set(ld, "average", source);
    if (fc)
        set_generated(ld, root, "updatedAt");
    return arr ? read_points(ld, arr, &em_format, dur, 1.0)
               : read_point(ld, root, &em_format, 0, 1.0);
}

/* WattTime v3 historical: {"data": [{point_time, value}], "meta": {region, signal_type,
 * units, data_point_period_seconds}}. */
static int parse_wt(struct series_loader *ld, const struct json_parse_node *root)
{
    const struct json_parse_node *meta = json_parse_get(root, "meta");
    const char *signal = json_parse_get_str(meta, "signal_type", "co2_moer");
    const char *units = json_parse_get_str(meta, "units", "lbs_co2_per_mwh");
    double scale = LBS_PER_MWH_TO_G_PER_KWH;
    if (strcmp(signal, "co2_moer") != 0 && strcmp(signal, "co2_aoer") != 0)
        return intensity_series_fail(ld, json_parse_get(meta, "signal_type")->pos,
                                     "unsupported signal_type '%s'", signal);
    if (strcmp(units, "g_co2_per_kwh") == 0 || strcmp(units, "kg_co2_per_mwh") == 0)
        scale = 1.0;
    else if (strcmp(units, "lbs_co2_per_mwh") != 0)
        return intensity_series_fail(ld, json_parse_get(meta, "units")->pos,
                                     "unsupported units '%s'", units);
    double period = json_parse_get_num(meta, "data_point_period_seconds", 0);
    char source[160];
    int forecast = json_parse_get(meta, "generated_at") != NULL;
    snprintf(source, sizeof(source), "WattTime %s, region %s, %s",
             forecast ? "forecast" : "historical", json_parse_get_str(meta, "region", "?"), signal);
    set_generated(ld, meta, "generated_at");
    intensity_series_set(ld, strcmp(signal, "co2_moer") == 0 ? "marginal" : "average", source);
    int64_t dur = period > 0 && period < 1e7 ? (int64_t)(period * 1000.0) : 0;
    return read_points(ld, json_parse_get(root, "data"), &wt_format, dur, scale);
}

/* Every point must be for the same location. */
static int sdk_location(struct series_loader *ld, const struct json_parse_node *arr,
                        const char **loc)
{
    *loc = NULL;
    for (const struct json_parse_node *pt = arr->child; pt; pt = pt->next) {
        const char *l = json_parse_str(json_parse_get_ci(pt, "location"), NULL);
        if (l && *loc && strcmp(l, *loc) != 0)
            return intensity_series_fail(ld, pt->pos, "a second location '%s' (first '%s')", l,
                                         *loc);
        *loc = *loc ? *loc : l;
    }
    return 0;
}

/* Carbon Aware SDK forecast (EmissionsForecastDTO): [{generatedAt, location, forecastData:
 * [{location, timestamp, duration (minutes), value}]}]; the first forecast is read. */
static int parse_sdk_forecast(struct series_loader *ld, const struct json_parse_node *obj,
                              const struct json_parse_node *data)
{
    const char *loc;
    if (data->type != JSON_PARSE_ARRAY)
        return read_points(ld, data, &sdk_forecast_format, 0, 1.0);
    int r = sdk_location(ld, data, &loc);
    if (r < 0)
        return r;
    char source[160];
    snprintf(source, sizeof(source), "Carbon Aware SDK forecast, location %s",
             json_parse_get_str(obj, "location", loc ? loc : "?"));
    const char *kind = json_parse_str(json_parse_get_ci(obj, "kind"), "average");
    intensity_series_set(ld, strcmp(kind, "marginal") == 0 ? "marginal" : "average", source);
    set_generated(ld, obj, "generatedAt");
    return read_points(ld, data, &sdk_forecast_format, 0, 1.0);
}

/* Carbon Aware SDK: [{location, time, rating, duration}] (WebAPI, CLI) or the JSON data
 * source's {"Emissions": [{Location, Time, Rating, Duration}]}. */
static int parse_sdk(struct series_loader *ld, const struct json_parse_node *root)
{
    const struct json_parse_node *arr =
        root->type == JSON_PARSE_ARRAY ? root : json_parse_get_ci(root, "emissions");
    const struct json_parse_node *fc = json_parse_get_ci(json_parse_at(arr, 0), "forecastData");
    const char *loc;
    if (fc)
        return parse_sdk_forecast(ld, json_parse_at(arr, 0), fc);
    if (!arr || arr->type != JSON_PARSE_ARRAY)
        return read_points(ld, arr, &sdk_format, 0, 1.0);
    int r = sdk_location(ld, arr, &loc);
    if (r < 0)
        return r;
    const char *kind = json_parse_str(json_parse_get_ci(root, "kind"), "average");
    if (strcmp(kind, "average") != 0 && strcmp(kind, "marginal") != 0)
        return intensity_series_fail(ld, json_parse_get_ci(root, "kind")->pos,
                                     "kind must be \"average\" or \"marginal\"");
    char source[160];
    snprintf(source, sizeof(source), "Carbon Aware SDK emissions, location %s", loc ? loc : "?");
    intensity_series_set(ld, kind, source);
    return read_points(ld, arr, &sdk_format, 0, 1.0);
}

static int parse_tree(struct series_loader *ld, const struct json_parse_node *root)
{
    const struct json_parse_node *first = json_parse_at(json_parse_get(root, "data"), 0);
    if (root->type == JSON_PARSE_ARRAY || json_parse_get_ci(root, "emissions"))
        return parse_sdk(ld, root);
    if (root->type != JSON_PARSE_OBJECT)
        return intensity_series_fail(ld, root->pos, "expected a JSON object or array");
    if (json_parse_get(root, "meta") || json_parse_get(first, "point_time"))
        return parse_wt(ld, root);
    if (json_parse_get(root, "history") || json_parse_get(root, "forecast") ||
        json_parse_get(first, "carbonIntensity") || json_parse_get(root, "carbonIntensity"))
        return parse_em(ld, root);
    return intensity_series_fail(ld, root->pos,
                                 "unknown JSON: expected Electricity Maps, "
                                 "WattTime or Carbon Aware SDK data");
}

int intensity_series_parse_json(struct series_loader *ld)
{
    struct json_parse_node *root = NULL;
    struct json_parse_error jerr;
    int r = json_parse(ld->text, ld->len, &root, &jerr);
    if (r == -EINVAL)
        return intensity_series_fail(ld, jerr.pos, "%s", jerr.msg);
    if (r < 0)
        return r;
    r = parse_tree(ld, root);
    json_parse_free(root);
    return r;
}
