/* Shared pieces of the run-history commands (list, show, compare, export, delete, gc):
 * the --db option, opening the store, resolving run id prefixes and reading a run. */
#ifndef WATTPROF_HISTORY_H
#define WATTPROF_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "stored_run.h"
#include "wattprof.h"

enum { HISTORY_OPT_DB = 400 };
#define HISTORY_DB_LONGOPT                                                                         \
    {                                                                                              \
        "db", required_argument, NULL, HISTORY_OPT_DB                                              \
    }
#define HISTORY_DB_USAGE                                                                           \
    "      --db PATH            the run store ($WATTPROF_DB, else this, else\n"                    \
    "                           $XDG_DATA_HOME/wattprof/wattprof.db or\n"                          \
    "                           ~/.local/share/wattprof/wattprof.db)\n"

/* For getopt_long's '?' and ':' (optstring starting with ':'): prints
 * "wattprof CMD: unknown option '--x'" and the usage on stderr; returns EXIT_USAGE. */
int history_option_error(const char *who, const char *usage, int c, char **argv);
/* "wattprof CMD: MESSAGE" and the usage on stderr; returns EXIT_USAGE. */
int history_usage_error(const char *who, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens the store: $WATTPROF_DB, else db (--db), else the default path. Prints the
 * error and returns -1 when it cannot. */
int history_open(const char *db, struct wattprof_store **st);
/* A unique id prefix to the full id. Prints the store's message (unknown, or ambiguous
 * with the candidates) and returns -1 when it cannot. */
int history_resolve(struct wattprof_store *st, const char *prefix, char id[16]);
/* Reads run id; *json (free with wattprof_free) is the stored text when json is not
 * NULL. Prints the error and returns -1 when it cannot. */
int history_load(struct wattprof_store *st, const char *id, struct stored_run *sr, char **json);

/* "2026-11-21 23:05" (UTC) from Unix ms. */
void history_fmt_time(char *buf, size_t size, uint64_t unix_ms);
/* "0.302 s", "12.5 s", "3 m 05 s", "2 h 03 m". */
void history_fmt_duration(char *buf, size_t size, uint64_t ns);

#endif
