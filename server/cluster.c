/*
 * cluster.c: the node-to-node protocol over a carrier (see cluster.h).
 *
 * Presence replication: each node numbers its presence changes (seq). A peer applies a 'P' only when
 * it is the next number it expects; otherwise (a gap: a lost message, a restart, a Redis outage) it
 * asks for the full state ('R') and replaces that node's entries with the 'S' answer. Heartbeats carry
 * the current number, so a peer that missed the last change notices within one tick. Requests to one
 * peer are rate-limited to one per REQUEST_GAP_MS.
 */
#include "cluster.h"

#include "api.h"
#include "channel.h"
#include "conn.h"
#include "envelope.h"
#include "history.h"
#include "phx_json.h"
#include "presence.h"
#include "pubsub.h"
#include "router.h"
#include "server.h"
#include "tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define REQUEST_GAP_MS 500

struct peer {
    UT_hash_handle hh;
    uint64_t id;
    uint64_t last_seen_ms;
    uint64_t seq; /* last presence sequence number applied */
    bool synced;  /* seq is meaningful: a full state was applied */
    uint64_t requested_ms;
};

struct cluster {
    struct server *srv;
    struct cluster_carrier carrier;
    uint64_t heartbeat_ms, expire_ms;
    uint64_t presence_seq;
    struct peer *peers;
    size_t peer_nodes;   /* other processes among peers (cluster_peer_count), recounted when peers change */
    struct phx_buf buf;  /* the envelope being sent */
    struct phx_buf body; /* the body being sent (fill_body) */
    struct cluster_stats stats;
};

struct cluster *cluster_create(struct server *s, const struct cluster_carrier *carrier, uint64_t heartbeat_ms,
                               uint64_t expire_ms)
{
    struct cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->srv = s;
    c->carrier = *carrier;
    c->heartbeat_ms = heartbeat_ms;
    c->expire_ms = expire_ms;
    phx_buf_init(&c->buf, 0);
    phx_buf_init(&c->body, 0);
    return c;
}

/* Tell local subscribers of topic about a remote presence change. */
static void deliver_presence(void *arg, const char *topic, json_t *diff)
{
    struct cluster *c = arg;
    struct broadcast b = {.topic = topic, .event = "presence_diff", .json = diff};
    pubsub_deliver_local(c->srv, &b);
}

static void recount_peers(struct cluster *c);

static void peer_drop(struct cluster *c, struct peer *p)
{
    tracker_drop_origin(c->srv->tracker, p->id, deliver_presence, c);
    HASH_DEL(c->peers, p);
    free(p);
    recount_peers(c);
}

void cluster_destroy(struct cluster **cp)
{
    struct cluster *c = *cp;
    if (!c)
        return;
    struct peer *p, *tmp;
    HASH_ITER(hh, c->peers, p, tmp)
    peer_drop(c, p);
    phx_buf_cleanup(&c->buf);
    phx_buf_cleanup(&c->body);
    free(c);
    *cp = NULL;
}

/* The shard byte of a node id (server.h): ids that differ only there are shards of one process. */
#define SHARD_MASK 0xffull

static bool same_process(uint64_t a, uint64_t b)
{
    return (a & ~SHARD_MASK) == (b & ~SHARD_MASK);
}

/* Count the other processes among the peers (a node's shards count once, this node's not at all). Run
 * when the peer set changes, which is rare, so reading the count (every loop turn, metrics.c) is O(1). */
static void recount_peers(struct cluster *c)
{
    size_t n = 0;
    for (const struct peer *p = c->peers; p; p = p->hh.next) {
        if (same_process(p->id, c->srv->node_id))
            continue;
        bool seen = false; /* another shard of a node already counted */
        for (const struct peer *q = c->peers; q != p && !seen; q = q->hh.next)
            seen = same_process(q->id, p->id);
        n += !seen;
    }
    c->peer_nodes = n;
}

/* Encode e with this node's id and hand it to the carrier, with the payload's encoded frames when the
 * carrier takes them (frames NULL: none). */
static void send_envelope_frames(struct cluster *c, struct envelope *e, struct frame *const *frames)
{
    e->origin = c->srv->node_id;
    phx_buf_reset(&c->buf);
    if (envelope_encode(e, &c->buf) != 0) {
        c->stats.dropped++;
        return;
    }
    const unsigned char *bytes = (const unsigned char *)phx_buf_data(&c->buf);
    int rc = frames && c->carrier.send_frames
                 ? c->carrier.send_frames(c->carrier.ctx, bytes, c->buf.len, frames)
                 : c->carrier.send(c->carrier.ctx, bytes, c->buf.len);
    if (rc == 0)
        c->stats.sent++;
    else
        c->stats.dropped++;
}

