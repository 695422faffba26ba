/* wattprof run: run a command under measurement, pass its exit status on, forward
 * signals to it, and report the energy on stderr (and as JSON). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "proc.h"
#include "run_accounting.h"
#include "run_defer.h"
#include "run_output.h"
#include "wattprof.h"

#define RUN_MAX_LABELS 64

struct run_opts {
    unsigned long interval_ms;
    const char *json_path;
    double units;
    const char *unit_name;
    double idle_baseline_s;
    struct cli_sensor_opts sensor;
    struct run_accounting_opts acc;
    struct run_defer_opts defer;
    int quiet;
    const char *db_path; /* --db */
    int no_store;
    const char *labels[RUN_MAX_LABELS]; /* --label k=v, as given */
    size_t n_labels;
    char **command;
    int command_argc;
};

/* The signal handler's view of the run: the only mutable globals of the program. */
static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t interrupted;

static const char usage_text[] =
    "usage: wattprof run [options] -- COMMAND [ARGS...]\n"
    "\n"
    "Runs COMMAND, measures the energy used while it runs, and prints a summary on\n"
    "stderr. The exit status is COMMAND's (128+N when killed by signal N); wattprof's\n"
    "own failures exit 125 (126: cannot execute, 127: not found).\n"
    "\n"
    "  -i, --interval MS        sampling interval in ms, 1..60000 (default 100)\n"
    "  -j, --json FILE          write the run as JSON to FILE ('-' for stdout)\n"
    "  -u, --units N            units of work COMMAND does (for energy per unit)\n"
    "  -n, --unit-name NAME     what a unit is, e.g. samples (default: units)\n"
    "      --idle-baseline S    measure idle power for S seconds before COMMAND\n" CLI_SENSOR_USAGE
        RUN_ACCOUNTING_USAGE RUN_DEFER_USAGE
    "      --label KEY=VALUE    store this label with the run (repeatable; KEY is\n"
    "                           1 to 64 of A-Z a-z 0-9 _ . -)\n"
    "      --db PATH            the run history database (default: $WATTPROF_DB, else\n"
    "                           $XDG_DATA_HOME/wattprof/wattprof.db or\n"
    "                           ~/.local/share/wattprof/wattprof.db; $WATTPROF_DB wins)\n"
    "      --no-store           do not record the run in the history database\n"
    "  -q, --quiet              no summary on stderr\n"
    "  -h, --help               this text\n";

/* Prints "wattprof run: <what> '<arg>'<hint>" and the usage; returns the usage status. */
static int usage_error(const char *what, const char *arg, const char *hint)
{
    if (arg)
        fprintf(stderr, "wattprof run: %s '%s'%s\n%s", what, arg, hint, usage_text);
    else
        fprintf(stderr, "wattprof run: %s%s\n%s", what, hint, usage_text);
    return EXIT_USAGE;
}

enum { OPT_IDLE = 256, OPT_DB, OPT_NO_STORE, OPT_LABEL };

/* --label KEY=VALUE: the key's characters are checked here, the rest by the library. */
static int parse_label(struct run_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg) : 0;
    static const char key_chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
    if (!eq || klen == 0 || klen > 64 || strspn(arg, key_chars) != klen)
        return usage_error("invalid --label", arg,
                           ": give KEY=VALUE, KEY 1 to 64 of A-Z a-z 0-9 _ . -");
    if (o->n_labels == RUN_MAX_LABELS)
        return usage_error("too many labels", NULL, ": at most 64");
    o->labels[o->n_labels++] = arg;
    return 0;
}

