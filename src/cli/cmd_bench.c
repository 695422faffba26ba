/* wattprof bench: run a study described in YAML (docs/study.md): every variant of a
 * matrix, repeated in randomised blocks (or ABBA, or sequentially) until its confidence
 * interval is narrow enough, then compared with the baseline. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "study_run.h"
#include "wattprof.h"

struct bench_opts {
    const char *json_path;
    double noise, eta;
    unsigned long interval_ms;
    const char *db_path;
    int no_store, dry_run, quiet;
    unsigned long long seed;
    int seed_given;
    struct cli_sensor_opts sensor;
    const char *file;
};

static const char usage_text[] =
    "usage: wattprof bench [options] STUDY.yaml\n"
    "\n"
    "Runs the study STUDY.yaml describes (docs/study.md): every variant of its matrix,\n"
    "warm-up runs first, then repetitions in the study's order until the 95 % CI of the\n"
    "energy per unit is narrow enough; compares each variant with the baseline and\n"
    "recommends one. The table goes to stdout, progress to stderr.\n"
    "\n"
    "  -j, --json FILE          write the study as JSON (\"wattprof.study/1\"; '-': stdout)\n"
    "      --noise-threshold P  differences below P % are never called better or worse\n"
    "                           (default 2)\n"
    "      --eta W              weight of time against energy, 0 to 1: recommend the\n"
    "                           lowest (energy/unit)^(1-W) x (time/unit)^W (default 0)\n"
    "      --seed N             the seed of the random order (default: the file's, else\n"
    "                           random; always recorded)\n"
    "      --dry-run            print the plan and an estimate from earlier runs, and stop\n"
    "  -i, --interval MS        sampling interval in ms (default 100)\n"
    "      --db PATH            the run history database (as for 'wattprof run')\n"
    "      --no-store           do not record the runs\n" CLI_SENSOR_USAGE
    "  -q, --quiet              no progress lines\n"
    "  -h, --help               this text\n";

enum { OPT_NOISE = 256, OPT_ETA, OPT_SEED, OPT_DRY, OPT_DB, OPT_NO_STORE };

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "wattprof bench: %s '%s'\n%s", what, arg ? arg : "", usage_text);
    return EXIT_USAGE;
}

static int parse_one(struct bench_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'j':
        o->json_path = arg;
        return -1;
    case OPT_NOISE:
        if (cli_parse_double(arg, 0, 100, &o->noise) < 0)
            return usage_error("invalid --noise-threshold (give a percentage, 0 to 100)", arg);
        o->noise /= 100;
        return -1;
    case OPT_ETA:
        if (cli_parse_double(arg, 0, 1, &o->eta) < 0)
            return usage_error("invalid --eta (give a weight, 0 to 1)", arg);
        return -1;
    case OPT_SEED: {
        char *end;
        errno = 0;
        o->seed = strtoull(arg, &end, 10);
        if (*arg < '0' || *arg > '9' || *end || errno)
            return usage_error("invalid --seed (give a whole number)", arg);
        o->seed_given = 1;
        return -1;
    }
    case 'i':
        if (cli_parse_uint(arg, 1, 60000, &o->interval_ms) < 0)
            return usage_error("invalid --interval (give ms, 1 to 60000)", arg);
        return -1;
    case OPT_DRY:
        o->dry_run = 1;
        return -1;
    case OPT_DB:
        o->db_path = arg;
        return -1;
    case OPT_NO_STORE:
        o->no_store = 1;
        return -1;
    case 'q':
        o->quiet = 1;
        return -1;
    }
    return usage_error("unknown option", arg);
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(struct bench_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json", required_argument, NULL, 'j' },
        { "noise-threshold", required_argument, NULL, OPT_NOISE },
        { "eta", required_argument, NULL, OPT_ETA },
        { "seed", required_argument, NULL, OPT_SEED },
        { "dry-run", no_argument, NULL, OPT_DRY },
        { "interval", required_argument, NULL, 'i' },
        { "db", required_argument, NULL, OPT_DB },
        { "no-store", no_argument, NULL, OPT_NO_STORE },
        CLI_SENSOR_LONGOPTS,
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    o->noise = 0.02;
    o->interval_ms = 100;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":j:i:qh", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        }
        if (c == '?')
            return usage_error("unknown option", argv[optind - 1]);
        if (c == ':')
            return usage_error("missing value for option", argv[optind - 1]);
        if (cli_sensor_opt(&o->sensor, c, optarg))
            continue;
        int r = parse_one(o, c, optarg);
        if (r >= 0)
            return r;
    }
    if (optind + 1 != argc)
        return usage_error("give exactly one study file, e.g. wattprof bench study.yaml",
                           optind < argc ? argv[optind + 1] : "");
    o->file = argv[optind];
    return -1;
}

/* Every variant's command line splits: a bad one stops the study before any run. */
static int check_commands(const struct study *st, int print)
{
    char line[STUDY_COMMAND_SIZE];
    char *argv[STUDY_MAX_ARGS + 1], err[STUDY_ERR_SIZE], name[1024];
    for (size_t v = 0; v < study_variant_count(st); v++) {
        study_variant_name(st, v, name, sizeof(name));
        if (study_variant_argv(st, v, line, sizeof(line), argv, err, sizeof(err)) < 0) {
            cli_error("variant '%s': %s", name, err);
            return -1;
        }
        if (!print)
            continue;
        printf("  %-32s%s", name, v == study_baseline_index(st) ? " [baseline]:" : ":");
        for (size_t i = 0; argv[i]; i++)
            printf(" '%s'", argv[i]);
        putchar('\n');
    }
    return 0;
}

