/*
 * connset.c: the connection set (see connset.h).
 */
#include "connset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note(struct connset *cs, const char *what, int i, const char *why)
{
    if (!cs->error[0])
        snprintf(cs->error, sizeof(cs->error), "connection %d: %s: %s", i, what, why);
}

static void on_open(struct wsconn *c)
{
    struct connset *cs = c->user;
    if (!cs->topic) {
        cs->ready[c->idx] = 1;
        cs->ready_count++;
        lat_hist_add(&cs->setup_lat, lg_now_us() - cs->t_start[c->idx]);
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
    if (cs->ready[c->idx]) {
        if (cs->on_frame)
            cs->on_frame(cs, c, &f, now);
        return;
    }
    if (!phx_str_is(&f.event, "phx_reply") || !phx_str_is(&f.ref, "1"))
        return; /* presence_state and such before the reply cannot come, but are harmless */
    if (!phx_reply_ok(f.payload, f.payload_len)) {
        note(cs, "join refused", (int)c->idx, "error reply");
        cs->failed++;
        cs->ready[c->idx] = 2; /* refused: not counted again */
        return;
    }
    cs->ready[c->idx] = 1;
    cs->ready_count++;
    lat_hist_add(&cs->setup_lat, now - cs->t_start[c->idx]);
}

static void on_close(struct wsconn *c)
{
    struct connset *cs = c->user;
    char why[128];
    wsconn_why(c, why, sizeof(why));
    if (cs->ready[c->idx] == 1) {
        cs->dropped++;
        note(cs, "dropped", (int)c->idx, why);
    } else if (cs->ready[c->idx] == 0) {
        cs->failed++;
        note(cs, "set-up", (int)c->idx, why);
    }
    cs->ready[c->idx] = 3;
}

static const struct wsconn_ops ops = {.on_open = on_open, .on_text = on_text, .on_close = on_close};

/* Starts connections while fewer than window are being set up. */
static void pump(struct connset *cs)
{
    char path[160];
    while (cs->started < cs->n && cs->started - cs->ready_count - cs->failed < cs->window) {
        int i = cs->started++;
        struct wsconn *c = &cs->c[i];
        c->ops = &ops;
        c->user = cs;
        c->idx = (uint32_t)i;
        snprintf(path, sizeof(path), "/socket/websocket?token=%s%d&vsn=2.0.0", cs->prefix, i);
        cs->t_start[i] = lg_now_us();
        int rc = wsconn_start(c, cs->loop, cs->dst, (unsigned)i, cs->nsrc, path);
        if (rc != 0) {
            cs->failed++;
            cs->ready[i] = 3;
            note(cs, "connect", i, strerror(-rc));
        }
    }
}

int connset_open(struct connset *cs, uint64_t deadline_us)
{
    cs->c = calloc((size_t)cs->n, sizeof(*cs->c));
    cs->ready = calloc((size_t)cs->n, 1);
    cs->t_start = calloc((size_t)cs->n, sizeof(*cs->t_start));
    cs->started = cs->ready_count = cs->failed = cs->dropped = 0;
    cs->error[0] = '\0';
    lat_hist_init(&cs->setup_lat);
    if (!cs->c || !cs->ready || !cs->t_start) {
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

void connset_heartbeat(struct connset *cs, uint64_t now_us, uint64_t interval_us)
{
    for (int i = 0; i < cs->started; i++)
        wsconn_heartbeat_if_due(&cs->c[i], now_us, interval_us);
}

void connset_close(struct connset *cs)
{
    for (int i = 0; cs->c && i < cs->started; i++)
        wsconn_cleanup(&cs->c[i]);
    free(cs->c);
    free(cs->ready);
    free(cs->t_start);
    cs->c = NULL;
    cs->ready = NULL;
    cs->t_start = NULL;
}
