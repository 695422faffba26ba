/* Tests for the backends over hwmon (amdgpu, intel-gpu, the opt-in generic hwmon) on fake
 * /sys trees (tests/fixtures/sysfs/<case>): the exact channels each makes, how each is
 * read, which count in the total, the notes, what read() returns, and the opt-in list.
 * Cases that change files work on a copy in a mkdtemp dir, merged from one or more
 * fixtures. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sensor.h"

#define NOBODY 65534
#define U64 UINT64_MAX

/* One expected channel, in the order open() must list them. */
struct expect {
    const char *name;
    const char *domain;
    enum sensor_kind kind;
    enum sensor_provenance provenance;
    const char *averaging;
    int included;
    int node_scope;
    uint64_t max_raw;
    uint64_t max_power_uw;
    uint64_t value;
    const char *note;
};

#define GAUGE SENSOR_POWER_GAUGE, SENSOR_INTEGRATED
#define COUNTER SENSOR_ENERGY_COUNTER, SENSOR_MEASURED

/* The --hwmon setting of the sensor under test; it must outlive the sensor. */
static struct sensor_config test_cfg;

static void format_or_fail(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void format_or_fail(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < size);
}

static void fixture_path(char *buf, size_t size, const char *name)
{
    const char *base = getenv("WATTPROF_FIXTURES");
    if (base == NULL)
        fail_msg("WATTPROF_FIXTURES is not set (meson test sets it)");
    format_or_fail(buf, size, "%s/sysfs/%s", base, name);
}

static int open_at(struct sensor *s, const struct sensor_ops *ops, const char *root,
                   const char *hwmon)
{
    memset(s, 0, sizeof(*s));
    test_cfg.hwmon = hwmon;
    s->ops = ops;
    s->sysfs_root = root;
    s->proc_root = "/proc";
    s->cfg = &test_cfg;
    s->priv = calloc(1, ops->priv_size);
    assert_non_null(s->priv);
    return ops->open(s);
}

static void open_ok(struct sensor *s, const struct sensor_ops *ops, const char *root,
                    const char *hwmon)
{
    int r = open_at(s, ops, root, hwmon);
    if (r != 0)
        fail_msg("%s open '%s': %d: %s", ops->name, root, r, s->errmsg);
}

static void close_sensor(struct sensor *s)
{
    s->ops->close(s);
    free(s->priv);
    s->priv = NULL;
}

static void assert_channels(struct sensor *s, const struct expect *e, size_t n)
{
    uint64_t values[SENSOR_MAX_CHANNELS];
    assert_int_equal(s->n_channels, n);
    assert_int_equal(s->ops->read(s, values), 0);
    for (size_t i = 0; i < n; i++) {
        const struct sensor_channel *c = &s->channels[i];
        assert_string_equal(c->name, e[i].name);
        assert_string_equal(c->domain, e[i].domain);
        assert_int_equal(c->kind, e[i].kind);
        assert_int_equal(c->provenance, e[i].provenance);
        assert_string_equal(c->averaging, e[i].averaging);
        assert_int_equal(c->included_in_total, e[i].included);
        assert_int_equal(c->node_scope, e[i].node_scope);
        assert_true(c->scale_num == 1 && c->scale_den == 1);
        assert_true(c->max_raw == e[i].max_raw);
        assert_true(c->max_power_uw == e[i].max_power_uw);
        assert_string_equal(c->note, e[i].note);
        assert_int_equal(c->has_share, 0);
        assert_int_equal(c->read_err, 0);
        assert_true(values[i] == e[i].value);
    }
}

/* Runs a shell command and asserts it exits 0 (the paths here hold no quotes). */
static void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void shell(const char *fmt, ...)
{
    char cmd[4 * PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(cmd));
    assert_int_equal(system(cmd), 0);
}

/* Merges the NULL-terminated fixtures into a fresh /tmp dir that any user can read; the
 * copy is *state's, so remove_copy() deletes it even when the test fails. */
