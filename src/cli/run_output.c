/* The outputs of `wattprof run`: the summary on stderr and the JSON file. */
#include "run_output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "run_accounting.h"

int run_output_prepare(struct run_output *out, const char *path)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    out->path = path;
    if (!path || strcmp(path, "-") == 0)
        return 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("cannot write '%s': Is a directory", path);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : 1;
    const char *dir = slash ? path : ".";
    if (slash == path)
        dirlen = 1; /* "/file": the root directory */
    int n = snprintf(out->tmp, sizeof(out->tmp), "%.*s/.wattprof-out-XXXXXX", dirlen, dir);
    if (n < 0 || (size_t)n >= sizeof(out->tmp)) {
        cli_error("cannot write '%s': File name too long", path);
        return -1;
    }
    out->fd = mkostemp(out->tmp, O_CLOEXEC);
    if (out->fd < 0) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        out->tmp[0] = '\0';
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int run_output_write(struct run_output *out, const char *text, size_t len)
{
    if (!out->path)
        return 0;
    if (strcmp(out->path, "-") == 0) {
        fwrite(text, 1, len, stdout);
        return cli_finish_stdout() ? -1 : 0;
    }
    int r = write_all(out->fd, text, len);
    if (r == 0 && fchmod(out->fd, 0644) < 0)
        r = -errno;
    if (r == 0 && close(out->fd) < 0)
        r = -errno;
    out->fd = -1;
    if (r == 0 && rename(out->tmp, out->path) < 0)
        r = -errno;
    if (r < 0) {
        cli_error("cannot write '%s': %s", out->path, strerror(-r));
        return -1;
    }
    out->tmp[0] = '\0';
    return 0;
}

int run_output_json(struct run_output *out, const struct wattprof_session *run)
{
    if (!out->path)
        return 0;
    char *text = NULL;
    int r = wattprof_session_json(run, &text);
    if (r < 0) {
        cli_error("cannot write the JSON: %s", wattprof_strerror(r));
        return -1;
    }
    r = run_output_write(out, text, strlen(text));
    wattprof_free(text);
    return r;
}

void run_output_release(struct run_output *out)
{
    if (out->fd >= 0)
        close(out->fd);
    out->fd = -1;
    if (out->tmp[0])
        unlink(out->tmp);
    out->tmp[0] = '\0';
}

static void print_command(FILE *f, char *const *command, int argc)
{
    fputs("'", f);
    for (int i = 0; i < argc; i++)
        fprintf(f, "%s%s", i ? " " : "", command[i]);
    fputs("'", f);
}

static void print_channel(FILE *f, const struct wattprof_channel_result *c)
{
    char e[32], avg[32], peak[32];
    cli_fmt_energy(e, sizeof(e), c->energy_uj);
    cli_fmt_power(avg, sizeof(avg), c->avg_power_uw);
    cli_fmt_power(peak, sizeof(peak), c->peak_power_uw);
    const char *in = c->info.included_in_total ? "yes" : c->info.node_scope ? "node" : "no";
    fprintf(f, "  %-18s %14s %11s %11s  %-10s %-14s %s", c->info.name, e, avg, peak,
            c->info.provenance, c->info.source, in);
    if (strcmp(c->status, "ok") != 0)
        fprintf(f, "  [%s]", c->status);
    fputc('\n', f);
}

static void print_totals(FILE *f, const struct wattprof_result *r)
{
    char e[32], a[32];
    cli_fmt_energy(e, sizeof(e), r->energy_uj);
    cli_fmt_energy(a, sizeof(a), r->attributed_uj);
    fprintf(f, "  %14s  machine total (%s; channels marked 'yes' below)\n", e, r->total_provenance);
    if (r->has_node) {
        char n[32];
        cli_fmt_energy(n, sizeof(n), r->node_energy_uj);
        fprintf(f, "  %14s  whole node, %s (%s; covers all components and what they miss)\n", n,
                r->node_channel, r->node_provenance);
    }
    if (strcmp(r->total_provenance, "estimated") == 0)
        fprintf(f,
                "  %14s  (an ESTIMATE: no energy counter could be read here; "
                "'wattprof sensors' says why)\n",
                "");
    fprintf(f, "  %14s  attributed to the command (%.1f %% of busy CPU time: %.3f s of %.3f s)\n",
            a, r->cpu_share * 100, (double)r->workload_cpu_ns / 1e9,
            (double)r->machine_cpu_ns / 1e9);
    if (!r->idle_measured)
        fprintf(f,
                "  %14s  (idle power is shared by busy CPU time; '--idle-baseline S' "
                "measures it and reports it apart)\n",
                "");
    if (r->idle_measured) {
        char i[32], p[32], d[32];
        cli_fmt_energy(i, sizeof(i), r->idle_energy_uj);
        cli_fmt_power(p, sizeof(p), r->idle_power_uw);
        cli_fmt_energy(d, sizeof(d), r->dynamic_energy_uj);
        fprintf(f, "  %14s  idle (baseline %s) + %s dynamic\n", i, p, d);
    }
    if (r->units > 0) {
        char u[32];
        cli_fmt_energy_j(u, sizeof(u), (double)r->attributed_uj / 1e6 / r->units);
        fprintf(f, "  %15s  per unit (attributed energy / %.15g %s)\n", u, r->units, r->unit_name);
    }
}