static void print_plan(const struct study *st, uint64_t seed)
{
    size_t n = study_variant_count(st);
    printf("study '%s': %zu variants, order %s, seed %llu\n", st->name, n,
           study_order_name(st->order), (unsigned long long)seed);
    printf("per variant: %u warm-up, %u to %u runs (stop when the 95 %% CI half-width of the "
           "energy per unit is <= %g %% of the mean)\n",
           st->warmup, st->rep_min, st->rep_max, 100 * st->target_ci);
    printf("runs: %zu to %zu; idle baseline %g s; cool-down %g s between runs; timeout %g s\n",
           n * (st->warmup + st->rep_min), n * (st->warmup + st->rep_max), st->idle_baseline_s,
           st->cooldown_s, st->timeout_s);
    check_commands(st, 1);
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
    if (s > 0)
        nanosleep(&ts, NULL);
}

/* Variant v has enough runs: max attempts, or min that count and a narrow CI. */
static int variant_done(const struct study_results *r, size_t v, double *tmp)
{
    const struct study *st = r->st;
    size_t attempts = 0;
    for (size_t i = 0; i < r->n_runs; i++)
        attempts += r->runs[i].variant == v && !r->runs[i].warmup;
    if (attempts >= st->rep_max)
        return 1;
    struct stats_summary s;
    stats_summarize(tmp, study_samples(r, v, SQ_EPU, tmp), &s);
    if (s.n < st->rep_min || st->target_ci <= 0 || isnan(s.ci_high))
        return 0;
    return (s.ci_high - s.ci_low) / 2 <= st->target_ci * fabs(s.mean);
}

static int bench_tty;        /* stderr is a terminal: one progress line rewritten with \r */
static double bench_start_s; /* when the runs began (CLOCK_MONOTONIC) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "variant k=v  run i/n  elapsed 12s  ETA 40s  energy so far 123 J", rewritten in place.
 * The ETA assumes every variant runs to max, at the mean time per run so far. */
static void progress_line(const struct study_results *r, size_t v, unsigned index, int warmup)
{
    char name[1024];
    double energy = 0, elapsed = now_s() - bench_start_s;
    for (size_t i = 0; i < r->n_runs; i++)
        energy += isnan(r->runs[i].energy_j) ? 0 : r->runs[i].energy_j;
    double eta = elapsed / (double)r->n_runs * (double)(r->cap - r->n_runs);
    study_variant_name(r->st, v, name, sizeof(name));
    fprintf(stderr, "\rvariant %s  %s %u/%u  elapsed %.0fs  ETA %.0fs  energy so far %.0f J\033[K",
            name, warmup ? "warm-up" : "run", index, warmup ? r->st->warmup : r->st->rep_max,
            elapsed, eta, energy);
    fflush(stderr);
}

