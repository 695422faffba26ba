/* Walking class/hwmon and reading its files, for the backends over hwmon (see
 * hwmon_common.h). Real systems make class/hwmon/hwmonN a link into the device that
 * registered the chip (devices/pci0000:00/.../0000:03:00.0/hwmon/hwmonN); paths here go
 * through class/hwmon and let the kernel, or the fake tree, follow the links. */
#include "hwmon_common.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

int hwmon_path(char *buf, size_t size, const struct sensor *s, const struct hwmon_chip *c,
               const char *file)
{
    return sysfs_path(buf, size, s->sysfs_root, "class/hwmon/hwmon%u/%s", c->num, file);
}

int hwmon_has(const struct sensor *s, const struct hwmon_chip *c, const char *file)
{
    char path[PATH_MAX];
    return hwmon_path(path, sizeof(path), s, c, file) == 0 && access(path, F_OK) == 0;
}

int hwmon_read_str(const struct sensor *s, const struct hwmon_chip *c, const char *file, char *buf,
                   size_t size)
{
    char path[PATH_MAX];
    int r = hwmon_path(path, sizeof(path), s, c, file);
    return r < 0 ? r : sysfs_read_str(path, buf, size);
}

/* 1 when the text, after blanks, starts with a minus sign. */
static int is_negative(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '-')
            return 1;
        if (text[i] != ' ' && text[i] != '\t')
            return 0;
    }
    return 0;
}

int hwmon_read_u64(const struct sensor *s, const struct hwmon_chip *c, const char *file,
                   uint64_t *out)
{
    char buf[64];
    int r = hwmon_read_str(s, c, file, buf, sizeof(buf));
    if (r < 0)
        return r;
    if (is_negative(buf, (size_t)r))
        return -ERANGE;
    return sysfs_parse_u64(buf, out);
}

int hwmon_pread(int fd, uint64_t *out)
{
    int r = sysfs_pread_u64(fd, out);
    if (r != -EINVAL)
        return r;
    /* Not a number: look again only to tell a negative value from garbage. */
    char buf[8];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    return n > 0 && is_negative(buf, (size_t)n) ? -ERANGE : r;
}

/* N of a directory entry "hwmonN". Returns 0 or -1. */
static int parse_num(const char *d_name, unsigned *num)
{
    char *end;
    if (strncmp(d_name, "hwmon", 5) != 0 || d_name[5] < '0' || d_name[5] > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(d_name + 5, &end, 10);
    if (errno != 0 || *end != '\0' || v > UINT_MAX)
        return -1;
    *num = (unsigned)v;
    return 0;
}

/* Fills the chip's name (`name`, or device/name for chips registered the old way) and
 * its device. Returns 0, or -1 for a chip without a name. */
static int chip_probe(const struct sensor *s, struct hwmon_chip *c)
{
    char path[PATH_MAX], link[PATH_MAX];
    if (hwmon_read_str(s, c, "name", c->name, sizeof(c->name)) <= 0 &&
        hwmon_read_str(s, c, "device/name", c->name, sizeof(c->name)) <= 0)
        return -1;
    c->dev[0] = '\0';
    if (hwmon_path(path, sizeof(path), s, c, "device") < 0)
        return 0;
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n > 0) {
        link[n] = '\0';
        const char *base = strrchr(link, '/');
        base = base != NULL ? base + 1 : link;
        size_t len = strnlen(base, sizeof(c->dev) - 1);
        memcpy(c->dev, base, len); /* a longer device name is cut */
        c->dev[len] = '\0';
    }
    return 0;
}

static int chip_cmp(const void *a, const void *b)
{
    const struct hwmon_chip *x = a, *y = b;
    int d = strcmp(x->dev, y->dev);
    if (d != 0)
        return d;
    return x->num < y->num ? -1 : x->num > y->num;
}

