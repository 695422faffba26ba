/* Secrets of wattprof serve's HTTP endpoint read from files: the TLS certificate and key
 * (HTTPS through libmicrohttpd) and the basic-auth file. Files that hold a secret must
 * be regular files only their owner can read, else serve refuses them (docs/daemon.md). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_FILE_MAX 65536 /* a PEM chain or key bigger than this is refused */

int daemon_read_file(struct wattprof_daemon *d, const char *option, const char *path, int secret,
                     char *buf, size_t size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | (secret ? O_NOFOLLOW : 0));
    if (fd < 0)
        return daemon_errorf(d, -errno, "cannot open %s '%s': %s", option, path, strerror(errno));
    ssize_t n = -1;
    int private = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 077);
    if (private || (!secret && S_ISREG(st.st_mode)))
        n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0 && secret)
        return daemon_errorf(d, -EACCES,
                             "%s '%s' must be a regular file that only its owner can read "
                             "(chmod 0600 '%s')",
                             option, path, path);
    if (n < 0)
        return daemon_errorf(d, -EINVAL, "%s '%s' is not a readable regular file", option, path);
    if ((size_t)n >= size - 1) {
        explicit_bzero(buf, size);
        return daemon_errorf(d, -EFBIG, "%s '%s' is too big (at most %zu bytes)", option, path,
                             size - 2);
    }
    buf[n] = '\0';
    return (int)n;
}

int daemon_tls_load(struct wattprof_daemon *d, const char *cert, const char *key)
{
    if (!cert && !key)
        return 0;
    if (!cert || !key)
        return daemon_errorf(d, -EINVAL, "HTTPS needs both --tls-cert FILE and --tls-key FILE");
    d->tls_cert = malloc(TLS_FILE_MAX);
    d->tls_key = malloc(TLS_FILE_MAX);
    if (!d->tls_cert || !d->tls_key)
        return daemon_errorf(d, -ENOMEM, "out of memory while reading the TLS files");
    int r = daemon_read_file(d, "--tls-cert", cert, 0, d->tls_cert, TLS_FILE_MAX);
    if (r >= 0)
        r = daemon_read_file(d, "--tls-key", key, 1, d->tls_key, TLS_FILE_MAX);
    if (r >= 0 && !strstr(d->tls_cert, "-----BEGIN CERTIFICATE-----"))
        r = daemon_errorf(d, -EINVAL, "--tls-cert '%s' holds no PEM certificate", cert);
    if (r >= 0 && !strstr(d->tls_key, "PRIVATE KEY-----"))
        r = daemon_errorf(d, -EINVAL, "--tls-key '%s' holds no PEM private key", key);
    return r < 0 ? r : 0;
}

void daemon_tls_free(struct wattprof_daemon *d)
{
    if (d->tls_key)
        explicit_bzero(d->tls_key, TLS_FILE_MAX);
    free(d->tls_key);
    free(d->tls_cert);
    d->tls_key = d->tls_cert = NULL;
}
