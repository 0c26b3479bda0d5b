/*
 * lp_batch.c: a long-poll POST body turned into messages for a connection (see lp_batch.h).
 *
 * Transport-free: bytes in, conn_on_message calls out, a long-poll status back. The line count is
 * checked before any line is delivered, so an over-long batch delivers nothing.
 */
#include "lp_batch.h"

#include "base64.h"
#include "conn.h"
#include "server.h"

#include <stdlib.h>
#include <string.h>

/* The long-poll status for a conn the core just closed while it handled our input. */
static int status_after_close(const struct conn *c)
{
    switch (c->close_code) {
    case CLOSE_INVALID_DATA:
        return 400;
    case CLOSE_TOO_BIG:
        return 413;
    case CLOSE_INTERNAL:
        return 500;
    default:
        return 410;
    }
}

/* One ndjson line: "[" (V2) or "{" (V1) starts a text frame, anything else is base64 of a binary one.
 * 0, or -1 when the conn is now closing. */
static int feed_line(struct conn *c, const char *line, size_t len)
{
    if (len && (line[0] == '[' || line[0] == '{')) {
        if (len > c->srv->opt.max_frame_size) {
            conn_close(c, CLOSE_TOO_BIG, "message over max_frame_size");
            return -1;
        }
        return conn_on_message(c, line, len, false);
    }
    unsigned char *bin = malloc(BASE64_DECODED_MAX(len) + 1);
    size_t n = 0;
    if (!bin) {
        conn_close(c, CLOSE_INTERNAL, "out of memory");
        return -1;
    }
    int rc;
    if (base64_decode(line, len, BASE64_STD, bin, &n) != 0) {
        c->srv->stats.bad_frames++;
        conn_close(c, CLOSE_INVALID_DATA, "malformed frame: bad base64 line");
        rc = -1;
    } else if (n > c->srv->opt.max_frame_size) {
        conn_close(c, CLOSE_TOO_BIG, "message over max_frame_size");
        rc = -1;
    } else {
        rc = conn_on_message(c, bin, n, true);
    }
    free(bin);
    return rc;
}

int lp_batch_feed(struct conn *c, const char *body, size_t len, bool ndjson)
{
    if (!ndjson)
        return conn_on_message(c, body, len, false) == 0 ? 200 : status_after_close(c);
    /* Lines end with \n (or \r\n); a final terminator does not start another line. */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += body[i] == '\n';
    if (len && body[len - 1] != '\n')
        lines++;
    if (lines > LP_BATCH_MAX_LINES) {
        conn_close(c, CLOSE_INVALID_DATA, "long-poll POST over 100 lines");
        return 400;
    }
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (feed_line(c, p, n) != 0)
            return status_after_close(c);
        p = nl ? nl + 1 : end;
    }
    return 200;
}
