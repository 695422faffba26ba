/* The run store's costs (docs/performance.md): insert throughput of raw samples in
 * batched transactions, `wattprof_store_list` (limit 20) over 100 k stored runs, and the
 * database bytes per hour of a 16-channel run sampled at 10 Hz and flushed every 5 s.
 * usage: store_bench [DIR]   (default /tmp; the databases are removed afterwards) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_sqlite.h"

#define CHANNELS 16
#define BATCH 10000
#define BATCHES 200
#define RUNS 100000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct wattprof_store *open_or_die(const char *path)
{
    struct wattprof_store *st;
    unlink(path);
    if (wattprof_store_open(path, &st) < 0) {
        fprintf(stderr, "store_bench: %s\n", wattprof_store_errmsg(st));
        exit(1);
    }
    return st;
}

static void begin(struct wattprof_store *st, const char *id, uint64_t when_ms)
{
    struct store_run_start r = { .id = id,
                                 .started_at_unix_ms = when_ms,
                                 .command_json = "[\"./train\",\"--epochs\",\"3\"]",
                                 .command_text = "./train --epochs 3",
                                 .labels_text = "k=v",
                                 .host_json = "{}",
                                 .channels_json = "[]",
                                 .n_channels = CHANNELS,
                                 .hostname = "bench" };
    if (st->ops->run_begin(st, &r) < 0) {
        fprintf(stderr, "store_bench: %s\n", wattprof_store_errmsg(st));
        exit(1);
    }
}

/* Writes n samples of CHANNELS counters in batches of per_batch (one transaction each)
 * and one series bucket per bucket_every samples. */
static void write_samples(struct wattprof_store *st, const char *id, size_t n, size_t per_batch,
                          size_t bucket_every)
{
    uint64_t *v = calloc(per_batch * (1 + CHANNELS), sizeof(*v));
    size_t nb = per_batch / bucket_every;
    uint64_t *bucket = calloc((nb + 1) * (1 + CHANNELS), sizeof(*bucket));
    size_t done = 0;
    for (uint64_t seq = 0; done < n; seq++) {
        for (size_t k = 0; k < per_batch; k++)
            for (size_t c = 0; c <= CHANNELS; c++)
                v[k * (1 + CHANNELS) + c] = (done + k) * 100000000ull + c * 1234567;
        for (size_t k = 0; k < nb; k++)
            bucket[k * (1 + CHANNELS)] = done / bucket_every + k;
        struct store_batch b = { .id = id,
                                 .seq = seq,
                                 .samples = v,
                                 .n_samples = per_batch,
                                 .buckets = bucket,
                                 .n_buckets = nb,
                                 .n_channels = CHANNELS,
                                 .channel_energy_json = "[]" };
        if (st->ops->write_batch(st, &b) < 0) {
            fprintf(stderr, "store_bench: %s\n", wattprof_store_errmsg(st));
            exit(1);
        }
        done += per_batch;
    }
    free(bucket);
    free(v);
}

static long long db_bytes(struct wattprof_store *st)
{
    sqlite3_stmt *q;
    long long pages = 0, size = 0;
    sqlite3_exec(store_sqlite_db(st), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_prepare_v2(store_sqlite_db(st), "PRAGMA page_count", -1, &q, NULL);
    if (sqlite3_step(q) == SQLITE_ROW)
        pages = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_prepare_v2(store_sqlite_db(st), "PRAGMA page_size", -1, &q, NULL);
    if (sqlite3_step(q) == SQLITE_ROW)
        size = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return pages * size;
}

static void bench_insert(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/store_bench_insert.db", dir);
    struct wattprof_store *st = open_or_die(path);
    begin(st, "00000001", 1);
    double t0 = now_s();
    write_samples(st, "00000001", (size_t)BATCH * BATCHES, BATCH, BATCH);
    double dt = now_s() - t0;
    printf("insert: %d samples x %d channels in batches of %d: %.3f s, %.2f M samples/s\n",
           BATCH * BATCHES, CHANNELS, BATCH, dt, BATCH * BATCHES / dt / 1e6);
    wattprof_store_close(st);
    unlink(path);
}

static void bench_list(const char *dir)
{
    char path[512], id[16];
    snprintf(path, sizeof(path), "%s/store_bench_list.db", dir);
    struct wattprof_store *st = open_or_die(path);
    double t0 = now_s();
    store_sqlite_exec(st, "BEGIN IMMEDIATE"); /* the bulk path: one transaction */
    for (int i = 0; i < RUNS; i++) {
        snprintf(id, sizeof(id), "%08x", (unsigned)i * 2654435761u);
        begin(st, id, 1700000000000ull + (uint64_t)i * 1000);
    }
    store_sqlite_exec(st, "COMMIT");
    printf("bulk insert of %d runs: %.3f s\n", RUNS, now_s() - t0);
    struct wattprof_list_filter f = { .limit = 20 };
    struct wattprof_run_row *rows;
    size_t n = 0;
    int reps = 100;
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        wattprof_store_list(st, &f, &rows, &n);
        wattprof_free(rows);
    }
    printf("list limit 20 over %d runs: %.3f ms (%zu rows)\n", RUNS, (now_s() - t0) / reps * 1e3,
           n);
    wattprof_store_close(st);
    unlink(path);
}

/* One hour at 10 Hz, flushed every 5 s (50 samples), a series bucket per second. */
static void bench_bytes_per_hour(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/store_bench_hour.db", dir);
    struct wattprof_store *st = open_or_die(path);
    long long before = db_bytes(st);
    begin(st, "00000002", 1);
    write_samples(st, "00000002", 36000, 50, 10);
    long long after = db_bytes(st);
    printf("one hour, %d channels at 10 Hz: %.2f MB (%.1f bytes per sample)\n", CHANNELS,
           (double)(after - before) / 1e6, (double)(after - before) / 36000);
    wattprof_store_close(st);
    unlink(path);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    bench_insert(dir);
    bench_list(dir);
    bench_bytes_per_hour(dir);
    return 0;
}
