/*
 * node.h: this process: N shards (each an event-loop thread with its own server and lws endpoint), the
 * shards' hub, the shared admission counts and the acceptor that places clients on the shards.
 *
 * The thread that creates the node runs the acceptor (node_service) and reacts to signals between
 * calls; it talks to the shards only through their mailboxes (reload, drain, stop). A shard publishes a
 * copy of its figures after every loop turn for /metrics and /ready on any shard.
 *
 *     struct node *n = node_create(&opt, &demo_app, err, sizeof(err));
 *     while (!stop) node_service(n, 1000);
 *     node_destroy(&n);
 */
#ifndef CINDER_NODE_H
#define CINDER_NODE_H

#include <stdbool.h>
#include <stddef.h>

struct node;
struct options;
struct socket_handler;

/* How many shards opt asks for: opt->shards, or one per online core when 0 (1 with TLS). */
unsigned node_shard_count(const struct options *opt);

/* Create the shards, start their threads and listen. opt copied; app borrowed (static). NULL with err. */
struct node *node_create(const struct options *opt, const struct socket_handler *app, char *err,
                         size_t errlen);
/* Accept and place clients for up to timeout_ms (a signal ends it early). 0, or -1 when the acceptor or a
 * shard's loop failed. */
int node_service(struct node *n, int timeout_ms);
/* The settings in force (borrowed until the next node_reload). */
const struct options *node_options(const struct node *n);
/* Apply live settings on every shard (o copied; the caller checked options_need_restart). 0 or -1 (OOM:
 * nothing changed). */
int node_reload(struct node *n, const struct options *o);
/* Every shard starts draining (endpoint_start_drain). */
void node_drain(struct node *n);
/* Every shard has drained. */
bool node_drained(const struct node *n);
/* Open client connections, all shards. */
size_t node_connections(const struct node *n);
unsigned node_shards(const struct node *n);
/* Stop the shards, close every connection and free. NULL-safe; *n = NULL. */
void node_destroy(struct node **n);

#endif
