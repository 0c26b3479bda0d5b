/*
 * metrics.h: the server's numbers in the Prometheus text exposition format 0.0.4 (GET /metrics), and
 * the two helpers that record the numbers a plain counter cannot hold (a histogram, a counter by close
 * code).
 *
 * Rendering reads state and changes nothing: the counters of struct server_stats (server.h), the
 * registry, the presence tracker, the cluster (srv->cluster) and, given by the edge that owns it, the
 * Redis bridge's stats; with several shards, also the other shards' latest views (metrics_view), summed
 * with this loop's own live figures. No libwebsockets here: the HTTP side (http.c) gathers a metrics_source
 * and sends what this renders. Every family has HELP and TYPE lines; names are cinder_* in base units
 * (seconds, bytes); counters end in _total.
 *
 *     struct metrics_source src = {.srv = srv, .bridge = NULL, .now_ms = server_now_ms()};
 *     struct phx_buf b;
 *     phx_buf_init(&b, 0);
 *     metrics_render(&src, &b);   // "# HELP cinder_build_info ...\n# TYPE ...\n..."
 *     phx_buf_cleanup(&b);
 */
#ifndef CINDER_METRICS_H
#define CINDER_METRICS_H

#include "bridge.h"
#include "cluster.h"
#include "phx_buf.h"
#include "server.h"

#include <stdbool.h>
#include <stdint.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One loop's figures at one moment (a copy: safe to hand to another thread). */
struct metrics_view {
    unsigned shard;
    struct server_stats stats;
    size_t topics, presence_entries;
    bool draining;
    bool clustered; /* cluster and peers are set */
    struct cluster_stats cluster;
    size_t peers;
    bool bridged; /* bridge is set */
    struct bridge_stats bridge;
};

/* What one exposition is rendered from. Everything borrowed for the duration of the call. */
struct metrics_source {
    const struct server *srv;
    const struct bridge_stats *bridge; /* the Redis bridge's stats, or NULL when single-node */
    uint64_t now_ms;                   /* server_now_ms(): ages (the cluster's last self-probe) */
    const struct metrics_view *others; /* the node's other shards (NULL when alone) */
    size_t nothers;
};

/* Copy s's figures (and b's, NULL: no bridge) into v. */
void metrics_view_take(struct metrics_view *v, const struct server *s, const struct bridge_stats *b);
/* The node's figures: srv's own and the others' summed (gauges too; presence entries and peers are
 * each shard's full copy: the largest; the bridge: the worst state, the oldest self-probe). */
void metrics_total(const struct metrics_source *src, struct metrics_view *out);

/* Append the whole exposition to out. 0, or -1 when out of memory (out holds a partial text then). */
int metrics_render(const struct metrics_source *src, struct phx_buf *out);

/* Record one publish->write latency (microseconds) of a broadcast frame written over transport t. */
void metrics_observe_latency(struct server_stats *st, enum transport_kind t, uint64_t us);
/* Count one disconnect with close code (the first STATS_CLOSE_CODES distinct codes each get a
 * series; later ones share code="other", so a client choosing codes cannot grow the exposition). */
void metrics_count_disconnect(struct server_stats *st, uint16_t code);

#endif