static void send_envelope(struct cluster *c, struct envelope *e)
{
    send_envelope_frames(c, e, NULL);
}

/* e's body in c->body, valid until the next call: `skip` zero bytes, then v's compact JSON written by
 * the codec's own writer (phx_json_dump: json_dumps' bytes without its allocations), or when v is NULL
 * the bin_len bytes at bin; e->body and e->body_len point at it. 0, or -1 when it cannot be written. */
static int fill_body(struct cluster *c, struct envelope *e, size_t skip, const json_t *v, const void *bin,
                     size_t bin_len)
{
    static const unsigned char zeros[8];
    phx_buf_reset(&c->body);
    if (skip > sizeof(zeros) || phx_buf_append(&c->body, zeros, skip) != 0)
        return -1;
    if (v ? phx_json_dump(v, &c->body) != 0 : bin_len && phx_buf_append(&c->body, bin, bin_len) != 0)
        return -1;
    e->body = (const unsigned char *)phx_buf_data(&c->body);
    e->body_len = c->body.len;
    return 0;
}

/* Send kind with a JSON body (borrowed; NULL for none). */
static void send_json(struct cluster *c, enum envelope_kind kind, uint64_t seq, const char *topic,
                      json_t *body)
{
    struct envelope e = {.kind = kind, .seq = seq};
    snprintf(e.topic, sizeof(e.topic), "%s", topic ? topic : "");
    if (body && fill_body(c, &e, 0, body, NULL, 0) != 0) {
        c->stats.dropped++;
        return;
    }
    send_envelope(c, &e);
}

bool cluster_shares_frames(const struct cluster *c)
{
    return c->carrier.send_frames != NULL;
}

void cluster_on_local_broadcast(struct cluster *c, const struct broadcast *b)
{
    struct envelope e = {.kind = ENV_BROADCAST, .flags = b->from ? ENV_FLAG_FROM : 0};
    if (strlen(b->topic) > 255 || strlen(b->event) > 255) {
        c->stats.dropped++;
        return;
    }
    strcpy(e.topic, b->topic);
    strcpy(e.event, b->event);
    if (b->json) {
        if (fill_body(c, &e, 0, b->json, NULL, 0) != 0) {
            c->stats.dropped++;
            return;
        }
    } else {
        e.flags |= ENV_FLAG_BINARY;
        e.body = b->bin;
        e.body_len = b->bin_len;
    }
    send_envelope_frames(c, &e, b->frames);
}

/* A history broadcast waiting for its number. */
struct pending_seq {
    struct cluster *c;
    char *topic, *event;
    json_t *payload;
    unsigned char *bin;
    size_t bin_len;
    uint64_t from_conn;
};

static void pending_free(struct pending_seq *p)
{
    free(p->topic);
    free(p->event);
    json_decref(p->payload);
    free(p->bin);
    free(p);
}

/* The number came (or not: seq 0): deliver here. Other nodes deliver from the envelope. */
static void on_sequenced(void *arg, uint64_t seq, uint64_t epoch)
{
    struct pending_seq *p = arg;
    struct cluster *c = p->c;
    struct broadcast b = {.topic = p->topic,
                          .event = p->event,
                          .json = p->payload,
                          .bin = p->bin,
                          .bin_len = p->bin_len,
                          .from_conn = p->from_conn};
    if (seq)
        c->stats.sequenced++;
    else
        c->stats.unsequenced++;
    pubsub_deliver_sequenced(c->srv, &b, epoch, seq);
    router_end_crashed(c->srv);
    pending_free(p);
}

/* A random epoch a Lua number holds exactly (52 bits). */
static uint64_t proposed_epoch(void)
{
    uint64_t e = ((uint64_t)rand() << 31 ^ (uint64_t)rand() << 10 ^ (uint64_t)rand()) & ((1ull << 52) - 1);
    return e ? e : 1;
}

/* The epoch this node would number the topic in: its history's (the node's shards agree on it), so a
 * client that joined here before the first broadcast stays in the same epoch. */
static uint64_t local_epoch(struct cluster *c, const char *topic)
{
    struct topic_history *th = pubsub_topic_history(c->srv, topic);
    return th ? history_epoch(th) : proposed_epoch();
}

