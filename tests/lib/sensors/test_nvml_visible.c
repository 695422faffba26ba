/* Tests for CUDA_VISIBLE_DEVICES as the nvml backend reads it (nvml_visible.c), on
 * made-up GPU lists without any library: indices, UUIDs and unique prefixes, the entry
 * that ends the list, repeats, MIG instances (through stand-ins for the two NVML calls),
 * and the notes that say what was selected. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nvml_visible.h"

#define N_GPUS 4

/* Four GPUs "GPU-0000000N-fa4e-..." named "A100", but GPU 3 which is an "H100". */
struct fixture {
    struct sensor s;
    struct sensor_config cfg;
    struct nvml_api api;
    struct nvml_phys phys[N_GPUS];
    struct nvml_selection sel;
};

/* Stand-ins for nvmlDeviceGetHandleByUUID and nvmlDeviceGetDeviceHandleFromMigDeviceHandle:
 * "MIG-2" is a MIG instance of the GPU whose handle is the_parent. */
static struct nvml_device *the_parent;
static char mig_handle;

static int fake_handle_by_uuid(const char *uuid, struct nvml_device **dev)
{
    if (strcmp(uuid, "MIG-2") != 0)
        return NVML_ERROR_NOT_FOUND;
    *dev = (struct nvml_device *)(void *)&mig_handle;
    return NVML_SUCCESS;
}

static int fake_mig_parent(struct nvml_device *mig, struct nvml_device **parent)
{
    if (mig != (struct nvml_device *)(void *)&mig_handle)
        return NVML_ERROR_INVALID_ARGUMENT;
    *parent = the_parent;
    return NVML_SUCCESS;
}

static int setup(void **state)
{
    static struct fixture f;
    static char handles[N_GPUS];
    memset(&f, 0, sizeof(f));
    f.s.cfg = &f.cfg;
    for (int i = 0; i < N_GPUS; i++) {
        f.phys[i].dev = (struct nvml_device *)(void *)&handles[i];
        snprintf(f.phys[i].name, sizeof(f.phys[i].name), "%s", i == 3 ? "H100" : "A100");
        snprintf(f.phys[i].uuid, sizeof(f.phys[i].uuid), "GPU-%08x-fa4e-4e00-8000-%012x", i, i);
    }
    the_parent = f.phys[2].dev;
    *state = &f;
    return 0;
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("'%s' not found in:\n%s", part, text);
}

/* Selects among the GPUs (all, or the first n) under cvd; expect ends with -1. */
static void assert_selects(struct fixture *f, size_t n, const char *cvd, const int *expect)
{
    f->cfg.cuda_visible_devices = cvd;
    memset(f->s.notes, 0, sizeof(f->s.notes));
    assert_int_equal(nvml_select_visible(&f->s, &f->api, f->phys, n, &f->sel), 0);
    size_t k = 0;
    for (; expect[k] >= 0; k++) {
        assert_true(k < f->sel.n);
        assert_int_equal(f->sel.phys[k], expect[k]);
    }
    assert_int_equal(f->sel.n, k);
}

static void test_nvml_visible_unset_selects_all_in_order(void **state)
{
    struct fixture *f = *state;
    assert_selects(f, 3, NULL, (const int[]){ 0, 1, 2, -1 });
    assert_contains(f->s.notes, "CUDA_VISIBLE_DEVICES unset: 3 of 3 GPUs: gpu:0 = nvml 0, "
                                "gpu:1 = nvml 1, gpu:2 = nvml 2");
    assert_null(strstr(f->s.notes, "GPUs differ")); /* three A100s: no order caveat */
    assert_selects(f, N_GPUS, NULL, (const int[]){ 0, 1, 2, 3, -1 });
    assert_contains(f->s.notes, "GPUs differ: indices follow NVML (PCI bus) order");
}

static void test_nvml_visible_by_index(void **state)
{
    struct fixture *f = *state;
    assert_selects(f, N_GPUS, "2,0", (const int[]){ 2, 0, -1 });
    assert_contains(f->s.notes, "CUDA_VISIBLE_DEVICES '2,0': 2 of 4 GPUs: gpu:0 = nvml 2, "
                                "gpu:1 = nvml 0");
    assert_selects(f, N_GPUS, " 3 ,\t1 ", (const int[]){ 3, 1, -1 });
    assert_selects(f, N_GPUS, "1,1,0", (const int[]){ 1, 0, -1 });
    assert_contains(f->s.notes, "'1' is nvml 1 again: counted once");
}

