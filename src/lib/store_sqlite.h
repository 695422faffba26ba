/* The SQLite store backend, shared by its files: store_schema.c (opening, migrations),
 * store_sqlite.c (writes, the operations table) and store_query.c (reads). */
#ifndef WATTPROF_STORE_SQLITE_H
#define WATTPROF_STORE_SQLITE_H

#include <sqlite3.h>

#include "store.h"

/* The connection (st->priv), NULL before open. */
sqlite3 *store_sqlite_db(const struct wattprof_store *st);
/* Runs SQL without results; on failure sets errmsg and returns -EIO. */
int store_sqlite_exec(struct wattprof_store *st, const char *sql);
/* Sets errmsg to "<what> '<path>': <sqlite message>" and returns -EIO (-ENOSPC when the
 * disk or database is full, -EACCES when read-only). */
int store_sqlite_error(struct wattprof_store *st, int code, const char *what);
/* Opens the file at path and migrates it (store_schema.c). */
int store_sqlite_open_db(struct wattprof_store *st, const char *path);
/* The schema version this build writes. */
int store_sqlite_schema_version(void);

/* Reads (store_query.c). */
int store_sqlite_list(struct wattprof_store *st, const struct wattprof_list_filter *f,
                      struct wattprof_run_row **rows, size_t *n);
int store_sqlite_resolve(struct wattprof_store *st, const char *prefix, char id[16]);
int store_sqlite_run_json(struct wattprof_store *st, const char *id, char **json);
int store_sqlite_labels_json(struct wattprof_store *st, const char *id, char **json);
int store_sqlite_series_json(struct wattprof_store *st, const char *id, char **json);
/* Runs sql with id as its one parameter and calls fn for each row. Returns 0, or -EIO
 * with errmsg set. */
int store_sqlite_each_row(struct wattprof_store *st, const char *sql, const char *id,
                          void (*fn)(void *arg, sqlite3_stmt *row), void *arg);
/* The 1 s series of a run, in order: bucket, power_uw. */
extern const char store_sqlite_series_sql[];
/* The run's channel names, in order, into the open JSON array j. */
struct json;
int store_sqlite_channel_names(struct wattprof_store *st, const char *id, struct json *j);
/* store_power.c */
int store_sqlite_power_json(struct wattprof_store *st, const char *id, unsigned max_points,
                            char **json);
/* store_trace.c */
int store_sqlite_trace(struct wattprof_store *st, const char *id, char **text);
int store_sqlite_resolve_study(struct wattprof_store *st, const char *prefix, char id[16]);
int store_sqlite_study_json(struct wattprof_store *st, const char *id, char **json);

#endif
