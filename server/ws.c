/*
 * ws.c: the WebSocket transport (see ws.h).
 */
#include "ws.h"

#include "auth_token.h"
#include "conn.h"
#include "endpoint.h"
#include "log.h"
#include "phx_vsn.h"
#include "query.h"
#include "server.h"
#include "ws_batch.h"
#include "write_list.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

_Static_assert(FRAME_HEADROOM >= LWS_PRE, "frames must leave LWS_PRE bytes for libwebsockets");

#define WS_PATH "/socket/websocket"
/* The longest Sec-WebSocket-Protocol value libwebsockets 4.1.6 can pick a subprotocol from: it copies the
 * list into a 128-byte buffer (lws_process_ws_upgrade) and drops the connection when it is longer (still
 * so upstream; lws issue #254). phoenix.js's authToken entry is `base64url.bearer.phx.` + btoa(token), so
 * tokens up to 72 bytes fit after "phoenix, "; a JWT does not. */
#define WS_PROTOCOL_LIST_MAX 126
/* Seconds a closing connection may take to flush its close frame before it is cut. */
#define WS_CLOSE_GRACE_S 5
/* The most frames, and bytes with their headers, one send() carries when several are queued
 * (ws_write_batch). Batching pays for small frames, where the system call costs more than the bytes:
 * 16 frames take the calls per delivery of a backed-up subscriber to a sixteenth. Bigger frames go one
 * per lws_write as before (no copy), because what libwebsockets holds after a partial send is outside
 * the queue's byte count and limit: with 16 or 64 KiB batches of 8 KB ticks, readers that keep up on
 * the second shard were closed as slow consumers more often (62_fault_slow_consumers). */
#define WS_BATCH_FRAMES 16
#define WS_BATCH_BYTES (4u * 1024u)

static bool ws_may_batch(const struct conn *c);

/* Frames wait: write them at the end of this loop turn (ws_flush), or when the socket can take data
 * where libwebsockets must do the writing (permessage-deflate: see ws_may_batch). */
static void ws_wake(struct conn *c)
{
    if (!ws_may_batch(c) || write_list_add(&c->srv->writes, c) != 0)
        lws_callback_on_writable(c->transport_handle);
}

static void ws_close(struct conn *c)
{
    struct lws *wsi = c->transport_handle;
    log_conn(c->close_code == CLOSE_POLICY || c->close_code == CLOSE_INTERNAL ? LOG_WARN : LOG_INFO, c->id,
             c->user_id, NULL, "closing %u: %s", c->close_code, c->close_reason);
    lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->close_reason,
                     strlen(c->close_reason));
    /* The close frame goes out from WRITEABLE; a peer that never lets us write is cut after the grace. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, WS_CLOSE_GRACE_S);
    lws_callback_on_writable(wsi);
}

static const struct transport_ops ws_transport = {
    .name = "websocket",
    .kind = TRANSPORT_WEBSOCKET,
    .wake = ws_wake,
    .close = ws_close,
};

/* Read the request's decoded query pairs into q. 0 or -1 (too many or out of memory). */
static int ws_read_query(struct lws *wsi, struct query *q)
{
    char frag[1024];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            return 0;
        if (query_add(q, frag) != 0)
            return -1;
    }
}

static bool ws_path_ok(struct lws *wsi)
{
    char path[64];
    int n = lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
    return n > 0 && strcmp(path, WS_PATH) == 0;
}

/* phoenix.js's authToken, from the Sec-WebSocket-Protocol header (auth_token.h): 0 with *token
 * (malloc'd, or NULL when the client sent none), or -1 when the bearer entry is garbled. */
static int ws_auth_token(struct lws *wsi, char **token)
{
    *token = NULL;
    int len = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (len <= 0)
        return 0;
    char *hdr = malloc((size_t)len + 1);
    int rc = hdr && lws_hdr_copy(wsi, hdr, len + 1, WSI_TOKEN_PROTOCOL) >= 0
                 ? auth_token_from_protocols(hdr, token)
                 : -1;
    free(hdr);
    return rc;
}

/* vsn and connect for this request: 0 with *vsn and *out (caller owns what it holds), or -1 refused
 * (out->reason may say why). */
static int ws_authenticate(struct server *s, struct lws *wsi, enum phx_vsn *vsn, struct connect_result *out)
{
    struct query q;
    char *token = NULL;
    query_init(&q);
    memset(out, 0, sizeof(*out));
    int rc = -1;
    if (ws_read_query(wsi, &q) != 0)
        goto out;
    *vsn = phx_vsn_parse(query_get(&q, "vsn"));
    if (*vsn == PHX_VSN_INVALID) {
        out->reason = "unsupported vsn";
        goto out;
    }
    if (ws_auth_token(wsi, &token) != 0) {
        out->reason = "garbled authToken subprotocol";
        goto out;
    }
    rc = server_connect(s, &q, token, out);
out:
    free(token);
    query_cleanup(&q);
    return rc;
}

