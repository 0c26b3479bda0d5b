/*
 * httppub.h: a backend publisher: one keep-alive HTTP/1.1 connection posting JSON bodies, one request
 * at a time (the server closes a connection on which it sees pipelining), reconnecting when the server
 * closes it.
 *
 *   p->on_done = my_done;  httppub_start(p, &loop, &dst, 0, 0);
 *   if (p->state == HP_IDLE) httppub_post(p, "/api/broadcast", body, len, seq);
 *   ... my_done(p, seq, 202)       // status, or -1 when the connection failed first
 */
#ifndef CINDER_BENCH_HTTPPUB_H
#define CINDER_BENCH_HTTPPUB_H

#include "loop.h"

#include <netinet/in.h>
#include <stdint.h>

enum httppub_state { HP_DOWN, HP_CONNECTING, HP_IDLE, HP_BUSY };

#define HP_MAX_RECONNECTS 100

struct httppub {
    struct lg_sock sock;
    struct lg_loop *loop;
    struct sockaddr_in dst;
    unsigned src, nsrc;
    enum httppub_state state;
    void (*on_done)(struct httppub *p, uint64_t tag, int status);
    void *user;
    uint64_t tag;     /* of the request in flight */
    uint64_t sent_us; /* when it was written */
    char in[2048];
    size_t in_len;
    char *out;
    size_t out_len, out_off;
    unsigned reconnects;
};

/* Connects (source address src of nsrc, see net.h); on_done must be set. 0 or -errno. */
int httppub_start(struct httppub *p, struct lg_loop *l, const struct sockaddr_in *dst, unsigned src,
                  unsigned nsrc);

/* POSTs body (copied, application/json) to path; only in HP_IDLE. on_done(tag, status) follows once.
 * 0, or -1 (not idle, out of memory). */
int httppub_post(struct httppub *p, const char *path, const char *body, size_t len, uint64_t tag);

void httppub_cleanup(struct httppub *p);

#endif
