/* Tests for per-cgroup attribution on fake cgroup trees (v2 cpu.stat, v1 cpuacct.usage):
 * which hierarchy is found, the exact shares, the depth and count limits, and gone
 * cgroups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cgroups.h"

#define MS 1000000ull /* ns */

struct tree {
    char root[64];
};

/* Writes text to root/rel, creating the directories on the way. */
static void put(const struct tree *t, const char *rel, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", t->root, rel);
    for (char *p = path + strlen(t->root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A v2 cpu.stat with usage_usec = ms * 1000 at dir ("" for the top). */
static void put_v2(const struct tree *t, const char *dir, uint64_t ms)
{
    char rel[256], text[256];
    snprintf(rel, sizeof(rel), "%s%scpu.stat", dir, *dir ? "/" : "");
    snprintf(text, sizeof(text), "usage_usec %llu\nuser_usec 1\nsystem_usec 2\n",
             (unsigned long long)ms * 1000);
    put(t, rel, text);
}

static int setup(void **state)
{
    struct tree *t = calloc(1, sizeof(*t));
    snprintf(t->root, sizeof(t->root), "/tmp/wattprof-cg-XXXXXX");
    assert_non_null(mkdtemp(t->root));
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tree *t = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
    assert_int_equal(system(cmd), 0);
    free(t);
    return 0;
}

static const struct cgroups_entry *entry(const struct cgroups *cg, const char *path)
{
    for (size_t i = 0; i < cg->n_entries; i++)
        if (strcmp(cg->entries[i].path, path) == 0)
            return &cg->entries[i];
    return NULL;
}

static double energy(const struct cgroups *cg, const char *path)
{
    const struct cgroups_entry *e = entry(cg, path);
    assert_non_null(e);
    return e->energy_uj;
}

/* After k steps: / 1000k ms (own 400k), /a 500k (own 200k), /a/x 300k, /b 100k. */
static void v2_tree(const struct tree *t, uint64_t k)
{
    put(t, "cgroup.controllers", "cpu io memory\n");
    put_v2(t, "", 1000 * k);
    put_v2(t, "a", 500 * k);
    put_v2(t, "a/x", 300 * k);
    put_v2(t, "b", 100 * k);
}

static void walk_attribute(struct cgroups *cg, uint64_t energy_uj, uint64_t busy_ns)
{
    assert_int_equal(cgroups_walk(cg), 0);
    cgroups_attribute(cg, energy_uj, busy_ns, 1);
}

/* Opens the v2 tree with the limits, primes, then steps it once (the deltas above). */
static void open_stepped(const struct tree *t, struct cgroups *cg, unsigned depth, unsigned max)
{
    v2_tree(t, 0);
    assert_int_equal(cgroups_open(cg, t->root, depth, max), 0);
    walk_attribute(cg, 0, 0);
    v2_tree(t, 1);
}

static void test_cgroups_v2_shares_are_exact(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    v2_tree(t, 0);
    assert_int_equal(cgroups_open(&cg, t->root, 3, 16), 0);
    assert_int_equal(cg.version, CGROUPS_V2);
    walk_attribute(&cg, 0, 0);
    assert_int_equal(cg.n_entries, 4);
    assert_true(energy(&cg, "/a/x") == 0);
    v2_tree(t, 1);
    walk_attribute(&cg, 5000000, 0); /* 5 J; no busy time read: shares of the 1000 ms */
    assert_float_equal(energy(&cg, "/"), 2000000.0, 1e-3);
    assert_float_equal(energy(&cg, "/a/x"), 1500000.0, 1e-3);
    walk_attribute(&cg, 0, 0); /* nothing changed: no energy either */
    v2_tree(t, 2);
    walk_attribute(&cg, 10000000, 2000 * MS); /* 10 J over 2 s of busy CPU */
    /* 1000 ms of usage < 2000 ms busy: shares of the busy time, half unattributed */
    assert_float_equal(energy(&cg, "/"), 4000000.0, 1e-3);
    assert_float_equal(energy(&cg, "/a"), 2000000.0, 1e-3);
    assert_float_equal(energy(&cg, "/a/x"), 3000000.0, 1e-3);
    assert_float_equal(energy(&cg, "/b"), 1000000.0, 1e-3);
    assert_int_equal(cg.truncated, 0);
    cgroups_close(&cg);
}

static void test_cgroups_never_exceed_the_measured_energy(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    open_stepped(t, &cg, 3, 16);
    /* busy time (100 ms) below the cgroups' 1000 ms: shares of their sum instead */
    walk_attribute(&cg, 3000000, 100 * MS);
    double sum = 0;
    for (size_t i = 0; i < cg.n_entries; i++)
        sum += cg.entries[i].energy_uj;
    assert_float_equal(sum, 3000000.0, 1e-3);
    assert_float_equal(energy(&cg, "/a/x"), 900000.0, 1e-3);
    cgroups_close(&cg);
}

static void test_cgroups_depth_limit_folds_into_the_parent(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    open_stepped(t, &cg, 1, 16);
    walk_attribute(&cg, 10000000, 1000 * MS);
    assert_int_equal(cg.n_entries, 3);
    assert_null(entry(&cg, "/a/x"));
    assert_float_equal(energy(&cg, "/a"), 5000000.0, 1e-3); /* its own 200 + x's 300 ms */
    cgroups_close(&cg);
}

static void test_cgroups_count_limit_truncates(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    open_stepped(t, &cg, 3, 2);
    walk_attribute(&cg, 10000000, 1000 * MS);
    assert_int_equal(cg.n_entries, 2);
    assert_int_equal(cg.truncated, 1);
    /* the top and one of /a, /b: everything lands in the two, nothing is lost */
    assert_float_equal(cg.entries[0].energy_uj + cg.entries[1].energy_uj, 10000000.0, 1e-3);
    assert_non_null(entry(&cg, "/"));
    cgroups_close(&cg);
}

static void test_cgroups_gone_shown_once_then_dropped(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    char cmd[256];
    open_stepped(t, &cg, 3, 16);
    walk_attribute(&cg, 10000000, 1000 * MS);
    snprintf(cmd, sizeof(cmd), "rm -r '%s/b'", t->root);
    assert_int_equal(system(cmd), 0);
    walk_attribute(&cg, 0, 0);
    const struct cgroups_entry *b = entry(&cg, "/b");
    assert_non_null(b);
    assert_true(b->gone);
    assert_float_equal(b->energy_uj, 1000000.0, 1e-3); /* kept until a scrape shows it */
    cg.entries[b - cg.entries].scraped = 1;
    walk_attribute(&cg, 0, 0);
    assert_null(entry(&cg, "/b"));
    assert_int_equal(cg.n_entries, 3);
    cgroups_close(&cg);
}

static void test_cgroups_v1_cpuacct(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    put(t, "cpuacct/cpuacct.usage", "1000000000\n");
    put(t, "cpuacct/slurm/cpuacct.usage", "600000000\n");
    put(t, "cpuacct/slurm/job_7/cpuacct.usage", "500000000\n");
    put(t, "memory/slurm/job_7/memory.usage_in_bytes", "1\n");
    assert_int_equal(cgroups_open(&cg, t->root, 3, 16), 0);
    assert_int_equal(cg.version, CGROUPS_V1);
    walk_attribute(&cg, 0, 0);
    put(t, "cpuacct/cpuacct.usage", "3000000000\n");
    put(t, "cpuacct/slurm/cpuacct.usage", "1600000000\n");
    put(t, "cpuacct/slurm/job_7/cpuacct.usage", "1300000000\n");
    walk_attribute(&cg, 4000000, 2000 * MS); /* 4 J over 2 s busy */
    assert_float_equal(energy(&cg, "/slurm/job_7"), 1600000.0, 1e-3);
    assert_float_equal(energy(&cg, "/slurm"), 400000.0, 1e-3);
    assert_float_equal(energy(&cg, "/"), 2000000.0, 1e-3);
    cgroups_close(&cg);
}

static void test_cgroups_hybrid_prefers_unified(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    char want[PATH_MAX];
    put(t, "cpuacct/cpuacct.usage", "1000\n");
    put(t, "unified/cgroup.controllers", "\n");
    put(t, "unified/cpu.stat", "usage_usec 5\n");
    assert_int_equal(cgroups_open(&cg, t->root, 3, 16), 0);
    assert_int_equal(cg.version, CGROUPS_V2);
    snprintf(want, sizeof(want), "%s/unified", t->root);
    assert_string_equal(cg.dir, want);
    cgroups_close(&cg);
}

static void test_cgroups_none_is_enoent(void **state)
{
    struct tree *t = *state;
    struct cgroups cg;
    put(t, "memory/memory.usage_in_bytes", "1\n");
    assert_int_equal(cgroups_open(&cg, t->root, 3, 16), -ENOENT);
    assert_int_equal(cg.version, CGROUPS_NONE);
    assert_int_equal(cgroups_walk(&cg), -ENOENT);
    cgroups_close(&cg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cgroups_v2_shares_are_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cgroups_never_exceed_the_measured_energy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cgroups_depth_limit_folds_into_the_parent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cgroups_count_limit_truncates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cgroups_gone_shown_once_then_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cgroups_v1_cpuacct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cgroups_hybrid_prefers_unified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cgroups_none_is_enoent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
