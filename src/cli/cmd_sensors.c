/* wattprof sensors: every backend tried, the channels found and how each is read, and
 * for each backend that cannot be used, the reason and the fix. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wattprof.h"

static const char usage_text[] =
    "usage: wattprof sensors [options]\n"
    "\n"
    "Lists every sensor backend tried on this machine, the channels found and how each\n"
    "is read; for a backend that cannot be used, why and what to do about it.\n"
    "Exit status 0 when at least one channel can be read, else 1.\n"
    "\n" CLI_SENSOR_USAGE "  -h, --help               this text\n";

static void print_lines(const char *prefix, const char *text)
{
    for (const char *p = text; p && *p;) {
        size_t len = strcspn(p, "\n");
        printf("%s%.*s\n", prefix, (int)len, p);
        p += len;
        if (*p == '\n')
            p++;
    }
}

static void print_backend(const struct wattprof_ctx *ctx, size_t i)
{
    struct wattprof_backend_info b;
    wattprof_ctx_backend(ctx, i, &b);
    if (b.skipped) {
        printf("%-14s skipped: %s\n", b.name, b.message);
        return;
    }
    if (b.status != 0) {
        printf("%-14s not available (%s): %s\n", b.name, wattprof_strerror(b.status), b.message);
        return;
    }
    printf("%-14s in use, %zu channel%s\n", b.name, b.n_channels, b.n_channels == 1 ? "" : "s");
    for (size_t j = 0; j < b.n_channels; j++) {
        struct wattprof_channel_info c;
        wattprof_ctx_channel(ctx, i, j, &c);
        printf("    %-18s %-8s %-10s %-12s %s\n", c.name, c.kind, c.provenance,
               c.included_in_total ? "in total" : "not in total", c.how);
    }
    print_lines("    note: ", b.notes);
}

int cmd_sensors(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_SENSOR_LONGOPTS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cli_sensor_opts so = { 0 };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (!cli_sensor_opt(&so, c, optarg)) {
            fprintf(stderr, "wattprof sensors: unknown option '%s'\n%s", argv[optind - 1],
                    usage_text);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wattprof sensors: unexpected argument '%s'\n%s", argv[optind], usage_text);
        return EXIT_USAGE;
    }
    struct wattprof_ctx *ctx;
    if (wattprof_ctx_new(&ctx) < 0) {
        cli_error("out of memory");
        return 1;
    }
    if (cli_apply_sensor_opts(ctx, &so, "wattprof sensors") < 0) {
        wattprof_ctx_free(ctx);
        return EXIT_USAGE;
    }
    int r = wattprof_ctx_open_sensors(ctx);
    for (size_t i = 0; i < wattprof_ctx_backend_count(ctx); i++)
        print_backend(ctx, i);
    wattprof_ctx_free(ctx);
    int w = cli_finish_stdout();
    return r < 0 || w ? 1 : 0;
}