/* One run, appended to r; the progress line on stderr. Returns 0 or -1. */
static int one_run(const struct study_runner *rn, struct study_results *r, size_t v, unsigned index,
                   int warmup, int quiet)
{
    struct study_run *run = &r->runs[r->n_runs];
    if (study_run_one(rn, r->st, v, index, warmup, run) < 0)
        return -1;
    r->n_runs++;
    if (!isnan(r->idle_power_w))
        run->dynamic_energy_j = fmax(0, run->energy_j - r->idle_power_w * run->duration_s);
    if (!quiet && bench_tty)
        progress_line(r, v, index, warmup);
    else if (!quiet) {
        char name[1024];
        study_variant_name(r->st, v, name, sizeof(name));
        fprintf(stderr, "wattprof: %s %s%u: %.3f s, %.3f J%s%s\n", name,
                warmup ? "warm-up " : "run ", index, run->duration_s, run->energy_j,
                run->excluded[0] ? ": excluded: " : "", run->excluded);
    }
    sleep_s(r->st->cooldown_s);
    return 0;
}

/* Warm-up runs, then blocks of the active variants until every one is done. */
static int run_study(const struct study_runner *rn, struct study_results *r, int quiet)
{
    const struct study *st = r->st;
    int active[STUDY_MAX_VARIANTS];
    size_t order[STUDY_MAX_VARIANTS];
    unsigned next[STUDY_MAX_VARIANTS];
    double *tmp = malloc((r->cap + 1) * sizeof(*tmp));
    uint64_t rng = r->seed;
    int rc = tmp ? 0 : -1;
    bench_tty = isatty(STDERR_FILENO);
    bench_start_s = now_s();
    for (size_t v = 0; v < r->n_variants; v++) {
        active[v] = 1;
        next[v] = 1;
        for (unsigned w = 1; rc == 0 && w <= st->warmup && !study_interrupted(); w++)
            rc = one_run(rn, r, v, w, 1, quiet);
    }
    for (size_t block = 0; rc == 0 && !study_interrupted(); block++) {
        size_t m = study_order_block(st->order, block, active, r->n_variants, &rng, order);
        if (m == 0)
            break;
        for (size_t i = 0; rc == 0 && i < m && !study_interrupted(); i++) {
            size_t v = order[i];
            rc = one_run(rn, r, v, next[v]++, 0, quiet);
            if (rc == 0 && variant_done(r, v, tmp))
                active[v] = 0;
        }
    }
    free(tmp);
    if (bench_tty && !quiet)
        fputc('\n', stderr);
    r->interrupted = study_interrupted();
    return rc;
}

/* The run history, as `wattprof run` finds it; NULL (with a warning) when it cannot. */
static struct wattprof_store *open_store(const struct bench_opts *o)
{
    char path[4096];
    const char *env = getenv("WATTPROF_DB");
    int r = 0;
    if (o->no_store)
        return NULL;
    if (env && *env)
        snprintf(path, sizeof(path), "%s", env);
    else if (o->db_path)
        snprintf(path, sizeof(path), "%s", o->db_path);
    else
        r = wattprof_store_default_path(path, sizeof(path));
    struct wattprof_store *st = NULL;
    if (r < 0 || wattprof_store_open(path, &st) < 0) {
        cli_error("warning: the runs are not stored: %s; use --db PATH",
                  st ? wattprof_store_errmsg(st) : wattprof_strerror(r));
        wattprof_store_close(st);
        return NULL;
    }
    return st;
}

static int open_sensors(const struct bench_opts *o, struct wattprof_ctx *ctx)
{
    if (cli_apply_sensor_opts(ctx, &o->sensor, "wattprof bench") < 0)
        return -1;
    int r = wattprof_ctx_open_sensors(ctx);
    if (r < 0)
        cli_error("%s",
                  wattprof_ctx_errmsg(ctx)[0] ? wattprof_ctx_errmsg(ctx) : wattprof_strerror(r));
    return r;
}

/* The study's JSON in memory (malloc'd), NULL when out of memory. */
static char *study_json_text(const struct study_results *r)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    if (!m)
        return NULL;
    study_print_json(m, r);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Stores the study (its JSON gains "id"); *json becomes the stored text. A failure is a
 * warning: the study is then written without an id. */
static void store_study(struct wattprof_store *store, const struct study_results *r,
                        uint64_t started_at_unix_ms, char **json, FILE *note)
{
    char id[16];
    char *stored = NULL;
    if (wattprof_store_save_study(store, r->st->name, started_at_unix_ms, *json, id) < 0 ||
        wattprof_store_study_json(store, id, &stored) < 0) {
        cli_error("warning: the study is not stored: %s", wattprof_store_errmsg(store));
        return;
    }
    free(*json);
    *json = stored;
    fprintf(note, "study %s stored\n", id);
    fprintf(note,
            "(its report: 'wattprof report %s -o report.html'; a decision summary: "
            "'wattprof report %s --format md')\n",
            id, id);
}

