/* wattprof report: a stored run or study as a self-contained HTML page with charts, or
 * as a one-page Markdown summary for a decision (docs/report.md). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "history.h"
#include "report.h"
#include "run_output.h"
#include "wattprof.h"

static const char usage_text[] =
    "usage: wattprof report [options] RUN|STUDY\n"
    "\n"
    "Writes a report of a stored run or study (an id or a unique prefix of one): by\n"
    "default one self-contained HTML page with charts (no network needed to view it);\n"
    "with --format md a one-page Markdown summary for a decision.\n"
    "\n"
    "  -o, --output FILE        write to FILE, whole or not at all (default: stdout)\n"
    "  -f, --format FMT         html (default) or md\n"
    "      --tasks-per-year N   (md, a study) yearly saving of the recommended candidate\n"
    "                           against the baseline at N tasks a year\n"
    "      --investment AMOUNT  (md, with --tasks-per-year) what switching costs: payback\n"
    "      --other-savings AMOUNT (md, with --tasks-per-year) other yearly savings of the\n"
    "                           switch, in the runs' currency\n" HISTORY_DB_USAGE
    "  -h, --help               this text\n";

enum { OPT_TASKS = 500, OPT_INVESTMENT, OPT_OTHER };

struct report_args {
    const char *db, *output, *id;
    int markdown;
    struct report_options o;
};

static int parse_amount(const char *opt, const char *arg, double max, double *out)
{
    if (cli_parse_double(arg, 0, max, out) == 0)
        return 0;
    return history_usage_error("wattprof report", usage_text,
                               "%s wants a number from 0 to %g, not '%s'", opt, max, arg);
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct report_args *a)
{
    static const struct option longopts[] = {
        HISTORY_DB_LONGOPT,
        { "output", required_argument, NULL, 'o' },
        { "format", required_argument, NULL, 'f' },
        { "tasks-per-year", required_argument, NULL, OPT_TASKS },
        { "investment", required_argument, NULL, OPT_INVESTMENT },
        { "other-savings", required_argument, NULL, OPT_OTHER },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    a->o.tasks_per_year = a->o.investment = a->o.other_savings = NAN;
    int c, r;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:f:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return cli_finish_stdout();
        case HISTORY_OPT_DB:
            a->db = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "html") != 0 && strcmp(optarg, "md") != 0)
                return history_usage_error("wattprof report", usage_text,
                                           "unknown format '%s' (html or md)", optarg);
            a->markdown = optarg[0] == 'm';
            break;
        case OPT_TASKS:
            if ((r = parse_amount("--tasks-per-year", optarg, 1e15, &a->o.tasks_per_year)))
                return r;
            break;
        case OPT_INVESTMENT:
            if ((r = parse_amount("--investment", optarg, 1e15, &a->o.investment)))
                return r;
            break;
        case OPT_OTHER:
            if ((r = parse_amount("--other-savings", optarg, 1e15, &a->o.other_savings)))
                return r;
            break;
        default:
            return history_option_error("wattprof report", usage_text, c, argv);
        }
    }
    if (optind >= argc)
        return history_usage_error("wattprof report", usage_text, "missing run or study id");
    if (optind + 1 < argc)
        return history_usage_error("wattprof report", usage_text, "unexpected argument '%s'",
                                   argv[optind + 1]);
    a->id = argv[optind];
    int yearly = !isnan(a->o.tasks_per_year);
    if ((yearly || !isnan(a->o.investment) || !isnan(a->o.other_savings)) && !a->markdown)
        return history_usage_error("wattprof report", usage_text,
                                   "--tasks-per-year, --investment and --other-savings go with "
                                   "--format md");
    if (!yearly && (!isnan(a->o.investment) || !isnan(a->o.other_savings)))
        return history_usage_error("wattprof report", usage_text,
                                   "--investment and --other-savings need --tasks-per-year");
    return -1;
}

/* Chart points per channel: 16 channels stay under 0.5 MB of SVG, one gets 1500. */
static unsigned power_points(size_t n_channels)
{
    size_t p = 8000 / (n_channels ? n_channels : 1);
    return (unsigned)(p < 200 ? 200 : p > 1500 ? 1500 : p);
}

/* A JSON text from the store, parsed; NULL when it could not be read. */
static struct json_parse_node *parsed(int r, char *text)
{
    struct json_parse_node *root = NULL;
    struct json_parse_error err;
    if (r == 0 && json_parse(text, strlen(text), &root, &err) < 0)
        root = NULL;
    wattprof_free(text);
    return root;
}

static void run_report(FILE *f, struct wattprof_store *st, const struct stored_run *sr,
                       int markdown)
{
    char *text = NULL;
    int r = wattprof_store_labels_json(st, sr->id, &text);
    struct json_parse_node *labels = parsed(r, text), *power = NULL;
    if (markdown) {
        report_run_md(f, sr, labels);
    } else {
        r = wattprof_store_power_json(st, sr->id, power_points(sr->res.n_channels), &text);
        if (r < 0)
            cli_error("%s (the report has no power chart)", wattprof_store_errmsg(st));
        power = parsed(r, text);
        report_run_html(f, sr, labels, power);
    }
    json_parse_free(labels);
    json_parse_free(power);
}

/* The factors of the first stored run of the study (the runs of a study share them),
 * read as `show` reads a run (stored_run.c). Runs deleted since are skipped quietly. */
