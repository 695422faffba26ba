/* Small-file access for sysfs and procfs: every hardware path goes through a root
 * prefix ("/sys", or $WATTPROF_SYSFS in tests) so fake trees can stand in for it. */
#ifndef WATTPROF_SYSFS_H
#define WATTPROF_SYSFS_H

#include <stddef.h>
#include <stdint.h>

/* Writes root + "/" + formatted relative path into buf. Returns 0, or -ENAMETOOLONG. */
int sysfs_path(char *buf, size_t size, const char *root, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reads a whole small file into buf (NUL-terminated, trailing newlines stripped).
 * Returns the length, or a negative errno (-ENOENT, -EACCES, -EIO, ...). */
int sysfs_read_str(const char *path, char *buf, size_t size);

/* Reads a file holding one unsigned decimal integer. Returns 0, a negative errno from
 * the read, or -EINVAL when the content is not a number. */
int sysfs_read_u64(const char *path, uint64_t *out);

/* Opens a file for repeated reads with sysfs_pread_u64 (O_RDONLY | O_CLOEXEC).
 * Returns the fd or a negative errno. */
int sysfs_open(const char *path);

/* Reads one unsigned decimal integer at offset 0 of an open fd, without allocating.
 * Returns 0, a negative errno, or -EINVAL when the content is not a number. */
int sysfs_pread_u64(int fd, uint64_t *out);

/* Parses an unsigned decimal integer from s, allowing trailing white space only.
 * Returns 0 or -EINVAL. */
int sysfs_parse_u64(const char *s, uint64_t *out);

/* Text for the negative errno of a file read, the same in every locale (for notes and
 * messages): "Permission denied", "not a decimal number", "empty file", ... */
const char *sysfs_strerror(int neg_err);

#endif
