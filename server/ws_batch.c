/*
 * ws_batch.c: WebSocket framing of several queued frames into one buffer (see ws_batch.h).
 */
#include "ws_batch.h"

#include <string.h>

/* RFC 6455 section 5.2: FIN is the top bit of the first byte; opcodes 0x1 text, 0x2 binary. No RSV bit:
 * frames gathered here are never compressed (ws.c does not batch on a permessage-deflate connection). */
#define WS_FIN 0x80u
#define WS_OP_TEXT 0x1u
#define WS_OP_BINARY 0x2u

size_t ws_header_encode(unsigned char out[WS_HEADER_MAX], uint64_t len, bool binary)
{
    out[0] = (unsigned char)(WS_FIN | (binary ? WS_OP_BINARY : WS_OP_TEXT));
    if (len < 126) {
        out[1] = (unsigned char)len; /* the mask bit stays clear: a server never masks */
        return 2;
    }
    if (len < 65536) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        return 4;
    }
    out[1] = 127;
    /* network byte order; the top bit of a 64-bit length must be 0, as frames are at most UINT32_MAX */
    for (int i = 0; i < 8; i++)
        out[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    return 10;
}

static size_t ws_header_size(uint64_t len)
{
    return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

uint32_t ws_batch_count(const struct outq *q, size_t cap, uint32_t max_frames, size_t *len)
{
    uint32_t k = 0;
    size_t used = 0;
    for (struct frame *f; k < max_frames && (f = outq_at(q, k)); k++) {
        size_t need = ws_header_size(f->len) + f->len;
        if (need > cap - used)
            break;
        used += need;
    }
    *len = used;
    return k;
}

size_t ws_batch_fill(const struct outq *q, uint32_t k, unsigned char *buf)
{
    unsigned char *p = buf;
    for (uint32_t i = 0; i < k; i++) {
        struct frame *f = outq_at(q, i);
        p += ws_header_encode(p, f->len, f->binary);
        memcpy(p, frame_data(f), f->len);
        p += f->len;
    }
    return (size_t)(p - buf);
}
