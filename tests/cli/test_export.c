/* The formats of `wattprof export` and the stored-run reader, on the hand-written run
 * JSONs in tests/fixtures/runs/ (no store needed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "export_fmt.h"
#include "stored_run.h"

static const char *const fixture_names[] = { "measured_rapl", "estimated_model", "windows_gpu" };
#define N_FIXTURES 3

struct fixture {
    char *text[N_FIXTURES];
    struct stored_run runs[N_FIXTURES];
};

static char *read_fixture(const char *name)
{
    const char *dir = getenv("WATTPROF_FIXTURES");
    char path[4096];
    snprintf(path, sizeof(path), "%s/runs/%s.json", dir ? dir : "tests/fixtures", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open '%s'", path);
    char *text = calloc(1, 65536);
    assert_non_null(text);
    fread(text, 1, 65535, f);
    fclose(f);
    return text;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char msg[128];
    for (size_t i = 0; i < N_FIXTURES; i++) {
        fx->text[i] = read_fixture(fixture_names[i]);
        if (stored_run_parse(&fx->runs[i], fx->text[i], msg, sizeof(msg)) != 0)
            fail_msg("%s: %s", fixture_names[i], msg);
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < N_FIXTURES; i++) {
        stored_run_release(&fx->runs[i]);
        free(fx->text[i]);
    }
    free(fx);
    return 0;
}

/* Runs a formatter into a string (free it). */
#define CAPTURE(out, call)                                                                         \
    do {                                                                                           \
        size_t size_;                                                                              \
        FILE *f = open_memstream(&(out), &size_);                                                  \
        assert_non_null(f);                                                                        \
        call;                                                                                      \
        fclose(f);                                                                                 \
    } while (0)

static void test_stored_run_reads_the_result(void **state)
{
    struct fixture *fx = *state;
    const struct wattprof_result *r = &fx->runs[0].res;
    assert_string_equal(fx->runs[0].id, "a1b2c3d4");
    assert_int_equal(r->energy_uj, 450000000);
    assert_int_equal(r->duration_ns, 12500000000ULL);
    assert_int_equal(r->started_at_unix_ms, 1795302312345ULL);
    assert_true(r->idle_measured);
    assert_int_equal(r->n_channels, 3);
    assert_string_equal(r->channels[1].info.domain, "dram");
    assert_int_equal(fx->runs[0].argc, 3);
    r = &fx->runs[2].res;
    assert_true(r->has_node);
    assert_string_equal(r->node_channel, "node:meter");
    assert_int_equal(r->n_windows, 3);
    assert_int_equal(r->windows[2].complete, 0);
    assert_int_equal(r->windows[1].channel_uj[1], 1440000000);
    assert_int_equal(r->n_metrics, 2);
    assert_string_equal(r->warnings, "node:meter: lost at 18.2 s (meter stopped answering)\n"
                                     "gpu:0: power is a trailing 1 s average");
    struct stored_run bad;
    char msg[128];
    assert_int_equal(stored_run_parse(&bad, "{\"schema\": \"other\"}", msg, sizeof(msg)), -EINVAL);
    stored_run_release(&bad);
    assert_int_equal(stored_run_parse(&bad, "{\"schema\": ", msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "at byte 11"));
    stored_run_release(&bad);
}

