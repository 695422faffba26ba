/* wattprof compare: two stored runs side by side, with the ratio B/A, and a flag when
 * their energies do not come from the same kind of source (measured vs estimated). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "history.h"
#include "wattprof.h"

static const char usage_text[] =
    "usage: wattprof compare [options] RUN_A RUN_B\n"
    "\n"
    "Compares two stored runs side by side: duration, energy, attributed energy, energy\n"
    "per unit, each channel (matched by name) and each window name (its first\n"
    "occurrence), with the ratio B/A and the provenance of every number.\n"
    "\n" HISTORY_DB_USAGE "  -h, --help               this text\n";

#define ROW_FMT "  %-22.22s %22s %22s %8s\n"

/* One side of a row: a value (J, s) with an optional provenance, or absent. */
struct side {
    int present;
    double value;
    const char *provenance;
};

static void fmt_side(char *buf, size_t size, const struct side *s, int seconds)
{
    char v[32];
    if (!s->present) {
        snprintf(buf, size, "-");
        return;
    }
    if (seconds)
        history_fmt_duration(v, sizeof(v), (uint64_t)(s->value * 1e9 + 0.5));
    else
        cli_fmt_energy_j(v, sizeof(v), s->value);
    if (s->provenance)
        snprintf(buf, size, "%s %.10s", v, s->provenance);
    else
        snprintf(buf, size, "%s", v);
}

static void print_row(const char *label, struct side a, struct side b, int seconds)
{
    char sa[48], sb[48], ratio[16];
    fmt_side(sa, sizeof(sa), &a, seconds);
    fmt_side(sb, sizeof(sb), &b, seconds);
    if (!a.present || !b.present)
        snprintf(ratio, sizeof(ratio), "-");
    else if (a.value == 0)
        snprintf(ratio, sizeof(ratio), "n/a");
    else
        snprintf(ratio, sizeof(ratio), "%.3f", b.value / a.value);
    printf(ROW_FMT, label, sa, sb, ratio);
}

static struct side side_of(double v, const char *provenance)
{
    return (struct side){ 1, v, provenance };
}

static struct side per_unit(const struct wattprof_result *r)
{
    if (r->units <= 0)
        return (struct side){ 0, 0, NULL };
    return side_of((double)r->attributed_uj / 1e6 / r->units, NULL);
}

/* The command, joined and cut to fit its column. */
static void fmt_command(char *buf, size_t size, const struct stored_run *r)
{
    buf[0] = '\0';
    for (int i = 0; i < r->argc; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? " " : "", r->argv[i]);
    }
    if (strlen(buf) > 22)
        snprintf(buf + 19, size - 19, "...");
}

static void print_totals(const struct stored_run *a, const struct stored_run *b)
{
    char ca[64], cb[64];
    fmt_command(ca, sizeof(ca), a);
    fmt_command(cb, sizeof(cb), b);
    const struct wattprof_result *ra = &a->res, *rb = &b->res;
    printf(ROW_FMT, "", "A", "B", "B/A");
    printf(ROW_FMT, "run", a->id, b->id, "");
    printf(ROW_FMT, "command", ca, cb, "");
    print_row("duration", side_of((double)ra->duration_ns / 1e9, NULL),
              side_of((double)rb->duration_ns / 1e9, NULL), 1);
    print_row("energy", side_of((double)ra->energy_uj / 1e6, ra->total_provenance),
              side_of((double)rb->energy_uj / 1e6, rb->total_provenance), 0);
    print_row("attributed energy", side_of((double)ra->attributed_uj / 1e6, NULL),
              side_of((double)rb->attributed_uj / 1e6, NULL), 0);
    print_row("energy per unit", per_unit(ra), per_unit(rb), 0);
}

static struct side channel_side(const struct wattprof_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_channels; i++)
        if (strcmp(r->channels[i].info.name, name) == 0)
            return side_of((double)r->channels[i].energy_uj / 1e6, r->channels[i].info.provenance);
    return (struct side){ 0, 0, NULL };
}

static void print_channels(const struct wattprof_result *a, const struct wattprof_result *b)
{
    printf("\n  channels\n");
    for (size_t i = 0; i < a->n_channels; i++)
        print_row(a->channels[i].info.name, channel_side(a, a->channels[i].info.name),
                  channel_side(b, a->channels[i].info.name), 0);
    for (size_t i = 0; i < b->n_channels; i++)
        if (!channel_side(a, b->channels[i].info.name).present)
            print_row(b->channels[i].info.name, channel_side(a, b->channels[i].info.name),
                      channel_side(b, b->channels[i].info.name), 0);
}

/* The first window of that name, by attributed energy. */
static struct side window_side(const struct wattprof_result *r, const char *name, size_t before)
{
    for (size_t i = 0; i < r->n_windows && i < before; i++)
        if (strcmp(r->windows[i].name, name) == 0)
            return side_of((double)r->windows[i].attributed_uj / 1e6, NULL);
    return (struct side){ 0, 0, NULL };
}

static void print_windows(const struct wattprof_result *a, const struct wattprof_result *b)
{
    if (a->n_windows == 0 && b->n_windows == 0)
        return;
    printf("\n  windows (first of each name, attributed energy)\n");
    for (size_t i = 0; i < a->n_windows; i++)
        if (!window_side(a, a->windows[i].name, i).present)
            print_row(a->windows[i].name, window_side(a, a->windows[i].name, SIZE_MAX),
                      window_side(b, a->windows[i].name, SIZE_MAX), 0);
    for (size_t i = 0; i < b->n_windows; i++)
        if (!window_side(b, b->windows[i].name, i).present &&
            !window_side(a, b->windows[i].name, SIZE_MAX).present)
            print_row(b->windows[i].name, (struct side){ 0, 0, NULL },
                      window_side(b, b->windows[i].name, SIZE_MAX), 0);
}

static void print_comparability(const struct wattprof_result *a, const struct wattprof_result *b)
{
    if (strcmp(a->total_provenance, b->total_provenance) != 0)
        printf("\n  not comparable: A is %s, B is %s\n", a->total_provenance, b->total_provenance);
    else if (strcmp(a->total_provenance, "estimated") == 0)
        printf("\n  note: both totals are estimates (a model), not measurements\n");
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, const char **db)
{
    static const struct option longopts[] = {
        HISTORY_DB_LONGOPT,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (c != HISTORY_OPT_DB)
            return history_option_error("wattprof compare", usage_text, c, argv);
        *db = optarg;
    }
    if (argc - optind != 2)
        return history_usage_error("wattprof compare", usage_text,
                                   argc - optind < 2 ? "missing run id" : "too many run ids");
    return -1;
}

int cmd_compare(int argc, char **argv)
{
    const char *db = NULL;
    int code = parse_args(argc, argv, &db);
    if (code >= 0)
        return code;
    struct wattprof_store *st = NULL;
    if (history_open(db, &st) < 0)
        return 1;
    char ida[16], idb[16];
    struct stored_run a, b;
    code = 1;
    if (history_resolve(st, argv[optind], ida) == 0 &&
        history_resolve(st, argv[optind + 1], idb) == 0 && history_load(st, ida, &a, NULL) == 0) {
        if (history_load(st, idb, &b, NULL) == 0) {
            print_totals(&a, &b);
            print_channels(&a.res, &b.res);
            print_windows(&a.res, &b.res);
            print_comparability(&a.res, &b.res);
            code = cli_finish_stdout();
            stored_run_release(&b);
        }
        stored_run_release(&a);
    }
    wattprof_store_close(st);
    return code;
}
