/*
 * wsconn.h: one client WebSocket connection on the loop: connect, upgrade, then whole text messages to
 * the mode's callback; pings are answered, a close or an error ends it (once, through on_close).
 *
 * Writes go straight to the socket; only what the socket does not take is kept (with EPOLLOUT on
 * until it is written).
 *
 *   c->ops = &my_ops;  c->user = mode;  c->idx = i;
 *   wsconn_start(c, &loop, &dst, i, nsrc, "/socket/websocket?token=u1&vsn=2.0.0");
 *   ... on_open(c): wsconn_send_text(c, "[\"1\",\"1\",\"telemetry:bench\",\"phx_join\",{}]", ...)
 */
#ifndef CINDER_BENCH_WSCONN_H
#define CINDER_BENCH_WSCONN_H

#include "loop.h"
#include "ws_client.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct wsconn;

struct wsconn_ops {
    void (*on_open)(struct wsconn *c); /* the 101 arrived */
    /* A text message (borrowed, valid during the call); now_us: when the read that completed it returned. */
    void (*on_text)(struct wsconn *c, const char *text, size_t len, uint64_t now_us);
    /* The connection ended (c->err says why); it is not used again unless started anew. */
    void (*on_close)(struct wsconn *c);
};

enum wsconn_state { WSC_IDLE, WSC_CONNECTING, WSC_HANDSHAKE, WSC_OPEN, WSC_CLOSED };

struct wsconn {
    struct lg_sock sock;
    struct lg_loop *loop;
    const struct wsconn_ops *ops;
    void *user;   /* the mode's */
    uint32_t idx; /* the mode's index of this connection */
    enum wsconn_state state;
    int err;         /* why it closed: -errno, a WS_ERR_* code, or 0 (orderly close by the server) */
    int close_code;  /* the server's close code, 0 if none */
    int http_status; /* the upgrade's answer when it was not a 101 */
    int retry_after; /* its Retry-After in seconds (503, 429), or -1 */
    uint32_t rng;    /* masking keys */
    struct ws_dec dec;
    uint8_t *out; /* unwritten bytes */
    size_t out_len, out_cap;
    char *head; /* the upgrade answer until its end is read */
    size_t head_len;
    uint64_t last_tx_us; /* last send, for heartbeats */
};

/* Starts connecting from source address i of nsrc (see net.h) and upgrading at path (with query);
 * ops, user and idx must be set. 0, or -errno with the state WSC_CLOSED (on_close is not called). */
int wsconn_start(struct wsconn *c, struct lg_loop *l, const struct sockaddr_in *dst, unsigned i,
                 unsigned nsrc, const char *path);

/* Moves c to loop l (another thread's, readers.h): from then on only l's thread may use c. 0, or -errno
 * (c is then watched by no loop; it is still closed by wsconn_cleanup). */
int wsconn_move(struct wsconn *c, struct lg_loop *l);

/* Sends one text message (copied). 0, or -1 when the connection is not open or memory ran out. */
int wsconn_send_text(struct wsconn *c, const char *text, size_t len);

/* Sends a Phoenix heartbeat ([null,"hb","phoenix","heartbeat",{}]) when the last send is older than
 * interval_us. */
void wsconn_heartbeat_if_due(struct wsconn *c, uint64_t now_us, uint64_t interval_us);

/* Closes the socket without a close handshake, without calling on_close, and frees the buffers. Never
 * from inside c's own callbacks (the decoder is still reading its buffers). */
void wsconn_cleanup(struct wsconn *c);

/* A short description of why c closed ("closed by server, code 1008", "ECONNRESET"...). */
const char *wsconn_why(const struct wsconn *c, char *buf, size_t cap);

#endif