static int parse_one(struct run_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'i':
        if (cli_parse_uint(arg, 1, 60000, &o->interval_ms) < 0)
            return usage_error("invalid --interval", arg, ": give whole milliseconds, 1 to 60000");
        return 0;
    case 'j':
        o->json_path = arg;
        return 0;
    case 'u':
        if (cli_parse_double(arg, 1e-9, 1e18, &o->units) < 0)
            return usage_error("invalid --units", arg, ": give a positive number");
        return 0;
    case 'n':
        o->unit_name = arg;
        return 0;
    case OPT_IDLE:
        if (cli_parse_double(arg, 0.1, 3600, &o->idle_baseline_s) < 0)
            return usage_error("invalid --idle-baseline", arg, ": give seconds, 0.1 to 3600");
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    case OPT_DB:
        o->db_path = arg;
        return 0;
    case OPT_NO_STORE:
        o->no_store = 1;
        return 0;
    case OPT_LABEL:
        return parse_label(o, arg);
    }
    return usage_error("unknown option", NULL, "");
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(struct run_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "interval", required_argument, NULL, 'i' },
        { "json", required_argument, NULL, 'j' },
        { "units", required_argument, NULL, 'u' },
        { "unit-name", required_argument, NULL, 'n' },
        { "idle-baseline", required_argument, NULL, OPT_IDLE },
        { "db", required_argument, NULL, OPT_DB },
        { "no-store", no_argument, NULL, OPT_NO_STORE },
        { "label", required_argument, NULL, OPT_LABEL },
        CLI_SENSOR_LONGOPTS,
        RUN_ACCOUNTING_LONGOPTS,
        RUN_DEFER_LONGOPTS,
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    o->interval_ms = 100;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:i:j:u:n:qh", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (c == '?')
            return usage_error("unknown option", argv[optind - 1], "");
        if (c == ':')
            return usage_error("missing value for option", argv[optind - 1], "");
        if (cli_sensor_opt(&o->sensor, c, optarg) || run_accounting_opt(&o->acc, c, optarg) ||
            run_defer_opt(&o->defer, c, optarg))
            continue;
        int r = parse_one(o, c, optarg);
        if (r != 0)
            return r;
    }
    if (optind >= argc)
        return usage_error("missing command", NULL, ": wattprof run [options] -- COMMAND");
    o->command = argv + optind;
    o->command_argc = argc - optind;
    return -1;
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    interrupted = sig;
    /* A signal from the terminal reached the whole process group, the child included;
     * one sent to wattprof alone (kill, a batch system) is passed on. */
    if (child_pid > 0 && si->si_code != SI_KERNEL)
        kill((pid_t)child_pid, sig);
}

