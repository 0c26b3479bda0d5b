/*
 * target.h: the server under test: its address and its pid (for /proc), either given (--port,
 * --server-pid) or started here (--spawn BIN: a free port on 127.0.0.1, --bind 127.0.0.1, output to a
 * log file, stopped with SIGTERM then SIGKILL at the end).
 */
#ifndef CINDER_BENCH_TARGET_H
#define CINDER_BENCH_TARGET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct target {
    struct sockaddr_in addr;
    pid_t pid; /* 0 when unknown (no /proc figures then) */
    bool spawned;
    char log_path[128]; /* the spawned server's output */
};

/* Starts bin (borrowed argv strings) with --bind 127.0.0.1 --port P plus extra arguments, and waits
 * until it accepts connections. 0, or -1 with err set (the process is stopped again). */
int target_spawn(struct target *t, const char *bin, char *const *extra, int nextra, char *err, size_t errlen);

/* Whether the server process still runs (true when its pid is unknown). */
bool target_alive(const struct target *t);

/* Stops a spawned server (SIGTERM, SIGKILL after 5 s) and removes its log unless keep_log. */
void target_stop(struct target *t, bool keep_log);

#endif
