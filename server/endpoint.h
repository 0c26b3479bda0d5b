/*
 * endpoint.h: the libwebsockets side of the server: one lws context serving one port, whose single
 * protocol callback translates lws events into calls on the WebSocket transport (ws.c) and the HTTP
 * side (http.c: the API, and the long-poll transport longpoll.c behind it).
 */
#ifndef CINDER_ENDPOINT_H
#define CINDER_ENDPOINT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct server;
struct conn;
struct http_request;
struct redis_watch;
struct bridge;
struct lp_request;
struct longpoll;
struct lws;

/* Per-connection user data lws allocates for us (per_session_data_size): a pointer per transport. */
struct session {
    struct conn *conn;         /* WebSocket: from ESTABLISHED to CLOSED */
    struct http_request *http; /* HTTP: the request being served */
    struct redis_watch *redis; /* a Redis connection's descriptor (redis_loop.h) */
    struct lp_request *lp;     /* HTTP on the long-poll path: the request being served */
};

struct endpoint;

/* Listen on s->opt.bind:s->opt.port. s borrowed (must outlive the endpoint). NULL with err filled. */
struct endpoint *endpoint_create(struct server *s, char *err, size_t errlen);
/* Serve one turn of the event loop (it returns at the latest when a timer is due, or when woken).
 * 0, or -1 when the loop failed. */
int endpoint_service(struct endpoint *ep);
/* Make the loop return from its wait now (from a signal handler: it writes to lws's wake pipe). */
void endpoint_wake(struct endpoint *ep);
/* Shut down gracefully: refuse new connections (503 + Retry-After, ready answers 503) and close the
 * open ones with 1012 in batches spread over drain_timeout, each batch's timing jittered. */
void endpoint_start_drain(struct endpoint *ep);
/* Every connection is gone and the Redis bridge has no publish in flight. */
bool endpoint_drained(const struct endpoint *ep);
/* Read the TLS certificate and key files again (after they were renewed). 0 (also when there is no
 * TLS), or -1 with err. */
int endpoint_reload_tls(struct endpoint *ep, char *err, size_t errlen);
/* The long-poll side of the endpoint serving wsi (borrowed). */
struct longpoll *endpoint_longpoll(struct lws *wsi);
/* The Redis bridge (borrowed), or NULL when single-node. */
const struct bridge *endpoint_bridge(const struct endpoint *ep);
/* Close every connection and free the endpoint. NULL-safe; *ep = NULL. */
void endpoint_destroy(struct endpoint **ep);

#endif
