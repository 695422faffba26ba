/* Tests for the NVML backend on the fake NVML (tests/fake_nvml): the channel chosen per
 * kind of GPU, energy through the real sampler, CUDA_VISIBLE_DEVICES, the per-process
 * share, GPUs failing mid-run, an old library with only the core functions, a missing
 * library, and every NVML error on every call the backend makes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sampler.h"
#include "sensor.h"

#define MW_PER_W 1000u
#define LOG_MAX 4096

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

/* Allocation counting for the read path (malloc is wrapped at link time). */
static int counting;
static unsigned long allocations;

void *__wrap_malloc(size_t n)
{
    allocations += counting;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    allocations += counting;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations += counting;
    return __real_realloc(p, n);
}

/* One backend instance with its settings; the test owns all of it. */
struct fixture {
    struct sensor s;
    struct sensor_config cfg;
    char log[64];
};

static const char *lib_path(const char *var)
{
    const char *p = getenv(var);
    assert_non_null(p);
    return p;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    unsetenv("FAKE_NVML_PROCS");
    unsetenv("FAKE_NVML_FAIL");
    snprintf(f->log, sizeof(f->log), "/tmp/wattprof-nvml-log-XXXXXX");
    int fd = mkstemp(f->log);
    assert_true(fd >= 0);
    close(fd);
    setenv("FAKE_NVML_LOG", f->log, 1);
    f->cfg.nvml_lib = lib_path("FAKE_NVML_PATH");
    f->s.ops = &nvml_sensor_ops;
    f->s.proc_root = "/proc";
    f->s.cfg = &f->cfg;
    f->s.priv = calloc(1, nvml_sensor_ops.priv_size);
    assert_non_null(f->s.priv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nvml_sensor_ops.close(&f->s);
    unlink(f->log);
    free(f->s.priv);
    free(f);
    return 0;
}

static int open_with(struct fixture *f, const char *devices)
{
    setenv("FAKE_NVML_DEVICES", devices, 1);
    memset(f->s.notes, 0, sizeof(f->s.notes));
    memset(f->s.errmsg, 0, sizeof(f->s.errmsg));
    return nvml_sensor_ops.open(&f->s);
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("'%s' not found in:\n%s", part, text);
}

static void read_log(const struct fixture *f, char *buf, size_t size)
{
    FILE *fp = fopen(f->log, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, size - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

static void test_nvml_channel_per_gpu_kind(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(open_with(f, "energy:250,power_instant:100,power_avg:75"), 0);
    assert_int_equal(f->s.n_channels, 3);
    const struct sensor_channel *c = f->s.channels;
    static const char *const names[] = { "gpu:0", "gpu:1", "gpu:2" };
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(c[i].name, names[i]);
        assert_string_equal(c[i].domain, "gpu");
        assert_int_equal(c[i].included_in_total, 1);
        assert_int_equal(c[i].scale_num, 1000);
        assert_int_equal(c[i].scale_den, 1);
        assert_int_equal(c[i].max_raw, 0);
    }
    assert_int_equal(c[0].kind, SENSOR_ENERGY_COUNTER);
    assert_int_equal(c[0].provenance, SENSOR_MEASURED);
    assert_string_equal(c[0].averaging, "counter, ~100 ms updates");
    assert_string_equal(c[0].note, "nvmlDeviceGetTotalEnergyConsumption (mJ counter) on Fake "
                                   "NVIDIA energy GPU-00000000-fa4e-4e00-8000-000000000000 "
                                   "(nvml 0)");
    assert_int_equal(c[0].max_power_uw, 500000000ull); /* the power limit: 2 x 250 W */
    assert_int_equal(c[1].kind, SENSOR_POWER_GAUGE);
    assert_int_equal(c[1].provenance, SENSOR_INTEGRATED);
    assert_string_equal(c[1].averaging, "instantaneous");
    assert_contains(c[1].note, "NVML_FI_DEV_POWER_INSTANT");
    assert_int_equal(c[2].kind, SENSOR_POWER_GAUGE);
    assert_string_equal(c[2].averaging, "trailing average (1 s on Ampere and newer)");
    assert_contains(c[2].note, "nvmlDeviceGetPowerUsage");
    assert_contains(f->s.notes, "gpu:1: no energy counter (pre-Volta or not supported): "
                                "integrating instantaneous power");
    assert_contains(f->s.notes, "gpu:2: no energy counter (pre-Volta or not supported), no "
                                "instantaneous power (Not Supported): integrating averaged power");
    assert_contains(f->s.notes, "CUDA_VISIBLE_DEVICES unset: 3 of 3 GPUs");
    assert_true(f->s.min_period_ns > 0);
}

static void test_nvml_reads_raw_units(void **state)
{
    struct fixture *f = *state;
    uint64_t v[4];
    assert_int_equal(open_with(f, "power_instant:100,power_instant:50:ull,power_instant:25:dbl,"
                                  "power_avg:75"),
                     0);
    assert_int_equal(nvml_sensor_ops.read(&f->s, v), 0);
    assert_int_equal(v[0], 100 * MW_PER_W);
    assert_int_equal(v[1], 50 * MW_PER_W);
    assert_int_equal(v[2], 25 * MW_PER_W);
    assert_int_equal(v[3], 75 * MW_PER_W);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(f->s.channels[i].read_err, 0);
}

/* Runs the real sampler over the sensor for about ms milliseconds. */
static struct sampler *run_sampler(struct sensor *s, long ms)
{
    struct sampler *sp = calloc(1, sizeof(*sp));
    assert_non_null(sp);
    struct sensor *list[1] = { s };
    assert_int_equal(sampler_init(sp, list, 1, 10 * 1000 * 1000), 0);
    assert_int_equal(sampler_start(sp), 0);
    sleep_ms(ms);
    sampler_stop(sp);
    return sp;
}

static void free_sampler(struct sampler *sp)
{
    sampler_release(sp);
    free(sp);
}

/* |energy - watts x time read| <= tolerance x truth, in µJ. */
static void assert_energy(const struct sampler_channel *c, double watts, double tolerance)
{
    double seconds = (double)(c->last_t_ns - c->first_t_ns) / 1e9;
    double truth_uj = watts * seconds * 1e6;
    double err = ((double)c->energy_uj - truth_uj) / truth_uj;
    if (err > tolerance || err < -tolerance)
        fail_msg("%s: %.0f µJ, expected %.0f µJ (%.3f %% off, tolerance %.1f %%)", c->ch->name,
                 (double)c->energy_uj, truth_uj, err * 100, tolerance * 100);
}

/* Counter: the fake's energy is W x monotonic time, so the only errors are the mJ step
 * (1 mJ in 250 J) and the skew between the fake's clock read and the sampler's
 * timestamp (the middle of a read of a few µs): 0.5 % is far above both. Gauges: a
 * constant power integrates exactly by trapezoids; 2 % is the bound for gauges that
 * would also hold for a slowly moving power sampled every 20 ms, and still catches a
 * wrong scale (mW taken for W or µW). */
static void test_nvml_energy_through_sampler(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(open_with(f, "energy:250,power_instant:100,power_avg:75"), 0);
    struct sampler *sp = run_sampler(&f->s, 1000);
    assert_true(sp->channels[0].reads > 10);
    assert_energy(&sp->channels[0], 250, 0.005);
    assert_energy(&sp->channels[1], 100, 0.02);
    assert_energy(&sp->channels[2], 75, 0.02);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sp->channels[i].lost, 0);
        assert_int_equal(sp->channels[i].anomalies, 0);
    }
    free_sampler(sp);
}

