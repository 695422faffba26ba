/* What `wattprof run` writes: the summary on stderr and the JSON file (and what
 * `wattprof report` writes: the same whole-or-nothing file), which is
 * prepared before the command starts (so an unwritable path fails first) and appears
 * whole or not at all (written to a temporary file, then renamed). */
#ifndef WATTPROF_RUN_OUTPUT_H
#define WATTPROF_RUN_OUTPUT_H

#include <limits.h>
#include <stdio.h>

#include "wattprof.h"

struct run_output {
    const char *path; /* NULL: no JSON; "-": stdout */
    char tmp[PATH_MAX];
    int fd;
};

/* Checks that path can be written by creating the temporary file beside it. Prints the
 * error and returns -1 when it cannot. */
int run_output_prepare(struct run_output *out, const char *path);
/* Writes text (stdout for "-") and moves it into place. Prints the error and returns -1 on
 * failure. */
int run_output_write(struct run_output *out, const char *text, size_t len);
/* Writes the JSON and moves it into place. Prints the error and returns -1 on failure. */
int run_output_json(struct run_output *out, const struct wattprof_session *run);
/* Removes the temporary file if the JSON was never written. */
void run_output_release(struct run_output *out);

/* The perf-stat-like summary on stderr; id is the stored run's (first line), or NULL. */
void run_output_summary(const struct wattprof_result *res, const char *id, char *const *command,
                        int argc);
/* The same summary on f: `wattprof show` prints a stored run with it. */
void run_output_print(FILE *f, const struct wattprof_result *res, const char *id,
                      char *const *command, int argc);

#endif
