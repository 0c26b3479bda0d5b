/*
 * acceptor.h: the node's listening socket. It accepts clients and places each on a shard.
 *
 * With several shards the acceptor reads (without consuming: MSG_PEEK) each new connection's request
 * headers: WebSocket upgrades on /socket/websocket go to the shards in turn; every other request
 * (long-poll, the HTTP API, /metrics, the dashboard) goes to shard 0, so a long-poll session's requests
 * always find it. A client whose headers have not ended within ACCEPTOR_PEEK_MS is closed (headers
 * past libwebsockets' 4 KiB are handed over at once, for lws to refuse).
 * With one shard, or TLS (where the bytes are not readable here), nothing is read: every connection is
 * placed at once.
 *
 * Runs on the thread that calls acceptor_service (main.c's), never inside a shard.
 */
#ifndef CINDER_ACCEPTOR_H
#define CINDER_ACCEPTOR_H

#include <stdbool.h>
#include <stddef.h>

#define ACCEPTOR_PEEK_MS 10000
#define ACCEPTOR_MAX_PENDING 4096

struct acceptor;

/* Take fd (an accepted, non-blocking client socket: the callee owns it). websocket: its request is a
 * WebSocket upgrade on the socket path (always false when nothing was read). */
typedef void (*acceptor_place_fn)(void *arg, int fd, bool websocket);

/* Listen on addr (an IPv4 address or an interface name; NULL: every interface) and port. peek: read the
 * request line before placing. NULL with err filled (e.g. the port is in use). */
struct acceptor *acceptor_create(const char *addr, int port, bool peek, acceptor_place_fn place, void *arg,
                                 char *err, size_t errlen);
/* Wait up to timeout_ms for connections and requests (a signal ends the wait early) and place what is
 * ready. 0, or -1 when the wait itself failed. */
int acceptor_service(struct acceptor *a, int timeout_ms);
/* Stop listening; close the connections still being read. NULL-safe; *a = NULL. */
void acceptor_destroy(struct acceptor **a);

#endif
