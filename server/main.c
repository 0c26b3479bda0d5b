/*
 * main.c: cinder's entry point: options, the server with the demo app, the endpoint, signals.
 */
#include "endpoint.h"
#include "handlers/demo.h"
#include "log.h"
#include "options.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;
static struct endpoint *running;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (running)
        endpoint_wake(running);
}

int main(int argc, char **argv)
{
    struct options opt;
    options_defaults(&opt);
    char err[256];
    switch (options_parse(&opt, argc, argv, stdout, err, sizeof(err))) {
    case OPTIONS_EXIT:
        return 0;
    case OPTIONS_ERROR:
        fprintf(stderr, "cinder: %s\n", err);
        return 2;
    case OPTIONS_RUN:
        break;
    }
    log_set_level(opt.log_level);

    struct server *srv = server_create(&opt, &demo_app);
    if (!srv) {
        log_msg(LOG_ERROR, "out of memory");
        return 1;
    }
    struct endpoint *ep = endpoint_create(srv, err, sizeof(err));
    if (!ep) {
        log_msg(LOG_ERROR, "%s", err);
        server_destroy(&srv);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    running = ep;

    log_msg(LOG_INFO, "cinder listening on %s:%d (/socket/websocket, /socket/longpoll, POST /api/broadcast)",
            opt.bind ? opt.bind : "0.0.0.0", opt.port);
    int rc = endpoint_run(ep, &stop_requested);
    log_msg(LOG_INFO, "shutting down: %zu connections", srv->nconns);
    running = NULL;
    endpoint_destroy(&ep);
    server_destroy(&srv);
    return rc == 0 ? 0 : 1;
}
