/* One measured run of a study: the same session, store, control socket and process
 * handling as `wattprof run` (proc.c), plus labels, a timeout and the extraction of
 * the numbers the statistics use. */
#include "study_run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proc.h"
#include "wattprof.h"

/* The signal handler's view: the running workload (its group) and the request to stop. */
static volatile sig_atomic_t study_child;
static volatile sig_atomic_t study_stop;

static void on_signal(int sig)
{
    study_stop = sig;
    if (study_child > 0)
        kill(-(pid_t)study_child, SIGTERM);
}

void study_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int study_interrupted(void)
{
    return study_stop != 0;
}

static int fail(struct wattprof_ctx *ctx, int r)
{
    cli_error("%s", wattprof_ctx_errmsg(ctx)[0] ? wattprof_ctx_errmsg(ctx) : wattprof_strerror(r));
    return -1;
}

/* The labels study=, variant= (',' becomes ';': label values hold no comma), rep=. */
static int add_labels(const struct study_runner *rn, const struct study *st, size_t v,
                      unsigned index, int warmup, struct wattprof_session *s)
{
    char name[1024], rep[32];
    study_variant_name(st, v, name, sizeof(name));
    for (char *p = strchr(name, ','); p; p = strchr(p, ','))
        *p = ';';
    snprintf(rep, sizeof(rep), "%s%u", warmup ? "warmup-" : "", index);
    int r = wattprof_session_add_label(s, "study", st->name);
    if (r == 0)
        r = wattprof_session_add_label(s, "variant", name);
    if (r == 0)
        r = wattprof_session_add_label(s, "rep", rep);
    if (r == 0 && rn->store)
        r = wattprof_session_set_store(s, rn->store);
    return r < 0 ? fail(rn->ctx, r) : 0;
}

static double metric_of(const struct wattprof_result *res, const char *name)
{
    double v = NAN;
    for (size_t i = 0; i < res->n_metrics; i++)
        if (strcmp(res->metrics[i].name, name) == 0)
            v = res->metrics[i].value;
    for (size_t w = 0; isnan(v) && w < res->n_windows; w++)
        for (size_t i = 0; i < res->windows[w].n_metrics; i++)
            if (strcmp(res->windows[w].metrics[i].name, name) == 0)
                v = res->windows[w].metrics[i].value;
    return v;
}

/* The numbers of a finished run. Units: the study's per_run, else the run's units (set
 * by the workload: run-units), else the sum of its windows' units, else 1 (the run). */
static void extract(const struct study *st, const struct wattprof_result *res,
                    struct study_run *out)
{
    out->duration_s = (double)res->duration_ns / 1e9;
    out->energy_j = (double)res->energy_uj / 1e6;
    out->dynamic_energy_j = (double)res->dynamic_energy_uj / 1e6;
    out->co2e_g = res->accounting.computed ? res->accounting.total_g : NAN;
    double wu = 0;
    for (size_t w = 0; w < res->n_windows; w++)
        wu += res->windows[w].units;
    out->units = st->units_per_run > 0 ? st->units_per_run
                 : res->units > 0      ? res->units
                 : wu > 0              ? wu
                                       : 1.0;
    for (size_t i = 0; i < res->n_metrics && out->n_metrics < STUDY_RUN_MAX_METRICS; i++) {
        snprintf(out->metric_names[out->n_metrics], STUDY_NAME_SIZE, "%s", res->metrics[i].name);
        out->metric_values[out->n_metrics++] = res->metrics[i].value;
    }
    out->quality = st->quality_metric[0] ? metric_of(res, st->quality_metric) : NAN;
}

/* The captured stdout (copied on to stderr, as the workload's output goes there),
 * NUL-terminated and malloc'd; NULL when out of memory. */
