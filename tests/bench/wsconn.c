/*
 * wsconn.c: client WebSocket connections (see wsconn.h).
 */
#include "wsconn.h"

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define WSC_MAX_MSG (64u << 20) /* a presence_state of 19,000 members is ~2 MB */
#define WSC_MAX_HEAD 8192
#define WSC_CLOSED_BY_PEER 1 /* c->err: the server closed the TCP connection without a close frame */

static void on_event(struct lg_sock *s, uint32_t events);

static void end(struct wsconn *c, int err)
{
    if (c->state == WSC_CLOSED)
        return;
    c->err = err;
    lg_loop_del(c->loop, &c->sock);
    close(c->sock.fd);
    c->sock.fd = -1;
    c->state = WSC_CLOSED;
    ws_dec_cleanup(&c->dec);
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    free(c->head);
    c->head = NULL;
    c->ops->on_close(c);
}

int wsconn_start(struct wsconn *c, struct lg_loop *l, const struct sockaddr_in *dst, unsigned i,
                 unsigned nsrc, const char *path)
{
    c->loop = l;
    c->err = c->close_code = c->http_status = 0;
    c->retry_after = -1;
    c->rng = 2463534242u ^ (c->idx * 2654435761u);
    if (!c->rng)
        c->rng = 1;
    ws_dec_init(&c->dec, WSC_MAX_MSG);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    c->head = NULL;
    c->head_len = 0;
    c->state = WSC_CLOSED;
    c->sock.fd = -1;
    c->sock.on_event = on_event;

    char req[1024], host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &dst->sin_addr, host, sizeof(host));
    int n = ws_handshake_request(req, sizeof(req), host, ntohs(dst->sin_port), path);
    if (n < 0)
        return -EINVAL;
    c->out = malloc((size_t)n);
    if (!c->out)
        return -ENOMEM;
    memcpy(c->out, req, (size_t)n);
    c->out_len = c->out_cap = (size_t)n;

    int fd = net_connect(dst, i, nsrc);
    if (fd < 0) {
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_cap = 0;
        return fd;
    }
    c->sock.fd = fd;
    c->state = WSC_CONNECTING;
    if (lg_loop_add(l, &c->sock, EPOLLOUT) != 0) {
        int e = -errno;
        close(fd);
        c->sock.fd = -1;
        c->state = WSC_CLOSED;
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_cap = 0;
        return e;
    }
    return 0;
}

int wsconn_move(struct wsconn *c, struct lg_loop *l)
{
    if (c->state == WSC_CLOSED || c->loop == l)
        return 0;
    lg_loop_del(c->loop, &c->sock);
    c->loop = l;
    uint32_t ev = (c->state == WSC_CONNECTING ? 0 : EPOLLIN) |
                  (c->state == WSC_CONNECTING || c->out_len ? EPOLLOUT : 0);
    return lg_loop_add(l, &c->sock, ev) == 0 ? 0 : -errno;
}

