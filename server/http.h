/*
 * http.h: plain HTTP requests on the server's port: the backend API (api.h) and the answers for paths
 * that serve nothing.
 *
 *   POST /api/broadcast        -> api_broadcast (202 / 400), 413 over max_body_size, 405 other methods
 *   GET  /socket/websocket     -> 400 (an upgrade is required)
 *   GET  /metrics              -> the Prometheus exposition (metrics.h), text/plain; version=0.0.4
 *   GET  /health, /ready       -> liveness and readiness (health.h), 200 / 503; other methods on these
 *                                 three: 405
 *   any  /socket/longpoll      -> the long-poll transport (longpoll.h), which owns the request from here
 *   GET/HEAD other paths       -> a file under --static-dir (static_files.h, static_http.h), 400 / 404
 *   anything else              -> 404
 * Every answer but a static file and /metrics is JSON; every one but a static file has
 * cache-control: no-store.
 */
#ifndef CINDER_HTTP_H
#define CINDER_HTTP_H

#include <stddef.h>

struct lws;
struct server;
struct session;

/* LWS_CALLBACK_HTTP: path is the URI path. 0 to go on, non-zero to close. */
int http_on_request(struct server *s, struct lws *wsi, struct session *ss, const char *path);
int http_on_body(struct server *s, struct session *ss, const void *in, size_t len);
int http_on_body_done(struct server *s, struct lws *wsi, struct session *ss);
int http_on_writable(struct lws *wsi, struct session *ss);
/* The request is over (or the connection closed): free its state. */
void http_on_drop(struct session *ss);

#endif
