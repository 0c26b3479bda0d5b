/*
 * endpoint.h: the libwebsockets side of one event loop (a shard): one lws context whose single
 * protocol callback translates lws events into calls on the WebSocket transport (ws.c) and the HTTP
 * side (http.c: the API, and the long-poll transport longpoll.c behind it). It does not listen: the
 * node's acceptor (acceptor.h) hands it accepted sockets (endpoint_adopt).
 *
 * It also owns the loop's place in a cluster: with Redis, or with sibling shards, it creates
 * s->cluster over the right carrier (the Redis bridge, the shards' hub, or both) and ticks it.
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
struct metrics_view;
struct shard_hub;

/* Per-connection user data lws allocates for us (per_session_data_size): a pointer per transport. */
struct session {
    struct conn *conn;         /* WebSocket: from ESTABLISHED to CLOSED */
    struct http_request *http; /* HTTP: the request being served */
    struct redis_watch *redis; /* a Redis connection's descriptor (redis_loop.h) */
    struct lp_request *lp;     /* HTTP on the long-poll path: the request being served */
};

struct endpoint;

/* How a shard's endpoint reaches the rest of its node (everything borrowed; outlives the endpoint). */
struct endpoint_link {
    struct shard_hub *hub; /* the carrier between the node's shards; NULL when it has one shard */
    /* The other shards' latest figures into out (at most max); how many. NULL when alone. */
    size_t (*other_views)(void *arg, unsigned self, struct metrics_view *out, size_t max);
    void *arg;
    size_t nshards;
};

/* An lws context serving the sockets adopted into it, for s (borrowed: it must outlive the endpoint).
 * link NULL: a node of one shard. NULL with err filled. */
struct endpoint *endpoint_create(struct server *s, const struct endpoint_link *link, char *err,
                                 size_t errlen);
/* Serve fd (an accepted client socket; the endpoint owns it from now on, closed on failure) on this
 * loop. Call from the loop's own thread. 0, or -1 when libwebsockets refused it. */
int endpoint_adopt(struct endpoint *ep, int fd);
/* The other shards' figures for /metrics and /ready (into a new array the caller frees, *n of them;
 * NULL and 0 when alone or out of memory). */
struct metrics_view *endpoint_other_views(struct lws *wsi, size_t *n);
/* Serve one turn of the event loop (it returns at the latest when a timer is due, or when woken).
 * 0, or -1 when the loop failed. */
int endpoint_service(struct endpoint *ep);
/* Write what this turn queued for WebSocket connections (ws_flush): at once when the turn began by
 * sleeping in the loop's wait (the loop has no backlog), else when each socket can take data, so that frames
 * that keep coming while the loop is behind gather into fewer writes. Call after endpoint_service and
 * after the loop's mail, from the loop's own thread. */
void endpoint_flush(struct endpoint *ep);
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
