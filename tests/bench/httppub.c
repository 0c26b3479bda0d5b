/*
 * httppub.c: the keep-alive HTTP publisher (see httppub.h).
 *
 * Answers are read as status line, headers and a Content-Length body (the server always sends one);
 * "Connection: close" or the server closing the socket sends the publisher back to connecting.
 */
#include "httppub.h"

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

static void on_event(struct lg_sock *s, uint32_t events);

static void drop(struct httppub *p)
{
    if (p->sock.fd >= 0) {
        lg_loop_del(p->loop, &p->sock);
        close(p->sock.fd);
        p->sock.fd = -1;
    }
    free(p->out);
    p->out = NULL;
    p->out_len = p->out_off = p->in_len = 0;
    p->state = HP_DOWN;
}

static int connect_now(struct httppub *p)
{
    int fd = net_connect(&p->dst, p->src, p->nsrc);
    if (fd < 0)
        return fd;
    p->sock.fd = fd;
    p->sock.on_event = on_event;
    p->state = HP_CONNECTING;
    if (lg_loop_add(p->loop, &p->sock, EPOLLOUT) != 0) {
        int e = -errno;
        drop(p);
        return e;
    }
    return 0;
}

int httppub_start(struct httppub *p, struct lg_loop *l, const struct sockaddr_in *dst, unsigned src,
                  unsigned nsrc)
{
    p->loop = l;
    p->dst = *dst;
    p->src = src;
    p->nsrc = nsrc;
    p->sock.fd = -1;
    p->out = NULL;
    p->out_len = p->out_off = p->in_len = 0;
    p->reconnects = 0;
    p->state = HP_DOWN;
    return connect_now(p);
}

/* The connection failed or was closed: fail the request in flight and connect again (bounded). */
static void restart(struct httppub *p)
{
    bool busy = p->state == HP_BUSY;
    drop(p);
    if (busy)
        p->on_done(p, p->tag, -1);
    if (p->state == HP_DOWN && p->reconnects++ < HP_MAX_RECONNECTS)
        connect_now(p);
}

static int flush(struct httppub *p)
{
    while (p->out_off < p->out_len) {
        ssize_t n = write(p->sock.fd, p->out + p->out_off, p->out_len - p->out_off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        p->out_off += (size_t)n;
    }
    free(p->out);
    p->out = NULL;
    p->out_len = p->out_off = 0;
    return lg_loop_mod(p->loop, &p->sock, EPOLLIN);
}

int httppub_post(struct httppub *p, const char *path, const char *body, size_t len, uint64_t tag)
{
    if (p->state != HP_IDLE)
        return -1;
    char head[256];
    int h = snprintf(
        head, sizeof(head),
        "POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
        path, len);
    if (h < 0 || (size_t)h >= sizeof(head) || !(p->out = malloc((size_t)h + len)))
        return -1;
    memcpy(p->out, head, (size_t)h);
    memcpy(p->out + h, body, len);
    p->out_len = (size_t)h + len;
    p->out_off = 0;
    p->tag = tag;
    p->sent_us = lg_now_us();
    p->state = HP_BUSY;
    if (flush(p) != 0 || (p->out && lg_loop_mod(p->loop, &p->sock, EPOLLIN | EPOLLOUT) != 0))
        restart(p);
    return 0;
}

/* A header's value in head[0..len) (name without the colon), or NULL. */
static const char *header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    for (const char *l = memchr(head, '\n', len); l && (size_t)(l - head) + 1 + n + 1 < len;
         l = memchr(l + 1, '\n', len - (size_t)(l + 1 - head))) {
        const char *s = l + 1;
        if (strncasecmp(s, name, n) == 0 && s[n] == ':') {
            const char *v = s + n + 1, *e = memchr(v, '\r', len - (size_t)(v - head));
            while (v < e && *v == ' ')
                v++;
            *vlen = e ? (size_t)(e - v) : 0;
            return v;
        }
    }
    return NULL;
}

/* A whole answer in p->in: 1 (and it is consumed), 0 not yet, -1 malformed. */
static int parse_answer(struct httppub *p, int *status, bool *close_after)
{
    const char *end = memmem(p->in, p->in_len, "\r\n\r\n", 4);
    if (!end)
        return p->in_len == sizeof(p->in) ? -1 : 0;
    size_t hl = (size_t)(end + 4 - p->in), vl;
    if (hl < 12 || strncmp(p->in, "HTTP/1.1 ", 9) != 0)
        return -1;
    *status = atoi(p->in + 9);
    const char *cl = header(p->in, hl, "content-length", &vl);
    size_t body = cl ? (size_t)strtoul(cl, NULL, 10) : 0;
    const char *conn = header(p->in, hl, "connection", &vl);
    *close_after = conn && vl >= 5 && strncasecmp(conn, "close", 5) == 0;
    if (hl + body > sizeof(p->in))
        return -1;
    if (p->in_len < hl + body)
        return 0;
    memmove(p->in, p->in + hl + body, p->in_len - hl - body);
    p->in_len -= hl + body;
    return 1;
}

static void on_event(struct lg_sock *s, uint32_t events)
{
    struct httppub *p = (struct httppub *)s;
    if (s->fd < 0)
        return;
    if (p->state == HP_CONNECTING) {
        if (net_connect_result(s->fd) != 0) {
            restart(p);
            return;
        }
        p->state = HP_IDLE;
        if (lg_loop_mod(p->loop, s, EPOLLIN) != 0)
            restart(p);
        return;
    }
    if ((events & EPOLLOUT) && p->out && flush(p) != 0) {
        restart(p);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    ssize_t n = read(s->fd, p->in + p->in_len, sizeof(p->in) - p->in_len);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        restart(p);
        return;
    }
    p->in_len += (size_t)n;
    int status;
    bool close_after;
    int rc = parse_answer(p, &status, &close_after);
    if (rc == 0)
        return;
    if (rc < 0 || p->state != HP_BUSY) { /* garbage, or an answer to nothing */
        restart(p);
        return;
    }
    p->state = HP_IDLE;
    if (close_after)
        drop(p);
    p->on_done(p, p->tag, status);
    if (close_after && p->state == HP_DOWN && p->reconnects++ < HP_MAX_RECONNECTS)
        connect_now(p);
}

void httppub_cleanup(struct httppub *p)
{
    drop(p);
}
