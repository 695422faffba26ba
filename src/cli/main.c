/* wattprof: dispatch of the subcommands, from a table (git's style). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wattprof.h"

static const struct command commands[] = {
    { "run", cmd_run, "run a command and report the energy it used" },
    { "sensors", cmd_sensors, "list the sensors found on this machine and how they are read" },
    { "bench", cmd_bench, "run a study: compare variants of a command with statistics" },
    { "serve", cmd_serve, "sample continuously; serve a socket and Prometheus /metrics" },
    { "control", cmd_control, "send a window/metric message to the enclosing run" },
    { "list", cmd_list, "list the stored runs" },
    { "show", cmd_show, "print the summary of a stored run" },
    { "compare", cmd_compare, "compare two stored runs side by side" },
    { "report", cmd_report, "write an HTML report or a Markdown decision summary" },
    { "export", cmd_export, "write stored runs as JSON, CSV, CodeCarbon CSV or OpenMetrics" },
    { "delete", cmd_delete, "delete stored runs" },
    { "gc", cmd_gc, "drop the samples of old stored runs" },
    { "schedule", cmd_schedule, "find the start (and region) with the cleanest grid for a job" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: wattprof <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'wattprof <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return cli_finish_stdout();
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("wattprof %s\n", wattprof_version());
        return cli_finish_stdout();
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_error("'%s' is not a wattprof command; see 'wattprof --help'", argv[1]);
    return EXIT_USAGE;
}
