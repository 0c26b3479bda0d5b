/*
 * pubsub.c: local fan-out of a broadcast (see pubsub.h), Phoenix's fastlane in C.
 *
 * For each subscriber of the topic: the connection's socket-id subscription reacts to "disconnect";
 * a channel that sent a broadcast_from is skipped; a channel whose handler intercepts the event gets
 * handle_out; every other channel's connection gets a reference to the frame encoded for its
 * serializer, encoded the first time a subscriber needs it. Nothing is freed during the walk:
 * connections are only marked closing (conn_close never frees) and a channel whose handle_out crashed
 * is only marked, to be ended by router_end_crashed() once no hook is running.
 */
#include "pubsub.h"

#include "channel.h"
#include "cluster.h"
#include "conn.h"
#include "history.h"
#include "recovery.h"
#include "phx_binary.h"
#include "phx_json.h"
#include "registry.h"
#include "server.h"
#include "topic_policy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* FNV-1a, continued from h. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
    return h;
}

/* The topic and the value of the payload's key field, hashed; 0 when the payload has no such key. */
static uint64_t conflation_key(const struct broadcast *b, const char *key)
{
    json_t *v = json_object_get(b->json, key);
    if (!v)
        return 0;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return 0;
    uint64_t h = fnv(0xcbf29ce484222325ull, b->topic, strlen(b->topic) + 1);
    h = fnv(h, text, strlen(text));
    free(text);
    return h ? h : 1;
}

/* Encode b for serializer vsn into a new frame (caller owns), or NULL when it cannot be expressed
 * (binary payload for V1) or memory ran out. */
static struct frame *encode_broadcast(struct server *s, enum phx_vsn vsn, const struct broadcast *b)
{
    struct phx_msg m = {
        .topic = b->topic,
        .topic_len = strlen(b->topic),
        .event = b->event,
        .event_len = strlen(b->event),
        .json = b->json,
        .bin = b->bin,
        .bin_len = b->bin_len,
    };
    struct phx_buf *buf = &s->scratch;
    phx_buf_reset(buf);
    bool binary = b->json == NULL;
    int rc;
    if (binary)
        rc = vsn == PHX_V2 ? phx_encode_binary(PHX_BIN_BROADCAST, &m, buf) : -1;
    else
        rc = phx_encode_text(vsn, &m, buf);
    struct frame *f = rc == 0 ? frame_create(phx_buf_data(buf), buf->len, binary) : NULL;
    if (f)
        f->broadcast = true; /* its writes are observed in the publish->write latency histogram */
    phx_buf_reset(buf);
    return f;
}

struct topic_history *pubsub_topic_history(struct server *s, const char *topic)
{
    /* seeded by the node (not the shard): every shard of this process starts a topic in one epoch */
    if (!s->history && !(s->history = history_create_seeded(s->node_id & ~0xffull)))
        return NULL;
    return history_get(s->history, topic, true);
}

static long deliver(struct server *s, const struct broadcast *b, struct frame *enc[3]);

long pubsub_broadcast(struct server *s, const struct broadcast *b)
{
    const struct topic_policy *pol = topic_policy_find(&s->policies, b->topic);
    if (pol && pol->history_size) {
        /* A history topic's broadcasts are numbered first: by the cluster (then delivered everywhere,
         * here too, once numbered), or here on a single node. */
        if (s->cluster) {
            cluster_publish_sequenced(s->cluster, b);
            return 0;
        }
        struct topic_history *th = pubsub_topic_history(s, b->topic);
        if (!th)
            return -1;
        return pubsub_deliver_sequenced(s, b, history_epoch(th), history_next_seq(th));
    }
    struct frame *enc[3] = {NULL, NULL, NULL};
    long n = deliver(s, b, enc);
    if (s->cluster) {
        /* The other shards queue these frames as they are: the V2 one (what phoenix.js speaks) is
         * encoded for them even when no local subscriber needed it; Redis carries the payload only. */
        if (!enc[PHX_V2] && cluster_shares_frames(s->cluster) &&
            (enc[PHX_V2] = encode_broadcast(s, PHX_V2, b)) && pol && pol->conflate_key)
            enc[PHX_V2]->ckey = conflation_key(b, pol->conflate_key);
        struct broadcast with = *b;
        with.frames = enc;
        cluster_on_local_broadcast(s->cluster, &with);
    }
    for (int v = 0; v < 3; v++)
        frame_unref(&enc[v]);
    return n;
}

