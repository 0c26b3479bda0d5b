/*
 * bridge.c: the Redis carrier (see bridge.h).
 *
 * Two hiredis async connections: `sub` (SUBSCRIBE: a subscribed connection can do nothing else) and
 * `pub` (PUBLISH). The bridge is UP when both are connected and both subscriptions are confirmed. Any
 * failure of either tears both down (hiredis frees a context after its disconnect callback) and
 * schedules a retry: 100 ms doubling to at most 5 s, each delay jittered to 50..150 %.
 */
#include "bridge.h"

#include "cluster.h"
#include "log.h"
#include "redis_loop.h"
#include "server.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

struct bridge {
    struct server *srv;
    struct lws_vhost *vh;
    struct lws_context *ctx;
    char host[256];
    int port;
    redisAsyncContext *sub, *pub;
    bool pub_connected;
    int subscribed; /* confirmed subscriptions on sub */
    unsigned attempt;
    bool stopping;
    bool retry_pending;
    lws_sorted_usec_list_t retry;
    struct bridge_stats stats;
};

int bridge_parse_url(const char *url, char *host, size_t hostlen, int *port)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) == 0)
        p += 8;
    const char *end = p + strcspn(p, ":/");
    size_t n = (size_t)(end - p);
    if (!n || n >= hostlen)
        return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    *port = 6379;
    if (*end == ':') {
        char *e;
        long v = strtol(end + 1, &e, 10);
        if (v < 1 || v > 65535 || (*e && *e != '/'))
            return -1;
        *port = (int)v;
    }
    return 0;
}

const char *bridge_state_name(enum bridge_state st)
{
    switch (st) {
    case BRIDGE_CONNECTING:
        return "connecting";
    case BRIDGE_UP:
        return "up";
    default:
        return "down";
    }
}

static void set_state(struct bridge *b, enum bridge_state st, const char *why)
{
    if (b->stats.state == st)
        return;
    b->stats.state = st;
    log_msg(st == BRIDGE_DOWN ? LOG_WARN : LOG_INFO, "redis bridge %s:%d %s%s%s", b->host, b->port,
            bridge_state_name(st), why ? ": " : "", why ? why : "");
}

static void connect_now(struct bridge *b);

static void on_retry(lws_sorted_usec_list_t *sul)
{
    struct bridge *b = lws_container_of(sul, struct bridge, retry);
    b->retry_pending = false;
    connect_now(b);
}

/* Let go of both connections (except `dying`, which hiredis is freeing itself). Pointers are cleared
 * first, so the disconnect callbacks this causes find nothing of ours and return. */
static void release_all(struct bridge *b, const redisAsyncContext *dying)
{
    redisAsyncContext *sub = b->sub, *pub = b->pub;
    b->sub = b->pub = NULL;
    b->subscribed = 0;
    b->pub_connected = false;
    if (sub && sub != dying)
        redisAsyncFree(sub);
    if (pub && pub != dying)
        redisAsyncFree(pub);
}

/* Both connections are gone: retry later. */
static void schedule_retry(struct bridge *b, const char *why)
{
    if (b->stopping || b->retry_pending)
        return;
    b->stats.failures++;
    set_state(b, BRIDGE_DOWN, why);
    uint64_t ms = RETRY_MIN_MS;
    for (unsigned i = 0; i < b->attempt && ms < RETRY_MAX_MS; i++)
        ms *= 2;
    if (ms > RETRY_MAX_MS)
        ms = RETRY_MAX_MS;
    ms = ms / 2 + (uint64_t)rand() % (ms + 1); /* 50 % .. 150 % */
    b->attempt++;
    b->retry_pending = true;
    lws_sul_schedule(b->ctx, 0, &b->retry, on_retry, (lws_usec_t)ms * LWS_US_PER_MS);
}

static void maybe_up(struct bridge *b)
{
    if (b->pub_connected && b->subscribed == 2 && b->stats.state != BRIDGE_UP) {
        b->attempt = 0;
        if (b->stats.connects++)
            b->stats.reconnects++;
        set_state(b, BRIDGE_UP, NULL);
        if (b->srv->cluster)
            cluster_on_connected(b->srv->cluster, server_now_ms());
    }
}

