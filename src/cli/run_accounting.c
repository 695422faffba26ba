/* `wattprof run`'s accounting settings: the flags, the config file
 * ($XDG_CONFIG_HOME/wattprof/config, else ~/.config/wattprof/config: `key = value` lines,
 * '#' comments), the environment (read by the library, wattprof_ctx_new), and the
 * summary's energy, CO2e, SCI and cost lines. */
#include "run_accounting.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *key;
    const char *env;
} keys[RUN_ACCOUNTING_KEYS] = {
    { "country", "WATTPROF_COUNTRY" },
    { "region", "WATTPROF_REGION" },
    { "cloud", "WATTPROF_CLOUD" },
    { "pue", "WATTPROF_PUE" },
    { "intensity", "WATTPROF_INTENSITY" },
    { "intensity-series", "WATTPROF_INTENSITY_SERIES" },
    { "price", "WATTPROF_PRICE" },
    { "currency", "WATTPROF_CURRENCY" },
    { "embodied-kg", "WATTPROF_EMBODIED_KG" },
};

int run_accounting_opt(struct run_accounting_opts *o, int c, const char *arg)
{
    if (c < RUN_ACCOUNTING_OPT || c >= RUN_ACCOUNTING_OPT + RUN_ACCOUNTING_KEYS)
        return 0;
    o->value[c - RUN_ACCOUNTING_OPT] = arg;
    return 1;
}

static int key_index(const char *key)
{
    for (int i = 0; i < RUN_ACCOUNTING_KEYS; i++)
        if (strcmp(keys[i].key, key) == 0)
            return i;
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* One line of the config file; values of keys set in the environment are skipped. */
static int config_line(struct wattprof_ctx *ctx, const char *path, unsigned ln, char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *s = trim(line);
    if (!*s)
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        cli_error("'%s' line %u: expected 'key = value'", path, ln);
        return EXIT_USAGE;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    int i = key_index(key);
    if (i < 0) {
        cli_error("'%s' line %u: unknown key '%s'", path, ln, key);
        return EXIT_USAGE;
    }
    const char *env = getenv(keys[i].env);
    if ((env && *env) || wattprof_ctx_set(ctx, key, value) == 0)
        return 0;
    cli_error("'%s' line %u: %s", path, ln, wattprof_ctx_errmsg(ctx));
    return EXIT_USAGE;
}

static int read_config(struct wattprof_ctx *ctx)
{
    char path[4096];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(path, sizeof(path), "%s/wattprof/config", xdg);
    else if (home && *home)
        snprintf(path, sizeof(path), "%s/.config/wattprof/config", home);
    else
        return 0;
    FILE *f = fopen(path, "re");
    if (!f && errno == ENOENT)
        return 0;
    if (!f) {
        /* e.g. HOME of another user after a privilege drop: said, not fatal */
        cli_error("warning: config file '%s' not read: %s", path, strerror(errno));
        return 0;
    }
    char line[4096];
    int r = 0;
    for (unsigned ln = 1; r == 0 && fgets(line, sizeof(line), f); ln++)
        r = config_line(ctx, path, ln, line);
    fclose(f);
    return r;
}

int run_accounting_apply(struct wattprof_ctx *ctx, const struct run_accounting_opts *o)
{
    int r = read_config(ctx);
    for (int i = 0; r == 0 && i < RUN_ACCOUNTING_KEYS; i++) {
        if (!o->value[i] || wattprof_ctx_set(ctx, keys[i].key, o->value[i]) == 0)
            continue;
        cli_error("--%s: %s", keys[i].key, wattprof_ctx_errmsg(ctx));
        r = EXIT_USAGE;
    }
    return r;
}

/* Energy in kWh, Wh or J, mass in kg or g: readable at any size. */
static void fmt_energy(char *buf, size_t size, double j)
{
    if (j >= 3.6e6)
        snprintf(buf, size, "%.3g kWh", j / 3.6e6);
    else if (j >= 3600)
        snprintf(buf, size, "%.3g Wh", j / 3600);
    else
        snprintf(buf, size, "%.3g J", j);
}

static void fmt_mass(char *buf, size_t size, double g)
{
    if (isnan(g))
        snprintf(buf, size, "unknown");
    else if (g >= 1000)
        snprintf(buf, size, "%.3g kg", g / 1000);
    else
        snprintf(buf, size, "%.3g g", g);
}

void run_accounting_print(FILE *f, const struct wattprof_result *r)
{
    const struct wattprof_accounting *a = &r->accounting;
    if (!a->computed)
        return;
    char it[32], fac[32], op[32], emb[32], sci[32];
    fmt_energy(it, sizeof(it), (double)r->energy_uj / 1e6);
    fmt_energy(fac, sizeof(fac), a->facility_energy_j);
    fmt_mass(op, sizeof(op), a->operational_g);
    fmt_mass(emb, sizeof(emb), a->embodied_g);
    fprintf(f, "  energy %s (IT) · %s facility (PUE %.3g, %s)\n", it, fac, a->pue,
            a->pue_source ? a->pue_source : "?");
    if (isnan(a->intensity_g_per_kwh))
        fprintf(f, "  CO2e  %s operational (%s %s) + %s embodied\n", op, "intensity unknown,",
                a->intensity_source ? a->intensity_source : "?", emb);
    else
        fprintf(f, "  CO2e  %s operational (%.4g g/kWh %s, %s) + %s embodied\n", op,
                a->intensity_g_per_kwh, a->intensity_kind ? a->intensity_kind : "",
                a->intensity_source ? a->intensity_source : "?", emb);
    fmt_mass(sci, sizeof(sci), a->sci_g_per_unit);
    if (isnan(a->sci_g_per_unit))
        fprintf(f, "  SCI   - (no functional unit: give --units)\n");
    else
        fprintf(f, "  SCI   %s CO2e per %s (%s total / %.15g)\n", sci,
                r->unit_name ? r->unit_name : "unit", "operational + embodied", r->units);
    if (isnan(a->cost))
        fprintf(f, "  cost  - (no price: give --price, e.g. 0.30EUR)\n");
    else
        fprintf(f, "  cost  %.3g %s (%.4g %s/kWh of facility energy, user setting)\n", a->cost,
                a->currency ? a->currency : "", a->price_per_kwh, a->currency ? a->currency : "");
}