static const char *copy_fixtures(void **state, const char *const *names)
{
    char dir[PATH_MAX];
    char *tmp = calloc(1, PATH_MAX);
    *state = tmp; /* before any assert: remove_copy() takes it */
    assert_non_null(tmp);
    format_or_fail(tmp, PATH_MAX, "/tmp/wattprof-hwmon-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    for (size_t i = 0; names[i] != NULL; i++) {
        fixture_path(dir, sizeof(dir), names[i]);
        shell("cp -a '%s/.' '%s'", dir, tmp);
    }
    shell("chmod -R u+rwX,go+rX '%s' && chmod 755 '%s'", tmp, tmp);
    return tmp;
}

static const char *copy_fixture(void **state, const char *name)
{
    const char *names[] = { name, NULL };
    return copy_fixtures(state, names);
}

static int remove_copy(void **state)
{
    char *tmp = *state;
    if (tmp != NULL && tmp[0] != '\0')
        shell("rm -rf '%s'", tmp);
    free(tmp);
    *state = NULL;
    return 0;
}

/* Writes text in place (same inode: an open fd sees it), or with text NULL removes the
 * file or link, emptying a file first (a regular file stays readable through an open fd
 * after unlink; sysfs fails the read of a removed device). */
static void set_file(const char *root, const char *rel, const char *text)
{
    char path[PATH_MAX];
    struct stat st;
    format_or_fail(path, sizeof(path), "%s/%s", root, rel);
    if (text == NULL) {
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISLNK(st.st_mode) || truncate(path, 0) == 0);
        assert_int_equal(unlink(path), 0);
        return;
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* ---- open() on a fixture: one table row per case ---------------------------------------- */

#define AMD_NOTE(file) "class/hwmon/hwmon3/" file " (amdgpu, 0000:03:00.0)"
#define APU_NOTE(rule) "class/hwmon/hwmon4/power1_average (amdgpu, 0000:c4:00.0); APU: " rule
#define APU_RAPL "power1 includes the CPU; not added to avoid double counting with RAPL"
#define INA_NOTE(n) "class/hwmon/hwmon6/power" #n "_input (ina3221, 1-0040); " UNKNOWN
#define UNKNOWN "coverage unknown: not in the total"
#define WRAP_NOTE                                                                                  \
    "energy*_input: no wrap range in the ABI (the driver accumulates in a 64-bit long): a "        \
    "decrease is flagged, not corrected"
#define GT_SKIP(n, gt, gpu)                                                                        \
    "skipped hwmon" #n " (i915_gt" #gt "): a part of gpu:intel" #gpu                               \
    "'s device energy, not counted twice\n"

#define AMD_DGPU                                                                                   \
    {                                                                                              \
        "gpu:amd0", "gpu", GAUGE, "instantaneous", 1, 0, 0, 293000000, 43000000,                   \
            AMD_NOTE("power1_input")                                                               \
    }
#define AMD_APU_OUT                                                                                \
    {                                                                                              \
        "gpu:amd0", "gpu", GAUGE, "driver average (SMU)", 0, 0, 0, 0, 14000000, APU_NOTE(APU_RAPL) \
    }
#define INA(n, label, uw)                                                                          \
    {                                                                                              \
        "hwmon:ina3221:" label, "other", GAUGE, "instantaneous", 0, 0, 0, 0, uw, INA_NOTE(n)       \
    }
#define INA3221_ALL                                                                                \
    INA(1, "VDD_IN", 7200000), INA(2, "VDD_CPU_GPU_CV", 1850000), INA(3, "VDD_SOC", 950000)
#define POWER_METER                                                                                \
    {                                                                                              \
        "hwmon:power_meter:1", "node", GAUGE, "average over 1000 ms", 0, 1, 0, 0, 182000000,       \
            "class/hwmon/hwmon7/power1_average (power_meter, ACPI000D:00); ACPI power meter "      \
            "(ACPI000D): whole node"                                                               \
    }

/* A change to the copied tree before open(): text written in place, or NULL to remove. */
struct edit {
    const char *rel;
    const char *text;
};

struct open_case {
    const struct sensor_ops *ops;
    const char *fixtures[4]; /* merged into one tree, NULL-terminated */
    const char *hwmon;       /* the --hwmon list */
    struct edit edits[3];    /* up to the first with rel NULL */
    size_t n;
    struct expect e[4];
    const char *notes; /* exactly */
};

static const struct open_case amdgpu_dgpu_prefers_power1_input = {
    &amdgpu_sensor_ops, { "amdgpu-dgpu" }, NULL, { { NULL } }, 1, { AMD_DGPU }, "",
};

static const struct open_case amdgpu_power1_average_otherwise = {
    &amdgpu_sensor_ops,
    { "amdgpu-dgpu" },
    NULL,
    { { "class/hwmon/hwmon3/power1_input", NULL } },
    1,
    { { "gpu:amd0", "gpu", GAUGE, "driver average (SMU)", 1, 0, 0, 293000000, 41000000,
        AMD_NOTE("power1_average") } },
    "",
};

static const struct open_case amdgpu_energy_counter_comes_first = {
    &amdgpu_sensor_ops,
    { "amdgpu-dgpu" },
    NULL,
    { { "class/hwmon/hwmon3/energy1_input", "987654321\n" } },
    1,
    { { "gpu:amd0", "gpu", COUNTER, "", 1, 0, U64, 293000000, 987654321,
        AMD_NOTE("energy1_input") } },
    "gpu:amd0: energy1_input has no documented wrap range: a decrease is flagged, not corrected",
};

static const struct open_case amdgpu_apu_beside_rapl_stays_out_of_total = {
    &amdgpu_sensor_ops, { "amdgpu-apu" }, NULL, { { NULL } }, 1, { AMD_APU_OUT }, "",
};

static const struct open_case amdgpu_apu_without_rapl_counts_as_package = {
    &amdgpu_sensor_ops,
    { "amdgpu-apu" },
    NULL,
    { { "class/powercap/intel-rapl:0", NULL } },
    1,
    { { "gpu:amd0", "package", GAUGE, "driver average (SMU)", 1, 0, 0, 0, 14000000,
        APU_NOTE("power1 includes the CPU; counted as the package (no RAPL here)") } },
    "",
};

/* PCI address order; a fanless dGPU with 16 GiB of VRAM is still a dGPU. */
static const struct open_case amdgpu_two_gpus_in_pci_order = {
    &amdgpu_sensor_ops,
    { "amdgpu-apu", "amdgpu-dgpu" },
    NULL,
    { { "class/hwmon/hwmon3/fan1_input", NULL } },
    2,
    { AMD_DGPU,
      { "gpu:amd1", "gpu", GAUGE, "driver average (SMU)", 0, 0, 0, 0, 14000000,
        APU_NOTE(APU_RAPL) } },
    "",
};

static const struct open_case intel_xe_reads_card_energy = {
    &intel_gpu_sensor_ops,
    { "intel-xe" },
    NULL,
    { { NULL } },
    1,
    { { "gpu:intel0", "gpu", COUNTER, "", 1, 0, U64, 190000000, 8513340241,
        "class/hwmon/hwmon5/energy1_input (xe, 0000:07:00.0): card energy" } },
    WRAP_NOTE,
};

static const struct open_case intel_xe_package_energy_otherwise = {
    &intel_gpu_sensor_ops,
    { "intel-xe" },
    NULL,
    { { "class/hwmon/hwmon5/energy1_input", NULL } },
    1,
    { { "gpu:intel0", "gpu", COUNTER, "", 1, 0, U64, 150000000, 6220813455,
        "class/hwmon/hwmon5/energy2_input (xe, 0000:07:00.0): package energy" } },
    WRAP_NOTE,
};

static const struct open_case intel_i915_skips_per_gt_chips = {
    &intel_gpu_sensor_ops,
    { "intel-i915-gt" },
    NULL,
    { { NULL } },
    1,
    { { "gpu:intel0", "gpu", COUNTER, "", 1, 0, U64, 600000000, 52311870220,
        "class/hwmon/hwmon8/energy1_input (i915, 0000:8a:00.0): card energy" } },
    GT_SKIP(9, 0, 0) GT_SKIP(10, 1, 0) WRAP_NOTE,
};

static const struct open_case intel_per_gt_without_device_energy = {
    &intel_gpu_sensor_ops,
    { "intel-i915-gt" },
    NULL,
    { { "class/hwmon/hwmon8/energy1_input", NULL } },
    2,
    { { "gpu:intel0:gt0", "gpu", COUNTER, "", 1, 0, U64, 0, 20177262310,
        "class/hwmon/hwmon9/energy1_input (i915_gt0, 0000:8a:00.0): gt 0 only (no device-level "
        "energy)" },
      { "gpu:intel0:gt1", "gpu", COUNTER, "", 1, 0, U64, 0, 19903114287,
        "class/hwmon/hwmon10/energy1_input (i915_gt1, 0000:8a:00.0): gt 1 only (no "
        "device-level energy)" } },
    WRAP_NOTE,
};

/* Two Intel GPUs beside an AMD one: numbered per driver, in PCI address order. */
static const struct open_case intel_two_gpus_beside_amdgpu = {
    &intel_gpu_sensor_ops,
    { "intel-i915-gt", "intel-xe", "amdgpu-dgpu" },
    NULL,
    { { NULL } },
    2,
    { { "gpu:intel0", "gpu", COUNTER, "", 1, 0, U64, 190000000, 8513340241,
        "class/hwmon/hwmon5/energy1_input (xe, 0000:07:00.0): card energy" },
      { "gpu:intel1", "gpu", COUNTER, "", 1, 0, U64, 600000000, 52311870220,
        "class/hwmon/hwmon8/energy1_input (i915, 0000:8a:00.0): card energy" } },
    GT_SKIP(9, 0, 1) GT_SKIP(10, 1, 1) WRAP_NOTE,
};

static const struct open_case hwmon_selected_chips_only_missing_noted = {
    &hwmon_sensor_ops, { "hwmon-generic" },      "ina3221,bogus", { { NULL } }, 3,
    { INA3221_ALL },   "chip 'bogus' not found",
};

static const struct open_case hwmon_acpi_power_meter_is_a_node_total = {
    &hwmon_sensor_ops, { "hwmon-generic" }, "power_meter", { { NULL } }, 1, { POWER_METER }, "",
};

/* The driver's name selects the chip too; channels follow the order of the list. */
static const struct open_case hwmon_driver_name_and_list_order = {
    &hwmon_sensor_ops,
    { "hwmon-generic" },
    "acpi_power_meter,ina3221",
    { { NULL } },
    4,
    { POWER_METER, INA3221_ALL },
    "",
};

static const struct open_case hwmon_battery_meter_is_not_node = {
    &hwmon_sensor_ops,
    { "hwmon-generic" },
    "power_meter",
    { { "class/hwmon/hwmon7/power1_is_battery", "1\n" },
      { "class/hwmon/hwmon7/power1_average_interval", NULL } },
    1,
    { { "hwmon:power_meter:1", "other", GAUGE, "driver average", 0, 0, 0, 0, 182000000,
        "class/hwmon/hwmon7/power1_average (power_meter, ACPI000D:00); measures a battery: not "
        "in the total" } },
    "",
};

static const struct open_case hwmon_energy_counters_come_first = {
    &hwmon_sensor_ops,
    { "hwmon-generic" },
    "ina3221",
    { { "class/hwmon/hwmon6/energy1_input", "5551212\n" },
      { "class/hwmon/hwmon6/energy1_label", "in 1\n" },
      { "class/hwmon/hwmon6/energy2_input", "42\n" } },
    2,
    { { "hwmon:ina3221:in_1", "other", COUNTER, "", 0, 0, U64, 0, 5551212,
        "class/hwmon/hwmon6/energy1_input (ina3221, 1-0040); " UNKNOWN },
      { "hwmon:ina3221:2", "other", COUNTER, "", 0, 0, U64, 0, 42,
        "class/hwmon/hwmon6/energy2_input (ina3221, 1-0040); " UNKNOWN } },
    "",
};

/* Copies the case's fixtures, applies its edits, opens its backend on the copy and checks
 * the channels, the values read and the notes. */
static void test_open_case(void **state)
{
    const struct open_case *c = *state;
    struct sensor s;
    const char *tmp = copy_fixtures(state, c->fixtures);
    for (size_t i = 0; i < 3 && c->edits[i].rel != NULL; i++)
        set_file(tmp, c->edits[i].rel, c->edits[i].text);
    open_ok(&s, c->ops, tmp, c->hwmon);
    assert_channels(&s, c->e, c->n);
    assert_string_equal(s.notes, c->notes);
    close_sensor(&s);
}

#define open_case_test(c)                                                                          \
    {                                                                                              \
#c, test_open_case, NULL, remove_copy, (void *)&c                                          \
    }

/* ---- open() errors -------------------------------------------------------------------- */

static void test_gpus_absent_is_enodev(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX], msg[SENSOR_ERRMSG_MAX];
    fixture_path(root, sizeof(root), "hwmon-none");
    assert_int_equal(open_at(&s, &amdgpu_sensor_ops, root, NULL), -ENODEV);
    format_or_fail(msg, sizeof(msg), "no amdgpu hwmon chip under '%s/class/hwmon'", root);
    assert_string_equal(s.errmsg, msg);
    assert_int_equal(s.n_channels, 0);
    close_sensor(&s);
    assert_int_equal(open_at(&s, &intel_gpu_sensor_ops, root, NULL), -ENODEV);
    format_or_fail(msg, sizeof(msg), "no i915 or xe hwmon chip under '%s/class/hwmon'", root);
    assert_string_equal(s.errmsg, msg);
    close_sensor(&s);
    fixture_path(root, sizeof(root), "intel-client"); /* no class/hwmon at all */
    assert_int_equal(open_at(&s, &amdgpu_sensor_ops, root, NULL), -ENODEV);
    close_sensor(&s);
}

