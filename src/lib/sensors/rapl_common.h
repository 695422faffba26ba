/* What the RAPL backends (rapl-perf, rapl-powercap, rapl-msr) agree on: the domains, the
 * channel each becomes ("cpu-package:0", "dram:1", "psys") and which channels add up to
 * a non-overlapping total, so that every backend names and counts the same counters the
 * same way. */
#ifndef WATTPROF_RAPL_COMMON_H
#define WATTPROF_RAPL_COMMON_H

#include <stddef.h>

#include "sensor.h"

enum rapl_inclusion {
    RAPL_INCLUDED,             /* adds to the total: package, dram */
    RAPL_EXCLUDED,             /* a subset of the package: core, uncore */
    RAPL_INCLUDED_WITHOUT_PKG, /* psys: a superset of the packages, counts only alone */
};

struct rapl_domain {
    const char *domain; /* the kernel's rapl_domain_names[]: also the channel's domain */
    const char *prefix; /* channel name before ":<package>"; psys has no suffix */
    enum rapl_inclusion inclusion;
    int per_package; /* 1: one per package; 0: once per machine (psys) */
};

/* The domains, package first, NULL-terminated by a zero entry. */
extern const struct rapl_domain rapl_domains[];

/* The domain called name ("package", "dram", ...), or NULL. */
const struct rapl_domain *rapl_domain_find(const char *name);

/* Writes the channel name of d for the package label ("0", "0-die:1") into buf. */
void rapl_channel_name(char *buf, size_t size, const struct rapl_domain *d, const char *label);

/* Sets included_in_total on every channel of s from its domain: packages and DRAM add
 * up, core and uncore stay out (subsets of the package), psys counts only when no
 * package channel exists. Channels of other domains are left as they are. */
void rapl_mark_totals(struct sensor *s);

#endif
