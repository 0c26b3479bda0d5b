/*
 * notify.c: sd_notify messages (see notify.h), through Debian's libsystemd. Built without libsystemd
 * (CINDER_HAVE_SYSTEMD undefined) every call is a no-op.
 */
#include "notify.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#ifdef CINDER_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

/* sd_notify returns > 0 when sent, 0 when NOTIFY_SOCKET is unset, < 0 on error. */
static int send_state(const char *state)
{
    int rc = sd_notify(0, state);
    return rc < 0 ? rc : 0;
}
#else
static int send_state(const char *state)
{
    (void)state;
    return 0;
}
#endif

int notify_ready(const char *status)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "READY=1%s%s", status ? "\nSTATUS=" : "", status ? status : "");
    return send_state(msg);
}

int notify_reloading(void)
{
    /* MONOTONIC_USEC: what systemd 253+ expects with RELOADING=1 (Type=notify-reload); older ones
     * ignore it. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char msg[96];
    snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading settings\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull);
    return send_state(msg);
}

int notify_stopping(void)
{
    return send_state("STOPPING=1\nSTATUS=draining connections");
}