/* No selection, no selected chip (naming the chips there are), a chip with no reading. */
static void test_hwmon_open_errors_say_why(void **state)
{
    (void)state;
    struct sensor s;
    char root[PATH_MAX], msg[SENSOR_ERRMSG_MAX];
    fixture_path(root, sizeof(root), "hwmon-generic");
    assert_int_equal(open_at(&s, &hwmon_sensor_ops, root, NULL), -ENODEV);
    assert_string_equal(s.errmsg, "no generic hwmon chips selected (use --hwmon NAME,...)");
    close_sensor(&s);
    assert_int_equal(open_at(&s, &hwmon_sensor_ops, root, ""), -ENODEV);
    close_sensor(&s);
    assert_int_equal(open_at(&s, &hwmon_sensor_ops, root, "ina226"), -ENODEV);
    format_or_fail(msg, sizeof(msg),
                   "no selected hwmon chip: chip 'ina226' not found under '%s/class/hwmon' "
                   "(chips there: ina3221, power_meter, acpitz)",
                   root);
    assert_string_equal(s.errmsg, msg);
    close_sensor(&s);
    assert_int_equal(open_at(&s, &hwmon_sensor_ops, root, "acpitz"), -ENODEV);
    assert_string_equal(s.errmsg, "no energy or power reading in the selected hwmon chips: "
                                  "ignored hwmon0 (acpitz): no energy*_input, power*_input or "
                                  "power*_average");
    close_sensor(&s);
}

