/* The cost of `wattprof report` (docs/performance.md): a stored run of 10 M samples across
 * 16 channels (10 Hz for 11.6 days: 1 M one-second series rows, the worst case for the
 * series path; and 1000 Hz for 2.8 h), plus 2 M samples read raw (the raw path at its
 * limit). For each: the time of wattprof_store_power_json alone, and the wall time and
 * output size of the whole `wattprof report RUN -o FILE` (median of 3).
 * usage: report_bench WATTPROF_BINARY [DIR [--keep]]   (default /tmp; files removed
 * afterwards, except with --keep the reports, DIR/report_bench_N.html, to look at) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_sqlite.h"

#define CHANNELS 16
#define BATCH 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(struct wattprof_store *st)
{
    fprintf(stderr, "report_bench: %s\n", wattprof_store_errmsg(st));
    exit(1);
}

/* The run's JSON (wattprof.run/1) with 16 channels and 100 windows. */
static char *run_json(const char *id, double duration_s, const double *energy_j)
{
    size_t cap = 1 << 20, len = 0;
    char *j = malloc(cap);
    double total = 0;
    for (int c = 0; c < CHANNELS; c++)
        total += energy_j[c];
    len += (size_t)snprintf(j + len, cap - len,
                            "{\"schema\":\"wattprof.run/1\",\"id\":\"%s\",\"command\":[\"train\"],"
                            "\"exit_code\":0,\"complete\":true,"
                            "\"started_at\":\"2026-11-01T00:00:00.000Z\",\"duration_s\":%.6f,"
                            "\"energy_j\":%.6f,\"energy_provenance\":\"measured\","
                            "\"attributed_energy_j\":%.6f,\"units\":0,\"unit_name\":\"units\","
                            "\"channels\":[",
                            id, duration_s, total, total);
    for (int c = 0; c < CHANNELS; c++)
        len +=
            (size_t)snprintf(j + len, cap - len,
                             "%s{\"name\":\"gpu:%d\",\"kind\":\"counter\",\"domain\":\"gpu\","
                             "\"source\":\"bench\",\"provenance\":\"%s\",\"how\":\"bench\","
                             "\"energy_j\":%.6f,\"avg_power_w\":%.6f,\"peak_power_w\":%.6f,"
                             "\"included_in_total\":true,\"node_scope\":false,\"status\":\"ok\"}",
                             c ? "," : "", c, c < 12 ? "measured" : "estimated", energy_j[c],
                             energy_j[c] / duration_s, 2 * energy_j[c] / duration_s);
    len += (size_t)snprintf(j + len, cap - len, "],\"metrics\":{},\"windows\":[");
    for (int w = 0; w < 100; w++) {
        len += (size_t)snprintf(j + len, cap - len,
                                "%s{\"id\":%d,\"name\":\"epoch\",\"start_s\":%.3f,\"end_s\":%.3f,"
                                "\"energy_j\":%.3f,\"attributed_energy_j\":%.3f,\"complete\":true,"
                                "\"channels\":[",
                                w ? "," : "", w + 1, duration_s * w / 100,
                                duration_s * (w + 1) / 100, total / 100, total / 100);
        for (int c = 0; c < CHANNELS; c++)
            len += (size_t)snprintf(j + len, cap - len, "%s{\"name\":\"gpu:%d\",\"energy_j\":%.3f}",
                                    c ? "," : "", c, energy_j[c] / 100);
        len += (size_t)snprintf(j + len, cap - len, "]}");
    }
    snprintf(j + len, cap - len, "],\"warnings\":[]}");
    return j;
}

/* A run of n samples every interval_ns: power waves with a spike now and then, so the
 * chart is not flat; a series row per second. */
