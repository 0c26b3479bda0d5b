/*
 * shard_hub.h: the cluster carrier (cluster.h) between the shards of one process.
 *
 * Each shard is a node in miniature with its own cluster state; the hub carries their envelopes
 * through the shards' mailboxes (mailbox.h) instead of Redis. A broadcast travels as its envelope plus
 * the frames its shard already encoded (frame.h, shared by atomic refcount), so the other shards queue
 * the same bytes and encode nothing again. History topics are numbered here, under one lock, when the
 * node has no Redis; with Redis the numbering is Redis's for the whole cluster (bridge.c).
 *
 * With Redis as well, a shard's carrier sends to the other shards and then to `remote`, and each
 * shard's cluster drops what comes back through Redis from its own process (cluster_receive), so
 * nothing arrives twice.
 */
#ifndef CINDER_SHARD_HUB_H
#define CINDER_SHARD_HUB_H

#include "cluster.h"
#include "mailbox.h"

struct shard_hub;

/* A hub for n shards whose mailboxes are boxes[0..n-1] (borrowed: they outlive the hub). Mail runs
 * with the receiving shard's struct server as owner. NULL on OOM. */
struct shard_hub *shard_hub_create(unsigned n, struct mailbox *boxes);
/* Free. Close the mailboxes first. NULL-safe; *h = NULL. */
void shard_hub_destroy(struct shard_hub **h);

/* The carrier of shard i into *out: to the other shards, then to remote (copied; NULL when the node
 * has no Redis). Its ctx lives as long as the hub. */
void shard_hub_carrier(struct shard_hub *h, unsigned i, const struct cluster_carrier *remote,
                       struct cluster_carrier *out);

#endif