/* Opens four GPUs under CUDA_VISIBLE_DEVICES=cvd and checks which NVML index each
 * channel reads ("GPU-0000000N" in its note); expect is a list ending with -1. */
static void assert_visible(struct fixture *f, const char *cvd, const int *expect)
{
    char uuid[32];
    f->cfg.cuda_visible_devices = cvd;
    assert_int_equal(open_with(f, "energy:10,energy:20,energy:30,energy:40"), 0);
    size_t n = 0;
    for (; expect[n] >= 0; n++) {
        snprintf(uuid, sizeof(uuid), "GPU-%08x-", (unsigned)expect[n]);
        assert_contains(f->s.channels[n].note, uuid);
    }
    assert_int_equal(f->s.n_channels, n);
    nvml_sensor_ops.close(&f->s);
}

static void test_nvml_visible_by_index_and_uuid(void **state)
{
    struct fixture *f = *state;
    assert_visible(f, "2,0", (const int[]){ 2, 0, -1 });
    assert_visible(f, " 3 , 1 ", (const int[]){ 3, 1, -1 });
    assert_visible(f, "1,1", (const int[]){ 1, -1 });
    assert_visible(f, "GPU-00000003,0", (const int[]){ 3, 0, -1 }); /* prefix, then index */
    assert_visible(f, "1", (const int[]){ 1, -1 });
    assert_contains(f->s.notes, "CUDA_VISIBLE_DEVICES '1': 1 of 4 GPUs: gpu:0 = nvml 1");
}

