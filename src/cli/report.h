/* wattprof report (docs/report.md): a stored run or study as one self-contained HTML page
 * with inline SVG charts (report_run.c, report_study.c, on the page of report_html.c), or
 * as a one-page Markdown summary for a decision (report_md.c, its arithmetic in
 * report_decision.c). Everything that came from a user or a workload is escaped. */
#ifndef WATTPROF_REPORT_H
#define WATTPROF_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "json_parse.h"
#include "stored_run.h"

/* ---- display units: one scale per quantity, shared by its table and its chart ---------- */
struct report_scale {
    double factor; /* value × factor is shown */
    char unit[16]; /* "mJ", "µs", "h", "ng" */
};

/* The SI prefix (p .. G) that shows max_abs between 1 and 1000 in base_unit; seconds go
 * to min and h above 2 minutes and 2 hours, grams to t above a tonne; an empty base_unit (a quality
 * metric) stays as it is. */
void report_scale_pick(struct report_scale *sc, double max_abs, const char *base_unit);
/* "12.3 mJ": chart_fmt_num of v × factor, a space, the unit ("-" for NAN). */
void report_fmt(char *buf, size_t size, double v, const struct report_scale *sc);

/* v in its own best unit: "12.3 mJ". */
void report_fmt_auto(char *buf, size_t size, double v, const char *base_unit);
/* A unit of work's name in the singular, for "energy per sample": "units" -> "unit",
 * "samples" -> "sample"; NULL or "" -> "unit". */
void report_unit(char *buf, size_t size, const char *unit_name);

/* ---- the page ------------------------------------------------------------------------- */
/* <!DOCTYPE html> up to <main>, with the style sheet (screen, phone and print). */
void report_html_begin(FILE *f, const char *title);
/* The footer (what provenance means, the version and time) and the end of the page. */
void report_html_end(FILE *f, const char *source);
/* Each line of text (separated by '\n') as before, the line through esc, after. */
void report_lines(FILE *f, const char *text, const char *before, const char *after,
                  void (*esc)(FILE *f, const char *s));
/* <p class="note"> with escaped text. */
void report_html_note(FILE *f, const char *cls, const char *text);

/* ---- the money and carbon factors a study's runs were recorded with -------------------- */
struct report_factors {
    double price_per_kwh; /* NAN when the runs had no price */
    char currency[8];     /* "" when none was given */
    double pue;           /* 1 when unknown */
    char pue_source[96];
    double intensity_g_per_kwh; /* NAN when unknown */
    char intensity_source[160];
    char provenance[16]; /* that run's energy: "measured", "estimated", ... ("" unknown) */
    char run_id[16];     /* the run they were read from, "" when none */
};

/* ---- the decision arithmetic (pure) --------------------------------------------------- */
struct report_decision_in {
    double base_energy_j, rec_energy_j; /* IT energy per task, means */
    double ratio_low, ratio_high;       /* 95 % CI of rec / base energy per task; NAN: none */
    double base_co2e_g, rec_co2e_g;     /* CO2e per task (operational + embodied); NAN: none */
    double pue;                         /* facility / IT */
    double price_per_kwh;               /* NAN: no cost */
    double tasks_per_year;              /* NAN: no yearly figures */
    double investment;                  /* NAN: no payback */
    double other_savings;               /* per year, NAN: 0 */
};

struct report_decision {
    double saving;                  /* 1 - rec/base energy per task */
    double saving_low, saving_high; /* from the ratio's CI (NAN without one) */
    double kwh_per_year;            /* facility energy saved per year */
    double kwh_low, kwh_high;       /* its range from the CI */
    double co2e_kg_per_year;        /* NAN without CO2e */
    double energy_cost_per_year;    /* kwh_per_year × price; NAN without a price */
    double total_savings_per_year;  /* energy cost + other savings; NAN when neither known */
    double payback_years;           /* investment / total savings; INFINITY when they are <= 0 */
};

void report_decide(const struct report_decision_in *in, struct report_decision *out);

/* ---- the reports ---------------------------------------------------------------------- */
struct report_options {
    double tasks_per_year; /* NAN: not given */
    double investment;
    double other_savings;
};

/* power: the run's parsed wattprof_store_power_json, or NULL when it could not be read;
 * labels: its parsed wattprof_store_labels_json, or NULL. */
void report_run_html(FILE *f, const struct stored_run *sr, const struct json_parse_node *labels,
                     const struct json_parse_node *power);
void report_run_md(FILE *f, const struct stored_run *sr, const struct json_parse_node *labels);
void report_study_html(FILE *f, const struct json_parse_node *study,
                       const struct report_factors *fac);
/* Returns 0, or -EINVAL when the study has no variants (message printed by the caller). */
int report_study_md(FILE *f, const struct json_parse_node *study, const struct report_factors *fac,
                    const struct report_options *o);

/* Shared by the study's HTML and Markdown: the variant named name, NULL if none. */
const struct json_parse_node *report_study_variant(const struct json_parse_node *study,
                                                   const char *name);
/* stats[quantity][key] of a variant, NAN when absent. */
double report_stat(const struct json_parse_node *variant, const char *quantity, const char *key);
/* The comparison of variant with the baseline on quantity, NULL if none. */
const struct json_parse_node *report_comparison(const struct json_parse_node *study,
                                                const char *variant, const char *quantity);
/* The study's quality metric: the stats member that is not one of the fixed quantities,
 * NULL when the study has none. */
const char *report_quality_metric(const struct json_parse_node *study);

#endif