/* ---- read() --------------------------------------------------------------------------- */

static void test_read_vanished_file_fails_alone(void **state)
{
    struct sensor s;
    uint64_t values[SENSOR_MAX_CHANNELS];
    const char *tmp = copy_fixture(state, "hwmon-generic");
    open_ok(&s, &hwmon_sensor_ops, tmp, "ina3221");
    set_file(tmp, "class/hwmon/hwmon6/power2_input", NULL);
    set_file(tmp, "class/hwmon/hwmon6/power3_input", "960000\n");
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_int_equal(s.channels[0].read_err, 0);
    assert_true(values[0] == 7200000);
    assert_true(s.channels[1].read_err < 0);
    assert_int_equal(s.channels[2].read_err, 0);
    assert_true(values[2] == 960000);
    close_sensor(&s);
}

static void test_read_negative_is_erange_garbage_einval(void **state)
{
    struct sensor s;
    uint64_t values[SENSOR_MAX_CHANNELS];
    const char *tmp = copy_fixture(state, "hwmon-generic");
    open_ok(&s, &hwmon_sensor_ops, tmp, "ina3221");
    set_file(tmp, "class/hwmon/hwmon6/power1_input", "-5\n");
    set_file(tmp, "class/hwmon/hwmon6/power2_input", "n/a\n");
    assert_int_equal(s.ops->read(&s, values), 0);
    assert_int_equal(s.channels[0].read_err, -ERANGE);
    assert_int_equal(s.channels[1].read_err, -EINVAL);
    assert_int_equal(s.channels[2].read_err, 0);
    set_file(tmp, "class/hwmon/hwmon6/power3_input", "  -1\n");
    assert_int_equal(s.ops->read(&s, values), -ERANGE); /* nothing readable */
    set_file(tmp, "class/hwmon/hwmon6/power1_input", "7300000\n");
    assert_int_equal(s.ops->read(&s, values), 0); /* a good value clears the error */
    assert_int_equal(s.channels[0].read_err, 0);
    assert_true(values[0] == 7300000);
    close_sensor(&s);
    set_file(tmp, "class/hwmon/hwmon6/power1_input", "-7\n");
    set_file(tmp, "class/hwmon/hwmon6/power2_input", "1850000\n");
    set_file(tmp, "class/hwmon/hwmon6/power3_input", "950000\n");
    open_ok(&s, &hwmon_sensor_ops, tmp, "ina3221"); /* at open: left out with a note */
    assert_int_equal(s.n_channels, 2);
    assert_non_null(strstr(s.notes, "ignored hwmon6/power1_input (ina3221): negative value"));
    close_sensor(&s);
}