static void test_nvml_visible_empty_hides_all(void **state)
{
    struct fixture *f = *state;
    char log[LOG_MAX];
    f->cfg.cuda_visible_devices = "";
    assert_int_equal(open_with(f, "energy:10,energy:20"), -ENODEV);
    assert_contains(f->s.errmsg, "CUDA_VISIBLE_DEVICES='' hides every GPU (2 found)");
    read_log(f, log, sizeof(log));
    assert_string_equal(log, "nvmlInit_v2 0\nnvmlShutdown 0\n");
}

static void test_nvml_visible_mig_reports_parent(void **state)
{
    struct fixture *f = *state;
    /* only GPU 1 is in MIG mode; its MIG instance maps to it */
    f->cfg.cuda_visible_devices = "MIG-00000001-fa4e-4e00-8000-000000000001";
    assert_int_equal(open_with(f, "energy:10,energy:20:mig"), 0);
    assert_int_equal(f->s.n_channels, 1);
    assert_contains(f->s.channels[0].note, "GPU-00000001-");
    assert_contains(f->s.notes, "per-MIG energy is not available; gpu:0 reports its whole "
                                "parent GPU (nvml 1)");
    assert_contains(f->s.notes, "gpu:0: per-process GPU share not available: MIG mode");
    assert_int_equal(f->s.channels[0].has_share, 0);
    nvml_sensor_ops.close(&f->s);
    /* the older form names the parent's UUID */
    f->cfg.cuda_visible_devices = "MIG-GPU-00000000-fa4e-4e00-8000-000000000000/1/0";
    assert_int_equal(open_with(f, "energy:10:mig,energy:20"), 0);
    assert_int_equal(f->s.n_channels, 1);
    assert_contains(f->s.channels[0].note, "GPU-00000000-");
}

