/* The --dry-run estimate of a study's duration and energy from the stored runs of the
 * same study (labels study=<name>, variant=<k=v;...>): docs/study.md. */
#include "study_run.h"

#include <stdlib.h>
#include <string.h>

#include "wattprof.h"

/* The value of key in labels "k=v,k2=v2" copied into out; 0, or -1 when absent. */
static int label_value(const char *labels, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    for (const char *p = labels; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (strncmp(p, key, klen) != 0 || p[klen] != '=')
            continue;
        const char *v = p + klen + 1, *end = strchr(v, ',');
        size_t n = end ? (size_t)(end - v) : strlen(v);
        snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
        return 0;
    }
    return -1;
}

/* Sums the stored runs' duration (s) and energy (J) per variant; counts in n. */
static void sum_history(const struct study *st, const struct wattprof_run_row *rows, size_t m,
                        double *dur, double *en, size_t *n)
{
    char want[1024], got[256];
    for (size_t v = 0; v < study_variant_count(st); v++) {
        study_variant_name(st, v, want, sizeof(want));
        for (char *c = want; *c; c++)
            *c = *c == ',' ? ';' : *c;
        for (size_t i = 0; i < m; i++) {
            if (!rows[i].complete || label_value(rows[i].labels, "variant", got, sizeof(got)) < 0 ||
                strcmp(got, want) != 0)
                continue;
            dur[v] += (double)rows[i].duration_ns / 1e9;
            en[v] += (double)rows[i].energy_uj / 1e6;
            n[v]++;
        }
    }
}

void study_print_estimate(FILE *f, const struct study *st, struct wattprof_store *store)
{
    char filter[STUDY_VALUE_SIZE + 8];
    struct wattprof_list_filter lf = { .label = filter };
    struct wattprof_run_row *rows = NULL;
    size_t m = 0, nv = study_variant_count(st), total = 0;
    double dur[STUDY_MAX_VARIANTS] = { 0 }, en[STUDY_MAX_VARIANTS] = { 0 }, all_d = 0, all_e = 0;
    size_t n[STUDY_MAX_VARIANTS] = { 0 };
    snprintf(filter, sizeof(filter), "study=%s", st->name);
    if (store && wattprof_store_list(store, &lf, &rows, &m) == 0)
        sum_history(st, rows, m, dur, en, n);
    wattprof_free(rows);
    for (size_t v = 0; v < nv; v++) {
        total += n[v];
        all_d += dur[v];
        all_e += en[v];
    }
    if (total == 0) {
        fprintf(f, "estimate: no estimate (no earlier runs)\n");
        return;
    }
    double lo_d = 0, hi_d = 0, lo_e = 0, hi_e = 0;
    for (size_t v = 0; v < nv; v++) { /* a variant without history: the mean of all */
        double d = n[v] ? dur[v] / (double)n[v] : all_d / (double)total;
        double e = n[v] ? en[v] / (double)n[v] : all_e / (double)total;
        lo_d += (st->warmup + st->rep_min) * (d + st->cooldown_s);
        hi_d += (st->warmup + st->rep_max) * (d + st->cooldown_s);
        lo_e += (st->warmup + st->rep_min) * e;
        hi_e += (st->warmup + st->rep_max) * e;
    }
    fprintf(f, "estimate (from %zu earlier runs): %.1f to %.1f s, %.1f to %.1f J\n", total,
            lo_d + st->idle_baseline_s, hi_d + st->idle_baseline_s, lo_e, hi_e);
}
