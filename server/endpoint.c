/*
 * endpoint.c: the lws context and its one protocol callback, a translator: each case hands the event
 * to the WebSocket transport (ws.c) or the HTTP side (http.c) in a line or two. A once-a-second timer
 * closes idle connections.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "endpoint.h"

#include "bridge.h"
#include "cluster.h"
#include "conn.h"
#include "http.h"
#include "log.h"
#include "redis_loop.h"
#include "longpoll.h"
#include "metrics.h"
#include "server.h"
#include "shard_hub.h"
#include "ws.h"

#include <ev.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct endpoint {
    struct lws_context *ctx;
    struct server *srv;
    lws_sorted_usec_list_t sweep; /* idle timer */
    struct longpoll *lp;          /* long-poll sessions */
    struct bridge *bridge;        /* the Redis cluster bridge, or NULL */
    lws_sorted_usec_list_t drain; /* SIGTERM: closes batches of connections */
    uint64_t drain_deadline_ms;
    struct endpoint_link link;   /* the rest of the node (all NULL when alone) */
    lws_sorted_usec_list_t tick; /* the cluster's heartbeat */
    long waits;                  /* the loop thread's voluntary context switches, at the last turn's end */
    bool waited;                 /* the last turn slept in its wait: the loop has no backlog */
    struct ev_loop *loop;        /* owned: the libev loop lws runs on, or NULL on lws's own poll() loop */
};

/* The idle sweep runs every second, or every quarter of the idle timeout when that is shorter, so a
 * connection is closed at most a quarter late. */
static lws_usec_t sweep_period(const struct server *s)
{
    uint64_t ms = s->opt.idle_timeout_ms / 4;
    if (ms > 1000)
        ms = 1000;
    if (ms < 10)
        ms = 10;
    return (lws_usec_t)ms * LWS_US_PER_MS;
}

static struct server *server_of(struct lws *wsi)
{
    struct endpoint *ep = lws_context_user(lws_get_context(wsi));
    return ep->srv;
}

struct longpoll *endpoint_longpoll(struct lws *wsi)
{
    struct endpoint *ep = lws_context_user(lws_get_context(wsi));
    return ep->lp;
}