/* A process that stays in the test's tree until killed. */
static pid_t spawn_child(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_nvml_share_of_process_tree(void **state)
{
    struct fixture *f = *state;
    char procs[256];
    uint64_t v[1];
    pid_t child = spawn_child();
    /* ours: self 40 + child 20; foreign: the parent 20; ignored: a utilization over
     * 100 %, a stale sample */
    snprintf(procs, sizeof(procs), "%d:40,%d:20,%d:20,%d:250,%d:90:stale", (int)getpid(),
             (int)child, (int)getppid(), (int)getpid(), (int)getppid());
    setenv("FAKE_NVML_PROCS", procs, 1);
    atomic_store(&f->s.workload_pid, (int)getpid());
    assert_int_equal(open_with(f, "energy:200"), 0);
    assert_int_equal(f->s.channels[0].has_share, 1);
    assert_int_equal(f->s.channels[0].share_ppm, 750000);
    sleep_ms(150); /* new samples every 100 ms */
    assert_int_equal(nvml_sensor_ops.read(&f->s, v), 0);
    assert_int_equal(f->s.channels[0].share_ppm, 750000);
    struct sampler *sp = run_sampler(&f->s, 500);
    double share = (double)sp->channels[0].attributed_uj / (double)sp->channels[0].energy_uj;
    assert_true(share > 0.745 && share < 0.755);
    free_sampler(sp);
    reap(child);
}

static void test_nvml_share_without_workload_is_zero(void **state)
{
    struct fixture *f = *state;
    char procs[64];
    snprintf(procs, sizeof(procs), "%d:40", (int)getpid());
    setenv("FAKE_NVML_PROCS", procs, 1);
    assert_int_equal(open_with(f, "energy:200"), 0);
    assert_int_equal(f->s.channels[0].has_share, 1);
    assert_int_equal(f->s.channels[0].share_ppm, 0);
}

static void test_nvml_share_unavailable_is_said(void **state)
{
    struct fixture *f = *state;
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetProcessUtilization:999", 1);
    assert_int_equal(open_with(f, "energy:100,energy:50:mig"), 0);
    assert_int_equal(f->s.channels[0].has_share, 0);
    assert_int_equal(f->s.channels[1].has_share, 0);
    assert_contains(f->s.notes, "gpu:0: per-process GPU share not available: Unknown Error");
    assert_contains(f->s.notes, "gpu:1: per-process GPU share not available: MIG mode");
}

static void test_nvml_gpu_lost_mid_run_marks_only_its_channel(void **state)
{
    struct fixture *f = *state;
    uint64_t v[3];
    assert_int_equal(open_with(f, "energy:250,error_after:150:0.5,power_instant:100"), 0);
    assert_int_equal(nvml_sensor_ops.read(&f->s, v), 0);
    assert_int_equal(f->s.channels[1].read_err, 0);
    struct sampler *sp = run_sampler(&f->s, 1000);
    assert_int_equal(sp->channels[1].lost, 1);
    assert_int_equal(sp->channels[1].lost_err, -EIO);
    assert_int_equal(sp->channels[0].lost, 0);
    assert_int_equal(sp->channels[2].lost, 0);
    assert_energy(&sp->channels[0], 250, 0.005);
    assert_energy(&sp->channels[1], 150, 0.005); /* up to its last good read */
    assert_energy(&sp->channels[2], 100, 0.02);
    free_sampler(sp);
    assert_int_equal(nvml_sensor_ops.read(&f->s, v), 0);
    assert_int_equal(f->s.channels[0].read_err, 0);
    assert_int_equal(f->s.channels[1].read_err, -EIO);
}

static void test_nvml_negative_like_value_is_erange(void **state)
{
    struct fixture *f = *state;
    uint64_t v[2];
    assert_int_equal(open_with(f, "energy:100,bogus:50"), 0);
    assert_int_equal(nvml_sensor_ops.read(&f->s, v), 0);
    assert_int_equal(f->s.channels[0].read_err, 0);
    assert_int_equal(f->s.channels[1].read_err, -ERANGE);
}

static void test_nvml_all_lost_fails_the_read(void **state)
{
    struct fixture *f = *state;
    uint64_t v[1];
    assert_int_equal(open_with(f, "error_after:100:0.05"), 0);
    sleep_ms(80);
    assert_int_equal(nvml_sensor_ops.read(&f->s, v), -EIO);
    assert_int_equal(f->s.channels[0].read_err, -EIO);
}

static void test_nvml_core_only_library(void **state)
{
    struct fixture *f = *state;
    uint64_t v[1];
    f->cfg.nvml_lib = lib_path("FAKE_NVML_CORE_PATH");
    assert_int_equal(open_with(f, "energy:100"), 0);
    assert_int_equal(f->s.n_channels, 1);
    assert_int_equal(f->s.channels[0].kind, SENSOR_POWER_GAUGE);
    assert_contains(f->s.channels[0].note, "Fake NVIDIA energy (no UUID) (nvml 0)");
    assert_contains(f->s.notes, "gpu:0: no energy counter (not in this NVML library)");
    assert_contains(f->s.notes, "per-process GPU share not available: "
                                "nvmlDeviceGetProcessUtilization is not in this NVML library");
    assert_int_equal(nvml_sensor_ops.read(&f->s, v), 0);
    assert_int_equal(v[0], 100 * MW_PER_W);
    nvml_sensor_ops.close(&f->s);
    /* without a power reading either, it says so (no nvmlErrorString: codes as numbers) */
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetPowerUsage:3", 1);
    assert_int_equal(open_with(f, "energy:100"), -EIO);
    assert_contains(f->s.errmsg, "no NVIDIA GPU reports energy or power: gpu:0 (nvml 0): no "
                                 "energy counter (not in this NVML library), no instantaneous "
                                 "power (not in this NVML library), no power usage (NVML error 3)");
}

static void test_nvml_missing_library(void **state)
{
    struct fixture *f = *state;
    f->cfg.nvml_lib = "/nonexistent/libnvidia-ml.so.1";
    assert_int_equal(open_with(f, "energy:100"), -ENODEV);
    assert_contains(f->s.errmsg, "no NVIDIA driver library ('/nonexistent/libnvidia-ml.so.1': ");
    assert_int_equal(f->s.n_channels, 0);
    f->cfg.nvml_lib = NULL; /* the default name; there is no NVIDIA driver here */
    int r = open_with(f, "energy:100");
    if (r != 0)
        assert_contains(f->s.errmsg, "'libnvidia-ml.so.1'");
    nvml_sensor_ops.close(&f->s);
    f->cfg.nvml_lib = "libm.so.6";
    assert_int_equal(open_with(f, "energy:100"), -EIO);
    assert_contains(f->s.errmsg, "'libm.so.6' is not a usable NVML library: it has no "
                                 "nvmlInit_v2 or nvmlInit");
}

static void test_nvml_init_failure(void **state)
{
    struct fixture *f = *state;
    char log[LOG_MAX];
    setenv("FAKE_NVML_FAIL", "nvmlInit_v2:9", 1);
    assert_int_equal(open_with(f, "energy:100"), -EIO);
    assert_contains(f->s.errmsg, "cannot initialize NVML");
    assert_contains(f->s.errmsg, "Driver Not Loaded");
    read_log(f, log, sizeof(log));
    assert_string_equal(log, "nvmlInit_v2 9\n"); /* and no nvmlShutdown */
}

static void test_nvml_no_gpu(void **state)
{
    struct fixture *f = *state;
    char log[LOG_MAX];
    assert_int_equal(open_with(f, ""), -ENODEV);
    assert_contains(f->s.errmsg, "the NVIDIA driver is loaded but finds no GPU");
    read_log(f, log, sizeof(log));
    assert_string_equal(log, "nvmlInit_v2 0\nnvmlShutdown 0\n");
}

/* Counts "<function> 0" lines in the log. */
static int log_count(const char *log, const char *line)
{
    int n = 0;
    for (const char *p = strstr(log, line); p != NULL; p = strstr(p + 1, line))
        n += p == log || p[-1] == '\n';
    return n;
}

/* Opens with FAKE_NVML_FAIL=fail, reads a few times, closes: open either works or
 * fails with ENODEV or EIO and a message, reads never crash, and every successful
 * nvmlInit is matched by an nvmlShutdown (and no shutdown comes without an init). */
static void open_read_close_with(struct fixture *f, const char *fail, int shutdown_fails)
{
    char log[LOG_MAX];
    uint64_t v[SENSOR_MAX_CHANNELS];
    setenv("FAKE_NVML_FAIL", fail, 1);
    FILE *fp = fopen(f->log, "w");
    assert_non_null(fp);
    fclose(fp);
    int r = open_with(f, "energy:100,power_instant:50,energy:80:mig");
    if (r != 0 && r != -ENODEV && r != -EIO)
        fail_msg("%s: open returned %d", fail, r);
    if (r != 0)
        assert_true(f->s.errmsg[0] != '\0' && f->s.n_channels == 0);
    for (int n = 0; n < 3 && r == 0; n++)
        nvml_sensor_ops.read(&f->s, v);
    nvml_sensor_ops.close(&f->s);
    read_log(f, log, sizeof(log));
    int stray = !shutdown_fails && log_count(log, "nvmlShutdown 1") != 0;
    if (log_count(log, "nvmlInit_v2 0") != log_count(log, "nvmlShutdown") || stray)
        fail_msg("%s: unbalanced init/shutdown:\n%s", fail, log);
}

/* Every function the backend calls, failing with each of a few codes, at once and
 * after one or three good calls. */
static void test_nvml_every_error_path_is_clean(void **state)
{
    struct fixture *f = *state;
    static const char *const functions[] = {
        "nvmlInit_v2",
        "nvmlDeviceGetCount_v2",
        "nvmlDeviceGetHandleByIndex_v2",
        "nvmlDeviceGetName",
        "nvmlDeviceGetUUID",
        "nvmlDeviceGetTotalEnergyConsumption",
        "nvmlDeviceGetFieldValues",
        "nvmlDeviceGetPowerUsage",
        "nvmlDeviceGetProcessUtilization",
        "nvmlDeviceGetMigMode",
        "nvmlDeviceGetPowerManagementLimit",
        "nvmlDeviceGetHandleByUUID",
        "nvmlDeviceGetDeviceHandleFromMigDeviceHandle",
        "nvmlShutdown",
    };
    static const int codes[] = { 1, 2, 3, 4, 6, 7, 9, 15, 999 };
    static const char *const afters[] = { "", ":1", ":3" };
    char procs[64];
    char fail[128];
    snprintf(procs, sizeof(procs), "%d:50", (int)getpid());
    setenv("FAKE_NVML_PROCS", procs, 1);
    f->cfg.cuda_visible_devices = "0,MIG-00000002-fa4e-4e00-8000-000000000002,1";
    for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
        for (size_t j = 0; j < sizeof(codes) / sizeof(codes[0]); j++) {
            for (size_t k = 0; k < sizeof(afters) / sizeof(afters[0]); k++) {
                snprintf(fail, sizeof(fail), "%s:%d%s", functions[i], codes[j], afters[k]);
                open_read_close_with(f, fail, strcmp(functions[i], "nvmlShutdown") == 0);
            }
        }
    }
}