static void study_factors(struct wattprof_store *st, const struct json_parse_node *study,
                          struct report_factors *fac)
{
    memset(fac, 0, sizeof(*fac));
    fac->price_per_kwh = NAN;
    fac->intensity_g_per_kwh = NAN;
    fac->pue = 1;
    const struct json_parse_node *vs = json_parse_get(study, "variants");
    for (const struct json_parse_node *v = vs ? vs->child : NULL; v; v = v->next) {
        const struct json_parse_node *runs = json_parse_get(v, "runs");
        for (const struct json_parse_node *r = runs ? runs->child : NULL; r; r = r->next) {
            const char *id = json_parse_get_str(r, "id", "");
            char *text = NULL, msg[160];
            struct stored_run sr;
            if (!id[0] || wattprof_store_run_json(st, id, &text) < 0)
                continue;
            if (stored_run_parse(&sr, text, msg, sizeof(msg)) == 0) {
                const struct wattprof_accounting *a = &sr.res.accounting;
                if (a->computed) {
                    fac->price_per_kwh = a->price_per_kwh;
                    snprintf(fac->currency, sizeof(fac->currency), "%s",
                             a->currency ? a->currency : "");
                    fac->pue = isfinite(a->pue) ? a->pue : 1;
                    snprintf(fac->pue_source, sizeof(fac->pue_source), "%s",
                             a->pue_source ? a->pue_source : "?");
                    fac->intensity_g_per_kwh = a->intensity_g_per_kwh;
                    snprintf(fac->intensity_source, sizeof(fac->intensity_source), "%s",
                             a->intensity_source ? a->intensity_source : "?");
                }
                snprintf(fac->provenance, sizeof(fac->provenance), "%s",
                         sr.res.total_provenance ? sr.res.total_provenance : "");
                snprintf(fac->run_id, sizeof(fac->run_id), "%s", id);
            }
            stored_run_release(&sr);
            wattprof_free(text);
            if (fac->run_id[0])
                return;
        }
    }
}

static int study_report(FILE *f, struct wattprof_store *st, const char *text,
                        const struct report_args *a)
{
    struct json_parse_node *study = NULL;
    struct json_parse_error err;
    if (json_parse(text, strlen(text), &study, &err) < 0) {
        cli_error("the stored study '%s' is not valid JSON: %s at byte %zu", a->id, err.msg,
                  err.pos);
        return -1;
    }
    struct report_factors fac;
    study_factors(st, study, &fac);
    int r = 0;
    if (a->markdown && report_study_md(f, study, &fac, &a->o) < 0) {
        cli_error("study '%s' has no variants: nothing to summarise", a->id);
        r = -1;
    } else if (!a->markdown) {
        report_study_html(f, study, &fac);
    }
    json_parse_free(study);
    return r;
}

/* The id as a run or as a study; both matching is ambiguous. Prints why it failed. */
static int find(struct wattprof_store *st, const char *prefix, char run_id[16], char **study)
{
    *study = NULL;
    int rr = wattprof_store_resolve(st, prefix, run_id);
    char run_msg[1024];
    snprintf(run_msg, sizeof(run_msg), "%s", wattprof_store_errmsg(st));
    int rs = wattprof_store_study_json(st, prefix, study);
    /* one match in all: a run matching while the prefix is ambiguous among studies (or
     * the reverse) is no answer either */
    if ((rr == 0 && rs == 0) || (rr == 0 && rs == -EINVAL) || (rs == 0 && rr == -EINVAL)) {
        cli_error("'%s' matches %s: give more of the id", prefix,
                  rr == 0 && rs == 0 ? "a run and a study" : "several runs or studies");
        wattprof_free(*study);
        *study = NULL;
        return -1;
    }
    if (rr == 0 || rs == 0)
        return 0;
    if (rr == -EINVAL)
        cli_error("%s", run_msg);
    else if (rs == -EINVAL || rs == -EIO || rs == -ENOMEM)
        cli_error("%s", wattprof_store_errmsg(st));
    else if (rr != -ENOENT)
        cli_error("%s", run_msg);
    else if (strncmp(wattprof_store_errmsg(st), "no study ", 9) == 0)
        cli_error("no run or study %s ('wattprof list' shows the runs; 'wattprof bench' "
                  "prints a study's id)",
                  wattprof_store_errmsg(st) + 9);
    else
        cli_error("%s", wattprof_store_errmsg(st));
    return -1;
}

/* The report into memory, then into place: a failure leaves no partial file. */
static int render(struct wattprof_store *st, const struct report_args *a, struct run_output *out)
{
    char run_id[16], *study = NULL, *buf = NULL;
    size_t len = 0;
    if (find(st, a->id, run_id, &study) < 0)
        return -1;
    struct stored_run sr;
    if (!study && history_load(st, run_id, &sr, NULL) < 0)
        return -1;
    FILE *f = open_memstream(&buf, &len);
    int r = f ? 0 : -1;
    if (!f)
        cli_error("cannot write the report: %s", strerror(errno));
    else if (study)
        r = study_report(f, st, study, a);
    else
        run_report(f, st, &sr, a->markdown);
    if (f && (ferror(f) | fclose(f))) {
        cli_error("cannot write the report: out of memory");
        r = -1;
    }
    if (r == 0)
        r = run_output_write(out, buf, len);
    free(buf);
    if (study)
        wattprof_free(study);
    else
        stored_run_release(&sr);
    return r;
}

int cmd_report(int argc, char **argv)
{
    struct report_args a = { 0 };
    int code = parse_args(argc, argv, &a);
    if (code >= 0)
        return code;
    struct run_output out;
    if (run_output_prepare(&out, a.output ? a.output : "-") < 0)
        return 1;
    struct wattprof_store *st = NULL;
    code = 1;
    if (history_open(a.db, &st) == 0 && render(st, &a, &out) == 0)
        code = 0;
    run_output_release(&out);
    wattprof_store_close(st);
    return code;
}
