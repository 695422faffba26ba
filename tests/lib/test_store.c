/* Tests for the run store: a session on the model backend (windows, metrics, labels,
 * units) stored and read back byte for byte, the list row of every field, samples written
 * while the run goes on, an incomplete run, id prefixes, delete and gc, the migration
 * from the pre-release schema 0, and files that must be refused and left unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sampler.h"
#include "store.h"
#include "wattprof.h"

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/wattprof-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    /* an explicit path must exist up to its directory (only the default location is
     * created), so the test makes it */
    char sub[96];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof(sub), "%s/sub/dir", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(db_path, sizeof(db_path), "%s/sub/dir/runs.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static struct wattprof_store *open_ok(void)
{
    struct wattprof_store *st = NULL;
    int r = wattprof_store_open(db_path, &st);
    if (r != 0)
        fail_msg("open: %s", wattprof_store_errmsg(st));
    return st;
}

/* A complete run with windows, metrics, labels and units, recorded in st. */
static void record_run(struct wattprof_store *st, struct wattprof_ctx *ctx,
                       struct wattprof_session **out)
{
    struct wattprof_session *s;
    char *argv[] = { "train", "--epochs", "2" };
    uint64_t w;
    assert_int_equal(wattprof_session_new(ctx, &s), 0);
    assert_int_equal(wattprof_session_set_interval_ms(s, 10), 0);
    assert_int_equal(wattprof_session_set_store(s, st), 0);
    assert_int_equal(wattprof_session_add_label(s, "model", "mlp"), 0);
    assert_int_equal(wattprof_session_add_label(s, "git.sha", "abc123"), 0);
    assert_int_equal(wattprof_session_add_label(s, "bad key", "x"), -EINVAL);
    assert_int_equal(wattprof_session_set_command(s, 3, argv), 0);
    assert_null(wattprof_session_id(s));
    assert_int_equal(wattprof_session_start(s), 0);
    assert_non_null(wattprof_session_id(s));
    assert_int_equal(wattprof_session_window_begin(s, "epoch", &w), 0);
    sleep_ms(150);
    assert_int_equal(wattprof_session_window_end(s, w), 0);
    assert_int_equal(wattprof_session_window_units(s, w, 512, "samples"), 0);
    assert_int_equal(wattprof_session_metric(s, w, "accuracy", 0.75), 0);
    assert_int_equal(wattprof_session_metric(s, 0, "loss", 0.125), 0);
    sleep_ms(1100); /* two 1 s buckets in the series */
    assert_int_equal(wattprof_session_stop(s), 0);
    assert_int_equal(wattprof_session_set_exit(s, 3, 1), 0);
    assert_int_equal(wattprof_session_set_units(s, 1000, "images"), 0);
    *out = s;
}

static void test_store_round_trip(void **state)
{
    struct wattprof_ctx *ctx;
    struct wattprof_session *s;
    assert_int_equal(wattprof_ctx_new(&ctx), 0);
    assert_int_equal(wattprof_ctx_set_backends(ctx, "model"), 0);
    assert_int_equal(wattprof_ctx_open_sensors(ctx), 0);
    struct wattprof_store *st = open_ok();
    assert_int_equal(wattprof_store_set_flush_ms(st, 50), 0);
    record_run(st, ctx, &s);
    const struct wattprof_result *res = wattprof_session_result(s);
    char *mine = NULL, *stored = NULL, id[16];
    assert_int_equal(wattprof_session_json(s, &mine), 0);
    snprintf(id, sizeof(id), "%s", wattprof_session_id(s));
    assert_int_equal(wattprof_store_run_json(st, id, &stored), 0);
    assert_string_equal(stored, mine); /* every field, byte for byte */
    char want[64];
    snprintf(want, sizeof(want), "\"schema\": \"wattprof.run/1\",\n  \"id\": \"%s\",", id);
    assert_non_null(strstr(stored, want));
    assert_non_null(strstr(stored, "\"name\": \"epoch\""));
    assert_non_null(strstr(stored, "\"accuracy\": 0.75"));
    assert_non_null(strstr(stored, "\"unit_name\": \"images\""));

    struct wattprof_run_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(wattprof_store_list(st, NULL, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, id);
    assert_string_equal(rows[0].command, "train --epochs 2");
    assert_string_equal(rows[0].labels, "model=mlp,git.sha=abc123");
    char *labels = NULL;
    assert_int_equal(wattprof_store_labels_json(st, id, &labels), 0);
    assert_string_equal(labels, "{\"git.sha\":\"abc123\",\"model\":\"mlp\"}"); /* by key */
    wattprof_free(labels);
    assert_int_equal(wattprof_store_labels_json(st, "0000ffff", &labels), -ENOENT);
    assert_string_equal(rows[0].unit_name, "images");
    assert_true(rows[0].units == 1000);
    assert_int_equal(rows[0].exit_code, 3);
    assert_int_equal(rows[0].complete, 1);
    assert_int_equal(rows[0].energy_uj, res->energy_uj);
    assert_int_equal(rows[0].duration_ns, res->duration_ns);
    assert_int_equal(rows[0].started_at_unix_ms, res->started_at_unix_ms);
    assert_string_equal(rows[0].energy_provenance, res->total_provenance);
    wattprof_free(rows);

    struct wattprof_list_filter f = { .label = "model=mlp" };
    assert_int_equal(wattprof_store_list(st, &f, &rows, &n), 0);
    assert_int_equal(n, 1);
    wattprof_free(rows);
    f.label = "model=cnn";
    assert_int_equal(wattprof_store_list(st, &f, &rows, &n), 0);
    assert_int_equal(n, 0);

    char *series = NULL;
    assert_int_equal(wattprof_store_series_json(st, id, &series), 0);
    assert_non_null(strstr(series, "\"cpu:estimated\""));
    assert_non_null(strstr(series, "\"t_s\": [\n    0,\n    1"));
    wattprof_free(series);
    wattprof_free(mine);
    wattprof_free(stored);
    wattprof_session_free(s);
    wattprof_store_close(st);
    wattprof_ctx_free(ctx);
}

/* Samples are written while the run goes on: the raw batches cover the run. */
static void test_store_samples_flushed(void **state)
{
    struct wattprof_ctx *ctx;
    struct wattprof_session *s;
    assert_int_equal(wattprof_ctx_new(&ctx), 0);
    assert_int_equal(wattprof_ctx_set_backends(ctx, "model"), 0);
    assert_int_equal(wattprof_ctx_open_sensors(ctx), 0);
    struct wattprof_store *st = open_ok();
    assert_int_equal(wattprof_store_set_flush_ms(st, 50), 0);
    assert_int_equal(wattprof_session_new(ctx, &s), 0);
    assert_int_equal(wattprof_session_set_interval_ms(s, 10), 0);
    assert_int_equal(wattprof_session_set_store(s, st), 0);
    assert_int_equal(wattprof_session_start(s), 0);
    sleep_ms(300);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*), sum(n_samples) FROM samples", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_true(sqlite3_column_int(q, 0) >= 2); /* several flushes while running */
    assert_true(sqlite3_column_int(q, 1) >= 3); /* the model ticks every 100 ms */
    sqlite3_finalize(q);
    char *json = NULL;
    assert_int_equal(wattprof_store_run_json(st, wattprof_session_id(s), &json), 0);
    assert_non_null(strstr(json, "\"complete\":false")); /* still running */
    wattprof_free(json);
    assert_int_equal(wattprof_session_stop(s), 0);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sum(n_samples) FROM samples", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(wattprof_session_json(s, &json), 0);
    const char *p = strstr(json, "\"samples\": ");
    assert_non_null(p);
    /* every sample the sampler took is stored, none dropped */
    assert_int_equal(sqlite3_column_int64(q, 0), strtoll(p + 11, NULL, 10));
    wattprof_free(json);
    sqlite3_finalize(q);
    sqlite3_close(db);
    wattprof_session_free(s);
    wattprof_store_close(st);
    wattprof_ctx_free(ctx);
}

/* Inserts a started run with a given id through the backend (as the bench does). */
static void begin_run(struct wattprof_store *st, const char *id, uint64_t when_ms)
{
    struct store_run_start r = { .id = id,
                                 .started_at_unix_ms = when_ms,
                                 .command_json = "[\"x\"]",
                                 .command_text = "x",
                                 .labels_text = "",
                                 .host_json = "{}",
                                 .channels_json = "[{\"name\":\"a\"}]",
                                 .n_channels = 1,
                                 .hostname = "h" };
    assert_int_equal(st->ops->run_begin(st, &r), 0);
}

static void test_store_prefixes(void **state)
{
    struct wattprof_store *st = open_ok();
    char id[16];
    begin_run(st, "abc00001", 1000);
    begin_run(st, "abc00002", 2000);
    begin_run(st, "def00000", 3000);
    assert_int_equal(wattprof_store_resolve(st, "d", id), 0);
    assert_string_equal(id, "def00000");
    assert_int_equal(wattprof_store_resolve(st, "abc00002", id), 0);
    assert_string_equal(id, "abc00002");
    assert_int_equal(wattprof_store_resolve(st, "abc", id), -EINVAL);
    assert_non_null(strstr(wattprof_store_errmsg(st), "abc00001 abc00002"));
    assert_int_equal(wattprof_store_resolve(st, "0", id), -ENOENT);
    assert_int_equal(wattprof_store_resolve(st, "xyz", id), -ENOENT);
    assert_int_equal(wattprof_store_resolve(st, "", id), -ENOENT);
    struct store_run_start dup = { .id = "def00000",
                                   .command_json = "[]",
                                   .command_text = "",
                                   .labels_text = "",
                                   .host_json = "{}",
                                   .channels_json = "[]",
                                   .hostname = "" };
    assert_int_equal(st->ops->run_begin(st, &dup), -EEXIST); /* the caller draws again */
    struct wattprof_run_row *rows;
    size_t n;
    struct wattprof_list_filter f = { .limit = 2 };
    assert_int_equal(wattprof_store_list(st, &f, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "def00000"); /* newest first */
    assert_int_equal(rows[0].complete, 0);
    assert_int_equal(rows[0].exit_code, -1);
    wattprof_free(rows);
    wattprof_store_close(st);
}

/* A run whose process died: what the last flush saved, marked incomplete. */
static void test_store_incomplete_delete_gc(void **state)
{
    struct wattprof_store *st = open_ok();
    begin_run(st, "0123abcd", 1000);
    uint64_t samples[] = { 0, 0, 500000000, 2000000, 1000000000, 4000000 };
    uint64_t buckets[] = { 0, 4000000 };
    struct store_batch b = { .id = "0123abcd",
                             .samples = samples,
                             .n_samples = 3,
                             .buckets = buckets,
                             .n_buckets = 1,
                             .n_channels = 1,
                             .duration_ns = 1000000000,
                             .energy_uj = 4000000,
                             .channel_energy_json = "[4.000000]" };
    assert_int_equal(st->ops->write_batch(st, &b), 0);
    char *json;
    assert_int_equal(wattprof_store_run_json(st, "0123abcd", &json), 0);
    assert_non_null(strstr(json, "\"complete\":false"));
    assert_non_null(strstr(json, "\"energy_j\":4.0"));
    assert_non_null(strstr(json, "\"channels\":[{\"name\":\"a\",\"energy_j\":4.0}]"));
    wattprof_free(json);
    uint64_t pruned = 0;
    assert_int_equal(wattprof_store_gc(st, 30, &pruned), 0);
    assert_int_equal(pruned, 1); /* started in 1970 */
    assert_int_equal(wattprof_store_gc(st, 30, &pruned), 0);
    assert_int_equal(pruned, 0);
    assert_int_equal(wattprof_store_series_json(st, "0123abcd", &json), 0);
    assert_non_null(strstr(json, "4.000000")); /* the series stays */
    wattprof_free(json);
    assert_int_equal(wattprof_store_delete(st, "0123abcd"), 0);
    assert_int_equal(wattprof_store_delete(st, "0123abcd"), -ENOENT);
    assert_int_equal(wattprof_store_run_json(st, "0123abcd", &json), -ENOENT);
    wattprof_store_close(st);
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s", err);
    sqlite3_close(db);
}

/* Schema 0, the pre-release layout: one JSON text per run. */
static void test_store_migrates_v0(void **state)
{
    snprintf(db_path, sizeof(db_path), "%s/old.db", dir);
    exec_sql(db_path, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "INSERT INTO meta VALUES('schema_version', '0');"
                      "CREATE TABLE run_json(id TEXT PRIMARY KEY,"
                      " started_at_unix_ms INTEGER NOT NULL, json TEXT NOT NULL);"
                      "INSERT INTO run_json VALUES('a1b2c3d4', 1700000000000, '{\n"
                      "  \"schema\": \"wattprof.run/1\",\n  \"command\": [\"make\", \"-j8\"],\n"
                      "  \"exit_code\": 2,\n  \"complete\": true,\n  \"duration_s\": 1.5,\n"
                      "  \"energy_j\": 12.25,\n  \"energy_provenance\": \"measured\",\n"
                      "  \"units\": 4,\n  \"unit_name\": \"files\",\n"
                      "  \"host\": {\"hostname\": \"n1\"}\n}');");
    struct wattprof_store *st = open_ok();
    struct wattprof_run_row *rows;
    size_t n;
    assert_int_equal(wattprof_store_list(st, NULL, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, "a1b2c3d4");
    assert_string_equal(rows[0].command, "make -j8");
    assert_int_equal(rows[0].exit_code, 2);
    assert_int_equal(rows[0].complete, 1);
    assert_int_equal(rows[0].energy_uj, 12250000);
    assert_int_equal(rows[0].duration_ns, 1500000000);
    assert_string_equal(rows[0].energy_provenance, "measured");
    assert_string_equal(rows[0].unit_name, "files");
    assert_true(isnan(rows[0].co2e_g)); /* no accounting then: unknown, not 0 */
    wattprof_free(rows);
    char *json;
    assert_int_equal(wattprof_store_run_json(st, "a1b2c3d4", &json), 0);
    assert_non_null(strstr(json, "\"schema\": \"wattprof.run/1\",\n  \"id\": \"a1b2c3d4\","));
    wattprof_free(json);
    wattprof_store_close(st);
    st = open_ok(); /* already current: opens as is */
    wattprof_store_close(st);
}

/* Schema 1 -> 2: the co2e_g column, filled from each stored JSON's accounting. */
static void test_store_migrates_v1(void **state)
{
    struct wattprof_store *st = open_ok();
    wattprof_store_close(st);
    exec_sql(db_path, "DROP TABLE studies;"
                      "ALTER TABLE runs DROP COLUMN co2e_g;"
                      "UPDATE meta SET value = '1' WHERE key = 'schema_version';"
                      "INSERT INTO runs(id, started_at_unix_ms, complete, json) VALUES"
                      " ('00000001', 1700000000000, 1, '{\"accounting\": {\"total_g\": 12.5}}'),"
                      " ('00000002', 1700000001000, 1, '{\"accounting\": null}');");
    st = open_ok();
    struct wattprof_run_row *rows;
    size_t n;
    assert_int_equal(wattprof_store_list(st, NULL, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "00000002");
    assert_true(isnan(rows[0].co2e_g));
    assert_string_equal(rows[1].id, "00000001");
    assert_true(rows[1].co2e_g == 12.5);
    wattprof_free(rows);
    wattprof_store_close(st);
}

/* Schema 2 -> 3: the studies table; a study saved gains "id" after "schema" and is found
 * again by its id or a prefix. */
static void test_store_studies(void **state)
{
    (void)state;
    struct wattprof_store *st = open_ok();
    wattprof_store_close(st);
    exec_sql(db_path, "DROP TABLE studies;"
                      "UPDATE meta SET value = '2' WHERE key = 'schema_version';");
    st = open_ok();
    char id[16], id2[16];
    const char *in = "{\n  \"schema\": \"wattprof.study/1\",\n  \"name\": \"s\"\n}\n";
    assert_int_equal(wattprof_store_save_study(st, "s", 1700000000000, in, id), 0);
    assert_int_equal(strlen(id), 8);
    char *json = NULL;
    assert_int_equal(wattprof_store_study_json(st, id, &json), 0);
    char want[128];
    snprintf(want, sizeof(want),
             "{\n  \"schema\": \"wattprof.study/1\",\n  \"id\": \"%s\",\n  \"name\": \"s\"\n}\n",
             id);
    assert_string_equal(json, want);
    wattprof_free(json);
    assert_int_equal(wattprof_store_study_json(st, (char[]){ id[0], '\0' }, &json), 0);
    wattprof_free(json);
    assert_int_equal(wattprof_store_save_study(st, "t", 1700000001000, "{}", id2), 0);
    assert_int_equal(wattprof_store_study_json(st, id2, &json), 0);
    snprintf(want, sizeof(want), "{\"id\": \"%s\"}", id2);
    assert_string_equal(json, want);
    wattprof_free(json);
    assert_int_equal(wattprof_store_study_json(st, "", &json), -ENOENT);
    assert_int_equal(wattprof_store_study_json(st, "zz", &json), -ENOENT);
    assert_null(json);
    wattprof_store_close(st);
    /* an ambiguous prefix lists the candidates */
    exec_sql(db_path, "INSERT INTO studies VALUES('abc00001', 'a', 1, '{}'),"
                      " ('abc00002', 'b', 2, '{}');");
    st = open_ok();
    assert_int_equal(wattprof_store_study_json(st, "abc", &json), -EINVAL);
    assert_non_null(strstr(wattprof_store_errmsg(st), "abc00001 abc00002"));
    assert_int_equal(wattprof_store_study_json(st, "abc0000f", &json), -ENOENT);
    assert_int_equal(wattprof_store_study_json(st, "abc00002", &json), 0);
    assert_string_equal(json, "{}");
    wattprof_free(json);
    wattprof_store_close(st);
}

static void test_store_refuses_newer(void **state)
{
    struct wattprof_store *st = open_ok();
    wattprof_store_close(st);
    exec_sql(db_path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    assert_int_equal(wattprof_store_open(db_path, &st), -EINVAL);
    char want[512];
    snprintf(want, sizeof(want),
             "'%s' was written by a newer wattprof (schema 99; this one knows up to 3)", db_path);
    assert_string_equal(wattprof_store_errmsg(st), want);
    wattprof_store_close(st);
}

static void test_store_bad_files(void **state)
{
    struct wattprof_store *st = NULL;
    assert_int_equal(wattprof_store_open(dir, &st), -EINVAL);
    assert_non_null(strstr(wattprof_store_errmsg(st), "Is a directory"));
    assert_non_null(strstr(wattprof_store_errmsg(st), dir));
    wattprof_store_close(st);

    char path[128], garbage[4096];
    snprintf(path, sizeof(path), "%s/garbage.db", dir);
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)(i * 7 + 3);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(garbage, 1, sizeof(garbage), f), sizeof(garbage));
    fclose(f);
    assert_int_equal(wattprof_store_open(path, &st), -EINVAL);
    assert_non_null(strstr(wattprof_store_errmsg(st), path));
    wattprof_store_close(st);
    char back[sizeof(garbage) + 1];
    f = fopen(path, "r");
    assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(garbage));
    fclose(f);
    assert_memory_equal(back, garbage, sizeof(garbage)); /* left unchanged */
}

/* The sampler's ring: full, it drops the oldest slots and counts them. */
static void test_sampler_ring_overflow(void **state)
{
    struct sampler *sp = calloc(1, sizeof(*sp));
    assert_non_null(sp);
    assert_int_equal(sampler_init(sp, NULL, 0, 1000000), 0);
    assert_int_equal(sampler_ring_init(sp, 4), 0);
    uint64_t out[8], dropped = 0;
    for (int i = 0; i < 6; i++)
        sampler_sample(sp, 1);
    assert_int_equal(sampler_drain(sp, out, 8, &dropped), 4);
    assert_int_equal(dropped, 2);
    for (int i = 1; i < 4; i++)
        assert_true(out[i] >= out[i - 1]);
    sampler_sample(sp, 1);
    assert_int_equal(sampler_drain(sp, out, 8, &dropped), 1);
    assert_int_equal(dropped, 0);
    assert_true(out[0] >= sp->start_t_ns);
    sampler_release(sp);
    free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_samples_flushed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_incomplete_delete_gc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_migrates_v0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_migrates_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_studies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_bad_files, setup, teardown),
        cmocka_unit_test(test_sampler_ring_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
