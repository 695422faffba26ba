/* Small-file access for sysfs and procfs, through a root prefix (see sysfs.h). */
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sysfs_path(char *buf, size_t size, const char *root, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(buf, size, "%s/", root);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, size - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= size - (size_t)n)
        return -ENAMETOOLONG;
    return 0;
}

int sysfs_open(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int read_fd_at0(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    if (n < 0)
        return -errno;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    return (int)n;
}

int sysfs_read_str(const char *path, char *buf, size_t size)
{
    int fd = sysfs_open(path);
    if (fd < 0)
        return fd;
    int r = read_fd_at0(fd, buf, size);
    close(fd);
    return r;
}

int sysfs_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s)
        return -EINVAL;
    while (*end == ' ' || *end == '\n' || *end == '\t')
        end++;
    if (*end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

int sysfs_read_u64(const char *path, uint64_t *out)
{
    char buf[64];
    int r = sysfs_read_str(path, buf, sizeof(buf));
    if (r < 0)
        return r;
    return sysfs_parse_u64(buf, out);
}

int sysfs_pread_u64(int fd, uint64_t *out)
{
    char buf[64];
    int r = read_fd_at0(fd, buf, sizeof(buf));
    if (r < 0)
        return r;
    if (r == 0)
        return -ENODATA;
    return sysfs_parse_u64(buf, out);
}

const char *sysfs_strerror(int neg_err)
{
    static const struct {
        int err;
        const char *text;
    } texts[] = {
        { EACCES, "Permission denied" },
        { EPERM, "Operation not permitted" },
        { ENOENT, "No such file or directory" },
        { ENODEV, "No such device" },
        { EIO, "Input/output error" },
        { EINVAL, "not a decimal number" },
        { ERANGE, "negative value" },
        { ENODATA, "empty file" },
        { ENOSPC, "no channel left" },
        { ENAMETOOLONG, "path too long" },
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (texts[i].err == -neg_err)
            return texts[i].text;
    return "read error";
}
