/*
 * ws_client.c: client-side WebSocket framing (see ws_client.h).
 *
 * The key in the upgrade request is fixed: a load generator talking to a known server over loopback
 * gains nothing from a random one, and the answer's Sec-WebSocket-Accept is not checked (the 101 is).
 */
#include "ws_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ws_handshake_request(char *buf, size_t cap, const char *host, int port, const char *path)
{
    int n = snprintf(buf, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s:%d\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n",
                     path, host, port);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int ws_handshake_response(const char *buf, size_t len, int *status)
{
    const char *end = NULL;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = buf + i + 1;
            break;
        }
    if (!end)
        return 0;
    *status = 0;
    if (len >= 12 && strncasecmp(buf, "HTTP/1.", 7) == 0 && buf[8] == ' ')
        *status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    return *status == 101 ? (int)(end - buf) : WS_ERR_STATUS;
}

size_t ws_frame_size(size_t len)
{
    return len + 4 + (len < 126 ? 2 : len <= 0xffff ? 4 : 10);
}

size_t ws_frame_encode(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask)
{
    size_t h = 0;
    out[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        out[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t m[4] = {(uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8), (uint8_t)mask};
    memcpy(out + h, m, 4);
    h += 4;
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        out[h + i] = p[i] ^ m[i & 3];
    return h + len;
}

void ws_dec_init(struct ws_dec *d, size_t max_msg)
{
    memset(d, 0, sizeof(*d));
    d->max_msg = max_msg;
    d->frag_op = -1;
}

void ws_dec_cleanup(struct ws_dec *d)
{
    free(d->part);
    free(d->frag);
    ws_dec_init(d, d->max_msg);
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    uint8_t *p = realloc(*buf, c);
    if (!p)
        return WS_ERR_NOMEM;
    *buf = p;
    *cap = c;
    return 0;
}

/* The frame at p[0..n): its whole length, 0 when incomplete, or an error. Sets the opcode, FIN and the
 * payload's offset and length. */
static long long frame_at(const struct ws_dec *d, const uint8_t *p, size_t n, int *op, int *fin, size_t *off,
                          size_t *plen)
{
    if (n < 2)
        return 0;
    if ((p[0] & 0x70) ||
        (p[1] & 0x80)) /* reserved bits (no extension is negotiated), a masked server frame */
        return WS_ERR_PROTOCOL;
    *op = p[0] & 0x0f;
    *fin = p[0] >> 7;
    uint64_t len = p[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        h = 10;
    }
    if (*op >= 8 && (len > 125 || !*fin))
        return WS_ERR_PROTOCOL;
    if (len > d->max_msg)
        return WS_ERR_TOO_BIG;
    if (n < h + len)
        return 0;
    *off = h;
    *plen = (size_t)len;
    return (long long)(h + len);
}

/* One whole frame: a message, a piece of one, or a control frame. */
static int on_frame(struct ws_dec *d, int op, int fin, const uint8_t *data, size_t len, ws_msg_fn fn,
                    void *ctx)
{
    if (op >= 8)
        return fn(ctx, op, data, len);
    if (op == WS_OP_CONT) {
        if (d->frag_op < 0)
            return WS_ERR_PROTOCOL;
    } else {
        if (d->frag_op >= 0)
            return WS_ERR_PROTOCOL;
        if (fin)
            return fn(ctx, op, data, len);
        d->frag_op = op;
        d->frag_len = 0;
    }
    if (d->frag_len + len > d->max_msg)
        return WS_ERR_TOO_BIG;
    int rc = grow(&d->frag, &d->frag_cap, d->frag_len + len);
    if (rc)
        return rc;
    memcpy(d->frag + d->frag_len, data, len);
    d->frag_len += len;
    if (!fin)
        return 0;
    op = d->frag_op;
    d->frag_op = -1;
    return fn(ctx, op, d->frag, d->frag_len);
}

/* Decodes the whole frames of p[0..n); *used is set to the bytes they took. */
static int decode(struct ws_dec *d, const uint8_t *p, size_t n, size_t *used, ws_msg_fn fn, void *ctx)
{
    size_t at = 0;
    int rc = 0;
    while (at < n) {
        int op, fin;
        size_t off, len;
        long long fl = frame_at(d, p + at, n - at, &op, &fin, &off, &len);
        if (fl <= 0) {
            rc = (int)fl;
            break;
        }
        rc = on_frame(d, op, fin, p + at + off, len, fn, ctx);
        at += (size_t)fl;
        if (rc)
            break;
    }
    *used = at;
    return rc;
}

int ws_dec_feed(struct ws_dec *d, const uint8_t *in, size_t n, ws_msg_fn fn, void *ctx)
{
    size_t used;
    int rc;
    if (d->part_len == 0) {
        rc = decode(d, in, n, &used, fn, ctx);
        in += used;
        n -= used;
    } else {
        rc = grow(&d->part, &d->part_cap, d->part_len + n);
        if (rc)
            return rc;
        memcpy(d->part + d->part_len, in, n);
        d->part_len += n;
        rc = decode(d, d->part, d->part_len, &used, fn, ctx);
        memmove(d->part, d->part + used, d->part_len - used);
        d->part_len -= used;
        n = 0;
    }
    if (rc)
        return rc;
    if (n) { /* the start of a frame the next read completes */
        rc = grow(&d->part, &d->part_cap, n);
        if (rc)
            return rc;
        memcpy(d->part, in, n);
        d->part_len = n;
    }
    /* A large partial buffer is returned once drained, so a burst does not pin memory on every conn. */
    if (d->part_len == 0 && d->part_cap > 65536) {
        free(d->part);
        d->part = NULL;
        d->part_cap = 0;
    }
    return 0;
}