/* Answer the upgrade request with status and no body (Retry-After when retry_s > 0). */
static int ws_refuse(struct lws *wsi, unsigned status, unsigned retry_s)
{
    unsigned char buf[LWS_PRE + 256], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    char retry[16];
    int n = snprintf(retry, sizeof(retry), "%u", retry_s);
    if (lws_add_http_header_status(wsi, status, &p, end) ||
        (retry_s &&
         lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER, (unsigned char *)retry, n, &p, end)) ||
        lws_add_http_header_content_length(wsi, 0, &p, end) || lws_finalize_http_header(wsi, &p, end))
        return -1;
    return lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) < 0 ? -1 : 1;
}

/* The Origin header passes allowed_origins (absent: yes; too long to read with a list set: no). */
static bool ws_origin_ok(struct server *s, struct lws *wsi)
{
    char origin[256];
    int len = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (len <= 0)
        return true;
    if (len >= (int)sizeof(origin) || lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0)
        return server_origin_allowed(s, "");
    return server_origin_allowed(s, origin);
}

/* The seat server_admit took for a connection whose upgrade was let through, held on its wsi until
 * ESTABLISHED hands it to conn_create. lws's opaque user data carries it: the per-session data is
 * freed when the protocol is bound between the request and ESTABLISHED, and lws sends the 101 before
 * ESTABLISHED, so a client may already be opening its next connection (on another shard) when this
 * one is established. Counting at ESTABLISHED let that one pass the limits too. */
struct ws_seat {
    bool anonymous;
    char user_id[];
};

/* Hold the seat of user_id (borrowed; NULL: anonymous) on wsi. 0 or -1 (OOM: the caller gives it back). */
static int ws_seat_hold(struct lws *wsi, const char *user_id)
{
    size_t len = user_id ? strlen(user_id) : 0;
    struct ws_seat *seat = malloc(sizeof(*seat) + len + 1);
    if (!seat)
        return -1;
    seat->anonymous = !user_id;
    memcpy(seat->user_id, user_id ? user_id : "", len + 1);
    lws_set_opaque_user_data(wsi, seat);
    return 0;
}

/* Take wsi's held seat off it (caller owns: free). NULL when it holds none. */
static struct ws_seat *ws_seat_take(struct lws *wsi)
{
    struct ws_seat *seat = lws_get_opaque_user_data(wsi);
    lws_set_opaque_user_data(wsi, NULL);
    return seat;
}

static const char *ws_seat_user(const struct ws_seat *seat)
{
    return seat->anonymous ? NULL : seat->user_id;
}

int ws_on_confirm_upgrade(struct server *s, struct lws *wsi)
{
    if (!ws_path_ok(wsi)) {
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
        return 1;
    }
    if (!ws_origin_ok(s, wsi)) {
        log_msg(LOG_INFO, "websocket refused (403): origin not in allowed_origins");
        return ws_refuse(wsi, HTTP_STATUS_FORBIDDEN, 0);
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > WS_PROTOCOL_LIST_MAX) {
        /* libwebsockets would hang up without a word: say why instead */
        log_msg(LOG_INFO,
                "websocket refused (431): Sec-WebSocket-Protocol over %d bytes (an authToken over 72 "
                "bytes: send it as the token parameter, or over long-poll)",
                WS_PROTOCOL_LIST_MAX);
        return ws_refuse(wsi, 431, 0);
    }
    enum phx_vsn vsn;
    struct connect_result who;
    if (ws_authenticate(s, wsi, &vsn, &who) != 0) {
        log_msg(LOG_DEBUG, "websocket connect refused (403): %s",
                who.reason ? who.reason : "refused by the app");
        return ws_refuse(wsi, HTTP_STATUS_FORBIDDEN, 0);
    }
    char *user_id = who.user_id;
    enum admit a = server_admit(s, user_id, server_now_ms());
    free(who.socket_id);
    json_decref(who.assigns);
    if (a != ADMIT_OK) {
        log_conn(LOG_DEBUG, 0, user_id, NULL, "websocket refused: %s", server_admit_reason(a));
        free(user_id);
        /* a refused client retries; spread the rate-limited ones over the next seconds */
        return ws_refuse(wsi, a == ADMIT_USER ? 429 : HTTP_STATUS_SERVICE_UNAVAILABLE,
                         a == ADMIT_RATE ? 1 + (unsigned)(rand() % 3) : 5);
    }
    if (ws_seat_hold(wsi, user_id) != 0) {
        server_user_remove(s, user_id);
        free(user_id);
        log_msg(LOG_ERROR, "out of memory admitting a websocket");
        return ws_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, 5);
    }
    free(user_id);
    return 0;
}