/* ac failed or closed (hiredis frees it after this): drop the other one too and retry. */
static void on_failure(struct bridge *b, const redisAsyncContext *ac, int status)
{
    if (ac != b->sub && ac != b->pub)
        return; /* one we already let go of */
    char msg[160];
    snprintf(msg, sizeof(msg), "%s connection: %s", ac == b->sub ? "subscribe" : "publish",
             status == REDIS_OK ? "disconnected" : (ac->errstr[0] ? ac->errstr : "connection lost"));
    release_all(b, ac);
    schedule_retry(b, msg);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    on_failure(ac->data, ac, status);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct bridge *b = ac->data;
    if (status != REDIS_OK) {
        on_failure(b, ac, status); /* no disconnect callback follows a failed connect */
        return;
    }
    if (ac == b->pub) {
        b->pub_connected = true;
        maybe_up(b);
    }
}

/* Replies on the subscribe connection: ["subscribe", channel, n] then ["message", channel, bytes]. */
static void on_sub_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bridge *b = privdata;
    redisReply *reply = r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = reply->element[0]->str;
    const char *channel = reply->element[1]->str;
    if (strcmp(kind, "subscribe") == 0) {
        b->subscribed++;
        maybe_up(b);
        return;
    }
    if (strcmp(kind, "message") != 0 || reply->element[2]->type != REDIS_REPLY_STRING)
        return;
    const char *data = reply->element[2]->str;
    size_t len = reply->element[2]->len;
    if (strcmp(channel, CINDER_CHANNEL_NODES) == 0) {
        int rc = cluster_receive(b->srv->cluster, (const unsigned char *)data, len, server_now_ms());
        if (rc != 0) {
            b->stats.bad_messages++;
            /* logged for the first few and then every 1000th, so garbage cannot flood the log */
            if (b->stats.bad_messages <= 5 || b->stats.bad_messages % 1000 == 0)
                log_msg(LOG_WARN, "redis bridge: dropped a bad message on %s (%zu bytes, %llu so far)",
                        CINDER_CHANNEL_NODES, len, (unsigned long long)b->stats.bad_messages);
        }
    } else if (strcmp(channel, CINDER_CHANNEL_PUBLISH) == 0) {
        const char *problem = NULL;
        if (cluster_receive_publish(b->srv->cluster, data, len, &problem) != 0) {
            b->stats.bad_messages++;
            if (b->stats.bad_messages <= 5 || b->stats.bad_messages % 1000 == 0)
                log_msg(LOG_WARN, "redis bridge: dropped a publish on %s: %s (%llu so far)",
                        CINDER_CHANNEL_PUBLISH, problem, (unsigned long long)b->stats.bad_messages);
        }
    }
}

static void on_pub_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bridge *b = privdata;
    if (b->stats.in_flight)
        b->stats.in_flight--;
}

/* The carrier's send (cluster.h): PUBLISH, or drop when Redis is away or too slow. */
static int bridge_send(void *ctx, const unsigned char *bytes, size_t len)
{
    struct bridge *b = ctx;
    if (b->stats.state != BRIDGE_UP || !b->pub || b->stats.in_flight >= BRIDGE_MAX_IN_FLIGHT)
        return -1;
    if (redisAsyncCommand(b->pub, on_pub_reply, b, "PUBLISH %s %b", CINDER_CHANNEL_NODES, bytes, len) !=
        REDIS_OK)
        return -1;
    b->stats.in_flight++;
    return 0;
}

/* Numbering a history broadcast, atomically for the whole cluster: INCR the topic's counter, take (or
 * set) its epoch, write both into the envelope and PUBLISH it, all in one script, so every node gets
 * the topic's broadcasts in number order. Numbers are doubles in Lua: exact below 2^53; epochs are
 * made below 2^52. struct.pack is the struct library Redis bundles with its Lua. */
static const char sequence_script[] =
    "local s = redis.call('INCR', KEYS[1])\n"
    "local e = redis.call('GET', KEYS[2])\n"
    "if not e then redis.call('SET', KEYS[2], ARGV[2]) e = ARGV[2] end\n"
    "local env, off = ARGV[1], tonumber(ARGV[3])\n"
    "local out = string.sub(env, 1, 12) .. struct.pack('>I8', s) .. string.sub(env, 21, off) ..\n"
    "  struct.pack('>I8', tonumber(e)) .. string.sub(env, off + 9)\n"
    "redis.call('PUBLISH', ARGV[4], out)\n"
    "return {s, e}\n";

struct seq_request {
    struct bridge *b;
    cluster_seq_fn fn;
    void *arg;
};