static void test_stored_run_parse_time(void **state)
{
    uint64_t ms;
    assert_int_equal(stored_run_parse_time("1970-01-01", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(stored_run_parse_time("2026-11-21T23:05", &ms), 0);
    assert_int_equal(ms, 1795302300000ULL);
    assert_int_equal(stored_run_parse_time("2026-11-21T23:05:12Z", &ms), 0);
    assert_int_equal(ms, 1795302312000ULL);
    static const char *const bad[] = { "2026-13-01", "2026-11-21T25:00", "2026-11-21T23",
                                       "2026/11/21", "2026-11-21x",      "yesterday" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (stored_run_parse_time(bad[i], &ms) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
}

static void test_export_codecarbon_header(void **state)
{
    static const char expected[] =
        "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
        "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,"
        "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
        "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
        "ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
        "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue\n";
    struct fixture *fx = *state;
    char *out;
    CAPTURE(out, export_codecarbon(f, fx->runs, 0));
    assert_string_equal(out, expected);
    free(out);
    CAPTURE(out, export_codecarbon(f, fx->runs, N_FIXTURES));
    assert_memory_equal(out, expected, strlen(expected));
    free(out);
}

/* The measured run: cpu = package (not cpu-core), ram = dram, energies in kWh, unknown
 * fields empty. */
static void test_export_codecarbon_row(void **state)
{
    struct fixture *fx = *state;
    char *out;
    CAPTURE(out, export_codecarbon(f, fx->runs, 1));
    const char *row = strchr(out, '\n') + 1;
    assert_string_equal(row, "2026-11-21T23:05:12.345Z,,a1b2c3d4,,12.500000,,,"
                             "32.000000,,4.000000,0.000111111111111,,1.38888888889e-05,"
                             "0.000125,,,,,,,Linux-6.1.0-13-amd64,,,8,"
                             "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz,,,,,32.000,machine,"
                             "90.0,,,,,,\n");
    free(out);
    CAPTURE(out, export_codecarbon(f, &fx->runs[2], 1));
    row = strchr(out, '\n') + 1;
    assert_non_null(strstr(row, ",150.000000,")); /* gpu_power */
    assert_non_null(strstr(row, ",1,,"));         /* gpu_count, then gpu_model empty */
    free(out);
}

static void test_export_csv_quoting(void **state)
{
    struct fixture *fx = *state;
    char *out;
    CAPTURE(out, export_csv(f, fx->runs, 1));
    assert_string_equal(
        out, "run_id,started_at,command,channel,kind,domain,source,provenance,"
             "included_in_total,energy_j,avg_power_w,peak_power_w,duration_s\r\n"
             "a1b2c3d4,2026-11-21T23:05:12.345Z,"
             "\"make -j8 CFLAGS=-O2 \"\"-DNAME=x,y\"\"\",cpu-package:0,counter,package,"
             "rapl-powercap,measured,true,400.000000,32.000000,61.250000,12.500000\r\n"
             "a1b2c3d4,2026-11-21T23:05:12.345Z,"
             "\"make -j8 CFLAGS=-O2 \"\"-DNAME=x,y\"\"\",dram:0,counter,dram,"
             "rapl-powercap,measured,true,50.000000,4.000000,5.500000,12.500000\r\n"
             "a1b2c3d4,2026-11-21T23:05:12.345Z,"
             "\"make -j8 CFLAGS=-O2 \"\"-DNAME=x,y\"\"\",cpu-core:0,counter,core,"
             "rapl-powercap,measured,false,300.000000,24.000000,50.000000,12.500000\r\n");
    free(out);
    CAPTURE(out, export_csv_field(f, "plain"); export_csv_field(f, "a\nb");
            export_csv_field(f, "cr\r"); export_csv_field(f, "\"q\""));
    assert_string_equal(out, "plain\"a\nb\"\"cr\r\"\"\"\"q\"\"\"");
    free(out);
}

static void test_export_openmetrics(void **state)
{
    struct fixture *fx = *state;
    char *out;
    CAPTURE(out, export_openmetrics(f, &fx->runs[1], 1));
    assert_string_equal(
        out, "# TYPE wattprof_run_energy_joules counter\n"
             "# UNIT wattprof_run_energy_joules joules\n"
             "# HELP wattprof_run_energy_joules Energy of each channel over a stored run.\n"
             "wattprof_run_energy_joules_total{run=\"b7c8d9e0\",channel=\"cpu:estimated\","
             "provenance=\"estimated\",in_total=\"true\"} 0.508000\n"
             "wattprof_run_energy_joules_total{run=\"b7c8d9e0\",channel=\"memory:estimated\","
             "provenance=\"estimated\",in_total=\"true\"} 2.781106\n"
             "# TYPE wattprof_run_duration_seconds gauge\n"
             "# UNIT wattprof_run_duration_seconds seconds\n"
             "# HELP wattprof_run_duration_seconds Duration of a stored run.\n"
             "wattprof_run_duration_seconds{run=\"b7c8d9e0\"} 0.301842\n"
             "# EOF\n");
    free(out);
    CAPTURE(out, export_om_label(f, "a\\b\"c\nd"));
    assert_string_equal(out, "a\\\\b\\\"c\\nd");
    free(out);
    CAPTURE(out, export_openmetrics(f, fx->runs, N_FIXTURES));
    size_t len = strlen(out);
    assert_true(len > 6 && strcmp(out + len - 6, "# EOF\n") == 0);
    assert_non_null(strstr(
        out, "channel=\"node:meter\",provenance=\"integrated\",in_total=\"false\"} 5200.000000\n"));
    free(out);
}

static void test_export_json_array(void **state)
{
    struct fixture *fx = *state;
    char *out;
    const char *texts[] = { "{\"a\": 1}\n", "{\"b\": 2}" };
    CAPTURE(out, export_json(f, texts, 2));
    assert_string_equal(out, "[\n{\"a\": 1},\n{\"b\": 2}\n]\n");
    free(out);
    CAPTURE(out, export_json(f, texts, 0));
    assert_string_equal(out, "[]\n");
    free(out);
    CAPTURE(out, export_json(f, (const char *const *)fx->text, N_FIXTURES));
    struct json_parse_node *d;
    assert_int_equal(json_parse(out, strlen(out), &d, NULL), 0);
    assert_int_equal(d->len, N_FIXTURES);
    assert_string_equal(json_parse_get_str(json_parse_at(d, 2), "id", ""), "c0ffee00");
    json_parse_free(d);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_run_reads_the_result),
        cmocka_unit_test(test_stored_run_parse_time),
        cmocka_unit_test(test_export_codecarbon_header),
        cmocka_unit_test(test_export_codecarbon_row),
        cmocka_unit_test(test_export_csv_quoting),
        cmocka_unit_test(test_export_openmetrics),
        cmocka_unit_test(test_export_json_array),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