void cluster_publish_sequenced(struct cluster *c, const struct broadcast *b)
{
    struct pending_seq *p = calloc(1, sizeof(*p));
    if (!p || !(p->topic = strdup(b->topic)) || !(p->event = strdup(b->event)) ||
        (b->bin_len && !(p->bin = malloc(b->bin_len)))) {
        if (p)
            pending_free(p);
        c->stats.dropped++;
        return;
    }
    p->c = c;
    p->payload = b->json ? json_incref(b->json) : NULL;
    if (b->bin_len)
        memcpy(p->bin, b->bin, b->bin_len);
    p->bin_len = b->bin_len;
    p->from_conn = b->from ? b->from->conn->id : b->from_conn;

    struct envelope e = {.kind = ENV_BROADCAST, .flags = ENV_FLAG_SEQUENCED, .origin = c->srv->node_id};
    if (p->from_conn)
        e.flags |= ENV_FLAG_FROM;
    if (!b->json)
        e.flags |= ENV_FLAG_BINARY;
    snprintf(e.topic, sizeof(e.topic), "%s", b->topic);
    snprintf(e.event, sizeof(e.event), "%s", b->event);
    /* The body: 8 bytes for the epoch, written by the carrier, then the payload. */
    int rc = -1;
    if (fill_body(c, &e, 8, b->json, b->bin, b->bin_len) == 0) {
        phx_buf_reset(&c->buf);
        if (envelope_encode(&e, &c->buf) == 0 && c->carrier.sequence)
            rc = c->carrier.sequence(c->carrier.ctx, b->topic, (const unsigned char *)phx_buf_data(&c->buf),
                                     c->buf.len, c->buf.len - e.body_len, local_epoch(c, b->topic),
                                     on_sequenced, p);
    }
    if (rc == 0) {
        c->stats.sent++;
        return;
    }
    c->stats.dropped++;
    on_sequenced(p, 0, 0); /* local delivery never stops */
}

void cluster_on_local_presence(struct cluster *c, const char *topic, json_t *diff)
{
    send_json(c, ENV_PRESENCE, ++c->presence_seq, topic, diff);
}

static void request_state(struct cluster *c, struct peer *p, uint64_t now_ms)
{
    if (p->requested_ms && now_ms - p->requested_ms < REQUEST_GAP_MS)
        return;
    p->requested_ms = now_ms;
    char id[32];
    snprintf(id, sizeof(id), "%016llx", (unsigned long long)p->id);
    send_json(c, ENV_STATE_REQUEST, 0, id, NULL);
}

static void send_state(struct cluster *c)
{
    json_t *state = tracker_local_state(c->srv->tracker);
    if (!state) {
        c->stats.dropped++;
        return;
    }
    send_json(c, ENV_STATE, c->presence_seq, NULL, state);
    json_decref(state);
}

/* Apply a peer's presence diff {"joins":{key:{"metas":[..]}},"leaves":{...}} to the tracker; the
 * effective changes are told to local subscribers. -1 when malformed. */
static int apply_diff(struct cluster *c, uint64_t origin, const char *topic, json_t *diff)
{
    json_t *joins = json_object_get(diff, "joins"), *leaves = json_object_get(diff, "leaves");
    if (!json_is_object(joins) || !json_is_object(leaves))
        return -1;
    json_t *effective = tracker_diff_new();
    const char *key;
    json_t *entry;
    json_object_foreach(leaves, key, entry)
    {
        size_t i;
        json_t *meta;
        json_array_foreach(json_object_get(entry, "metas"), i, meta)
        {
            const char *ref = json_string_value(json_object_get(meta, "phx_ref"));
            if (ref)
                tracker_remote_leave(c->srv->tracker, origin, topic, key, ref, effective);
        }
    }
    json_object_foreach(joins, key, entry)
    {
        size_t i;
        json_t *meta;
        json_array_foreach(json_object_get(entry, "metas"), i, meta)
            tracker_remote_join(c->srv->tracker, origin, topic, key, meta, effective);
    }
    if (!tracker_diff_empty(effective))
        deliver_presence(c, topic, effective);
    json_decref(effective);
    return 0;
}

static json_t *body_json(const struct envelope *e)
{
    json_error_t err;
    return e->body_len ? phx_json_load((const char *)e->body, e->body_len, JSON_DECODE_ANY, &err) : NULL;
}

static int receive_broadcast(struct cluster *c, const struct envelope *e, struct frame *const *frames)
{
    struct broadcast b = {.topic = e->topic, .event = e->event, .frames = frames};
    struct envelope body = *e;
    uint64_t epoch = 0;
    bool sequenced = e->flags & ENV_FLAG_SEQUENCED;
    if (sequenced) {
        if (e->body_len < 8 || !e->seq)
            return -1;
        for (int i = 0; i < 8; i++)
            epoch = epoch << 8 | e->body[i];
        body.body += 8;
        body.body_len -= 8;
    }
    json_t *payload = NULL;
    if (e->flags & ENV_FLAG_BINARY) {
        b.bin = body.body;
        b.bin_len = body.body_len;
    } else if (!(payload = body_json(&body))) {
        return -1;
    }
    b.json = payload;
    if (sequenced)
        pubsub_deliver_sequenced(c->srv, &b, epoch, e->seq);
    else
        pubsub_deliver_local(c->srv, &b);
    json_decref(payload);
    return 0;
}