int hwmon_scan(struct sensor *s, struct hwmon_chips *out)
{
    char dir[PATH_MAX];
    out->n = 0;
    if (sysfs_path(dir, sizeof(dir), s->sysfs_root, "class/hwmon") < 0)
        return sensor_errorf(s, -ENAMETOOLONG, "sysfs root '%s' is too long", s->sysfs_root);
    DIR *d = opendir(dir);
    if (d == NULL && (errno == EACCES || errno == EPERM))
        return sensor_errorf(s, -EACCES, "cannot list '%s': Permission denied", dir);
    for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
        struct hwmon_chip c = { 0 };
        if (parse_num(e->d_name, &c.num) < 0 || chip_probe(s, &c) < 0)
            continue;
        if (out->n == HWMON_MAX_CHIPS) {
            sensor_notef(s, "more than %d hwmon chips: ignored hwmon%u", HWMON_MAX_CHIPS, c.num);
            continue;
        }
        out->chips[out->n++] = c;
    }
    if (d != NULL)
        closedir(d);
    qsort(out->chips, out->n, sizeof(out->chips[0]), chip_cmp);
    return 0;
}

int hwmon_add_channel(struct sensor *s, const char *name, const struct hwmon_chip *c,
                      const char *file, struct sensor_channel **out)
{
    struct hwmon_priv *p = s->priv;
    struct sensor_channel *ch = NULL;
    char path[PATH_MAX];
    uint64_t first;
    int fd = hwmon_path(path, sizeof(path), s, c, file);
    if (fd == 0)
        fd = sysfs_open(path);
    int r = fd < 0 ? fd : hwmon_pread(fd, &first);
    if (r == -EACCES) { /* the file's mode; a driver's refusal (-EPERM) is not this */
        p->denied = 1;
        sensor_errorf(s, -EACCES, "cannot read '%s': %s", path, sysfs_strerror(r));
    }
    if (r == 0) {
        ch = sensor_add_channel(s, name);
        r = ch != NULL ? 0 : -ENOSPC;
    }
    if (r < 0) {
        if (fd >= 0)
            close(fd);
        return r;
    }
    p->fd[s->n_channels - 1] = fd;
    p->n_fds = s->n_channels;
    snprintf(ch->note, sizeof(ch->note), "class/hwmon/hwmon%u/%s (%s%s%s)", c->num, file, c->name,
             c->dev[0] != '\0' ? ", " : "", c->dev);
    *out = ch;
    return 0;
}

void hwmon_reset(struct sensor *s)
{
    struct hwmon_priv *p = s->priv;
    memset(p, 0, sizeof(*p));
    s->n_channels = 0;
}

int hwmon_fail(struct sensor *s, int err, const char *what)
{
    struct hwmon_priv *p = s->priv;
    hwmon_close(s);
    s->n_channels = 0;
    if (p->denied)
        return -EACCES;
    size_t len = (size_t)snprintf(s->errmsg, sizeof(s->errmsg), "%s", what);
    const char *sep = ": ";
    for (const char *n = s->notes; *n != '\0' && len < sizeof(s->errmsg); sep = "; ") {
        size_t line = strcspn(n, "\n");
        len +=
            (size_t)snprintf(s->errmsg + len, sizeof(s->errmsg) - len, "%s%.*s", sep, (int)line, n);
        n += line;
        if (*n == '\n')
            n++;
    }
    return err;
}

int hwmon_read(struct sensor *s, uint64_t *values)
{
    const struct hwmon_priv *p = s->priv;
    int first_err = 0;
    size_t n_ok = 0;
    for (size_t i = 0; i < s->n_channels; i++) {
        int r = i < p->n_fds ? hwmon_pread(p->fd[i], &values[i]) : -EBADF;
        s->channels[i].read_err = r;
        if (r < 0) {
            values[i] = 0;
            first_err = first_err != 0 ? first_err : r;
        } else {
            n_ok++;
        }
    }
    return n_ok > 0 || s->n_channels == 0 ? 0 : first_err;
}

void hwmon_close(struct sensor *s)
{
    struct hwmon_priv *p = s->priv;
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_fds; i++)
        if (p->fd[i] >= 0)
            close(p->fd[i]);
    p->n_fds = 0;
}
