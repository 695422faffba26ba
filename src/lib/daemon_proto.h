/* The line protocol of wattprof serve's Unix socket, shared by the daemon (daemon_sock.c)
 * and its client backend (sensors/daemon.c). Requests are one short line; replies are
 * "ok N X" then N lines, or one "err MESSAGE" line (docs/daemon.md):
 *   channels -> ok N MIN_CLIENT_INTERVAL_NS, then per channel
 *               name TAB kind TAB domain TAB source TAB provenance TAB included TAB
 *               node_scope TAB note
 *   read     -> ok N T_NS, then per channel "ENERGY_UJ T_NS" (cumulative µJ since the
 *               daemon started, and when it was read, CLOCK_MONOTONIC ns)
 *   register PID JOB -> ok 0 0: attribute the CPU share of PID's process tree to JOB
 *               (a Slurm job id, a pod name or the pid) in /metrics
 * Pure functions: no I/O, no allocation. */
#ifndef WATTPROF_DAEMON_PROTO_H
#define WATTPROF_DAEMON_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "sensor.h"

#define DAEMON_PROTO_REQUEST_MAX 128 /* a longer request line closes the connection */
#define DAEMON_SYSTEM_SOCKET "/run/wattprof/wattprof.sock"
#define DAEMON_SOCKET_NAME "wattprof.sock"

enum daemon_cmd {
    DAEMON_CMD_CHANNELS,
    DAEMON_CMD_READ,
    DAEMON_CMD_REGISTER,
    DAEMON_CMD_UNKNOWN,
};

/* One channel as the socket describes it. */
struct daemon_proto_channel {
    char name[SENSOR_NAME_MAX];
    char kind[16];
    char domain[16];
    char source[24];
    char provenance[16];
    int included;
    int node_scope;
    char note[SENSOR_NOTE_MAX];
};

/* The command in one request line (len bytes, no newline; a trailing '\r' and blanks
 * are ignored). */
enum daemon_cmd daemon_proto_command(const char *line, size_t len);

#define DAEMON_PROTO_JOB_MAX 64 /* a job id, with its NUL */

/* Parses "register PID JOB" (len bytes, no newline): PID > 0, JOB 1 to 63 characters of
 * [A-Za-z0-9._:@/-]. Returns 0 or -EINVAL. */
int daemon_proto_parse_register(const char *line, size_t len, int *pid, char *job);

/* A job id made valid for "register": other characters become '_', cut at 63. */
void daemon_proto_job_name(const char *in, char *job);

/* Formats a channel line with its newline into buf. Tabs and newlines inside the fields
 * become spaces. Returns the length, or -ENOSPC. */
int daemon_proto_format_channel(char *buf, size_t size, const struct daemon_proto_channel *c);

/* Parses a channel line (without its newline). Returns 0 or -EPROTO. */
int daemon_proto_parse_channel(const char *line, struct daemon_proto_channel *c);

/* Parses "ok N X". Returns 0, -EPROTO, or -EREMOTEIO for an "err" line. */
int daemon_proto_parse_header(const char *line, uint64_t *n, uint64_t *x);

/* Parses "ENERGY_UJ T_NS". Returns 0 or -EPROTO. */
int daemon_proto_parse_reading(const char *line, uint64_t *energy_uj, uint64_t *t_ns);

/* Where a client looks for the daemon: $WATTPROF_SOCKET, else DAEMON_SYSTEM_SOCKET when
 * it exists, else $XDG_RUNTIME_DIR/wattprof.sock, else "". */
void daemon_proto_client_path(char *buf, size_t size);

#endif
