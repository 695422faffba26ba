/* Carbon, cost and SCI accounting: resolves the settings (country, cloud region, PUE,
 * intensity, price, embodied footprint) against the CSV files of data/carbon, and computes a run's
 * or a window's facility energy, CO2e, cost and SCI (docs/accounting.md). */
#include "accounting.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intensity_series.h"

#define CSV_MAX_FIELDS 6
#define SECONDS_PER_YEAR (365.0 * 24 * 3600)
#define J_PER_KWH 3.6e6

char *accounting_setting(struct accounting_settings *set, const char *key, size_t *size)
{
    const struct {
        const char *key;
        size_t offset, size;
    } table[] = {
#define ACC_FIELD(k, m) { k, offsetof(struct accounting_settings, m), sizeof(set->m) }
        ACC_FIELD("country", country),
        ACC_FIELD("region", region),
        ACC_FIELD("cloud", cloud),
        ACC_FIELD("pue", pue),
        ACC_FIELD("intensity", intensity),
        ACC_FIELD("intensity-series", series),
        ACC_FIELD("price", price),
        ACC_FIELD("currency", currency),
        ACC_FIELD("embodied-kg", embodied_kg),
#undef ACC_FIELD
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(key, table[i].key) == 0) {
            *size = table[i].size;
            return (char *)set + table[i].offset;
        }
    return NULL;
}