long pubsub_deliver_sequenced(struct server *s, const struct broadcast *b, uint64_t epoch, uint64_t seq)
{
    const struct topic_policy *pol = topic_policy_find(&s->policies, b->topic);
    struct topic_history *th = pol && pol->history_size ? pubsub_topic_history(s, b->topic) : NULL;
    if (!seq) {
        if (th)
            history_mark_unsequenced(th);
        return pubsub_deliver_local(s, b);
    }
    /* The number travels in object payloads as "_seq", its epoch as "_epoch" (16 hex digits): the same
     * bytes for every subscriber. */
    struct broadcast sb = *b;
    json_t *stamped = NULL;
    if (json_is_object(b->json)) {
        stamped = json_copy(b->json);
        char hex[17];
        recovery_epoch_hex(epoch, hex);
        if (!stamped || json_object_set_new(stamped, "_seq", json_integer((json_int_t)seq)) != 0 ||
            json_object_set_new(stamped, "_epoch", json_string(hex)) != 0) {
            json_decref(stamped);
            return -1;
        }
        sb.json = stamped;
    }
    if (th)
        history_add(th, epoch, seq, b->event, sb.json, b->bin, b->bin_len, server_now_ms(), pol->history_size,
                    pol->history_ttl_ms);
    long n = pubsub_deliver_local(s, &sb);
    json_decref(stamped);
    return n;
}

long pubsub_deliver_local(struct server *s, const struct broadcast *b)
{
    struct frame *enc[3] = {NULL, NULL, NULL};
    long n = deliver(s, b, enc);
    for (int v = 0; v < 3; v++)
        frame_unref(&enc[v]);
    return n;
}

/* The fan-out. enc: frames by vsn, filled as subscribers need them (from b->frames first); the caller
 * drops the references left in it. */
static long deliver(struct server *s, const struct broadcast *b, struct frame *enc[3])
{
    const struct topic_policy *pol = topic_policy_find(&s->policies, b->topic);
    enum slow_policy slow = pol ? pol->slow : SLOW_CLOSE;
    uint64_t ckey = pol && pol->conflate_key ? conflation_key(b, pol->conflate_key) : 0;
    s->stats.broadcasts++;
    struct reg_topic *t = registry_find(s->registry, b->topic);
    if (!t)
        return 0;
    bool tried[3] = {false, false, false};
    for (int v = 0; b->frames && v < 3; v++) {
        if ((enc[v] = b->frames[v])) {
            frame_ref(enc[v]);
            tried[v] = true;
        }
    }
    struct ch_payload payload = {.json = b->json, .bin = b->bin, .bin_len = b->bin_len};
    long delivered = 0;

    for (struct reg_sub *sub = registry_first(t); sub; sub = sub->next) {
        if (sub->kind == SUB_SOCKET_ID) {
            if (strcmp(b->event, "disconnect") == 0)
                conn_close(container_of(sub, struct conn, id_sub), CLOSE_GOING_AWAY, "disconnect");
            continue;
        }
        struct channel *ch = container_of(sub, struct channel, sub);
        struct conn *c = ch->conn;
        if (ch == b->from || c->closing || (b->from_conn && c->id == b->from_conn))
            continue;
        if (channel_intercepts(ch, b->event)) {
            if (ch->handler->handle_out(ch, b->event, &payload) == CH_CRASH)
                channel_mark_crashed(ch);
            delivered++;
            continue;
        }
        enum phx_vsn v = c->vsn;
        if (!tried[v]) {
            tried[v] = true;
            enc[v] = encode_broadcast(s, v, b);
            if (enc[v])
                enc[v]->ckey = ckey;
        }
        if (enc[v] && conn_push_policy(c, enc[v], slow) == 0)
            delivered++;
    }
    s->stats.deliveries += (uint64_t)delivered;
    return delivered;
}