static int receive(struct cluster *c, const unsigned char *bytes, size_t len, struct frame *const *frames,
                   bool from_sibling, uint64_t now_ms)
{
    struct envelope e;
    int rc = envelope_decode(bytes, len, &e);
    if (rc != 0) {
        c->stats.bad++;
        return rc;
    }
    if (e.origin == c->srv->node_id) {
        if (e.kind == ENV_HEARTBEAT)
            c->stats.last_probe_ms = now_ms; /* our own heartbeat made the round trip */
        return 0;                            /* our own echo: already delivered locally */
    }
    /* Another shard of this process, through Redis: it came (or comes) through the shards' own carrier,
     * except numbered broadcasts, which only Redis hands out. */
    if (!from_sibling && same_process(e.origin, c->srv->node_id) &&
        !(e.kind == ENV_BROADCAST && (e.flags & ENV_FLAG_SEQUENCED)))
        return 0;
    struct peer *p = NULL;
    HASH_FIND(hh, c->peers, &e.origin, sizeof(e.origin), p);
    if (!p) {
        if (!(p = calloc(1, sizeof(*p))))
            return ENV_E_NOMEM;
        p->id = e.origin;
        HASH_ADD(hh, c->peers, id, sizeof(p->id), p);
        recount_peers(c);
    }
    p->last_seen_ms = now_ms;
    rc = 0;
    json_t *body = NULL;
    switch (e.kind) {
    case ENV_BROADCAST:
        rc = receive_broadcast(c, &e, frames);
        break;
    case ENV_PRESENCE:
        if (!p->synced || e.seq != p->seq + 1) {
            p->synced = false;
            request_state(c, p, now_ms);
            break;
        }
        body = body_json(&e);
        rc = body ? apply_diff(c, e.origin, e.topic, body) : -1;
        if (rc == 0)
            p->seq = e.seq;
        break;
    case ENV_HEARTBEAT:
        if (!p->synced || e.seq != p->seq)
            request_state(c, p, now_ms);
        break;
    case ENV_STATE_REQUEST: {
        char self[32];
        snprintf(self, sizeof(self), "%016llx", (unsigned long long)c->srv->node_id);
        if (strcmp(e.topic, self) == 0)
            send_state(c);
        break;
    }
    case ENV_STATE:
        body = body_json(&e);
        rc = body ? tracker_sync_origin(c->srv->tracker, e.origin, body, deliver_presence, c) : -1;
        if (rc == 0) {
            p->seq = e.seq;
            p->synced = true;
            c->stats.state_syncs++;
        }
        break;
    }
    json_decref(body);
    router_end_crashed(c->srv);
    if (rc != 0) {
        c->stats.bad++;
        return ENV_E_FIELD;
    }
    c->stats.received++;
    return 0;
}

int cluster_receive(struct cluster *c, const unsigned char *bytes, size_t len, uint64_t now_ms)
{
    return receive(c, bytes, len, NULL, false, now_ms);
}

int cluster_receive_sibling(struct cluster *c, const unsigned char *bytes, size_t len,
                            struct frame *const frames[3], uint64_t now_ms)
{
    return receive(c, bytes, len, frames, true, now_ms);
}

int cluster_receive_publish(struct cluster *c, const char *json, size_t len, const char **problem)
{
    struct broadcast b;
    json_t *root = NULL;
    if (api_parse_broadcast(json, len, &root, &b, problem) != 0) {
        c->stats.bad++;
        return -1;
    }
    pubsub_deliver_local(c->srv, &b);
    router_end_crashed(c->srv);
    json_decref(root);
    c->stats.backend_published++;
    return 0;
}

void cluster_tick(struct cluster *c, uint64_t now_ms)
{
    send_json(c, ENV_HEARTBEAT, c->presence_seq, NULL, NULL);
    struct peer *p, *tmp;
    HASH_ITER(hh, c->peers, p, tmp)
    {
        if (now_ms - p->last_seen_ms > c->expire_ms) {
            c->stats.peers_expired++;
            peer_drop(c, p);
        }
    }
}

void cluster_on_connected(struct cluster *c, uint64_t now_ms)
{
    /* Our heartbeat makes every peer check its copy of our state; theirs make us check ours. */
    send_json(c, ENV_HEARTBEAT, c->presence_seq, NULL, NULL);
}

const struct cluster_stats *cluster_stats(const struct cluster *c)
{
    return &c->stats;
}

size_t cluster_peer_count(const struct cluster *c)
{
    return c->peer_nodes;
}