static void test_nvml_visible_by_uuid_and_prefix(void **state)
{
    struct fixture *f = *state;
    assert_selects(f, N_GPUS, "GPU-00000003-fa4e-4e00-8000-000000000003", (const int[]){ 3, -1 });
    assert_selects(f, N_GPUS, "GPU-00000002,gpu-00000000-FA4E", (const int[]){ 2, 0, -1 });
    assert_selects(f, N_GPUS, "1,GPU-00000002-fa4e-4e00-8000-000000000002",
                   (const int[]){ 1, 2, -1 });
    /* "GPU-0000" fits every GPU: ambiguous, so the list ends there */
    assert_selects(f, N_GPUS, "1,GPU-0000,2", (const int[]){ 1, -1 });
    assert_contains(f->s.notes, "'GPU-0000' is not a GPU here: the list ends there, as in CUDA");
}

static void test_nvml_visible_invalid_entry_ends_list(void **state)
{
    struct fixture *f = *state;
    assert_selects(f, N_GPUS, "1,x,2", (const int[]){ 1, -1 });
    assert_contains(f->s.notes, "'x' is not a GPU here");
    assert_selects(f, N_GPUS, "0,7,1", (const int[]){ 0, -1 });
    assert_selects(f, N_GPUS, "3,-1,0", (const int[]){ 3, -1 });
    assert_selects(f, N_GPUS, "2,,0", (const int[]){ 2, -1 });
    assert_selects(f, N_GPUS, "3,0x1,0", (const int[]){ 3, -1 });
}

static void test_nvml_visible_nothing_left_is_enodev(void **state)
{
    struct fixture *f = *state;
    /* a prefix is not enough for the older MIG form that names its parent */
    static const char *const hiding[] = { "",         "7,0",   "x",
                                          "GPU-ffff", "MIG-9", "MIG-GPU-00000001/1/0" };
    for (size_t i = 0; i < sizeof(hiding) / sizeof(hiding[0]); i++) {
        char want[96];
        f->cfg.cuda_visible_devices = hiding[i];
        assert_int_equal(nvml_select_visible(&f->s, &f->api, f->phys, N_GPUS, &f->sel), -ENODEV);
        assert_int_equal(f->sel.n, 0);
        snprintf(want, sizeof(want), "CUDA_VISIBLE_DEVICES='%s' hides every GPU (4 found)",
                 hiding[i]);
        assert_string_equal(f->s.errmsg, want);
    }
}

static void test_nvml_visible_mig_is_its_parent(void **state)
{
    struct fixture *f = *state;
    /* without the NVML calls, only the older form that names its parent resolves */
    assert_selects(f, N_GPUS, "MIG-GPU-00000001-fa4e-4e00-8000-000000000001/1/0,MIG-2",
                   (const int[]){ 1, -1 });
    assert_contains(f->s.notes, "'MIG-GPU-00000001-fa4e-4e00-8000-000000000001/1/0' is a MIG "
                                "instance: per-MIG energy is not available; gpu:0 reports its "
                                "whole parent GPU (nvml 1)");
    assert_contains(f->s.notes, "'MIG-2' is not a GPU here");
    f->api.get_handle_by_uuid = fake_handle_by_uuid;
    f->api.get_mig_parent = fake_mig_parent;
    assert_selects(f, N_GPUS, "0,MIG-2", (const int[]){ 0, 2, -1 });
    assert_contains(f->s.notes, "gpu:1 reports its whole parent GPU (nvml 2)");
}

static void test_nvml_visible_gpu_without_uuid(void **state)
{
    struct fixture *f = *state;
    f->phys[0].uuid[0] = '\0'; /* NVML could not say: only its index selects it */
    assert_selects(f, N_GPUS, "0,GPU-00000001", (const int[]){ 0, 1, -1 });
    assert_selects(f, N_GPUS, "3,GPU-00000000", (const int[]){ 3, -1 });
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_nvml_visible_unset_selects_all_in_order, setup),
        cmocka_unit_test_setup(test_nvml_visible_by_index, setup),
        cmocka_unit_test_setup(test_nvml_visible_by_uuid_and_prefix, setup),
        cmocka_unit_test_setup(test_nvml_visible_invalid_entry_ends_list, setup),
        cmocka_unit_test_setup(test_nvml_visible_nothing_left_is_enodev, setup),
        cmocka_unit_test_setup(test_nvml_visible_mig_is_its_parent, setup),
        cmocka_unit_test_setup(test_nvml_visible_gpu_without_uuid, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
