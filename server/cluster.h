/*
 * cluster.h: this node's side of a cluster: what it tells the other nodes and what it does with what
 * they tell it, independent of how the bytes travel (Redis pub/sub in bridge.c; a test wires two
 * servers directly).
 *
 *   local broadcast        -> 'B' envelope to the others; they deliver it locally, never re-publish
 *   local presence change  -> 'P' envelope with this node's next presence sequence number
 *   every tick             -> 'H' heartbeat with the current sequence number; its own echo coming back
 *                             is the readiness probe; peers silent for expire_ms are dropped (their
 *                             presence leaves)
 *   a gap in a peer's sequence, or an unknown peer -> 'R' asks it for its full state -> 'S'
 *
 * A message from the carrier is decoded once, validated (bad ones are counted and refused with an
 * error code) and delivered to local subscribers only.
 */
#ifndef CINDER_CLUSTER_H
#define CINDER_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct broadcast;
struct cluster;
struct frame;

/* The answer to a sequence request: the topic's number and epoch, or seq 0 when it failed. */
typedef void (*cluster_seq_fn)(void *arg, uint64_t seq, uint64_t epoch);

struct cluster_carrier {
    /* Hand bytes (borrowed) to every other node. 0 when sent or queued, -1 when dropped (the carrier is
     * down or saturated: nothing is kept for later). */
    int (*send)(void *ctx, const unsigned char *bytes, size_t len);
    /* Number a history topic's envelope atomically for the whole cluster and hand it to every node
     * (this one included) with the number written into the header (offset 12) and the topic's epoch
     * into the first 8 body bytes (at body_off); a topic without an epoch yet takes `epoch`. Answers
     * once through fn, later (never from inside this call). 0, or -1 when it cannot be sent (fn is not
     * called). */
    int (*sequence)(void *ctx, const char *topic, const unsigned char *bytes, size_t len, size_t body_off,
                    uint64_t epoch, cluster_seq_fn fn, void *arg);
    /* Optional: send with the frames this node already encoded for the payload (by enum phx_vsn,
     * borrowed, entries may be NULL), for a carrier that can hand them on (shard_hub.h). */
    int (*send_frames)(void *ctx, const unsigned char *bytes, size_t len, struct frame *const frames[3]);
    void *ctx;
};

struct cluster_stats {
    uint64_t sent;              /* envelopes handed to the carrier */
    uint64_t dropped;           /* envelopes the carrier refused */
    uint64_t received;          /* envelopes from other nodes, accepted */
    uint64_t bad;               /* refused as malformed */
    uint64_t backend_published; /* plain JSON publishes from backends, delivered */
    uint64_t state_syncs;       /* full states applied */
    uint64_t peers_expired;
    uint64_t last_probe_ms; /* when this node's own heartbeat last came back (0: never) */
    uint64_t sequenced;     /* history broadcasts numbered by the cluster */
    uint64_t unsequenced;   /* history broadcasts delivered without a number (numbering away) */
};

/* New cluster state for s (borrowed; s->cluster is set by the caller). carrier copied. heartbeat_ms:
 * tick interval; expire_ms: silence after which a peer is dropped. NULL on OOM. */
struct cluster *cluster_create(struct server *s, const struct cluster_carrier *carrier, uint64_t heartbeat_ms,
                               uint64_t expire_ms);
/* Drops every peer's presence entries (locally told as leaves) and frees. NULL-safe; *c = NULL. */
void cluster_destroy(struct cluster **c);

/* Whether the carrier hands a broadcast's encoded frames on (to the node's other shards): only then are
 * they worth encoding for it. */
bool cluster_shares_frames(const struct cluster *c);
/* Called by pubsub / presence for local events. b and diff borrowed. */
void cluster_on_local_broadcast(struct cluster *c, const struct broadcast *b);
/* A local broadcast on a history topic: numbered by the cluster, then delivered here (and on every
 * node) through pubsub_deliver_sequenced; delivered here at once without a number when the numbering
 * is unreachable. b borrowed (copied as needed). */
void cluster_publish_sequenced(struct cluster *c, const struct broadcast *b);
void cluster_on_local_presence(struct cluster *c, const char *topic, json_t *diff);

/* One message from the carrier (bytes borrowed). 0, or a negative envelope error (counted as bad).
 * What another shard of this process sent is dropped here unless it is a numbered broadcast: the
 * shards get each other's messages through cluster_receive_sibling. */
int cluster_receive(struct cluster *c, const unsigned char *bytes, size_t len, uint64_t now_ms);
/* One message from another shard of this process (shard_hub.h), with the frames it encoded (borrowed,
 * by enum phx_vsn, entries may be NULL; queued by reference, never encoded again). */
int cluster_receive_sibling(struct cluster *c, const unsigned char *bytes, size_t len,
                            struct frame *const frames[3], uint64_t now_ms);
/* A backend's plain JSON {"topic","event","payload"}: delivered locally (every node gets it from the
 * carrier). 0, or -1 when malformed (*problem says why, static). */
int cluster_receive_publish(struct cluster *c, const char *json, size_t len, const char **problem);
/* Heartbeat and expiry; call every heartbeat_ms. */
void cluster_tick(struct cluster *c, uint64_t now_ms);
/* The carrier is (again) connected: announce this node and ask the others for their state. */
void cluster_on_connected(struct cluster *c, uint64_t now_ms);

const struct cluster_stats *cluster_stats(const struct cluster *c);
/* Other nodes heard from (a node's shards count once; this node's own shards not at all). */
size_t cluster_peer_count(const struct cluster *c);

#endif
