/* The RAPL domain rules shared by rapl-perf, rapl-powercap and rapl-msr (see
 * rapl_common.h): psys contains the packages, a package contains its core and uncore,
 * DRAM is apart. */
#include "rapl_common.h"

#include <stdio.h>
#include <string.h>

const struct rapl_domain rapl_domains[] = {
    { "package", "cpu-package", RAPL_INCLUDED, 1 },   { "dram", "dram", RAPL_INCLUDED, 1 },
    { "psys", "psys", RAPL_INCLUDED_WITHOUT_PKG, 0 }, { "core", "cpu-core", RAPL_EXCLUDED, 1 },
    { "uncore", "cpu-uncore", RAPL_EXCLUDED, 1 },     { NULL, NULL, RAPL_EXCLUDED, 0 },
};

const struct rapl_domain *rapl_domain_find(const char *name)
{
    for (const struct rapl_domain *d = rapl_domains; d->domain != NULL; d++)
        if (strcmp(d->domain, name) == 0)
            return d;
    return NULL;
}

void rapl_channel_name(char *buf, size_t size, const struct rapl_domain *d, const char *label)
{
    if (d->per_package)
        snprintf(buf, size, "%s:%s", d->prefix, label);
    else
        snprintf(buf, size, "%s", d->prefix);
}

void rapl_mark_totals(struct sensor *s)
{
    int has_package = 0;
    for (size_t i = 0; i < s->n_channels; i++)
        has_package |= strcmp(s->channels[i].domain, "package") == 0;
    for (size_t i = 0; i < s->n_channels; i++) {
        const struct rapl_domain *d = rapl_domain_find(s->channels[i].domain);
        if (d == NULL)
            continue;
        s->channels[i].included_in_total =
            d->inclusion == RAPL_INCLUDED ||
            (d->inclusion == RAPL_INCLUDED_WITHOUT_PKG && !has_package);
    }
}
