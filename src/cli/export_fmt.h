/* The formats of `wattprof export`, over stored runs read back from their JSON: a JSON
 * array, tidy CSV (one row per run and channel), CodeCarbon's emissions.csv columns and
 * OpenMetrics text. Everything is written to a FILE; numbers do not depend on the
 * locale (the CLI never calls setlocale). docs/export.md describes the formats. */
#ifndef WATTPROF_EXPORT_FMT_H
#define WATTPROF_EXPORT_FMT_H

#include <stdio.h>

#include "stored_run.h"

#define EXPORT_CODECARBON_COLUMNS 38
extern const char *const export_codecarbon_columns[EXPORT_CODECARBON_COLUMNS];

/* The stored JSON texts as one array, in the given order. */
void export_json(FILE *f, const char *const *texts, size_t n);
/* Header line, then one line per run and channel. */
void export_csv(FILE *f, const struct stored_run *runs, size_t n);
/* Header line (CodeCarbon's 38 columns), then one line per run. */
void export_codecarbon(FILE *f, const struct stored_run *runs, size_t n);
/* Metric families, each with its samples for every run, then "# EOF". */
void export_openmetrics(FILE *f, const struct stored_run *runs, size_t n);

/* One CSV field (RFC 4180: quoted when it holds a comma, quote, CR or LF). */
void export_csv_field(FILE *f, const char *s);
/* One OpenMetrics label value, without its quotes: \ " and newline escaped. */
void export_om_label(FILE *f, const char *s);

#endif
