/*
 * pubsub.h: broadcasts: encode once, fan out to the local registry's subscribers.
 *
 * A broadcast is encoded at most once per serializer (V2 JSON or V2 binary, V1 JSON) into one
 * refcounted frame that every subscriber's queue references; only subscribers whose handler intercepts
 * the event get a per-subscriber handle_out call instead. In a cluster (cluster.h) the same call also
 * hands the broadcast to the other nodes, which deliver it locally and never send it on.
 */
#ifndef CINDER_PUBSUB_H
#define CINDER_PUBSUB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct channel;
struct frame;
struct topic_history;

/* Registry subscriber kinds. */
enum { SUB_CHANNEL = 1, SUB_SOCKET_ID = 2 };

struct broadcast {
    const char *topic;
    const char *event;
    json_t *json;             /* payload when JSON; borrowed */
    const unsigned char *bin; /* payload when binary (json == NULL); borrowed */
    size_t bin_len;
    const struct channel *from;  /* broadcast_from: skip this channel instance; NULL for everyone */
    uint64_t from_conn;          /* the same, when the instance may be gone by now (a sequenced publish
                                    answered later): skip that connection's channel on the topic; 0: none */
    struct frame *const *frames; /* already encoded by another shard, by enum phx_vsn (borrowed; entries
                                    may be NULL); NULL: none */
};

/* Deliver b to every local subscriber of b->topic and, in a cluster, to the other nodes. Returns the
 * number of local queues the frame went to (intercepted deliveries included), or a negative error. */
long pubsub_broadcast(struct server *s, const struct broadcast *b);
/* Deliver b to the local subscribers only (what a broadcast from another node gets). */
long pubsub_deliver_local(struct server *s, const struct broadcast *b);
/* Deliver a history topic's broadcast numbered seq in epoch: kept in the topic's history, and its object
 * payload carries "_seq": seq. seq 0: it could not be numbered (the cluster's numbering is away): it is
 * delivered as it is and replays across it fail. */
long pubsub_deliver_sequenced(struct server *s, const struct broadcast *b, uint64_t epoch, uint64_t seq);
/* The history of topic (borrowed; created with a fresh epoch on first use), NULL on OOM. */
struct topic_history *pubsub_topic_history(struct server *s, const char *topic);

#endif
