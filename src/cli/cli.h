/* Shared pieces of the command-line tool: the command table entry, messages, number
 * parsing and formatting. Only the CLI prints and exits. */
#ifndef WATTPROF_CLI_H
#define WATTPROF_CLI_H

#include <stddef.h>
#include <stdint.h>

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