static void on_seq_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct seq_request *q = privdata;
    redisReply *reply = r;
    uint64_t seq = 0, epoch = 0;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER) {
        seq = (uint64_t)reply->element[0]->integer;
        const redisReply *e = reply->element[1];
        epoch = e->type == REDIS_REPLY_STRING    ? strtoull(e->str, NULL, 10)
                : e->type == REDIS_REPLY_INTEGER ? (uint64_t)e->integer
                                                 : 0;
        if (!epoch)
            seq = 0;
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        log_msg(LOG_ERROR, "redis bridge: numbering a history broadcast failed: %s", reply->str);
    }
    if (q->b->stats.in_flight)
        q->b->stats.in_flight--;
    q->fn(q->arg, seq, epoch);
    free(q);
}

static int bridge_sequence(void *ctx, const char *topic, const unsigned char *bytes, size_t len,
                           size_t body_off, uint64_t epoch, cluster_seq_fn fn, void *arg)
{
    struct bridge *b = ctx;
    if (b->stats.state != BRIDGE_UP || !b->pub || b->stats.in_flight >= BRIDGE_MAX_IN_FLIGHT)
        return -1;
    struct seq_request *q = malloc(sizeof(*q));
    if (!q)
        return -1;
    *q = (struct seq_request){b, fn, arg};
    char seq_key[300], epoch_key[300], epoch_s[24], off_s[24];
    snprintf(seq_key, sizeof(seq_key), "cinder:seq:%s", topic);
    snprintf(epoch_key, sizeof(epoch_key), "cinder:epoch:%s", topic);
    snprintf(epoch_s, sizeof(epoch_s), "%llu", (unsigned long long)epoch);
    snprintf(off_s, sizeof(off_s), "%zu", body_off);
    if (redisAsyncCommand(b->pub, on_seq_reply, q, "EVAL %s 2 %s %s %b %s %s %s", sequence_script, seq_key,
                          epoch_key, bytes, len, epoch_s, off_s, CINDER_CHANNEL_NODES) != REDIS_OK) {
        free(q);
        return -1;
    }
    b->stats.in_flight++;
    return 0;
}

static void on_lost(void *arg, redisAsyncContext *ac)
{
    struct bridge *b = arg;
    if (ac != b->sub && ac != b->pub)
        return;
    release_all(b, NULL);
    schedule_retry(b, "the event loop lost the connection");
}

static redisAsyncContext *open_one(struct bridge *b)
{
    redisAsyncContext *ac = redisAsyncConnect(b->host, b->port);
    if (!ac)
        return NULL;
    if (ac->err || redis_loop_attach(b->vh, ac, on_lost, b) != 0) {
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = b;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

static void connect_now(struct bridge *b)
{
    if (b->stopping || b->sub || b->pub)
        return;
    set_state(b, BRIDGE_CONNECTING, NULL);
    b->sub = open_one(b);
    b->pub = b->sub ? open_one(b) : NULL;
    if (!b->sub || !b->pub ||
        redisAsyncCommand(b->sub, on_sub_reply, b, "SUBSCRIBE %s %s", CINDER_CHANNEL_NODES,
                          CINDER_CHANNEL_PUBLISH) != REDIS_OK) {
        release_all(b, NULL);
        schedule_retry(b, "cannot start a connection");
        return;
    }
    /* hiredis completes the connect on the first write; PING gets pub writing */
    redisAsyncCommand(b->pub, NULL, NULL, "PING");
}

struct bridge *bridge_create(struct server *s, struct lws_context *ctx, struct lws_vhost *vh, const char *url,
                             char *err, size_t errlen)
{
    struct bridge *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (bridge_parse_url(url, b->host, sizeof(b->host), &b->port) != 0) {
        snprintf(err, errlen, "invalid Redis URL '%s' (redis://host:port/db)", url);
        free(b);
        return NULL;
    }
    b->srv = s;
    b->vh = vh;
    b->ctx = ctx;
    srand((unsigned)(s->node_id ^ (s->node_id >> 32)));
    b->stats.state = BRIDGE_DOWN;
    connect_now(b);
    return b;
}

void bridge_destroy(struct bridge **bp)
{
    struct bridge *b = *bp;
    if (!b)
        return;
    *bp = NULL;
    b->stopping = true;
    lws_sul_schedule(b->ctx, 0, &b->retry, NULL, LWS_SET_TIMER_USEC_CANCEL);
    release_all(b, NULL);
    free(b);
}

struct cluster_carrier bridge_carrier(struct bridge *b)
{
    return (struct cluster_carrier){.send = bridge_send, .sequence = bridge_sequence, .ctx = b};
}

const struct bridge_stats *bridge_stats(const struct bridge *b)
{
    return &b->stats;
}