size_t accounting_distance(const char *a, const char *b)
{
    /* optimal string alignment: insert, delete, substitute, swap two neighbours */
    size_t la = strlen(a), lb = strlen(b), d[65][65];
    if (la > 64 || lb > 64)
        return 99;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + (ai != bj);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* A CSV file of data/carbon: a header line, then rows of n fields; the last field takes
 * the rest of the line (free text). Calls row() for each; stops at its first non-zero. */
struct csv_reader {
    const char *path;
    size_t n;
    int (*row)(void *arg, char **f, char *err, size_t errsize);
    void *arg;
};

static int csv_read(const struct csv_reader *c, char *err, size_t errsize)
{
    FILE *fp = fopen(c->path, "re");
    if (!fp) {
        int e = errno;
        snprintf(err, errsize, "cannot read data file '%s': %s", c->path, strerror(e));
        return -e;
    }
    char line[1024];
    int r = 0;
    for (unsigned ln = 1; r == 0 && fgets(line, sizeof(line), fp); ln++) {
        line[strcspn(line, "\r\n")] = '\0';
        if (ln == 1 || line[0] == '\0')
            continue;
        char *f[CSV_MAX_FIELDS], *p = line;
        size_t k = 0;
        for (; k + 1 < c->n && p; k++) {
            f[k] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        f[k] = p;
        if (!p || !*f[0]) {
            snprintf(err, errsize, "malformed data file '%s' line %u: expected %zu fields", c->path,
                     ln, c->n);
            r = -EIO;
            break;
        }
        r = c->row(c->arg, f, err, errsize);
        if (r < 0) {
            size_t len = strlen(err);
            snprintf(err + len, errsize - len, " in data file '%s' line %u", c->path, ln);
        }
    }
    fclose(fp);
    return r;
}

/* snprintf "%s" through a size unknown to the compiler: truncation is wanted here. */
static void copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int number(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -EINVAL;
    *out = v;
    return 0;
}

/* Looking a code up in a column, with close matches for the message. */
struct lookup {
    const char *want;     /* the code asked for */
    const char *provider; /* cloud rows: only this provider's */
    int rows;             /* rows of that provider (or country) seen */
    int found;
    char store[6][160];
    char close[512];
};

static int lookup_row(struct lookup *l, char **f, size_t key, size_t value, size_t nf, char *err,
                      size_t errsize)
{
    double v;
    if (number(f[value], 0, 5000, &v) < 0) {
        snprintf(err, errsize, "bad g_per_kwh '%s'", f[value]);
        return -EIO;
    }
    if (l->provider && strcmp(f[0], l->provider) != 0)
        return 0;
    l->rows++;
    if (strcasecmp(f[key], l->want) == 0) {
        l->found = 1;
        for (size_t i = 0; i < nf; i++)
            copy(l->store[i], sizeof(l->store[i]), f[i]);
        return 0;
    }
    size_t len = strlen(l->close);
    /* close: one is a prefix of the other, or a few edits away (1 for short codes) */
    size_t lw = strlen(l->want), lk = strlen(f[key]), lmin = lw < lk ? lw : lk;
    size_t limit = lw <= 4 ? 1 : 2;
    if (((lmin >= 2 && strncasecmp(f[key], l->want, lmin) == 0) ||
         accounting_distance(f[key], l->want) <= limit) &&
        len + strlen(f[key]) + 3 < sizeof(l->close))
        snprintf(l->close + len, sizeof(l->close) - len, "%s%s", len ? ", " : "", f[key]);
    return 0;
}

static int country_row(void *arg, char **f, char *err, size_t errsize)
{
    return lookup_row(arg, f, 0, 2, 5, err, errsize); /* iso3,name,g_per_kwh,year,source */
}

static int cloud_row(void *arg, char **f, char *err, size_t errsize)
{
    /* provider,region,iso3,g_per_kwh,source and iso3,region,year,g_per_kwh,source */
    return lookup_row(arg, f, 1, 3, 5, err, errsize);
}

static int find(const char *data_dir, const char *file, struct lookup *l, int cloud, char *err,
                size_t errsize)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/carbon/%s", data_dir, file);
    struct csv_reader c = { path, 5, cloud ? cloud_row : country_row, l };
    return csv_read(&c, err, errsize);
}

static int unknown_code(const char *setting, const struct lookup *l, char *err, size_t errsize)
{
    snprintf(err, errsize, "invalid setting '%s': unknown code '%s'%s%s%s", setting, l->want,
             l->close[0] ? " (close matches: " : "", l->close, l->close[0] ? ")" : "");
    return -EINVAL;
}

static void use_country(struct accounting_plan *p, const struct lookup *l)
{
    p->intensity = strtod(l->store[2], NULL);
    copy(p->country_iso, sizeof(p->country_iso), l->store[0]);
    copy(p->country_name, sizeof(p->country_name), l->store[1]);
    snprintf(p->intensity_source, sizeof(p->intensity_source), "%.8s %.8s annual average, %.160s",
             l->store[0], l->store[3], l->store[4]);
}

/* The world average row (WLD) of country_intensity.csv. */
static int use_world(struct accounting_plan *p, const char *data_dir, char *err, size_t errsize)
{
    struct lookup *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->want = "WLD";
    int r = find(data_dir, "country_intensity.csv", l, 0, err, errsize);
    if (r == 0 && !l->found) {
        snprintf(err, errsize, "data file '%s/carbon/country_intensity.csv' has no WLD row",
                 data_dir);
        r = -EIO;
    }
    if (r == 0) {
        p->intensity = strtod(l->store[2], NULL);
        p->world_default = 1;
        snprintf(p->intensity_source, sizeof(p->intensity_source), "world-average-default");
        snprintf(p->location, sizeof(p->location), "unknown");
    }
    free(l);
    return r;
}

/* A sub-national region of the country (US states, Canadian provinces, Nordic bidding
 * zones: data/carbon/regions.csv). A country with no regional data keeps its national
 * figure, and the source says so; an unknown region of a country that has them is an
 * error with the close matches. */
static int resolve_region(const struct accounting_settings *set, const char *data_dir,
                          struct accounting_plan *p, char *err, size_t errsize)
{
    struct lookup *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    char want[64];
    copy(want, sizeof(want), set->region);
    for (char *c = want; *c; c++)
        *c = *c == ' ' ? '-' : *c;
    l->want = want;
    l->provider = p->country_iso;
    int r = find(data_dir, "regions.csv", l, 1, err, errsize);
    if (r == 0 && l->found) {
        p->intensity = strtod(l->store[3], NULL);
        snprintf(p->intensity_source, sizeof(p->intensity_source),
                 "%.8s/%.40s %.8s annual average, %.120s", l->store[0], l->store[1], l->store[2],
                 l->store[4]);
    } else if (r == 0 && l->rows > 0) {
        r = unknown_code("region", l, err, errsize);
    } else if (r == 0) {
        size_t n = strlen(p->intensity_source);
        snprintf(p->intensity_source + n, sizeof(p->intensity_source) - n,
                 " (no regional data for %.8s: national figure)", p->country_iso);
    }
    free(l);
    return r;
}

static int resolve_country(const struct accounting_settings *set, const char *data_dir,
                           struct accounting_plan *p, char *err, size_t errsize)
{
    struct lookup *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->want = set->country;
    int r = find(data_dir, "country_intensity.csv", l, 0, err, errsize);
    if (r == 0 && (!l->found || strcmp(l->store[0], "WLD") == 0))
        r = unknown_code("country", l, err, errsize);
    if (r == 0) {
        use_country(p, l);
        if (!p->location[0])
            snprintf(p->location, sizeof(p->location), "%.8s%s%.63s", l->store[0],
                     set->region[0] ? "/" : "", set->region);
    }
    free(l);
    if (r == 0 && set->region[0])
        r = resolve_region(set, data_dir, p, err, errsize);
    return r;
}

static const char *const providers[] = { "gcp", "aws", "azure" };

static int resolve_cloud(const struct accounting_settings *set, const char *data_dir,
                         struct accounting_plan *p, char *err, size_t errsize)
{
    const char *colon = strchr(set->cloud, ':');
    size_t plen = colon ? (size_t)(colon - set->cloud) : 0, known = 0;
    for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
        known |= plen == strlen(providers[i]) && strncmp(set->cloud, providers[i], plen) == 0;
    if (!colon || !known || !colon[1]) {
        snprintf(err, errsize,
                 "invalid setting 'cloud': '%s' (give PROVIDER:REGION, provider "
                 "gcp, aws or azure)",
                 set->cloud);
        return -EINVAL;
    }
    snprintf(p->cloud_provider, sizeof(p->cloud_provider), "%.*s", (int)plen, set->cloud);
    snprintf(p->cloud_region, sizeof(p->cloud_region), "%s", colon + 1);
    snprintf(p->location, sizeof(p->location), "%s", set->cloud);
    if (strcmp(p->cloud_provider, "gcp") != 0)
        return 0; /* no regional data shipped: the country or the world average */
    struct lookup *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->want = colon + 1;
    l->provider = p->cloud_provider;
    int r = find(data_dir, "cloud_regions.csv", l, 1, err, errsize);
    if (r == 0 && !l->found)
        r = unknown_code("cloud", l, err, errsize);
    if (r == 0) {
        p->intensity = strtod(l->store[3], NULL);
        copy(p->country_iso, sizeof(p->country_iso), l->store[2]);
        struct lookup *c = calloc(1, sizeof(*c));
        if (c) {
            c->want = p->country_iso;
            if (find(data_dir, "country_intensity.csv", c, 0, err, errsize) == 0 && c->found)
                copy(p->country_name, sizeof(p->country_name), c->store[1]);
            free(c);
        }
        snprintf(p->intensity_source, sizeof(p->intensity_source), "%.120s, %.16s %.64s",
                 l->store[4], l->store[0], l->store[1]);
    }
    free(l);
    return r;
}

struct pue_find {
    const char *provider;
    struct accounting_plan *p;
};

static int pue_row(void *arg, char **f, char *err, size_t errsize)
{
    struct pue_find *pf = arg;
    double v;
    if (number(f[1], 1, 3, &v) < 0) {
        snprintf(err, errsize, "bad pue '%s'", f[1]);
        return -EIO;
    }
    if (strcmp(f[0], pf->provider) == 0) {
        pf->p->pue = v;
        snprintf(pf->p->pue_source, sizeof(pf->p->pue_source), "%s figure: %s (%s)", f[0], f[3],
                 f[2]);
    }
    return 0;
}

static int embodied_row(void *arg, char **f, char *err, size_t errsize)
{
    struct accounting_plan *p = arg;
    double kg, years;
    if (number(f[1], 0, 1e6, &kg) < 0 || number(f[2], 0.1, 100, &years) < 0) {
        snprintf(err, errsize, "bad kg_co2e or lifetime_years");
        return -EIO;
    }
    if (strcmp(f[0], "server") == 0) {
        p->server_kg = kg;
        p->lifetime_s = years * SECONDS_PER_YEAR;
        copy(p->embodied_source, sizeof(p->embodied_source), f[3]);
    } else if (strcmp(f[0], "gpu") == 0) {
        p->gpu_kg = kg;
    }
    return 0;
}

static int read_tables(const char *data_dir, struct accounting_plan *p, char *err, size_t errsize)
{
    char path[PATH_MAX + 64];
    struct pue_find pf = { p->cloud_provider, p };
    snprintf(path, sizeof(path), "%s/carbon/pue.csv", data_dir);
    struct csv_reader c = { path, 4, pue_row, &pf };
    int r = csv_read(&c, err, errsize);
    snprintf(path, sizeof(path), "%s/carbon/embodied.csv", data_dir);
    struct csv_reader e = { path, 4, embodied_row, p };
    if (r == 0)
        r = csv_read(&e, err, errsize);
    if (r == 0 && p->lifetime_s == 0) {
        snprintf(err, errsize, "data file '%s' has no server row", path);
        r = -EIO;
    }
    char src[ACCOUNTING_TEXT];
    copy(src, sizeof(src), p->embodied_source);
    snprintf(p->embodied_source, sizeof(p->embodied_source),
             "defaults: server %g kg, GPU %g kg, life %g y (%.150s)", p->server_kg, p->gpu_kg,
             p->lifetime_s / SECONDS_PER_YEAR, src);
    return r;
}

static int bad_number(const char *setting, const char *value, const char *range, char *err,
                      size_t errsize)
{
    snprintf(err, errsize, "invalid setting '%s': '%s' (give a number %s)", setting, value, range);
    return -EINVAL;
}

/* "0.30", "0.30EUR" or "0.30 EUR"; the currency setting wins when both are given. */
static int parse_price(const struct accounting_settings *set, struct accounting_plan *p, char *err,
                       size_t errsize)
{
    char num[32], *end;
    strtod(set->price, &end); /* stops before "EUR" (an exponent needs digits) */
    size_t n = (size_t)(end - set->price);
    const char *cur = end;
    while (*cur == ' ')
        cur++;
    snprintf(num, sizeof(num), "%.*s", (int)n, set->price);
    const char *c = set->currency[0] ? set->currency : cur;
    if (number(num, 0, 100, &p->price) < 0)
        return bad_number("price", set->price, "from 0 to 100 per kWh, e.g. 0.30EUR", err, errsize);
    size_t cl = strlen(c);
    if (cl && (cl != 3 || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]) ||
               !isalpha((unsigned char)c[2]))) {
        snprintf(err, errsize, "invalid setting 'currency': '%s' (give an ISO 4217 code, e.g. EUR)",
                 c);
        return -EINVAL;
    }
    for (size_t i = 0; i < cl; i++)
        p->currency[i] = (char)toupper((unsigned char)c[i]);
    p->currency[cl] = '\0';
    return 0;
}