static void test_nvml_errors_name_the_call(void **state)
{
    struct fixture *f = *state;
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetCount_v2:999", 1);
    assert_int_equal(open_with(f, "energy:100"), -EIO);
    assert_contains(f->s.errmsg, "cannot count NVIDIA GPUs (nvmlDeviceGetCount): Unknown Error");
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetHandleByIndex_v2:15:1", 1);
    assert_int_equal(open_with(f, "energy:100,energy:50"), 0);
    assert_int_equal(f->s.n_channels, 1);
    assert_contains(f->s.notes, "gpu:1 (nvml 1): no handle (GPU is lost): not measured");
    nvml_sensor_ops.close(&f->s);
    setenv("FAKE_NVML_FAIL", "nvmlDeviceGetName:999,nvmlDeviceGetUUID:3", 1);
    assert_int_equal(open_with(f, "energy:100"), 0);
    assert_contains(f->s.channels[0].note, "NVIDIA GPU (name unavailable) (no UUID) (nvml 0)");
}

static void test_nvml_read_allocates_nothing(void **state)
{
    struct fixture *f = *state;
    char procs[64];
    uint64_t v[3];
    snprintf(procs, sizeof(procs), "%d:40,%d:10", (int)getpid(), (int)getppid());
    setenv("FAKE_NVML_PROCS", procs, 1);
    atomic_store(&f->s.workload_pid, (int)getpid());
    assert_int_equal(open_with(f, "energy:100,power_instant:50,power_avg:20"), 0);
    counting = 1;
    for (int i = 0; i < 30; i++) {
        nvml_sensor_ops.read(&f->s, v);
        sleep_ms(10);
    }
    counting = 0;
    assert_int_equal(allocations, 0);
}

static void test_nvml_close_copes_with_half_open(void **state)
{
    struct fixture *f = *state;
    nvml_sensor_ops.close(&f->s); /* never opened */
    assert_int_equal(open_with(f, "energy:100"), 0);
    nvml_sensor_ops.close(&f->s);
    nvml_sensor_ops.close(&f->s); /* twice */
    char log[LOG_MAX];
    read_log(f, log, sizeof(log));
    assert_string_equal(log, "nvmlInit_v2 0\nnvmlShutdown 0\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nvml_channel_per_gpu_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_reads_raw_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_energy_through_sampler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_visible_by_index_and_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_visible_empty_hides_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_visible_mig_reports_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_share_of_process_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_share_without_workload_is_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_share_unavailable_is_said, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_gpu_lost_mid_run_marks_only_its_channel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nvml_negative_like_value_is_erange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_all_lost_fails_the_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_core_only_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_missing_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_init_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_no_gpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_every_error_path_is_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_errors_name_the_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_read_allocates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nvml_close_copes_with_half_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
