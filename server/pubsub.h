/*
 * pubsub.h: broadcasts: encode once, fan out to the local registry's subscribers.
 *
 * A broadcast is encoded at most once per serializer (V2 JSON or V2 binary, V1 JSON) into one
 * refcounted frame that every subscriber's queue references; only subscribers whose handler intercepts
 * the event get a per-subscriber handle_out call instead. The bridge to other nodes (Redis) will sit
 * behind this same call.
 */
#ifndef CINDER_PUBSUB_H
#define CINDER_PUBSUB_H

#include <jansson.h>
#include <stddef.h>

struct server;
struct channel;

/* Registry subscriber kinds. */
enum { SUB_CHANNEL = 1, SUB_SOCKET_ID = 2 };

struct broadcast {
    const char *topic;
    const char *event;
    json_t *json;             /* payload when JSON; borrowed */
    const unsigned char *bin; /* payload when binary (json == NULL); borrowed */
    size_t bin_len;
    const struct channel *from; /* broadcast_from: skip this channel instance; NULL for everyone */
};

/* Deliver b to every local subscriber of b->topic. Returns the number of queues the frame went to
 * (intercepted deliveries included), or a negative error (out of memory). */
long pubsub_broadcast(struct server *s, const struct broadcast *b);

#endif
