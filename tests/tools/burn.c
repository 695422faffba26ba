/* Test workload: burns CPU in a small process tree (the main process, a child and a
 * short-lived grandchild that is orphaned), then writes the CPU time the whole tree
 * used, as getrusage reports it, to a file: "<seconds>\n".
 * usage: burn MILLISECONDS OUTFILE */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin(double seconds)
{
    volatile unsigned long x = 0;
    double end = cpu_now() + seconds;
    while (cpu_now() < end)
        for (int i = 0; i < 10000; i++)
            x += (unsigned long)i;
}

static double rusage_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: burn MILLISECONDS OUTFILE\n");
        return 2;
    }
    char *end;
    double s = strtod(argv[1], &end) / 1000.0;
    if (*end != '\0' || s <= 0) {
        fprintf(stderr, "burn: invalid milliseconds '%s'\n", argv[1]);
        return 2;
    }
    int pfd[2];
    if (pipe(pfd) < 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        /* the child forks a grandchild and exits at once: the grandchild is orphaned */
        if (fork() == 0) {
            spin(s / 4);
            /* report the grandchild's own CPU time to the top */
            double g = rusage_s(RUSAGE_SELF);
            ssize_t w = write(pfd[1], &g, sizeof(g));
            (void)w;
            _exit(0);
        }
        spin(s / 4);
        _exit(0);
    }
    spin(s / 2);
    int st;
    waitpid(child, &st, 0);
    close(pfd[1]);
    double grandchild = 0;
    ssize_t n = read(pfd[0], &grandchild, sizeof(grandchild)); /* waits for it to finish */
    if (n != sizeof(grandchild))
        grandchild = 0;
    double total = rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN) + grandchild;
    FILE *f = fopen(argv[2], "w");
    if (!f)
        return 1;
    fprintf(f, "%.6f\n", total);
    return fclose(f) == 0 ? 0 : 1;
}
