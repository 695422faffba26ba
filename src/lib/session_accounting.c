/* A session's carbon, cost and SCI accounting: the settings are resolved at start (a bad
 * one stops the start), the run's energy timeline is kept for an intensity series, and
 * the run and each window get their accounting at stop (again when the units change). */
#include "session.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int session_accounting_start(struct wattprof_session *s)
{
    char err[1024], warn[512];
    int r = accounting_resolve(&s->ctx->acc, s->ctx->data_dir, &s->plan, err, sizeof(err), warn,
                               sizeof(warn));
    if (r < 0)
        return ctx_errorf(s->ctx, r == -ENOMEM ? r : -EINVAL, "%s", err);
    s->have_plan = 1;
    if (warn[0])
        session_warnf(s, "%s", warn);
    return 0;
}

void session_accounting_free(struct wattprof_session *s)
{
    if (s->have_plan)
        accounting_plan_release(&s->plan);
    s->have_plan = 0;
    free(s->tl_ms);
    free(s->tl_uj);
    s->tl_ms = NULL;
    s->tl_uj = NULL;
}

/* Called by the store's flusher thread (never the sampler's): grows outside sampling. */
void session_timeline_append(struct wattprof_session *s, int64_t t_unix_ms, uint64_t energy_uj)
{
    if (!s->plan.series)
        return;
    if (s->tl_n && energy_uj < s->tl_uj[s->tl_n - 1])
        energy_uj = s->tl_uj[s->tl_n - 1];
    if (s->tl_n && t_unix_ms <= s->tl_ms[s->tl_n - 1])
        return;
    if (s->tl_n == s->tl_cap) {
        size_t cap = s->tl_cap ? 2 * s->tl_cap : 256;
        int64_t *t = realloc(s->tl_ms, cap * sizeof(*t));
        if (t)
            s->tl_ms = t;
        uint64_t *e = t ? realloc(s->tl_uj, cap * sizeof(*e)) : NULL;
        if (!e)
            return; /* the point is lost; the integration spreads over the gap */
        s->tl_uj = e;
        s->tl_cap = cap;
    }
    s->tl_ms[s->tl_n] = t_unix_ms;
    s->tl_uj[s->tl_n++] = energy_uj;
}

static size_t count_gpus(const struct wattprof_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_channels; i++)
        n +=
            r->channels[i].info.included_in_total && strcmp(r->channels[i].info.domain, "gpu") == 0;
    return n;
}

void session_accounting_compute(struct wattprof_session *s)
{
    struct wattprof_result *r = &s->result;
    if (!s->have_plan)
        return;
    char note[256];
    struct accounting_input in = { r->energy_uj,  r->duration_ns, r->cpu_share,
                                   count_gpus(r), r->units,       NAN };
    if (s->plan.series && !s->series_done) {
        int64_t end_ms = (int64_t)(r->started_at_unix_ms + r->duration_ns / 1000000);
        session_timeline_append(s, end_ms, r->energy_uj);
        s->series_g =
            accounting_series_grams(&s->plan, s->tl_ms, s->tl_uj, s->tl_n, note, sizeof(note));
        s->series_done = 1;
        if (note[0])
            session_warnf(s, "intensity series: %s", note);
    }
    in.series_g = s->plan.series ? s->series_g : NAN;
    accounting_compute(&s->plan, &in, &r->accounting);
    for (size_t i = 0; i < r->n_windows; i++) {
        struct wattprof_window_result *w = &s->window_results[i];
        struct accounting_input wi = { w->energy_uj, w->end_ns - w->start_ns,
                                       r->cpu_share, in.n_gpus,
                                       w->units,     NAN };
        if (s->plan.series) {
            /* the window's energy spread evenly over its span, under the series */
            int64_t t[2] = { (int64_t)(r->started_at_unix_ms + w->start_ns / 1000000),
                             (int64_t)(r->started_at_unix_ms + w->end_ns / 1000000) };
            uint64_t e[2] = { 0, w->energy_uj };
            if (t[1] <= t[0])
                t[1] = t[0] + 1;
            wi.series_g = accounting_series_grams(&s->plan, t, e, 2, note, sizeof(note));
        }
        accounting_compute(&s->plan, &wi, &w->accounting);
    }
}