static void make_run(struct wattprof_store *st, const char *id, uint64_t n, uint64_t interval_ns)
{
    char channels[4096];
    size_t len = 0;
    for (int c = 0; c < CHANNELS; c++)
        len += (size_t)snprintf(channels + len, sizeof(channels) - len, "%s{\"name\":\"gpu:%d\"}",
                                c ? "," : "[", c);
    snprintf(channels + len, sizeof(channels) - len, "]");
    struct store_run_start r = { .id = id,
                                 .started_at_unix_ms = 1793491200000ull,
                                 .command_json = "[\"train\"]",
                                 .command_text = "train",
                                 .labels_text = "",
                                 .host_json = "{}",
                                 .channels_json = channels,
                                 .n_channels = CHANNELS,
                                 .interval_ns = interval_ns,
                                 .hostname = "bench" };
    if (st->ops->run_begin(st, &r) < 0)
        die(st);
    size_t per_s = (size_t)(1000000000ull / interval_ns), w = 1 + CHANNELS;
    uint64_t *v = calloc((size_t)BATCH * w, sizeof(*v));
    uint64_t *bucket = calloc((BATCH / per_s + 2) * w, sizeof(*bucket));
    uint64_t e[CHANNELS] = { 0 }, last_bucket_e[CHANNELS] = { 0 };
    for (uint64_t seq = 0, done = 0; done < n; seq++) {
        size_t nb = 0;
        for (size_t k = 0; k < BATCH; k++) {
            uint64_t i = done + k, t = i * interval_ns;
            v[k * w] = t;
            for (int c = 0; c < CHANNELS; c++) {
                double p = 100 + 20 * c + 50 * sin((double)t / 3.6e12 + c) +
                           (i % 9973 == 0 ? 300 : 0);               /* W */
                e[c] += (uint64_t)(p * (double)interval_ns / 1000); /* µJ */
                v[k * w + 1 + c] = e[c];
            }
            if ((i + 1) % per_s == 0) {
                bucket[nb * w] = i / per_s;
                for (int c = 0; c < CHANNELS; c++) {
                    bucket[nb * w + 1 + c] = e[c] - last_bucket_e[c]; /* µJ in 1 s = µW */
                    last_bucket_e[c] = e[c];
                }
                nb++;
            }
        }
        done += BATCH;
        struct store_batch b = { .id = id,
                                 .seq = seq,
                                 .samples = v,
                                 .n_samples = BATCH,
                                 .buckets = bucket,
                                 .n_buckets = nb,
                                 .n_channels = CHANNELS,
                                 .duration_ns = done * interval_ns,
                                 .channel_energy_json = "[]" };
        if (st->ops->write_batch(st, &b) < 0)
            die(st);
    }
    double energy[CHANNELS];
    for (int c = 0; c < CHANNELS; c++)
        energy[c] = (double)e[c] / 1e6;
    char *json = run_json(id, (double)(n * interval_ns) / 1e9, energy);
    struct store_run_end end = { .id = id,
                                 .duration_ns = n * interval_ns,
                                 .energy_provenance = "measured",
                                 .complete = 1,
                                 .unit_name = "units",
                                 .co2e_g = NAN,
                                 .json = json };
    if (st->ops->run_end(st, &end) < 0)
        die(st);
    free(json);
    free(bucket);
    free(v);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(const char *wattprof, const char *db, const char *out, const char *id,
                    const char *what, int keep)
{
    struct wattprof_store *st;
    if (wattprof_store_open(db, &st) < 0)
        die(st);
    double t[3], p[3];
    char *json = NULL;
    for (int i = 0; i < 3; i++) {
        double t0 = now_s();
        if (wattprof_store_power_json(st, id, 500, &json) < 0)
            die(st);
        p[i] = now_s() - t0;
        wattprof_free(json);
        t0 = now_s();
        pid_t pid = fork();
        if (pid == 0) {
            setenv("WATTPROF_DB", db, 1);
            execl(wattprof, wattprof, "report", id, "-o", out, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        t[i] = now_s() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "report_bench: wattprof report failed\n");
            exit(1);
        }
    }
    struct stat sb;
    stat(out, &sb);
    qsort(t, 3, sizeof(double), cmp_double);
    qsort(p, 3, sizeof(double), cmp_double);
    printf("%s: power_json %.3f s, wattprof report %.3f s (median of 3), %.0f KB of HTML\n", what,
           p[1], t[1], (double)sb.st_size / 1024);
    if (!keep)
        unlink(out);
    wattprof_store_close(st);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: report_bench WATTPROF_BINARY [DIR]\n");
        return 2;
    }
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    static const struct {
        const char *id, *what;
        uint64_t n, interval_ns;
    } cases[] = {
        { "b0000010", "10 M samples x 16 channels at 10 Hz (11.6 days, 1 M series rows)", 10000000,
          100000000 },
        { "b0000100", "10 M samples x 16 channels at 1000 Hz (2.8 h, raw samples > 2 M)", 10000000,
          1000000 },
        { "b0000002", "2 M samples x 16 channels at 1000 Hz (33 min, read raw)", 2000000, 1000000 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char db[512], out[512];
        snprintf(db, sizeof(db), "%s/report_bench_%zu.db", dir, i);
        snprintf(out, sizeof(out), "%s/report_bench_%zu.html", dir, i);
        unlink(db);
        struct wattprof_store *st;
        if (wattprof_store_open(db, &st) < 0)
            die(st);
        double t0 = now_s();
        make_run(st, cases[i].id, cases[i].n, cases[i].interval_ns);
        wattprof_store_close(st);
        fprintf(stderr, "(built %s in %.1f s)\n", db, now_s() - t0);
        measure(argv[1], db, out, cases[i].id, cases[i].what,
                argc > 3 && strcmp(argv[3], "--keep") == 0);
        unlink(db);
        char wal[600];
        snprintf(wal, sizeof(wal), "%s-wal", db);
        unlink(wal);
        snprintf(wal, sizeof(wal), "%s-shm", db);
        unlink(wal);
    }
    return 0;
}