static int parse_numbers(const struct accounting_settings *set, struct accounting_plan *p,
                         char *err, size_t errsize)
{
    double v;
    if (set->pue[0] && number(set->pue, 1, 3, &v) < 0)
        return bad_number("pue", set->pue, "from 1 to 3", err, errsize);
    if (set->pue[0]) {
        p->pue = v;
        snprintf(p->pue_source, sizeof(p->pue_source), "user setting");
    }
    if (set->intensity[0] && number(set->intensity, 0, 2000, &v) < 0)
        return bad_number("intensity", set->intensity, "from 0 to 2000 gCO2e/kWh", err, errsize);
    if (set->intensity[0]) {
        p->intensity = v;
        snprintf(p->intensity_source, sizeof(p->intensity_source), "user setting");
    }
    if (set->embodied_kg[0] && number(set->embodied_kg, 0, 1e6, &v) < 0)
        return bad_number("embodied-kg", set->embodied_kg, "from 0 to 1000000 kgCO2e", err,
                          errsize);
    if (set->embodied_kg[0]) {
        p->server_kg = v;
        snprintf(p->embodied_source, sizeof(p->embodied_source),
                 "server %g kg (user setting), GPU %g kg, life %g y", v, p->gpu_kg,
                 p->lifetime_s / SECONDS_PER_YEAR);
    }
    if (set->currency[0] && !set->price[0]) {
        snprintf(err, errsize, "invalid setting 'currency': given without a price");
        return -EINVAL;
    }
    return set->price[0] ? parse_price(set, p, err, errsize) : 0;
}