static int write_outputs(const struct bench_opts *o, const struct study_results *r,
                         struct wattprof_store *store, uint64_t started_at_unix_ms)
{
    int to_stdout = o->json_path && strcmp(o->json_path, "-") == 0;
    if (!to_stdout)
        study_print_text(stdout, r);
    char *json = study_json_text(r);
    if (!json) {
        cli_error("out of memory");
        return -1;
    }
    if (store)
        store_study(store, r, started_at_unix_ms, &json, to_stdout ? stderr : stdout);
    int rc = 0;
    FILE *f = !o->json_path ? NULL : to_stdout ? stdout : fopen(o->json_path, "we");
    if (o->json_path && !f) {
        cli_error("cannot write '%s': %s", o->json_path, strerror(errno));
        rc = -1;
    } else if (f) {
        fputs(json, f);
        if (!to_stdout && fclose(f) != 0) {
            cli_error("cannot write '%s': %s", o->json_path, strerror(errno));
            rc = -1;
        }
    }
    free(json);
    return rc;
}

static uint64_t now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Measures the study; returns the exit status. */
static int measure(const struct bench_opts *o, struct study_results *r)
{
    struct study_runner rn = { .interval_ms = (unsigned)o->interval_ms };
    int code = EXIT_FAILURE;
    if (wattprof_ctx_new(&rn.ctx) < 0) {
        cli_error("out of memory");
        return code;
    }
    if (open_sensors(o, rn.ctx) < 0)
        goto done;
    rn.store = open_store(o);
    uint64_t started_at_unix_ms = now_unix_ms();
    study_install_signals();
    r->idle_power_w = NAN;
    if (r->st->idle_baseline_s > 0) {
        if (!o->quiet)
            fprintf(stderr, "wattprof: measuring idle power for %g s (once per study)\n",
                    r->st->idle_baseline_s);
        r->idle_power_w = study_idle_power(&rn, r->st->idle_baseline_s);
    }
    if (run_study(&rn, r, o->quiet) < 0)
        goto done;
    study_analyze(r);
    code = write_outputs(o, r, rn.store, started_at_unix_ms) < 0 ? EXIT_FAILURE
           : r->interrupted                                      ? 130
                                                                 : 0;
done:
    wattprof_store_close(rn.store);
    wattprof_ctx_free(rn.ctx);
    return code;
}

int cmd_bench(int argc, char **argv)
{
    struct bench_opts o;
    memset(&o, 0, sizeof(o));
    int code = parse_args(&o, argc, argv);
    if (code >= 0)
        return code;
    struct study *st = calloc(1, sizeof(*st));
    struct study_results *r = calloc(1, sizeof(*r));
    char err[STUDY_ERR_SIZE];
    code = EXIT_USAGE;
    if (!st || !r) {
        cli_error("out of memory");
        code = EXIT_FAILURE;
    } else if (study_parse_file(o.file, st, err, sizeof(err)) < 0) {
        fprintf(stderr, "wattprof bench: %s\n", err);
    } else if (check_commands(st, 0) == 0) {
        r->st = st;
        r->noise = o.noise;
        r->eta = o.eta;
        r->seed = o.seed_given ? o.seed : st->seed;
        if (!o.seed_given && !st->seed_given &&
            getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed))
            r->seed = (uint64_t)time(NULL);
        r->n_variants = study_variant_count(st);
        r->baseline = study_baseline_index(st);
        r->cap = r->n_variants * (st->warmup + st->rep_max);
        r->runs = calloc(r->cap, sizeof(*r->runs));
        if (o.dry_run) {
            print_plan(st, r->seed);
            struct wattprof_store *store = open_store(&o);
            study_print_estimate(stdout, st, store);
            wattprof_store_close(store);
            code = cli_finish_stdout();
        } else {
            code = r->runs ? measure(&o, r) : EXIT_FAILURE;
        }
    }
    if (r)
        free(r->runs);
    free(r);
    free(st);
    return code == 0 ? cli_finish_stdout() : code;
}