void ws_on_destroy(struct server *s, struct lws *wsi)
{
    struct ws_seat *seat = ws_seat_take(wsi); /* upgraded, never established */
    if (seat)
        server_user_remove(s, ws_seat_user(seat));
    free(seat);
}

/* Hand the seat taken at the upgrade over to user_id (borrowed), the user the connection is
 * established as: the same one, unless the app's answer changed in between. 0 or -1 (no seat now). */
static int ws_seat_claim(struct server *s, struct lws *wsi, const char *user_id)
{
    struct ws_seat *seat = ws_seat_take(wsi);
    int rc = 0;
    if (!seat) /* no upgrade request seen (lws always asks first): admit now */
        rc = server_admit(s, user_id, server_now_ms()) == ADMIT_OK ? 0 : -1;
    else {
        const char *held = ws_seat_user(seat);
        if (held && user_id ? strcmp(held, user_id) != 0 : held != user_id) {
            server_user_remove(s, held);
            rc = server_user_add(s, user_id);
        }
    }
    free(seat);
    return rc;
}

/* Size this connection's deflater (if permessage-deflate was negotiated): zlib allocates it at the
 * first compressed send, so settings made now apply. The window stays at 15 bits: libwebsockets 4.1.6
 * sizes its inflater for the client's messages with the same setting, so a smaller server window
 * would break inflating what a client compresses with the default 32 KiB window. */
static void ws_tune_deflate(const struct options *o, struct lws *wsi)
{
    if (!o->compress)
        return;
    char v[8];
    snprintf(v, sizeof(v), "%d", o->compress_mem_level);
    if (lws_set_extension_option(wsi, "permessage-deflate", "mem_level", v) != 0)
        return; /* not negotiated with this client */
    snprintf(v, sizeof(v), "%d", o->compress_level);
    lws_set_extension_option(wsi, "permessage-deflate", "compression_level", v);
}

int ws_on_established(struct server *s, struct lws *wsi, struct session *ss)
{
    enum phx_vsn vsn;
    struct connect_result who;
    /* Checked again at the upgrade's end: the answer may have changed (a token expired, a reload).
     * Refused: the seat still held goes back when lws destroys the wsi (ws_on_destroy). */
    if (ws_authenticate(s, wsi, &vsn, &who) != 0)
        return -1;
    if (ws_seat_claim(s, wsi, who.user_id) != 0) {
        free(who.user_id);
        free(who.socket_id);
        json_decref(who.assigns);
        return -1;
    }
    ws_tune_deflate(&s->opt, wsi);
    ss->conn = conn_create(s, &ws_transport, wsi, vsn, who.user_id, who.socket_id);
    if (!ss->conn) {
        json_decref(who.assigns);
        log_msg(LOG_ERROR, "out of memory accepting a websocket");
        return -1;
    }
    ss->conn->assigns = who.assigns;
    log_conn(LOG_DEBUG, ss->conn->id, ss->conn->user_id, NULL, "websocket open, vsn %d", (int)vsn);
    return 0;
}

int ws_on_receive(struct lws *wsi, struct session *ss, const void *in, size_t len)
{
    struct conn *c = ss->conn;
    if (!c)
        return -1;
    return conn_on_data(c, in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi),
                        lws_frame_is_binary(wsi), lws_remaining_packet_payload(wsi));
}

/* Whether frames may be framed here and batched: not when permessage-deflate may be active, as every
 * message must then go through lws_write, which compresses it. It is offered only with --compress (a
 * restart-only setting), and lws 4.1.6 has no query for whether one connection negotiated it
 * (lws_set_extension_option with an option name it does not know crashes in strcmp), so with --compress
 * no connection batches. */
static bool ws_may_batch(const struct conn *c)
{
    return !c->srv->opt.compress;
}

/* Write the queue's head frame with lws_write (which frames it in the frame's headroom, and compresses
 * it when permessage-deflate is on) and pop it. 0, or -1 when the connection failed. What the kernel
 * does not take, libwebsockets keeps and sends before anything else (lws_issue_raw's buflist_out). */