static int on_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct session *ss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return ws_on_confirm_upgrade(server_of(wsi), wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_on_established(server_of(wsi), wsi, ss);
    case LWS_CALLBACK_RECEIVE:
        return ws_on_receive(wsi, ss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_on_writable(wsi, ss);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        ws_on_peer_close(ss, in, len);
        return 0;
    case LWS_CALLBACK_CLOSED:
        ws_on_closed(ss);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        ws_on_destroy(server_of(wsi), wsi);
        return 0;
    case LWS_CALLBACK_HTTP:
        return http_on_request(server_of(wsi), wsi, ss, in);
    case LWS_CALLBACK_HTTP_BODY:
        return http_on_body(server_of(wsi), ss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return http_on_body_done(server_of(wsi), wsi, ss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_on_writable(wsi, ss);
    case LWS_CALLBACK_RAW_RX_FILE:
        return redis_loop_on_readable(ss->redis);
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        return redis_loop_on_writable(ss->redis);
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        redis_loop_on_closed(ss->redis);
        return 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (ss)
            http_on_drop(ss);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* The most one send() may carry: well above any frame we queue, well below INT_MAX (lws adds to it). */
#define WS_TX_MAX (64u * 1024u * 1024u)

static const struct lws_protocols protocols[] = {
    /* Named "phoenix" so the subprotocol phoenix.js offers with authToken is answered as Phoenix does. */
    /* rx_buffer_size 128: libwebsockets keeps this receive buffer per connection for its whole life;
     * 512 B instead of the 4 KiB default took idle RSS from 5.97 to 2.54 KiB per connection, 128 B
     * from 2.19 to 1.82 KiB (tests/bench conns, 19,000 connections). It still holds a whole control
     * frame (125 bytes at most); bigger messages arrive in more pieces (conn.c assembles them), a few
     * more callbacks for a client's long message, nothing for what we send (tx_packet_size).
     * tx_packet_size WS_TX_MAX: with 0, libwebsockets 4.1.6 caps every send() at rx_buffer_size + 20
     * bytes (lws_issue_raw) and sends the rest of a frame 532 bytes per loop pass, so with a thousand
     * connections a reader keeping up with 8 KB broadcasts fell behind and was closed as a slow
     * consumer (tests/integration/62_fault_slow_consumers.test.mjs). One send() per frame instead;
     * what the kernel does not take is kept by lws and sent when the socket is writable again. */
    {"phoenix", on_event, sizeof(struct session), 128, 0, NULL, WS_TX_MAX},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* permessage-deflate (RFC 7692), offered only with --compress. */
static const struct lws_extension deflate_extensions[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate, "permessage-deflate; client_max_window_bits"},
    {NULL, NULL, NULL},
};

static void on_sweep(lws_sorted_usec_list_t *sul)
{
    struct endpoint *ep = lws_container_of(sul, struct endpoint, sweep);
    server_sweep_idle(ep->srv, server_now_ms());
    lws_sul_schedule(ep->ctx, 0, &ep->sweep, on_sweep, sweep_period(ep->srv));
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct endpoint *ep = lws_container_of(sul, struct endpoint, tick);
    cluster_tick(ep->srv->cluster, server_now_ms());
    lws_sul_schedule(ep->ctx, 0, &ep->tick, on_tick,
                     (lws_usec_t)ep->srv->opt.cluster_heartbeat_ms * LWS_US_PER_MS);
}

/* Join the cluster when there is one to join: over Redis, the other shards, or both. 0 or -1 (err). */
static int join_cluster(struct endpoint *ep, char *err, size_t errlen)
{
    struct server *s = ep->srv;
    if (!s->opt.redis_url && !ep->link.hub)
        return 0;
    struct cluster_carrier carrier, redis;
    if (s->opt.redis_url) {
        ep->bridge = bridge_create(s, ep->ctx, lws_get_vhost_by_name(ep->ctx, "cinder"), s->opt.redis_url,
                                   err, errlen);
        if (!ep->bridge)
            return -1;
        redis = bridge_carrier(ep->bridge);
        carrier = redis;
    }
    if (ep->link.hub)
        shard_hub_carrier(ep->link.hub, s->shard, s->opt.redis_url ? &redis : NULL, &carrier);
    s->cluster = cluster_create(s, &carrier, s->opt.cluster_heartbeat_ms, s->opt.cluster_expiry_ms);
    if (!s->cluster) {
        snprintf(err, errlen, "out of memory");
        bridge_destroy(&ep->bridge);
        return -1;
    }
    /* The other shards are there from the start: say hello (a Redis bridge does when it is up). */
    if (ep->link.hub)
        cluster_on_connected(s->cluster, server_now_ms());
    lws_sul_schedule(ep->ctx, 0, &ep->tick, on_tick, (lws_usec_t)s->opt.cluster_heartbeat_ms * LWS_US_PER_MS);
    return 0;
}

static void leave_cluster(struct endpoint *ep)
{
    lws_sul_schedule(ep->ctx, 0, &ep->tick, NULL, LWS_SET_TIMER_USEC_CANCEL);
    bridge_destroy(&ep->bridge);
    /* Peers' presence entries leave locally. */
    cluster_destroy(&ep->srv->cluster);
}

static void on_lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_msg(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws: %.*s", (int)n, line);
}

/* libwebsockets on a libev loop of our own with the epoll backend: a turn then costs what is ready,
 * where lws's own poll() loop looks at every socket each turn (with 17,000 idle connections, two
 * thirds of the server's CPU). lws loads its libev support at run time (Debian's
 * libwebsockets-evlib-ev); without it, or without a loop, the poll() loop. The loop is lws's "foreign"
 * loop, so lws attaches no signal watcher to it: main.c handles the signals. */
static struct lws_context *create_context(struct endpoint *ep, struct lws_context_creation_info *info)
{
    ep->loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
    if (ep->loop) {
        void *loops[1] = {ep->loop};
        struct lws_context_creation_info ev_info = *info;
        ev_info.options |= LWS_SERVER_OPTION_LIBEV;
        ev_info.foreign_loops = loops;
        struct lws_context *ctx = lws_create_context(&ev_info);
        if (ctx)
            return ctx;
        ev_loop_destroy(ep->loop);
        ep->loop = NULL;
    }
    if (ep->srv->shard == 0)
        log_msg(LOG_WARN, "no epoll loop (libev, or libwebsockets' libev plugin, is missing): running on "
                          "poll(), whose every turn costs a look at every connection");
    return lws_create_context(info);
}

struct endpoint *endpoint_create(struct server *s, const struct endpoint_link *link, char *err, size_t errlen)
{
    struct endpoint *ep = calloc(1, sizeof(*ep));
    if (!ep) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ep->srv = s;
    if (link)
        ep->link = *link;
    lws_set_log_level(log_get_level() == LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, on_lws_log);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    /* A server vhost that listens nowhere: the acceptor hands it its sockets (endpoint_adopt). */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.user = ep;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.vhost_name = "cinder";
    info.timeout_secs = 10;
    info.keepalive_timeout = 30;
    if (s->opt.compress)
        info.extensions = deflate_extensions;
    if (s->opt.tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = s->opt.tls_cert;
        info.ssl_private_key_filepath = s->opt.tls_key;
    }
    ep->ctx = create_context(ep, &info);
    if (!ep->ctx) {
        snprintf(err, errlen, "libwebsockets could not create its context%s",
                 s->opt.tls_cert ? " (check the TLS certificate and key)" : "");
        free(ep);
        return NULL;
    }
    ep->lp = longpoll_create(s, ep->ctx);
    if (!ep->lp) {
        snprintf(err, errlen, "out of memory");
        lws_context_destroy(ep->ctx);
        free(ep);
        return NULL;
    }
    if (join_cluster(ep, err, errlen) != 0) {
        longpoll_destroy(&ep->lp);
        lws_context_destroy(ep->ctx);
        free(ep);
        return NULL;
    }
    lws_sul_schedule(ep->ctx, 0, &ep->sweep, on_sweep, sweep_period(ep->srv));
    return ep;
}

const struct bridge *endpoint_bridge(const struct endpoint *ep)
{
    return ep->bridge;
}

int endpoint_adopt(struct endpoint *ep, int fd)
{
    struct lws_vhost *vh = lws_get_vhost_by_name(ep->ctx, "cinder");
    /* lws closes fd itself when it cannot adopt it */
    return vh && lws_adopt_socket_vhost(vh, fd) ? 0 : -1;
}

struct metrics_view *endpoint_other_views(struct lws *wsi, size_t *n)
{
    struct endpoint *ep = lws_context_user(lws_get_context(wsi));
    *n = 0;
    if (!ep->link.other_views || ep->link.nshards < 2)
        return NULL;
    struct metrics_view *v = calloc(ep->link.nshards - 1, sizeof(*v));
    if (v)
        *n = ep->link.other_views(ep->link.arg, ep->srv->shard, v, ep->link.nshards - 1);
    return v;
}

int endpoint_service(struct endpoint *ep)
{
    int rc = 0;
    if (ep->loop)
        ev_run(ep->loop, EVRUN_ONCE); /* returns after one wait and what it found ready */
    else
        rc = lws_service(ep->ctx, 0) < 0 ? -1 : 0;
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        ep->waited = ru.ru_nvcsw != ep->waits;
        ep->waits = ru.ru_nvcsw;
    }
    return rc;
}

void endpoint_flush(struct endpoint *ep)
{
    ws_flush(ep->srv, ep->waited);
}

#define DRAIN_TICK_MS 100

/* Close the next batch: as many as keep the pace to finish by the deadline, give or take a random
 * fifth, so clients that reconnect at once do not all land on the next node in the same instant. */
static void on_drain_tick(lws_sorted_usec_list_t *sul)
{
    struct endpoint *ep = lws_container_of(sul, struct endpoint, drain);
    struct server *s = ep->srv;
    uint64_t now = server_now_ms();
    size_t open = 0;
    for (struct conn *c = s->conns; c; c = c->next)
        open += !c->closing;
    uint64_t left_ms = ep->drain_deadline_ms > now ? ep->drain_deadline_ms - now : 0;
    size_t ticks = (size_t)(left_ms / DRAIN_TICK_MS) + 1;
    size_t batch = (open + ticks - 1) / ticks;
    if (batch > 1)
        batch = batch - batch / 5 + (size_t)rand() % (2 * (batch / 5) + 1);
    for (struct conn *c = s->conns; c && batch; c = c->next) {
        if (!c->closing) {
            conn_close(c, CLOSE_SERVICE_RESTART, "server draining");
            batch--;
        }
    }
    if (open)
        lws_sul_schedule(ep->ctx, 0, &ep->drain, on_drain_tick, DRAIN_TICK_MS * LWS_US_PER_MS);
}

void endpoint_start_drain(struct endpoint *ep)
{
    if (ep->srv->draining)
        return;
    ep->srv->draining = true;
    ep->drain_deadline_ms = server_now_ms() + ep->srv->opt.drain_timeout_ms;
    on_drain_tick(&ep->drain);
}

bool endpoint_drained(const struct endpoint *ep)
{
    if (ep->srv->nconns)
        return false;
    return !ep->bridge || bridge_stats(ep->bridge)->in_flight == 0;
}

/* Read a whole file (caller frees); NULL with err. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        snprintf(err, errlen, "%s: cannot read", path);
        goto out;
    }
    long n = ftell(f);
    rewind(f);
    buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(err, errlen, "%s: cannot read", path);
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    *len = (size_t)n;
out:
    if (f)
        fclose(f);
    return buf;
}

int endpoint_reload_tls(struct endpoint *ep, char *err, size_t errlen)
{
    const struct options *o = &ep->srv->opt;
    if (!o->tls_cert)
        return 0;
    size_t clen = 0, klen = 0;
    char *cert = read_file(o->tls_cert, &clen, err, errlen);
    char *key = cert ? read_file(o->tls_key, &klen, err, errlen) : NULL;
    int rc = -1;
    if (cert && key) {
        rc = lws_tls_cert_updated(ep->ctx, o->tls_cert, o->tls_key, cert, clen, key, klen) ? -1 : 0;
        if (rc)
            snprintf(err, errlen, "%s / %s: not a usable certificate and key", o->tls_cert, o->tls_key);
    }
    free(cert);
    free(key);
    return rc;
}

void endpoint_wake(struct endpoint *ep)
{
    lws_cancel_service(ep->ctx);
}

void endpoint_destroy(struct endpoint **epp)
{
    struct endpoint *ep = *epp;
    if (!ep)
        return;
    lws_sul_schedule(ep->ctx, 0, &ep->sweep, NULL, LWS_SET_TIMER_USEC_CANCEL);
    lws_sul_schedule(ep->ctx, 0, &ep->drain, NULL, LWS_SET_TIMER_USEC_CANCEL);
    /* The bridge's descriptors live on the context: leave the cluster first. */
    leave_cluster(ep);
    /* Long-poll sessions have no connection of their own: end them while the context still exists. */
    longpoll_destroy(&ep->lp);
    /* Destroying the context closes every connection; their CLOSED callbacks destroy the conns. */
    lws_context_destroy(ep->ctx);
    if (ep->loop)
        ev_loop_destroy(ep->loop);
    free(ep);
    *epp = NULL;
}
