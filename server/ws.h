/*
 * ws.h: the WebSocket transport: Phoenix's /socket/websocket on libwebsockets.
 *
 * Upgrade: path, vsn and the app's connect are checked before the handshake (HTTP 403 on refusal,
 * 404 on another path). Established: a struct conn is created and lives until CLOSED. Writes happen only
 * in SERVER_WRITEABLE, draining the connection's queue until the socket is choked.
 */
#ifndef CINDER_WS_H
#define CINDER_WS_H

#include <stddef.h>

struct lws;
struct server;
struct session;

/* 0: let the upgrade proceed; 1: a response (403/404) was written, end the transaction. */
int ws_on_confirm_upgrade(struct server *s, struct lws *wsi);
/* 0 or -1 (refuse: close). */
int ws_on_established(struct server *s, struct lws *wsi, struct session *ss);
int ws_on_receive(struct lws *wsi, struct session *ss, const void *in, size_t len);
int ws_on_writable(struct lws *wsi, struct session *ss);
/* The peer's close frame (in: its payload, a 2-byte code first when it has one): recorded for the
 * disconnect metrics; lws then echoes the close. */
void ws_on_peer_close(struct session *ss, const void *in, size_t len);
void ws_on_closed(struct session *ss);

#endif
