/* Carbon-intensity time series (g CO2e/kWh) loaded from a file, and the integration of
 * measured energy over them. Formats, detection and rules: docs/intensity-series.md. */
#ifndef WATTPROF_INTENSITY_SERIES_H
#define WATTPROF_INTENSITY_SERIES_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

struct intensity_series; /* opaque */

/* Loads FILE in any supported format (CSV `timestamp,g_per_kwh` with a header line; Electricity
   Maps history JSON; WattTime historical JSON; Carbon Aware SDK emissions JSON), detected from the
   content. Returns 0 or -errno (-ENOENT, -EACCES, -EINVAL malformed, -ENOMEM) with a message naming
   the file, line and column in err. */
int intensity_series_load(const char *path, struct intensity_series **out, char *err,
                          size_t errsize);
void intensity_series_free(struct intensity_series *s);
const char *intensity_series_kind(const struct intensity_series *s);   /* "average" or "marginal" */
const char *intensity_series_source(const struct intensity_series *s); /* e.g. "Electricity Maps
                                                                          history, zone DE" */
size_t intensity_series_len(const struct intensity_series *s);
/* When the file says the data was made (WattTime meta.generated_at, Electricity Maps forecast
   updatedAt, Carbon Aware SDK forecast generatedAt), unix ms; 0 when it does not say. */
int64_t intensity_series_generated_at(const struct intensity_series *s);
/* The typical (median) step between values in ms; 0 with one value. */
int64_t intensity_series_step_ms(const struct intensity_series *s);
/* The first value's time and where the data ends: the last value's stated duration, else one
   typical step after it (a forecast's last value holds for one step). Unix ms. */
int64_t intensity_series_first_ms(const struct intensity_series *s);
int64_t intensity_series_end_ms(const struct intensity_series *s);
/* The time of value i (i < len), unix ms. */
int64_t intensity_series_time_ms(const struct intensity_series *s, size_t i);
/* The part of [t0, t1) the data does not cover: before the first value, after the end (see
   intensity_series_end_ms) and in gaps (docs/intensity-series.md). Returns its length in ms and
   the first such span in [*a, *b) (untouched when the return is 0). */
int64_t intensity_series_uncovered(const struct intensity_series *s, int64_t t0, int64_t t1,
                                   int64_t *a, int64_t *b);

struct intensity_coverage {
    double covered_s, before_s, after_s;
    char note[256];
};

/* Grams of CO2e for energy samples (t_unix_ms[i], cumulative energy_uj[i]), i = 0..n-1: the energy
   between two samples is spread evenly over their interval, the intensity is piecewise constant —
   each value holds from its timestamp until the next one (or for the duration the format states,
   e.g. the SDK's `duration`, WattTime's period) — so an interval that straddles a step is split
   exactly. Parts of the run before the first or after the last value are extrapolated with the
   nearest value and reported in cov (seconds, and a note saying which part and how). Returns 0 or
   -EINVAL (n < 2, times not increasing). */
int intensity_series_integrate(const struct intensity_series *s, const int64_t *t_unix_ms,
                               const uint64_t *energy_uj, size_t n, double *grams,
                               struct intensity_coverage *cov);
/* The time-weighted mean intensity over [t0, t1] (for reporting), same rules. */
double intensity_series_mean(const struct intensity_series *s, int64_t t0_unix_ms,
                             int64_t t1_unix_ms);

/* ---- Internal: shared by intensity_series.c and intensity_series_formats.c ---- */

#define INTENSITY_SERIES_MAX_G_PER_KWH 5000.0

struct intensity_point {
    int64_t t_ms;     /* unix ms */
    int64_t dur_ms;   /* the duration the file states; 0: until the next value */
    double g_per_kwh; /* g CO2e/kWh */
    size_t pos;       /* byte offset of the point in the file, for messages */
};

/* The state of one load: the file's text and where a message goes. */
struct series_loader {
    const char *path;
    const char *text;
    size_t len;
    locale_t c_locale; /* numbers are read in the "C" locale */
    char *err;
    size_t errsize;
    struct intensity_series *s;
};

/* Writes "PATH:LINE:COLUMN: message" (pos is a byte offset into the text); returns -EINVAL. */
int intensity_series_fail(struct series_loader *ld, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a point; value_pos locates the value for the range check. 0, -EINVAL or -ENOMEM. */
int intensity_series_add(struct series_loader *ld, size_t pos, int64_t t_ms, int64_t dur_ms,
                         double g_per_kwh, size_t value_pos);
void intensity_series_set(struct series_loader *ld, const char *kind, const char *source);
/* Records when the data was made from an RFC 3339 string (ignored when it does not parse). */
void intensity_series_set_generated(struct series_loader *ld, const char *s, size_t len);
/* RFC 3339 (Z or +hh:mm, optional fraction, seconds optional) in s[0..len). 0 or -EINVAL. */
int intensity_series_parse_time(const char *s, size_t len, int64_t *t_ms);
int intensity_series_parse_csv(struct series_loader *ld);
int intensity_series_parse_json(struct series_loader *ld);

#endif
