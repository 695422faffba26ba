/* The costs of `wattprof bench` (docs/performance.md): the statistics of a study of
 * 10 000 synthetic runs (summaries, Welch, Mann-Whitney, bootstrap, Holm, outliers,
 * Pareto, recommendation: study_analyze), and the harness overhead per run: the wall
 * time of a study of `true` (N runs, cool-down 0, not stored) over N, minus the wall
 * time of `true` itself.
 * usage: study_stats_bench [WATTPROF [N]]   (without WATTPROF only the statistics) */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "study_run.h"

#define RUNS 10000
#define VARIANTS 4
#define REPEAT 5

static const char study_text[] = "name: synth\n"
                                 "command: ./work {v}\n"
                                 "matrix: { v: [a, b, c, d] }\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RUNS runs spread over VARIANTS variants, energy and time with ~3 % noise. */
static void fill(struct study_results *r, struct study_run *runs)
{
    uint64_t rng = 1;
    r->runs = runs;
    r->n_runs = r->cap = RUNS;
    r->n_variants = VARIANTS;
    r->noise = 0.02;
    r->idle_power_w = NAN;
    for (size_t i = 0; i < RUNS; i++) {
        double u = (double)(stats_rand(&rng) >> 11) / 9007199254740992.0;
        memset(&runs[i], 0, sizeof(runs[i]));
        runs[i].variant = i % VARIANTS;
        runs[i].index = (unsigned)(i / VARIANTS + 1);
        runs[i].units = 1;
        runs[i].quality = runs[i].co2e_g = NAN;
        runs[i].energy_j = (10.0 + (double)runs[i].variant) * (0.97 + 0.06 * u);
        runs[i].duration_s = (2.0 - 0.1 * (double)runs[i].variant) * (0.97 + 0.06 * u);
    }
}

static int bench_stats(void)
{
    static struct study st;
    static struct study_results r;
    struct study_run *runs = calloc(RUNS, sizeof(*runs));
    char err[STUDY_ERR_SIZE];
    if (!runs ||
        study_parse_text(study_text, strlen(study_text), "synth", &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "study_stats_bench: %s\n", runs ? err : "out of memory");
        free(runs);
        return -1;
    }
    double best = 1e9;
    for (int k = 0; k < REPEAT; k++) {
        memset(&r, 0, sizeof(r));
        r.st = &st;
        fill(&r, runs);
        double t0 = now_s();
        study_analyze(&r);
        double dt = now_s() - t0;
        best = dt < best ? dt : best;
    }
    printf("statistics of %d runs (%d variants): %.1f ms (best of %d; goal < 100 ms)\n", RUNS,
           VARIANTS, 1e3 * best, REPEAT);
    free(runs);
    return 0;
}

/* Runs argv to its end; returns the wall time in s, or -1. */
static double wall_of(char *const argv[])
{
    fflush(stdout);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return now_s() - t0;
}

static int bench_harness(const char *wattprof, unsigned n)
{
    char path[] = "/tmp/study-bench-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return -1;
    fprintf(f,
            "name: harness\ncommand: true {v}\nmatrix: { v: [a] }\nwarmup: 0\n"
            "cooldown_s: 0\nrepetitions: { min: %u, max: %u }\n",
            n, n);
    fclose(f);
    char *study[] = { (char *)wattprof, "bench", "-q", "--no-store", path, NULL };
    char *plain[] = { "true", NULL };
    double t_true = 1e9, t_study = wall_of(study);
    for (int k = 0; k < 50; k++) {
        double t = wall_of(plain);
        t_true = t >= 0 && t < t_true ? t : t_true;
    }
    unlink(path);
    if (t_study < 0) {
        fprintf(stderr, "study_stats_bench: '%s bench' failed\n", wattprof);
        return -1;
    }
    printf("harness: study of `true` x %u: %.3f s; `true`: %.2f ms; overhead per run: %.2f ms "
           "(goal < 10 ms)\n",
           n, t_study, 1e3 * t_true, 1e3 * (t_study / n - t_true));
    return 0;
}

int main(int argc, char **argv)
{
    if (bench_stats() < 0)
        return 1;
    if (argc > 1 && bench_harness(argv[1], argc > 2 ? (unsigned)atoi(argv[2]) : 200) < 0)
        return 1;
    return 0;
}
