/* CPU identification for the model backend: the Cloud Carbon Footprint family of a CPU
 * model name, and its TDP from data/cpu-power/cpu_tdp.csv (see docs/models.md). */
#ifndef WATTPROF_MODEL_CPU_H
#define WATTPROF_MODEL_CPU_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sensor;

/* Longest CPU model name kept, with its NUL (cpuinfo's are under 64 characters). */
#define MODEL_CPU_NAME_MAX 128

/* Power of one vCPU (hardware thread) of a CPU family, idle and fully busy. */
struct model_cpu_family {
    const char *label;  /* "Intel Cascade Lake", quoted in the channel note */
    uint64_t min_uw;    /* per vCPU at 0 % utilisation */
    uint64_t max_uw;    /* per vCPU at 100 % utilisation */
    const char *source; /* where the figures come from, for the note */
};

/* Cloud Carbon Footprint's provider average (AWS MIN_WATTS_AVG / MAX_WATTS_AVG), used
 * when nothing better is known. Static. */
extern const struct model_cpu_family model_cpu_generic;

/* Returns the family whose pattern matches model_name (as /proc/cpuinfo spells it), or
 * NULL when no pattern matches: an unknown family is never guessed. Static result. */
const struct model_cpu_family *model_cpu_ccf_family(const char *model_name);

/* Writes name as the TDP table is matched on: ASCII lower case, without any
 * parenthesised text ("(R)", "(TM)", "(OEM Only)"), without the words "cpu" and
 * "processor", cut at '@' (the "@ 2.30GHz" suffix) and at " with " ("with Radeon
 * Graphics"), single spaces. out may be truncated to size. */
void model_cpu_normalise(const char *name, char *out, size_t size);

/* Writes the model-number token of a normalised name: its last word of three or more
 * characters holding a digit, other than "8-core", with a following "v2".."v9"
 * appended ("8259cl", "i7-8650u", "e5-2686 v4"). Writes "" when there is none. */
void model_cpu_token(const char *norm, char *out, size_t size);

/* The row of cpu_tdp.csv a CPU matched. */
struct model_cpu_tdp {
    uint64_t tdp_mw;              /* thermal design power of one socket, mW */
    char row[MODEL_CPU_NAME_MAX]; /* the matched row's name, as written in the file */
    unsigned line;                /* its line number in the file */
    int by_token;                 /* 1: matched on the model number; 0: on the name */
};

/* Looks model_name up in a "name,tdp_w" table read from f, opened by the caller from
 * path (TDP in W, up to 3 decimals; a name holding a comma is quoted, "" for a quote).
 * A row matches when its normalised name equals model_name's, or, if no row does, when
 * their model-number tokens are equal and their vendors ("intel", "amd") do not differ.
 * Matching rows that disagree on the TDP match nothing. Reads the whole file, so that a
 * malformed line is always found. Returns 1 with *out filled, 0 when nothing matches,
 * -EINVAL with s->errmsg naming path and the line when the file is malformed, -EIO
 * when it cannot be read, or -ENOMEM. */
int model_cpu_tdp_lookup(struct sensor *s, FILE *f, const char *path, const char *model_name,
                         struct model_cpu_tdp *out);

#endif