static int load_series(const struct accounting_settings *set, struct accounting_plan *p, char *err,
                       size_t errsize)
{
    char msg[512];
    int r = intensity_series_load(set->series, &p->series, msg, sizeof(msg));
    if (r < 0) {
        snprintf(err, errsize, "invalid setting 'intensity-series': %s", msg);
        return r == -ENOMEM ? r : -EINVAL;
    }
    snprintf(p->intensity_kind, sizeof(p->intensity_kind), "%s", intensity_series_kind(p->series));
    snprintf(p->intensity_source, sizeof(p->intensity_source), "%s",
             intensity_series_source(p->series));
    return 0;
}

int accounting_resolve(const struct accounting_settings *set, const char *data_dir,
                       struct accounting_plan *p, char *err, size_t errsize, char *warn,
                       size_t warnsize)
{
    memset(p, 0, sizeof(*p));
    p->pue = 1.0;
    p->price = NAN;
    p->intensity = NAN;
    warn[0] = '\0';
    snprintf(p->pue_source, sizeof(p->pue_source), "unknown (default 1.0)");
    snprintf(p->intensity_kind, sizeof(p->intensity_kind), "average");
    snprintf(p->region, sizeof(p->region), "%s", set->region);
    if (set->intensity[0] && set->series[0]) {
        snprintf(err, errsize,
                 "invalid setting 'intensity': give it or 'intensity-series', "
                 "not both");
        return -EINVAL;
    }
    int r = set->cloud[0] ? resolve_cloud(set, data_dir, p, err, errsize) : 0;
    if (r == 0 && set->country[0] && isnan(p->intensity))
        r = resolve_country(set, data_dir, p, err, errsize);
    if (r == 0)
        r = read_tables(data_dir, p, err, errsize);
    if (r == 0)
        r = parse_numbers(set, p, err, errsize);
    if (r == 0 && set->series[0])
        r = load_series(set, p, err, errsize);
    if (r == 0 && isnan(p->intensity) && !p->series) {
        r = use_world(p, data_dir, err, errsize);
        if (r == 0)
            snprintf(warn, warnsize,
                     "location unknown: CO2e uses the world average intensity "
                     "(%g g/kWh); set --country or --cloud",
                     p->intensity);
    }
    if (!p->location[0])
        snprintf(p->location, sizeof(p->location), "%s",
                 p->country_iso[0] ? p->country_iso : "unknown");
    if (r < 0)
        accounting_plan_release(p);
    return r;
}

