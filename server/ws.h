/*
 * ws.h: the WebSocket transport: Phoenix's /socket/websocket on libwebsockets.
 *
 * Upgrade: path, vsn and the app's connect are checked before the handshake (HTTP 403 on refusal,
 * 404 on another path). Established: a struct conn is created and lives until CLOSED. A connection
 * whose queue gets frames is written at the end of the loop turn (ws_flush), without asking for POLLOUT
 * first; what remains after that (a socket that took only part, a queue longer than one write) goes in
 * SERVER_WRITEABLE, draining the queue until the socket is choked. With permessage-deflate on offer
 * (--compress) every write goes in SERVER_WRITEABLE.
 */
#ifndef CINDER_WS_H
#define CINDER_WS_H

#include <stdbool.h>
#include <stddef.h>

struct lws;
struct server;
struct session;

/* 0: let the upgrade proceed, the connection admitted (its admission seat taken and held on wsi);
 * 1: a response (403/404/429/503) was written, end the transaction. */
int ws_on_confirm_upgrade(struct server *s, struct lws *wsi);
/* 0 or -1 (refuse: close). The connection's conn takes over the seat held since the upgrade. */
int ws_on_established(struct server *s, struct lws *wsi, struct session *ss);
/* Any wsi is going (LWS_CALLBACK_WSI_DESTROY): a seat still held, upgraded but never established, is
 * given back. */
void ws_on_destroy(struct server *s, struct lws *wsi);
int ws_on_receive(struct lws *wsi, struct session *ss, const void *in, size_t len);
int ws_on_writable(struct lws *wsi, struct session *ss);
/* Take the connections listed this turn (s->writes) and write them now (`now`), or ask for WRITEABLE
 * for each. Call once the turn's events and mail are handled, outside any libwebsockets callback. */
void ws_flush(struct server *s, bool now);
/* The peer's close frame (in: its payload, a 2-byte code first when it has one): recorded for the
 * disconnect metrics; lws then echoes the close. */
void ws_on_peer_close(struct session *ss, const void *in, size_t len);
void ws_on_closed(struct session *ss);

#endif