static char *read_capture(FILE *cap)
{
    size_t len = 0, size = 4096, n;
    char *buf = malloc(size);
    rewind(cap);
    while (buf && (n = fread(buf + len, 1, size - len - 1, cap)) > 0) {
        fwrite(buf + len, 1, n, stderr);
        len += n;
        char *bigger = len + 1 >= size ? realloc(buf, size *= 2) : buf;
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* quality.regex / quality.metrics_file: the quality of a run that did not fail. */
static void custom_metric(const struct study *st, FILE *cap, struct study_run *out)
{
    char err[STUDY_ERR_SIZE];
    char *text = cap ? read_capture(cap) : NULL;
    int r = 0;
    if (out->excluded[0] || (!st->quality_regex[0] && !st->metrics_file[0])) {
        free(text);
        return;
    }
    if (st->quality_regex[0])
        r = text ? study_metric_from_output(st, text, &out->quality, err, sizeof(err)) : -1;
    else
        r = study_metric_from_file(st, &out->quality, err, sizeof(err));
    free(text);
    if (r < 0) {
        out->quality = NAN;
        snprintf(out->excluded, sizeof(out->excluded), "%s",
                 cap || !st->quality_regex[0] ? err : "cannot capture the output");
    } else if (out->n_metrics < STUDY_RUN_MAX_METRICS) {
        snprintf(out->metric_names[out->n_metrics], STUDY_NAME_SIZE, "%s", st->quality_metric);
        out->metric_values[out->n_metrics++] = out->quality;
    }
}

/* Runs argv in a started session; fills exit_code and excluded. */
static void execute(const struct study *st, struct wattprof_session *s, char **argv, int out_fd,
                    uint64_t cpu_before, struct study_run *out)
{
    int status = 0, timed_out = 0;
    pid_t pid = proc_spawn_out(argv, PROC_NEW_GROUP | PROC_STDOUT_TO_STDERR, out_fd);
    if (pid < 0) {
        wattprof_session_stop(s);
        out->exit_code = -pid == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
        snprintf(out->excluded, sizeof(out->excluded), "cannot run '%s': %s", argv[0],
                 strerror((int)-pid));
        return;
    }
    study_child = pid;
    wattprof_session_set_workload_pid(s, pid);
    int r = proc_wait(pid, &status, (uint64_t)(st->timeout_s * 1e9), &timed_out);
    study_child = 0;
    wattprof_session_set_workload_cpu_ns(s, proc_children_cpu_ns() - cpu_before);
    wattprof_session_stop(s);
    out->exit_code = r < 0               ? EXIT_RUN_FAILED
                     : WIFEXITED(status) ? WEXITSTATUS(status)
                                         : 128 + WTERMSIG(status);
    int complete = r == 0 && WIFEXITED(status) && !timed_out && !study_stop;
    wattprof_session_set_exit(s, out->exit_code, complete);
    if (timed_out)
        snprintf(out->excluded, sizeof(out->excluded), "timeout after %g s (killed)",
                 st->timeout_s);
    else if (study_stop)
        snprintf(out->excluded, sizeof(out->excluded), "interrupted");
    else if (out->exit_code != 0)
        snprintf(out->excluded, sizeof(out->excluded), "exit status %d", out->exit_code);
}

int study_run_one(const struct study_runner *rn, const struct study *st, size_t v, unsigned index,
                  int warmup, struct study_run *out)
{
    char line[STUDY_COMMAND_SIZE];
    char *argv[STUDY_MAX_ARGS + 1], err[STUDY_ERR_SIZE];
    memset(out, 0, sizeof(*out));
    out->variant = v;
    out->index = index;
    out->warmup = warmup;
    out->quality = out->co2e_g = out->units = NAN;
    int argc = study_variant_argv(st, v, line, sizeof(line), argv, err, sizeof(err));
    if (argc < 0) {
        cli_error("%s", err);
        return -1;
    }
    struct wattprof_session *s = NULL;
    int r = wattprof_session_new(rn->ctx, &s);
    if (r == 0)
        r = wattprof_session_set_interval_ms(s, rn->interval_ms);
    if (r == 0)
        r = wattprof_session_set_command(s, argc, argv);
    if (r == 0 && st->units_per_run > 0)
        r = wattprof_session_set_units(s, st->units_per_run, st->unit_name);
    if (r < 0 || add_labels(rn, st, v, index, warmup, s) < 0 ||
        (r = wattprof_session_start(s)) < 0) {
        if (r < 0)
            fail(rn->ctx, r);
        wattprof_session_free(s);
        return -1;
    }
    const char *control;
    if (wattprof_session_control_start(s, &control) == 0)
        setenv("WATTPROF_CONTROL", control, 1);
    FILE *cap = st->quality_regex[0] ? tmpfile() : NULL;
    execute(st, s, argv, cap ? fileno(cap) : -1, proc_children_cpu_ns(), out);
    const struct wattprof_result *res = wattprof_session_result(s);
    if (res)
        extract(st, res, out);
    custom_metric(st, cap, out);
    if (cap)
        fclose(cap);
    snprintf(out->id, sizeof(out->id), "%s", rn->store ? wattprof_session_id(s) : "");
    if (!out->excluded[0] && st->quality_metric[0] && isnan(out->quality))
        snprintf(out->excluded, sizeof(out->excluded), "metric '%s' not reported",
                 st->quality_metric);
    wattprof_session_free(s);
    unsetenv("WATTPROF_CONTROL");
    return 0;
}

/* A session around a sleep: the machine's mean power while nothing of ours runs. */
double study_idle_power(const struct study_runner *rn, double seconds)
{
    struct wattprof_session *s = NULL;
    struct timespec ts = { (time_t)seconds, (long)((seconds - floor(seconds)) * 1e9) };
    int r = wattprof_session_new(rn->ctx, &s);
    if (r == 0)
        r = wattprof_session_set_interval_ms(s, rn->interval_ms);
    if (r == 0)
        r = wattprof_session_start(s);
    if (r == 0) {
        nanosleep(&ts, NULL);
        r = wattprof_session_stop(s);
    }
    const struct wattprof_result *res = r == 0 ? wattprof_session_result(s) : NULL;
    double w =
        res && res->duration_ns ? (double)res->energy_uj / ((double)res->duration_ns / 1e3) : NAN;
    if (r < 0)
        fail(rn->ctx, r);
    wattprof_session_free(s);
    return w;
}
