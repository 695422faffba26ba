/* Helpers shared by the sensor backend tests (see sensor_test_util.h). */
#include "sensor_test_util.h"

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

void format_or_fail(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < size);
}

void run_argv(char *const argv[])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

const char *make_tmp_dir(void **state, const char *what)
{
    char *tmp = malloc(PATH_MAX);
    assert_non_null(tmp);
    format_or_fail(tmp, PATH_MAX, "/tmp/wattprof-%s-XXXXXX", what);
    assert_non_null(mkdtemp(tmp));
    *state = tmp;
    assert_int_equal(chmod(tmp, 0755), 0);
    return tmp;
}

int remove_tmp_dir(void **state)
{
    char *tmp = *state;
    if (tmp == NULL)
        return 0;
    char *rm[] = { "rm", "-rf", tmp, NULL };
    run_argv(rm);
    free(tmp);
    *state = NULL;
    return 0;
}

void close_sensor(struct sensor *s)
{
    s->ops->close(s);
    free(s->priv);
    s->priv = NULL;
}

static void open_for_result(int (*open_at)(struct sensor *s, const char *root), const char *root,
                            struct open_result *res)
{
    struct sensor s;
    res->rc = open_at(&s, root);
    memcpy(res->errmsg, s.errmsg, sizeof(res->errmsg));
    close_sensor(&s);
}

void open_unprivileged(int (*open_at)(struct sensor *s, const char *root), const char *root,
                       struct open_result *res)
{
    int fds[2];
    memset(res, 0, sizeof(*res));
    if (geteuid() != 0) {
        open_for_result(open_at, root, res);
        return;
    }
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct open_result child = { 0 };
        close(fds[0]);
        if (setgroups(0, NULL) < 0 ||
            setresgid(SENSOR_TEST_NOBODY, SENSOR_TEST_NOBODY, SENSOR_TEST_NOBODY) < 0 ||
            setresuid(SENSOR_TEST_NOBODY, SENSOR_TEST_NOBODY, SENSOR_TEST_NOBODY) < 0)
            child.setid_err = errno;
        else
            open_for_result(open_at, root, &child);
        ssize_t n = write(fds[1], &child, sizeof(child));
        _exit(n == (ssize_t)sizeof(child) ? 0 : 1);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], res, sizeof(*res));
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(n == (ssize_t)sizeof(*res));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

const struct sensors_entry *sensors_entry_named(const struct sensors *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->entries[i].ops->name, name) == 0)
            return &set->entries[i];
    fail_msg("no backend '%s'", name);
    return NULL;
}