static void print_notes(FILE *f, const struct wattprof_result *r)
{
    for (size_t i = 0; i < r->n_channels; i++) {
        const struct wattprof_channel_result *c = &r->channels[i];
        if (strcmp(c->info.provenance, "measured") != 0 && c->info.how[0])
            fprintf(f, "  %s: %s\n", c->info.name, c->info.how);
    }
    for (const char *p = r->warnings; *p;) {
        size_t len = strcspn(p, "\n");
        fprintf(f, "  warning: %.*s\n", (int)len, p);
        p += len;
        if (*p == '\n')
            p++;
    }
}

#define SUMMARY_MAX_WINDOWS 20

static void print_window(FILE *f, const struct wattprof_window_result *w)
{
    char e[32], u[32] = "";
    cli_fmt_energy(e, sizeof(e), w->attributed_uj);
    if (w->units > 0)
        cli_fmt_energy_j(u, sizeof(u), (double)w->attributed_uj / 1e6 / w->units);
    fprintf(f, "  %-18.18s %8.3f s %8.3f s %14s  %12s%s%s", w->name, (double)w->start_ns / 1e9,
            (double)(w->end_ns - w->start_ns) / 1e9, e, u, w->units > 0 ? "/" : "",
            w->units > 0 ? w->unit_name : "");
    for (size_t m = 0; m < w->n_metrics && m < 3; m++)
        fprintf(f, "  %s=%.6g", w->metrics[m].name, w->metrics[m].value);
    fputs(w->complete ? "\n" : "  [incomplete]\n", f);
}

static void print_windows(FILE *f, const struct wattprof_result *r)
{
    if (r->n_windows == 0)
        return;
    fprintf(f, "  %-18s %10s %10s %14s  %12s\n", "window", "start", "duration", "attributed",
            "per unit");
    for (size_t i = 0; i < r->n_windows && i < SUMMARY_MAX_WINDOWS; i++)
        print_window(f, &r->windows[i]);
    if (r->n_windows > SUMMARY_MAX_WINDOWS)
        fprintf(f, "  ... and %zu more windows (see --json)\n", r->n_windows - SUMMARY_MAX_WINDOWS);
    fputc('\n', f);
}

/* The summary; its first line names the stored run when there is one. */
static void print_summary(FILE *f, const struct wattprof_result *r, const char *id,
                          char *const *command, int argc)
{
    fputs("\n wattprof: ", f);
    if (id)
        fprintf(f, "run %s: ", id);
    print_command(f, command, argc);
    fprintf(f, " ran %.3f s, exit %d%s\n\n", (double)r->duration_ns / 1e9, r->exit_code,
            r->complete ? "" : " (incomplete: interrupted or killed)");
    print_totals(f, r);
    if (r->accounting.computed) {
        fputc('\n', f);
        run_accounting_print(f, r);
    }
    fprintf(f, "\n  %-18s %14s %11s %11s  %-10s %-14s %s\n", "channel", "energy", "avg power",
            "peak power", "provenance", "source", "in total");
    for (size_t i = 0; i < r->n_channels; i++)
        print_channel(f, &r->channels[i]);
    fputc('\n', f);
    print_windows(f, r);
    for (size_t i = 0; i < r->n_metrics; i++)
        fprintf(f, "  metric %s = %.9g\n", r->metrics[i].name, r->metrics[i].value);
    print_notes(f, r);
}

void run_output_print(FILE *f, const struct wattprof_result *r, const char *id,
                      char *const *command, int argc)
{
    print_summary(f, r, id, command, argc);
}

void run_output_summary(const struct wattprof_result *r, const char *id, char *const *command,
                        int argc)
{
    print_summary(stderr, r, id, command, argc);
}