void accounting_plan_release(struct accounting_plan *p)
{
    intensity_series_free(p->series);
    p->series = NULL;
}

double accounting_series_grams(const struct accounting_plan *p, const int64_t *t_unix_ms,
                               const uint64_t *energy_uj, size_t n, char *note, size_t notesize)
{
    note[0] = '\0';
    if (!p->series || n < 2)
        return NAN;
    double g = NAN;
    struct intensity_coverage cov;
    memset(&cov, 0, sizeof(cov));
    int r = intensity_series_integrate(p->series, t_unix_ms, energy_uj, n, &g, &cov);
    snprintf(note, notesize, "%s", r < 0 ? "the intensity series could not be applied" : cov.note);
    return r < 0 ? NAN : g;
}

static const char *text(const char *s)
{
    return s[0] ? s : NULL;
}

void accounting_compute(const struct accounting_plan *p, const struct accounting_input *in,
                        struct wattprof_accounting *out)
{
    double it_j = (double)in->energy_uj / 1e6;
    double it_kwh = it_j / J_PER_KWH;
    out->computed = 1;
    out->pue = p->pue;
    out->pue_source = p->pue_source;
    out->facility_energy_j = it_j * p->pue;
    double g_it = !isnan(in->series_g) ? in->series_g : it_kwh * p->intensity;
    out->intensity_g_per_kwh =
        !isnan(in->series_g) ? (it_kwh > 0 ? g_it / it_kwh : NAN) : p->intensity;
    out->intensity_kind = p->intensity_kind;
    out->intensity_source = p->intensity_source;
    out->location = p->location;
    out->operational_g = g_it * p->pue; /* facility energy × intensity */
    double share = in->cpu_share > 1 ? 1 : in->cpu_share < 0 ? 0 : in->cpu_share;
    double tir = (double)in->duration_ns / 1e9;
    out->embodied_g =
        1000.0 * tir / p->lifetime_s * (p->server_kg * share + p->gpu_kg * (double)in->n_gpus);
    out->embodied_source = p->embodied_source;
    out->total_g = out->operational_g + out->embodied_g;
    out->price_per_kwh = p->price;
    out->currency = text(p->currency);
    out->cost = it_kwh * p->pue * p->price; /* NAN without a price */
    out->sci_g_per_unit = in->units > 0 ? out->total_g / in->units : NAN;
    out->country_iso = text(p->country_iso);
    out->country_name = text(p->country_name);
    out->region = text(p->region);
    out->cloud_provider = text(p->cloud_provider);
    out->cloud_region = text(p->cloud_region);
}
