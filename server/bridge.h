/*
 * bridge.h: the Redis carrier of the cluster (cluster.h): every node subscribes to one Redis channel
 * for node envelopes and one for backends' plain JSON publishes, and publishes its envelopes.
 *
 *   CINDER_CHANNEL_NODES    "cinder:nodes"    envelopes between nodes (envelope.h)
 *   CINDER_CHANNEL_PUBLISH  "cinder:publish"  {"topic","event","payload"} from any backend
 *
 * Faults: Redis down at start, killed, restarted: local delivery never stops (the cluster is only told
 * its sends were dropped); the bridge reconnects with capped exponential backoff and jitter,
 * resubscribes, and the cluster resynchronises presence. Publishes while Redis is away, or while more
 * than BRIDGE_MAX_IN_FLIGHT are unanswered (a slow Redis), are dropped and counted, never queued.
 * Nothing here blocks: connects, reads and writes are hiredis's async API on the lws loop.
 */
#ifndef CINDER_BRIDGE_H
#define CINDER_BRIDGE_H

#include "cluster.h"

#include <stddef.h>
#include <stdint.h>

#define CINDER_CHANNEL_NODES "cinder:nodes"
#define CINDER_CHANNEL_PUBLISH "cinder:publish"
#define BRIDGE_MAX_IN_FLIGHT 10000

struct server;
struct lws_context;
struct lws_vhost;
struct bridge;

enum bridge_state {
    BRIDGE_CONNECTING, /* connecting or subscribing */
    BRIDGE_UP,         /* subscribed and able to publish */
    BRIDGE_DOWN,       /* waiting to retry */
};

struct bridge_stats {
    enum bridge_state state;
    uint64_t reconnects;   /* connections that came up after the first */
    uint64_t connects;     /* connections that came up */
    uint64_t failures;     /* attempts or connections that failed */
    uint64_t in_flight;    /* publishes awaiting Redis's answer */
    uint64_t bad_messages; /* refused messages from Redis */
};

/* Parse "redis://host[:port][/db]" (db accepted and ignored: pub/sub spans databases). 0 or -1. */
int bridge_parse_url(const char *url, char *host, size_t hostlen, int *port);

/* Start connecting s to Redis at url on vh's loop. What Redis brings goes to s->cluster, which the
 * caller creates with bridge_carrier() (possibly inside the shards' carrier, shard_hub.h) before the
 * loop runs. NULL with err filled when url is invalid or memory ran out; an unreachable Redis is not an
 * error (the bridge keeps retrying). */
struct bridge *bridge_create(struct server *s, struct lws_context *ctx, struct lws_vhost *vh, const char *url,
                             char *err, size_t errlen);
/* The cluster carrier over this bridge (ctx is b). */
struct cluster_carrier bridge_carrier(struct bridge *b);
/* Disconnect and free. Call before the lws context is destroyed and while s->cluster still exists.
 * NULL-safe; *b = NULL. */
void bridge_destroy(struct bridge **b);

const struct bridge_stats *bridge_stats(const struct bridge *b);
const char *bridge_state_name(enum bridge_state st);

#endif
