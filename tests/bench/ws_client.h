/*
 * ws_client.h: the client side of RFC 6455, sans-IO, just enough for a load generator: the upgrade
 * request, the 101 answer, masked frames out, and a decoder that turns any split of the server's bytes
 * into whole messages.
 *
 * The decoder keeps nothing on the heap while reads end on frame boundaries (the common case); a frame
 * cut by a read is copied into a buffer of its own until it completes. Fragmented messages are joined.
 *
 *   struct ws_dec d;
 *   ws_dec_init(&d, 64 << 20);
 *   while ((n = read(fd, buf, sizeof(buf))) > 0)
 *       if (ws_dec_feed(&d, buf, n, on_msg, ctx) != 0) break;   // on_msg(ctx, WS_OP_TEXT, data, len)
 *   ws_dec_cleanup(&d);
 */
#ifndef CINDER_BENCH_WS_CLIENT_H
#define CINDER_BENCH_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
    WS_OP_CONT = 0,
    WS_OP_TEXT = 1,
    WS_OP_BINARY = 2,
    WS_OP_CLOSE = 8,
    WS_OP_PING = 9,
    WS_OP_PONG = 10,
};

/* Errors of ws_dec_feed and ws_handshake_response (negative). */
enum ws_err {
    WS_ERR_PROTOCOL =
        -1,              /* a masked server frame, reserved bits, a bad control frame, a stray continuation */
    WS_ERR_TOO_BIG = -2, /* a message over the decoder's limit */
    WS_ERR_NOMEM = -3,
    WS_ERR_STATUS = -4, /* the upgrade was answered with something other than 101 */
};

/* Writes "GET path HTTP/1.1" with the upgrade headers for host:port into buf. path includes the
 * query. Returns the length, or -1 when cap is too small. */
int ws_handshake_request(char *buf, size_t cap, const char *host, int port, const char *path);

/* Looks for the end of the answer's head in buf[0..len). Returns the head's length (the bytes after it
 * are frames) when it is a 101, 0 when the head is not complete yet, WS_ERR_STATUS with *status set
 * otherwise (0 when the status line does not parse). */
int ws_handshake_response(const char *buf, size_t len, int *status);

/* Bytes a masked client frame of len payload bytes takes. */
size_t ws_frame_size(size_t len);

/* Writes one final, masked frame (opcode, payload) into out, which holds ws_frame_size(len) bytes.
 * Returns the frame's length. */
size_t ws_frame_encode(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask);

/* Called once per whole message; data is valid only during the call. A non-zero return stops
 * ws_dec_feed, which returns it. */
typedef int (*ws_msg_fn)(void *ctx, int opcode, const uint8_t *data, size_t len);

struct ws_dec {
    size_t max_msg; /* largest message accepted */
    uint8_t *part;  /* the bytes of a frame cut by a read */
    size_t part_len, part_cap;
    uint8_t *frag; /* a fragmented message so far */
    size_t frag_len, frag_cap;
    int frag_op; /* its opcode, or -1 when none is open */
};

void ws_dec_init(struct ws_dec *d, size_t max_msg);
void ws_dec_cleanup(struct ws_dec *d);

/* Feeds n bytes (borrowed). Calls fn for every message they complete, in order. Returns 0, a
 * WS_ERR_* code, or fn's non-zero return; after an error the decoder must not be fed again. */
int ws_dec_feed(struct ws_dec *d, const uint8_t *in, size_t n, ws_msg_fn fn, void *ctx);

#endif
