/*
 * connset.c: the connection set (see connset.h).
 */
#include "connset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum connset_state { CS_SETUP, CS_READY, CS_REFUSED, CS_CLOSED, CS_RETRY };

static void became_ready(struct connset *cs, struct wsconn *c, uint64_t now)
{
    cs->ready[c->idx] = CS_READY;
    cs->ready_count++;
    cs->inflight--;
    lat_hist_add(&cs->setup_lat, now - cs->t_start[c->idx]);
}

static void note(struct connset *cs, const char *what, int i, const char *why)
{
    if (!cs->error[0])
        snprintf(cs->error, sizeof(cs->error), "connection %d: %s: %s", i, what, why);
}

static void on_open(struct wsconn *c)
{
    struct connset *cs = c->user;
    if (!cs->topic) {
        became_ready(cs, c, lg_now_us());
        return;
    }
    char join[256];
    int n = snprintf(join, sizeof(join), "[\"1\",\"1\",\"%s\",\"phx_join\",{}]", cs->topic);
    if (wsconn_send_text(c, join, (size_t)n) != 0)
        note(cs, "join", (int)c->idx, "send failed");
}

static void on_text(struct wsconn *c, const char *text, size_t len, uint64_t now)
{
    struct connset *cs = c->user;
    struct phx_frame f;
    if (phx_scan(text, len, &f) != 0) {
        note(cs, "frame", (int)c->idx, "not a V2 array");
        return;
    }
    if (cs->ready[c->idx] != CS_SETUP) {
        if (cs->ready[c->idx] == CS_READY && cs->on_frame)
            cs->on_frame(cs, c, &f, now);
        return;
    }
    if (!phx_str_is(&f.event, "phx_reply") || !phx_str_is(&f.ref, "1"))
        return; /* presence_state and such before the reply cannot come, but are harmless */
    if (!phx_reply_ok(f.payload, f.payload_len)) {
        note(cs, "join refused", (int)c->idx, "error reply");
        cs->failed++;
        cs->inflight--;
        cs->ready[c->idx] = CS_REFUSED;
        return;
    }
    became_ready(cs, c, now);
}

static void on_close(struct wsconn *c)
{
    struct connset *cs = c->user;
    char why[128];
    wsconn_why(c, why, sizeof(why));
    int i = (int)c->idx;
    if (cs->ready[i] == CS_READY) {
        pthread_mutex_lock(&cs->mu);
        cs->dropped++;
        note(cs, "dropped", i, why);
        pthread_mutex_unlock(&cs->mu);
    } else if (cs->ready[i] == CS_SETUP) {
        cs->inflight--;
        if ((c->http_status == 503 || c->http_status == 429) && cs->attempts[i] < CONNSET_MAX_ATTEMPTS) {
            cs->ready[i] = CS_RETRY;
            cs->retries++;
            cs->retry_at[i] = lg_now_us() + (uint64_t)(c->retry_after > 0 ? c->retry_after : 1) * 1000000u;
            cs->retry_q[(cs->rq_head + cs->rq_len) % cs->n] = i;
            cs->rq_len++;
            return;
        }
        cs->failed++;
        note(cs, "set-up", i, why);
    }
    cs->ready[i] = CS_CLOSED;
}

static const struct wsconn_ops ops = {.on_open = on_open, .on_text = on_text, .on_close = on_close};

static void start(struct connset *cs, int i)
{
    char path[160];
    struct wsconn *c = &cs->c[i];
    c->ops = &ops;
    c->user = cs;
    c->idx = (uint32_t)i;
    snprintf(path, sizeof(path), "/socket/websocket?token=%s%d&vsn=2.0.0", cs->prefix, i);
    if (cs->attempts[i]++ == 0)
        cs->t_start[i] = lg_now_us();
    cs->ready[i] = CS_SETUP;
    cs->inflight++;
    int rc = wsconn_start(c, cs->loop, cs->dst, (unsigned)i, cs->nsrc, path);
    if (rc != 0) {
        cs->failed++;
        cs->inflight--;
        cs->ready[i] = CS_CLOSED;
        note(cs, "connect", i, strerror(-rc));
    }
}

/* Starts connections (those due for another try first) while fewer than window are being set up. */
static void pump(struct connset *cs)
{
    uint64_t now = lg_now_us();
    while (cs->inflight < cs->window && cs->rq_len > 0 && cs->retry_at[cs->retry_q[cs->rq_head]] <= now) {
        int i = cs->retry_q[cs->rq_head];
        cs->rq_head = (cs->rq_head + 1) % cs->n;
        cs->rq_len--;
        wsconn_cleanup(&cs->c[i]);
        start(cs, i);
    }
    while (cs->started < cs->n && cs->inflight < cs->window)
        start(cs, cs->started++);
}

int connset_open(struct connset *cs, uint64_t deadline_us)
{
    cs->c = calloc((size_t)cs->n, sizeof(*cs->c));
    cs->ready = calloc((size_t)cs->n, 1);
    cs->t_start = calloc((size_t)cs->n, sizeof(*cs->t_start));
    cs->attempts = calloc((size_t)cs->n, 1);
    cs->retry_q = calloc((size_t)cs->n, sizeof(*cs->retry_q));
    cs->retry_at = calloc((size_t)cs->n, sizeof(*cs->retry_at));
    cs->started = cs->inflight = cs->ready_count = cs->failed = cs->dropped = cs->retries = 0;
    cs->rq_head = cs->rq_len = 0;
    cs->error[0] = '\0';
    pthread_mutex_init(&cs->mu, NULL);
    lat_hist_init(&cs->setup_lat);
    if (!cs->c || !cs->ready || !cs->t_start || !cs->attempts || !cs->retry_q || !cs->retry_at) {
        snprintf(cs->error, sizeof(cs->error), "out of memory");
        return -1;
    }
    for (int i = 0; i < cs->n; i++)
        cs->c[i].sock.fd = -1;
    uint64_t t0 = lg_now_us();
    /* Bounded by the deadline; ends early once every connection is ready or failed. */
    while (cs->ready_count + cs->failed < cs->n && lg_now_us() < deadline_us) {
        pump(cs);
        if (lg_loop_poll(cs->loop, 10000) < 0) {
            snprintf(cs->error, sizeof(cs->error), "epoll failed");
            break;
        }
    }
    cs->setup_secs = (double)(lg_now_us() - t0) / 1e6;
    if (cs->ready_count == cs->n)
        return 0;
    if (!cs->error[0])
        snprintf(cs->error, sizeof(cs->error), "%d of %d connections ready at the deadline", cs->ready_count,
                 cs->n);
    return -1;
}

void connset_heartbeat_share(struct connset *cs, int first, int step, uint64_t now_us, uint64_t interval_us)
{
    for (int i = first; i < cs->started; i += step)
        wsconn_heartbeat_if_due(&cs->c[i], now_us, interval_us);
}

void connset_heartbeat(struct connset *cs, uint64_t now_us, uint64_t interval_us)
{
    connset_heartbeat_share(cs, 0, 1, now_us, interval_us);
}

void connset_close(struct connset *cs)
{
    for (int i = 0; cs->c && i < cs->started; i++)
        wsconn_cleanup(&cs->c[i]);
    free(cs->c);
    free(cs->ready);
    free(cs->t_start);
    free(cs->attempts);
    free(cs->retry_q);
    free(cs->retry_at);
    pthread_mutex_destroy(&cs->mu);
    cs->attempts = NULL;
    cs->retry_q = NULL;
    cs->retry_at = NULL;
    cs->c = NULL;
    cs->ready = NULL;
    cs->t_start = NULL;
}
