/*
 * target.c: the server under test (see target.h).
 */
#include "target.h"

#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TARGET_MAX_ARGS 64

int target_spawn(struct target *t, const char *bin, char *const *extra, int nextra, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (nextra > TARGET_MAX_ARGS - 8) {
        snprintf(err, errlen, "too many server arguments");
        return -1;
    }
    int port = net_free_port();
    if (port < 0 || net_loopback_addr("127.0.0.1", port, &t->addr) != 0) {
        snprintf(err, errlen, "no free port on 127.0.0.1");
        return -1;
    }
    snprintf(t->log_path, sizeof(t->log_path), "/tmp/loadgen-server-%d-%d.log", (int)getpid(), port);
    int logfd = open(t->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(err, errlen, "%s: %s", t->log_path, strerror(errno));
        return -1;
    }
    char port_s[16];
    snprintf(port_s, sizeof(port_s), "%d", port);
    char *argv[TARGET_MAX_ARGS];
    int n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = port_s;
    for (int i = 0; i < nextra; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(logfd);
        return -1;
    }
    if (pid == 0) {
        dup2(logfd, 1);
        dup2(logfd, 2);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execv(bin, argv);
        dprintf(2, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    t->pid = pid;
    t->spawned = true;
    if (net_wait_listening(&t->addr, 5000) != 0 || !target_alive(t)) {
        snprintf(err, errlen, "%s did not start listening on 127.0.0.1:%d within 5 s (log: %s)", bin, port,
                 t->log_path);
        target_stop(t, true);
        return -1;
    }
    return 0;
}

bool target_alive(const struct target *t)
{
    if (t->pid <= 0)
        return true;
    if (t->spawned) {
        int st;
        return waitpid(t->pid, &st, WNOHANG) == 0;
    }
    return kill(t->pid, 0) == 0 || errno == EPERM;
}

void target_stop(struct target *t, bool keep_log)
{
    if (t->spawned && t->pid > 0) {
        kill(t->pid, SIGTERM);
        int st;
        for (int i = 0; i < 250; i++) { /* 5 s */
            if (waitpid(t->pid, &st, WNOHANG) != 0)
                goto reaped;
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(t->pid, SIGKILL);
        waitpid(t->pid, &st, 0);
    reaped:
        t->pid = 0;
        t->spawned = false;
    }
    if (!keep_log && t->log_path[0])
        unlink(t->log_path);
}
