/* wattprof control: send one control message to the enclosing `wattprof run`, for
 * workloads written in shell: `wattprof control begin e1 epoch`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
    "usage: wattprof control MESSAGE...\n"
    "\n"
    "Sends one message to the `wattprof run` this command runs under (found through\n"
    "WATTPROF_CONTROL); the words are joined by spaces. Messages (docs/control-protocol.md):\n"
    "  begin TAG NAME              a window named NAME begins; TAG names it in later lines\n"
    "  end TAG                     it ends\n"
    "  units TAG N [UNIT]          the window did N units of work (e.g. 512 samples)\n"
    "  metric NAME VALUE [TAG]     a metric of the window TAG, or of the run\n"
    "  run-units N [UNIT]          units of work of the whole run\n"
    "Outside `wattprof run` it does nothing and exits 0 (so scripts run either way),\n"
    "unless --strict is given (then it exits 1).\n";

static int send_line(const char *path, const char *line)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line))
        r = -errno;
    close(fd);
    return r;
}

int cmd_control(int argc, char **argv)
{
    int strict = 0;
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage_text, stdout);
        return cli_finish_stdout();
    }
    if (argc > 1 && strcmp(argv[1], "--strict") == 0) {
        strict = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "wattprof control: missing message\n%s", usage_text);
        return EXIT_USAGE;
    }
    char line[1024];
    size_t len = 0;
    for (int i = first; i < argc; i++) {
        int n = snprintf(line + len, sizeof(line) - len, "%s%s", i > first ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
            fprintf(stderr, "wattprof control: message longer than 1023 bytes\n");
            return EXIT_USAGE;
        }
        len += (size_t)n;
    }
    line[len++] = '\n';
    line[len] = '\0';
    const char *path = getenv("WATTPROF_CONTROL");
    if (!path || !*path) {
        if (strict)
            cli_error("not running under 'wattprof run' (WATTPROF_CONTROL is not set)");
        return strict ? 1 : 0;
    }
    int r = send_line(path, line);
    if (r < 0) {
        cli_error("cannot reach the enclosing run at '%s': %s", path, strerror(-r));
        return 1;
    }
    return 0;
}