/* Root reads anything: as root, open() runs in a child that became uid 65534; as another
 * user the files are its own, so mode 0000 stops it. The child's exit status says whether
 * open() gave -EACCES with the message naming the file. */
static void test_unreadable_energy_is_eacces(void **state)
{
    char msg[SENSOR_ERRMSG_MAX];
    struct sensor s;
    const char *tmp = copy_fixture(state, "intel-xe");
    shell("chmod 0000 '%s'/class/hwmon/hwmon5/energy[12]_input", tmp);
    format_or_fail(msg, sizeof(msg),
                   "cannot read '%s/class/hwmon/hwmon5/energy2_input': Permission denied", tmp);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                               setresuid(NOBODY, NOBODY, NOBODY) < 0))
            _exit(2);
        int rc = open_at(&s, &intel_gpu_sensor_ops, tmp, NULL);
        int ok = rc == -EACCES && strcmp(s.errmsg, msg) == 0;
        if (!ok)
            fprintf(stderr, "# open as uid %d: %d: %s\n", (int)geteuid(), rc, s.errmsg);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_close_copes_with_half_open(void **state)
{
    (void)state;
    struct sensor s = { 0 };
    s.ops = &hwmon_sensor_ops;
    s.priv = calloc(1, s.ops->priv_size); /* never opened */
    assert_non_null(s.priv);
    s.ops->close(&s);
    close_sensor(&s);
    char root[PATH_MAX];
    fixture_path(root, sizeof(root), "amdgpu-dgpu");
    open_ok(&s, &amdgpu_sensor_ops, root, NULL); /* closing twice */
    s.ops->close(&s);
    close_sensor(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        open_case_test(amdgpu_dgpu_prefers_power1_input),
        open_case_test(amdgpu_power1_average_otherwise),
        open_case_test(amdgpu_energy_counter_comes_first),
        open_case_test(amdgpu_apu_beside_rapl_stays_out_of_total),
        open_case_test(amdgpu_apu_without_rapl_counts_as_package),
        open_case_test(amdgpu_two_gpus_in_pci_order),
        open_case_test(intel_xe_reads_card_energy),
        open_case_test(intel_xe_package_energy_otherwise),
        open_case_test(intel_i915_skips_per_gt_chips),
        open_case_test(intel_per_gt_without_device_energy),
        open_case_test(intel_two_gpus_beside_amdgpu),
        open_case_test(hwmon_selected_chips_only_missing_noted),
        open_case_test(hwmon_acpi_power_meter_is_a_node_total),
        open_case_test(hwmon_driver_name_and_list_order),
        open_case_test(hwmon_battery_meter_is_not_node),
        open_case_test(hwmon_energy_counters_come_first),
        cmocka_unit_test(test_gpus_absent_is_enodev),
        cmocka_unit_test(test_hwmon_open_errors_say_why),
        cmocka_unit_test_teardown(test_read_vanished_file_fails_alone, remove_copy),
        cmocka_unit_test_teardown(test_read_negative_is_erange_garbage_einval, remove_copy),
        cmocka_unit_test_teardown(test_unreadable_energy_is_eacces, remove_copy),
        cmocka_unit_test(test_close_copes_with_half_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
