/*
 * notify.h: tells the service manager how the server is doing, over systemd's sd_notify protocol
 * (packaging/cinder.service runs cinder as Type=notify):
 *
 *   notify_ready(status)   READY=1     listening (at start), or a reload is done
 *   notify_reloading()     RELOADING=1 a SIGHUP reload begins (READY=1 follows when it is over)
 *   notify_stopping()      STOPPING=1  the SIGTERM drain begins
 *
 * When NOTIFY_SOCKET is not set (started by hand, in a container, by a test) every call does nothing
 * and returns 0. A manager that cannot be told is not a reason to stop serving: callers may ignore
 * the result, which is 0 or a negative errno.
 */
#ifndef CINDER_NOTIFY_H
#define CINDER_NOTIFY_H

/* status: a line for `systemctl status` (STATUS=), or NULL. */
int notify_ready(const char *status);
int notify_reloading(void);
int notify_stopping(void);

#endif