static void install_forwarding(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        struct sigaction old;
        /* a signal ignored by whoever started us (nohup) stays ignored for the child */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* Waits for the command (proc_wait reaps its orphans too); forwarding stops. */
static int wait_command(pid_t pid, int *status)
{
    int timed_out;
    int r = proc_wait(pid, status, 0, &timed_out);
    child_pid = 0;
    return r;
}

static int exec_failure(const char *cmd, int err)
{
    cli_error("cannot run '%s': %s", cmd, strerror(err));
    return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
}

static int open_session(const struct run_opts *o, struct wattprof_ctx *ctx,
                        struct wattprof_session **out)
{
    int r = cli_apply_sensor_opts(ctx, &o->sensor, "wattprof run");
    if (r < 0)
        return r;
    r = wattprof_ctx_open_sensors(ctx);
    if (r == 0)
        r = wattprof_session_new(ctx, out);
    if (r == 0)
        r = wattprof_session_set_interval_ms(*out, (unsigned)o->interval_ms);
    if (r == 0 && o->idle_baseline_s > 0) {
        if (!o->quiet)
            fprintf(stderr, "wattprof: measuring idle power for %.1f s before the command\n",
                    o->idle_baseline_s);
        r = wattprof_session_idle_baseline(*out, (unsigned)(o->idle_baseline_s * 1000));
    }
    if (r == 0)
        r = wattprof_session_set_command(*out, o->command_argc, o->command);
    if (r == 0 && o->units > 0)
        r = wattprof_session_set_units(*out, o->units, o->unit_name);
    if (r < 0)
        cli_error("%s",
                  wattprof_ctx_errmsg(ctx)[0] ? wattprof_ctx_errmsg(ctx) : wattprof_strerror(r));
    return r;
}

/* Opens the run history ($WATTPROF_DB, else --db, else the default path) and hands it to
 * the session with the labels. A store that cannot be opened is a warning: the
 * measurement goes on unstored. Returns the store to close after the session, or NULL. */
static struct wattprof_store *open_store(const struct run_opts *o, struct wattprof_session *run)
{
    char path[4096];
    const char *env = getenv("WATTPROF_DB");
    int r = 0;
    if (env && *env)
        snprintf(path, sizeof(path), "%s", env);
    else if (o->db_path)
        snprintf(path, sizeof(path), "%s", o->db_path);
    else
        r = wattprof_store_default_path(path, sizeof(path));
    if (r < 0) {
        cli_error("warning: the run is not stored: no database path (%s); use --db PATH",
                  wattprof_strerror(r));
        return NULL;
    }
    struct wattprof_store *st = NULL;
    if (wattprof_store_open(path, &st) < 0 || wattprof_session_set_store(run, st) < 0) {
        cli_error("warning: the run is not stored: %s", wattprof_store_errmsg(st));
        wattprof_store_close(st);
        return NULL;
    }
    return st;
}

/* The --label options, split at the first '='. Returns 0 or -EINVAL (printed). */
static int add_labels(const struct run_opts *o, struct wattprof_ctx *ctx,
                      struct wattprof_session *run)
{
    for (size_t i = 0; i < o->n_labels; i++) {
        char key[80];
        const char *eq = strchr(o->labels[i], '=');
        snprintf(key, sizeof(key), "%.*s", (int)(eq - o->labels[i]), o->labels[i]);
        if (wattprof_session_add_label(run, key, eq + 1) < 0) {
            cli_error("%s", wattprof_ctx_errmsg(ctx));
            return -EINVAL;
        }
    }
    return 0;
}

/* Runs the command inside a started session; returns wattprof's exit status. */
static int measure(const struct run_opts *o, struct wattprof_session *run, int *started)
{
    int status = 0;
    pid_t pid = proc_spawn(o->command, 0);
    *started = pid > 0;
    if (pid < 0) {
        wattprof_session_stop(run);
        return exec_failure(o->command[0], (int)-pid);
    }
    child_pid = pid;
    wattprof_session_set_workload_pid(run, pid);
    if (interrupted && interrupted != SIGINT)
        kill(pid, interrupted); /* arrived between start and fork */
    int r = wait_command(pid, &status);
    wattprof_session_set_workload_cpu_ns(run, proc_children_cpu_ns());
    wattprof_session_stop(run);
    if (r < 0) {
        cli_error("cannot wait for '%s': %s", o->command[0], strerror(-r));
        wattprof_session_set_exit(run, EXIT_RUN_FAILED, 0);
        return EXIT_RUN_FAILED;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int complete = WIFEXITED(status) && !interrupted;
    wattprof_session_set_exit(run, code, complete);
    return code;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    memset(&o, 0, sizeof(o));
    int code = parse_args(&o, argc, argv);
    if (code >= 0)
        return code;
    code = run_defer(&o.defer); /* waits for a cleaner grid with --defer */
    if (code >= 0)
        return code;
    struct run_output out;
    if (run_output_prepare(&out, o.json_path) < 0)
        return EXIT_RUN_FAILED;
    struct wattprof_ctx *ctx = NULL;
    struct wattprof_session *run = NULL;
    struct wattprof_store *store = NULL;
    code = EXIT_RUN_FAILED;
    if (wattprof_ctx_new(&ctx) < 0) {
        cli_error("out of memory");
        goto done;
    }
    if (run_accounting_apply(ctx, &o.acc) != 0) {
        code = EXIT_USAGE;
        goto done;
    }
    install_forwarding();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (open_session(&o, ctx, &run) < 0) {
        if (interrupted)
            code = 128 + interrupted; /* Ctrl-C during the baseline: nothing was run */
        goto done;
    }
    if (add_labels(&o, ctx, run) < 0)
        goto done;
    if (!o.no_store)
        store = open_store(&o, run);
    int sr = wattprof_session_start(run);
    if (sr < 0) {
        cli_error("%s", wattprof_ctx_errmsg(ctx));
        if (sr == -EINVAL)
            code = EXIT_USAGE; /* a bad accounting setting: nothing was run */
        goto done;
    }
    const char *control;
    if (wattprof_session_control_start(run, &control) == 0)
        setenv("WATTPROF_CONTROL", control, 1);
    else
        cli_error("warning: no control socket for the command (%s); windows cannot be "
                  "reported",
                  wattprof_ctx_errmsg(ctx));
    int started = 0;
    code = measure(&o, run, &started);
    const struct wattprof_result *res = wattprof_session_result(run);
    if (res && started) {
        if (!o.quiet)
            run_output_summary(res, wattprof_session_id(run), o.command, o.command_argc);
        if (run_output_json(&out, run) < 0)
            code = EXIT_RUN_FAILED;
    }
done:
    run_output_release(&out);
    wattprof_session_free(run);
    wattprof_store_close(store);
    wattprof_ctx_free(ctx);
    return code;
}
