/* Shared pieces of the command-line tool: the command table entry, messages, number
 * parsing and formatting. Only the CLI prints and exits. */
#ifndef WATTPROF_CLI_H
#define WATTPROF_CLI_H

#include <stddef.h>
#include <stdint.h>

struct wattprof_ctx;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes (STYLE.md §6): `run` uses 125-127 for its own failures, like GNU env. */
#define EXIT_USAGE 2
#define EXIT_RUN_FAILED 125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

int cmd_run(int argc, char **argv);
int cmd_sensors(int argc, char **argv);
int cmd_control(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_serve(int argc, char **argv);
/* The run history: cmd_list.c, cmd_show.c, cmd_compare.c, cmd_export.c, cmd_delete.c. */
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_schedule(int argc, char **argv); /* cmd_schedule.c, docs/schedule.md */
int cmd_report(int argc, char **argv);   /* cmd_report.c, docs/report.md */

/* Sensor options shared by `run` and `sensors`. */
struct cli_sensor_opts {
    const char *sensors; /* --sensors LIST */
    const char *meter;   /* --meter CMD */
    const char *ptd;     /* --ptd HOST:PORT */
    const char *replay;  /* --replay FILE */
    const char *hwmon;   /* --hwmon NAMES */
    const char *require; /* --require LIST */
};

/* getopt_long codes and usage lines of the sensor options. */
enum {
    CLI_OPT_SENSORS = 300,
    CLI_OPT_METER,
    CLI_OPT_PTD,
    CLI_OPT_HWMON,
    CLI_OPT_REQUIRE,
    CLI_OPT_REPLAY
};
#define CLI_SENSOR_LONGOPTS                                                                        \
    { "sensors", required_argument, NULL, CLI_OPT_SENSORS },                                       \
        { "meter", required_argument, NULL, CLI_OPT_METER },                                       \
        { "ptd", required_argument, NULL, CLI_OPT_PTD },                                           \
        { "hwmon", required_argument, NULL, CLI_OPT_HWMON },                                       \
        { "replay", required_argument, NULL, CLI_OPT_REPLAY },                                     \
    {                                                                                              \
        "require", required_argument, NULL, CLI_OPT_REQUIRE                                        \
    }
#define CLI_SENSOR_USAGE                                                                           \
    "      --sensors LIST       only these backends (see 'wattprof sensors')\n"                    \
    "      --meter CMD          an external meter: CMD prints one reading per line\n"              \
    "                           (watts, or cumulative joules with a J suffix)\n"                   \
    "      --ptd HOST:PORT      a SPEC PTDaemon power analyzer (MLPerf Power)\n"                   \
    "      --hwmon NAMES        also read these generic hwmon chips (by name)\n"                   \
    "      --replay FILE        replay a recorded trace (docs/replay.md); its channels are\n"      \
    "                           the total, live ones are shown beside it\n"                        \
    "      --require LIST       fail unless these backends work\n"

/* Stores a sensor option; returns 1 when c was one, else 0. */
int cli_sensor_opt(struct cli_sensor_opts *o, int c, const char *arg);

/* Applies the options to a context before its sensors are opened. Prints the error
 * and returns a negative errno on failure. */
int cli_apply_sensor_opts(struct wattprof_ctx *ctx, const struct cli_sensor_opts *o,
                          const char *who);

/* "wattprof: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict number parsing for option values: whole string, range-checked.
 * Return 0, or -1 when the text is not a number in [min, max]. */
int cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);
int cli_parse_double(const char *s, double min, double max, double *out);

/* Human formatting: "12.345 J", "1.234 kJ"; "3.21 W"; "1.002 s". */
void cli_fmt_energy(char *buf, size_t size, uint64_t uj);
void cli_fmt_power(char *buf, size_t size, uint64_t uw);
/* Small energies too: "216.435 µJ", "12.300 mJ", then as cli_fmt_energy. */
void cli_fmt_energy_j(char *buf, size_t size, double j);

/* Flushes stdout and reports a write error (git's check before exit). Returns 0, or 1
 * when stdout could not be written. */
int cli_finish_stdout(void);

#endif
