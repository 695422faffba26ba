/* Starting a command and waiting for it (with an optional timeout that kills its
 * process group), for `wattprof run` and `wattprof bench`. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* How long to wait for orphaned descendants that are still exiting. */
#define ORPHAN_GRACE_MS 20
#define POLL_NS 1000000 /* the timeout's granularity: 1 ms */

pid_t proc_spawn(char **argv, int flags)
{
    return proc_spawn_out(argv, flags, -1);
}

pid_t proc_spawn_out(char **argv, int flags, int out_fd)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        return -e;
    }
    if (pid == 0) {
        close(pfd[0]);
        if (flags & PROC_NEW_GROUP)
            setpgid(0, 0);
        if (out_fd >= 0)
            dup2(out_fd, STDOUT_FILENO);
        else if (flags & PROC_STDOUT_TO_STDERR)
            dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w = write(pfd[1], &e, sizeof(e));
        (void)w;
        _exit(EXIT_NOT_FOUND);
    }
    if (flags & PROC_NEW_GROUP)
        setpgid(pid, pid); /* also from here: no race with a kill of the group */
    close(pfd[1]);
    int e = 0;
    ssize_t n;
    do {
        n = read(pfd[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(pfd[0]);
    if (n == sizeof(e)) {
        waitpid(pid, NULL, 0);
        return -e;
    }
    return pid;
}

/* Reaps the descendants that were orphaned (reparented to us, the subreaper) and are
 * exiting; waits at most ORPHAN_GRACE_MS for those still finishing, and leaves a
 * long-lived daemon alone. */
static void reap_orphans(void)
{
    struct timespec tick = { 0, 1000000 };
    for (int waited = 0; waited < ORPHAN_GRACE_MS;) {
        pid_t r = waitpid(-1, NULL, WNOHANG);
        if (r > 0)
            continue;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return; /* ECHILD: none left */
        nanosleep(&tick, NULL);
        waited++;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Polls pid every POLL_NS until it exits or the deadline passes. */
static pid_t wait_deadline(pid_t pid, int *status, uint64_t timeout_ns, int *timed_out)
{
    uint64_t deadline = now_ns() + timeout_ns;
    struct timespec tick = { 0, POLL_NS };
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r != 0 && !(r < 0 && errno == EINTR))
            return r;
        if (now_ns() >= deadline && !*timed_out) {
            *timed_out = 1;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
        nanosleep(&tick, NULL);
    }
}

int proc_wait(pid_t pid, int *status, uint64_t timeout_ns, int *timed_out)
{
    pid_t r;
    *timed_out = 0;
    if (timeout_ns > 0) {
        r = wait_deadline(pid, status, timeout_ns, timed_out);
    } else {
        do {
            r = waitpid(pid, status, 0);
        } while (r < 0 && errno == EINTR);
    }
    if (r < 0)
        return -errno;
    reap_orphans();
    return 0;
}

uint64_t proc_children_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
        return 0;
    uint64_t us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                  (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
    return us * 1000;
}