/* Writes what is queued; EPOLLOUT stays on while something is left. 0 or -errno. */
static int flush(struct wsconn *c)
{
    while (c->out_len) {
        ssize_t n = write(c->sock.fd, c->out, c->out_len);
        if (n < 0) {
            if (errno == EAGAIN)
                break;
            return -errno;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    uint32_t ev =
        (c->state == WSC_HANDSHAKE || c->state == WSC_OPEN ? EPOLLIN : 0) | (c->out_len ? EPOLLOUT : 0);
    return lg_loop_mod(c->loop, &c->sock, ev) == 0 ? 0 : -errno;
}

static int queue(struct wsconn *c, const uint8_t *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : 512;
        while (cap < c->out_len + n)
            cap *= 2;
        uint8_t *b = realloc(c->out, cap);
        if (!b)
            return -1;
        c->out = b;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

static uint32_t next_mask(struct wsconn *c)
{
    uint32_t x = c->rng; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return c->rng = x;
}

static int send_frame(struct wsconn *c, int op, const void *payload, size_t len)
{
    uint8_t stack[1024], *buf = stack;
    size_t need = ws_frame_size(len);
    if (need > sizeof(stack) && !(buf = malloc(need)))
        return -1;
    size_t n = ws_frame_encode(buf, op, payload, len, next_mask(c)), off = 0;
    int rc = 0;
    if (c->out_len == 0) { /* nothing queued: straight to the socket */
        ssize_t w = write(c->sock.fd, buf, n);
        if (w < 0 && errno != EAGAIN)
            rc = -1;
        off = w > 0 ? (size_t)w : 0;
    }
    if (rc == 0 && off < n) {
        if (queue(c, buf + off, n - off) != 0 || lg_loop_mod(c->loop, &c->sock, EPOLLIN | EPOLLOUT) != 0)
            rc = -1;
    }
    if (buf != stack)
        free(buf);
    return rc;
}

int wsconn_send_text(struct wsconn *c, const char *text, size_t len)
{
    if (c->state != WSC_OPEN)
        return -1;
    c->last_tx_us = lg_now_us();
    return send_frame(c, WS_OP_TEXT, text, len);
}

void wsconn_heartbeat_if_due(struct wsconn *c, uint64_t now_us, uint64_t interval_us)
{
    static const char hb[] = "[null,\"hb\",\"phoenix\",\"heartbeat\",{}]";
    if (c->state == WSC_OPEN && now_us - c->last_tx_us >= interval_us)
        wsconn_send_text(c, hb, sizeof(hb) - 1);
}

static int on_msg(void *ctx, int op, const uint8_t *data, size_t len)
{
    struct wsconn *c = ctx;
    switch (op) {
    case WS_OP_TEXT:
        c->ops->on_text(c, (const char *)data, len, lg_now_us());
        return c->state == WSC_OPEN ? 0 : 1; /* the callback may have ended it */
    case WS_OP_PING:
        return send_frame(c, WS_OP_PONG, data, len) == 0 ? 0 : -EIO;
    case WS_OP_CLOSE:
        c->close_code = len >= 2 ? data[0] << 8 | data[1] : 1005;
        return 1;
    default: /* binary and pong frames: the benchmarks ask for none */
        return 0;
    }
}

/* Reads the upgrade answer; once it is a 101, the rest goes to the decoder. 0 or an error. */
static int on_head(struct wsconn *c, const uint8_t *in, size_t n)
{
    if (c->head_len + n > WSC_MAX_HEAD)
        return WS_ERR_PROTOCOL;
    char *h = realloc(c->head, c->head_len + n);
    if (!h)
        return WS_ERR_NOMEM;
    c->head = h;
    memcpy(h + c->head_len, in, n);
    c->head_len += n;
    int rc = ws_handshake_response(h, c->head_len, &c->http_status);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        const char *ra = memmem(h, c->head_len, "\nRetry-After:", 13);
        if (!ra)
            ra = memmem(h, c->head_len, "\nretry-after:", 13);
        if (ra)
            c->retry_after = atoi(ra + 13);
        return rc;
    }
    size_t rest = c->head_len - (size_t)rc;
    c->state = WSC_OPEN;
    c->last_tx_us = lg_now_us();
    c->ops->on_open(c);
    if (c->state != WSC_OPEN)
        return 1;
    rc = rest ? ws_dec_feed(&c->dec, (uint8_t *)h + (c->head_len - rest), rest, on_msg, c) : 0;
    free(c->head); /* on_msg cannot have used it past the call */
    c->head = NULL;
    c->head_len = 0;
    return rc;
}

static void on_readable(struct wsconn *c)
{
    uint8_t *buf = c->loop->rbuf;
    for (int round = 0; round < 4 && c->state != WSC_CLOSED; round++) {
        ssize_t n = read(c->sock.fd, buf, LG_RBUF_SIZE);
        if (n == 0) {
            end(c, c->close_code ? 0 : WSC_CLOSED_BY_PEER);
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                end(c, -errno);
            return;
        }
        int rc = c->state == WSC_HANDSHAKE ? on_head(c, buf, (size_t)n)
                                           : ws_dec_feed(&c->dec, buf, (size_t)n, on_msg, c);
        if (rc != 0) {
            end(c, rc > 0 ? 0 : rc); /* rc > 0: a close frame, or the callback stopped */
            return;
        }
        if ((size_t)n < LG_RBUF_SIZE)
            return;
    }
}

static void on_event(struct lg_sock *s, uint32_t events)
{
    struct wsconn *c = (struct wsconn *)s;
    if (s->fd < 0 || c->state == WSC_CLOSED)
        return;
    if (c->state == WSC_CONNECTING) {
        int rc = net_connect_result(s->fd);
        if (rc != 0) {
            end(c, rc);
            return;
        }
        c->state = WSC_HANDSHAKE;
    }
    if (events & EPOLLOUT) {
        int rc = flush(c);
        if (rc != 0) {
            end(c, rc);
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(c);
}

void wsconn_cleanup(struct wsconn *c)
{
    if (c->sock.fd >= 0) {
        lg_loop_del(c->loop, &c->sock);
        close(c->sock.fd);
        c->sock.fd = -1;
    }
    c->state = WSC_CLOSED;
    ws_dec_cleanup(&c->dec);
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    free(c->head);
    c->head = NULL;
}

const char *wsconn_why(const struct wsconn *c, char *buf, size_t cap)
{
    if (c->http_status && c->http_status != 101)
        snprintf(buf, cap, "upgrade answered %d", c->http_status);
    else if (c->close_code)
        snprintf(buf, cap, "closed by the server, code %d", c->close_code);
    else if (c->err == WSC_CLOSED_BY_PEER)
        snprintf(buf, cap, "TCP closed by the server");
    else if (c->err == WS_ERR_PROTOCOL || c->err == WS_ERR_TOO_BIG || c->err == WS_ERR_NOMEM)
        snprintf(buf, cap, "client-side WebSocket error %d", c->err);
    else if (c->err < 0)
        snprintf(buf, cap, "%s", strerror(-c->err));
    else
        snprintf(buf, cap, "closed");
    return buf;
}
