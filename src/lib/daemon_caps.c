/* wattprof serve gives up its privileges once the sensors are open and the socket and
 * port are bound: no new privileges (exec cannot gain any), an empty capability bounding
 * set, and no capability left. Capabilities are per thread, so this runs before the
 * daemon starts its threads, which inherit the result (docs/daemon.md). No libcap: the
 * two system calls are enough. */
#include "daemon.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Empties the bounding set; needs CAP_SETPCAP, which the caller checked. */
static int drop_bounding_set(void)
{
    for (int cap = 0; cap <= CAP_LAST_CAP + 32; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
            break; /* past the kernel's last capability */
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return -errno;
    }
    return 0;
}

int daemon_drop_capabilities(struct wattprof_daemon *d, int keep_setid)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return daemon_errorf(d, -errno, "cannot read the capabilities: %s", strerror(errno));
    int r = 0;
    if (data[CAP_TO_INDEX(CAP_SETPCAP)].effective & CAP_TO_MASK(CAP_SETPCAP))
        r = drop_bounding_set();
    if (r < 0)
        return daemon_errorf(d, r, "cannot empty the capability bounding set: %s", strerror(-r));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return daemon_errorf(d, -errno, "cannot set no_new_privs: %s", strerror(errno));
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    uint32_t keep[_LINUX_CAPABILITY_U32S_3] = { 0 };
    if (keep_setid) {
        keep[CAP_TO_INDEX(CAP_SETUID)] |= CAP_TO_MASK(CAP_SETUID);
        keep[CAP_TO_INDEX(CAP_SETGID)] |= CAP_TO_MASK(CAP_SETGID);
    }
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        data[i].effective &= keep[i];
        data[i].permitted &= keep[i];
        data[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return daemon_errorf(d, -errno, "cannot drop the capabilities: %s", strerror(errno));
    return 0;
}