static int ws_write_one(struct lws *wsi, struct conn *c)
{
    struct frame *f = outq_peek(&c->q);
    int n = lws_write(wsi, frame_data(f), f->len, f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (n < (int)f->len)
        return -1;
    conn_pop(c, true);
    return 0;
}

/* Send len bytes of whole frames, framed here, when libwebsockets holds nothing of wsi's unsent. On a
 * plain TCP connection they go straight to the socket: lws_write's own path for raw bytes
 * (lws_issue_raw) ends in the same send() after ~500 instructions of bookkeeping of its own, a third
 * of the server's user-space work per delivery. What the socket does not take (and everything on a
 * TLS connection) goes through lws_write as raw bytes, which keeps it (buflist_out) and sends it on
 * POLLOUT before anything else, as for a partial write of its own. 0, or -1 when the connection
 * failed. */
static int ws_send_framed(struct lws *wsi, unsigned char *buf, size_t len)
{
    size_t sent = 0;
    if (!lws_is_ssl(wsi)) {
        ssize_t n = send(lws_get_socket_fd(wsi), buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        sent = n > 0 ? (size_t)n : 0;
        if (sent == len)
            return 0;
    }
    return lws_write(wsi, buf + sent, len - sent, LWS_WRITE_RAW) < (int)(len - sent) ? -1 : 0;
}

/* Write up to WS_BATCH_FRAMES frames from the queue's head (one, when one waits) in one send(): framed
 * here (ws_batch.h) into a buffer on this loop's stack and sent as raw bytes (ws_send_framed); pop
 * them, counted and timed one by one as ws_write_one would. A head frame too big for the buffer:
 * ws_write_one. 0 or -1. Raw bytes are safe between frames: lws 4.1.6 completes a partial send
 * (buflist_out) before any control frame or the next WRITEABLE, and sends pongs and the close frame
 * only from its own POLLOUT handling, never in the middle of this callback's bytes. */
static int ws_write_batch(struct lws *wsi, struct conn *c)
{
    unsigned char buf[LWS_PRE + WS_BATCH_BYTES];
    size_t len;
    uint32_t k = ws_batch_count(&c->q, WS_BATCH_BYTES, WS_BATCH_FRAMES, &len);
    if (k < 1)
        return ws_write_one(wsi, c);
    ws_batch_fill(&c->q, k, buf + LWS_PRE);
    if (ws_send_framed(wsi, buf + LWS_PRE, len) != 0)
        return -1;
    while (k--)
        conn_pop(c, true);
    return 0;
}

/* One write from the head of the queue: framed here when allowed (a batch when several frames wait). */
static int ws_write_next(struct lws *wsi, struct conn *c)
{
    return ws_may_batch(c) ? ws_write_batch(wsi, c) : ws_write_one(wsi, c);
}

int ws_on_writable(struct lws *wsi, struct session *ss)
{
    struct conn *c = ss->conn;
    if (!c)
        return -1;
    if (c->closing)
        return -1; /* the close frame, with the reason set in ws_close, goes out now */
    /* WRITEABLE comes when the socket can take data and libwebsockets has nothing of its own left to
     * send, so the first write needs no check; lws_send_pipe_choked() costs a poll() system call (10 %
     * of the server's time in tests/bench fanout), so it is asked only before the writes after it. */
    bool first = true;
    while (!outq_empty(&c->q) && (first || !lws_send_pipe_choked(wsi))) {
        first = false;
        if (ws_write_next(wsi, c) != 0)
            return -1;
    }
    if (!outq_empty(&c->q))
        lws_callback_on_writable(wsi);
    return 0;
}

/* Write c's queue now, from outside any callback of c's: what libwebsockets cannot send at once it
 * keeps (buflist_out) and sends on POLLOUT before anything else, as for a partial write in
 * WRITEABLE. Only when nothing of c's is still buffered there; the first write or batch only, the rest
 * (a queue of more than a batch) on WRITEABLE. */
static void ws_write_listed(struct conn *c)
{
    struct lws *wsi = c->transport_handle;
    if (c->closing || outq_empty(&c->q))
        return;
    if (!lws_partial_buffered(wsi)) {
        if (ws_write_next(wsi, c) != 0) {
            /* the socket failed: libwebsockets closes it, and CLOSED destroys c, at its next turn */
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            return;
        }
    }
    if (!outq_empty(&c->q))
        lws_callback_on_writable(wsi);
}

void ws_flush(struct server *s, bool now)
{
    struct conn *c;
    while ((c = write_list_next(&s->writes))) {
        if (now)
            ws_write_listed(c);
        else if (!c->closing)
            lws_callback_on_writable(c->transport_handle);
    }
}

void ws_on_peer_close(struct session *ss, const void *in, size_t len)
{
    const unsigned char *p = in;
    if (ss->conn)
        conn_on_peer_close(ss->conn, len >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0);
}

void ws_on_closed(struct session *ss)
{
    if (ss->conn)
        log_conn(LOG_DEBUG, ss->conn->id, ss->conn->user_id, NULL, "websocket closed");
    conn_destroy(&ss->conn);
}
