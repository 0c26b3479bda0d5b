/*
 * conn.h: one client connection, whatever its transport: protocol version, user, channels, the
 * inbound message assembly and the bounded write queue.
 *
 * Inbound: the transport feeds bytes (conn_on_data) -> whole messages are decoded -> router.c.
 * Outbound: frames are pushed on the write queue (conn_push); when it goes from empty to non-empty the
 * transport is woken once and drains it from its writable callback.
 * Closing: conn_close only marks the connection and asks the transport to close it soon (never frees:
 * it may be called in the middle of a fan-out); the transport calls conn_destroy from its close
 * callback, which terminates every channel exactly once.
 */
#ifndef CINDER_CONN_H
#define CINDER_CONN_H

#include "outq.h"
#include "phx_binary.h"
#include "phx_buf.h"
#include "phx_msg.h"
#include "phx_vsn.h"
#include "registry.h"
#include "topic_policy.h"
#include "server.h"

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct channel;
struct server;

/* WebSocket close codes the core uses. */
enum {
    CLOSE_NORMAL = 1000,          /* idle timeout */
    CLOSE_GOING_AWAY = 1001,      /* "disconnect" broadcast on the socket id, server shutdown */
    CLOSE_INVALID_DATA = 1007,    /* undecodable frame */
    CLOSE_POLICY = 1008,          /* slow consumer: write queue over its limit */
    CLOSE_TOO_BIG = 1009,         /* inbound message over max_frame_size */
    CLOSE_INTERNAL = 1011,        /* out of memory */
    CLOSE_SERVICE_RESTART = 1012, /* the server is draining (SIGTERM): reconnect elsewhere */
    /* Never sent; what disconnect metrics count for a peer's close frame without a code (1005) and a
     * connection that ended without any close frame (1006), as RFC 6455 names them. */
    CLOSE_NO_STATUS = 1005,
    CLOSE_ABNORMAL = 1006,
};

struct transport_ops {
    const char *name;
    enum transport_kind kind; /* which per-transport counters (server.h) count its traffic */
    /* The write queue went from empty to non-empty: drain it when the peer can take data. */
    void (*wake)(struct conn *c);
    /* c->close_code / c->close_reason are set: close soon and call conn_destroy when closed. Must not
     * free c synchronously. */
    void (*close)(struct conn *c);
};

/* A message arriving in pieces, or an oversized one being read to its end (conn.c). Allocated at the
 * first piece that is not a whole message, freed at the message's end: idle connections hold none. */
struct conn_rx {
    struct phx_buf buf; /* what arrived so far; no memory while discarding */
    size_t discarded;   /* bytes of an oversized message dropped so far */
    bool binary;
    bool overflow; /* over max_frame_size: discard to its end, then close */
};

/* Laid out without holes: every connection pays for each byte of it (sizeof 176, a 192-byte malloc
 * chunk). */
struct conn {
    struct conn *next, *prev; /* the server's list */
    struct server *srv;       /* borrowed */
    const struct transport_ops *transport;
    void *transport_handle; /* the transport's own (struct lws * for WebSocket) */
    uint64_t id;
    uint64_t last_rx_ms;
    char *user_id;            /* owned */
    json_t *assigns;          /* owned reference, or NULL: the app's connect_result.assigns (handler.h) */
    struct reg_sub id_sub;    /* kind SUB_SOCKET_ID on the socket id, whose only copy is the registry's */
    struct channel *channels; /* owned list */
    struct outq q;
    struct conn_rx *rx;       /* owned, or NULL between messages */
    const char *close_reason; /* "" until conn_close: then an owned copy ("" when out of memory) */
    enum phx_vsn vsn;
    unsigned nchannels;
    uint16_t close_code;
    uint16_t peer_close_code; /* the code of the peer's close frame, if it sent one first */
    bool closing;
    bool write_listed; /* on the server's write list (write_list.h) */
};

/* New connection, registered with the server and subscribed to its socket id. user_id and socket_id
 * are stolen (socket_id may be NULL), and so is the admission seat of user_id the caller holds
 * (server_admit or server_user_add): conn_destroy gives it back. NULL when out of memory (the ids are
 * freed and the seat given back then). */
struct conn *conn_create(struct server *srv, const struct transport_ops *t, void *handle, enum phx_vsn vsn,
                         char *user_id, char *socket_id);
/* Terminate every channel (CH_EXIT_CLOSED), unsubscribe, drop the queue, free. NULL-safe; *c = NULL. */
void conn_destroy(struct conn **c);

/* Bytes of one WebSocket message arrived: `first`/`final` delimit the message, `remaining` is what the
 * transport knows is still to come of it (0 if unknown). Whole messages are decoded and routed. Returns
 * 0, or -1 when the connection is now closing (the transport should close it at once). */
int conn_on_data(struct conn *c, const void *in, size_t len, bool first, bool final, bool binary,
                 size_t remaining);
/* One whole message: decode and route it. 0, or -1 when the connection is now closing. */
int conn_on_message(struct conn *c, const void *data, size_t len, bool binary);

/* Queue a reference to f (borrowed). When the queue already holds bytes and f would take it past
 * max_queue_size, the connection is closed instead (1008). 0, or -1 when f was not queued. */
int conn_push(struct conn *c, struct frame *f);
/* The transport is done with the oldest queued frame: written to the peer (counted as the transport's
 * frames and bytes out; a broadcast's publish->write latency observed) or dropped. Transports pop
 * through this rather than outq_pop so the server's queue-byte total stays exact. No-op when empty. */
void conn_pop(struct conn *c, bool written);
/* The peer sent a close frame with code (0: none); counted as its disconnect code (metrics). */
void conn_on_peer_close(struct conn *c, uint16_t code);

/* conn_push for a broadcast of a topic with a slow-consumer policy (topic_policy.h): a frame with a
 * conflation key replaces the queued one of the same key once the connection is behind; at the queue
 * limit, SLOW_DROP_OLDEST and SLOW_CONFLATE drop the oldest queued broadcasts instead of closing (and
 * close only when no broadcast is left to drop). 0, or -1 when f was not queued. */
int conn_push_policy(struct conn *c, struct frame *f, enum slow_policy policy);

/* Encode m for this connection (its serializer; a binary message as bin_kind) and queue it. m borrowed.
 * 0 or negative (phx_err, or -1 when not queued). */
int conn_send(struct conn *c, const struct phx_msg *m, enum phx_bin_kind bin_kind);
/* Queue a phx_reply. response (borrowed) NULL means {}, unless bin is set: then a binary reply. */
int conn_send_reply(struct conn *c, json_t *join_ref, json_t *ref, const char *topic, const char *status,
                    json_t *response, const unsigned char *bin, size_t bin_len);

/* Mark the connection closing with code and reason, drop its queue, ask the transport to close it.
 * Idempotent: the first code wins. */
void conn_close(struct conn *c, uint16_t code, const char *reason);

/* The channel joined on topic (borrowed), or NULL. */
struct channel *conn_find_channel(const struct conn *c, const char *topic);
/* Unlink ch from the connection's list (channel.c calls it). */
void conn_unlink_channel(struct conn *c, struct channel *ch);

#endif
