/* Starting and waiting for a measured command: shared by `wattprof run` and
 * `wattprof bench` so both measure through the same code. */
#ifndef WATTPROF_PROC_H
#define WATTPROF_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* How proc_spawn starts the child. */
#define PROC_NEW_GROUP 1        /* it leads its own process group (a timeout kills the tree) */
#define PROC_STDOUT_TO_STDERR 2 /* its stdout goes to our stderr (ours holds a report) */

/* Starts argv (PATH searched) with flags PROC_*. Returns the pid, or -errno when exec failed (read
 * back from the child through a close-on-exec pipe). */
pid_t proc_spawn(char **argv, int flags);
/* The same with the child's stdout on out_fd (when >= 0; it wins over
 * PROC_STDOUT_TO_STDERR). */
pid_t proc_spawn_out(char **argv, int flags, int out_fd);

/* Waits for pid, then reaps the orphans it left (we are their subreaper) for at most
 * 20 ms, so their CPU time is in RUSAGE_CHILDREN. timeout_ns 0 waits for ever; when
 * it passes, the process group of pid is killed (SIGKILL) and *timed_out set. Returns
 * 0 or -errno. */
int proc_wait(pid_t pid, int *status, uint64_t timeout_ns, int *timed_out);

/* CPU time (user + system, ns) of all the reaped children so far. */
uint64_t proc_children_cpu_ns(void);

#endif
