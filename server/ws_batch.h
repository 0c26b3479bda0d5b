/*
 * ws_batch.h: several queued frames as the bytes of one send().
 *
 * libwebsockets writes one WebSocket frame per lws_write(), so one send() system call per frame. When a
 * connection has several frames queued, the WebSocket transport (ws.c) instead frames them itself, one
 * unmasked final frame each (RFC 6455 section 5.2, as a server sends them), back to back in one buffer,
 * and hands that buffer to libwebsockets as raw bytes: one send() for all of them. This file is the
 * sans-IO part: headers, how many frames fit, and the copy. It never touches a socket or libwebsockets.
 *
 *     size_t len;
 *     uint32_t k = ws_batch_count(q, sizeof(buf), 16, &len);   // frames at q's head that fit
 *     if (k >= 2)
 *         ws_batch_fill(q, k, buf);                            // len bytes: k frames on the wire
 */
#ifndef CINDER_WS_BATCH_H
#define CINDER_WS_BATCH_H

#include "outq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest header of an unmasked frame: 2 bytes, 8 of extended length. */
#define WS_HEADER_MAX 10

/* Write the header of an unmasked final frame of len payload bytes (binary, else text) to out: FIN and
 * the opcode, then the length in 7 bits, 7+16 or 7+64. Returns its size: 2 (len < 126), 4 (len < 65536)
 * or 10. */
size_t ws_header_encode(unsigned char out[WS_HEADER_MAX], uint64_t len, bool binary);

/* How many frames from q's head, at most max_frames, fit in cap bytes with their headers, stopping at
 * the first that does not; *len gets their size on the wire. q is borrowed and not changed. */
uint32_t ws_batch_count(const struct outq *q, size_t cap, uint32_t max_frames, size_t *len);

/* Copy the first k frames of q (k <= q->count) to buf, each as header then data, and return the bytes
 * written (what ws_batch_count gave for k). buf must hold them. q is borrowed and not changed. */
size_t ws_batch_fill(const struct outq *q, uint32_t k, unsigned char *buf);

#endif
