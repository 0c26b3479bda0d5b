/*
 * metrics.h: the server's numbers in the Prometheus text exposition format 0.0.4 (GET /metrics), and
 * the two helpers that record the numbers a plain counter cannot hold (a histogram, a counter by close
 * code).
 *
 * Rendering reads state and changes nothing: the counters of struct server_stats (server.h), the
 * registry, the presence tracker, the cluster (srv->cluster) and, given by the edge that owns it, the
 * Redis bridge's stats. No libwebsockets here: the HTTP side (http.c) gathers a metrics_source and
 * sends what this renders. Every family has HELP and TYPE lines; names are cinder_* in base units
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

#include "phx_buf.h"
#include "server.h"

#include <stdint.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct bridge_stats;

/* What one exposition is rendered from. Everything borrowed for the duration of the call. */
struct metrics_source {
    const struct server *srv;
    const struct bridge_stats *bridge; /* the Redis bridge's stats, or NULL when single-node */
    uint64_t now_ms;                   /* server_now_ms(): ages (the cluster's last self-probe) */
};

/* Append the whole exposition to out. 0, or -1 when out of memory (out holds a partial text then). */
int metrics_render(const struct metrics_source *src, struct phx_buf *out);

/* Record one publish->write latency (microseconds) of a broadcast frame written over transport t. */
void metrics_observe_latency(struct server_stats *st, enum transport_kind t, uint64_t us);
/* Count one disconnect with close code (the first STATS_CLOSE_CODES distinct codes each get a
 * series; later ones share code="other", so a client choosing codes cannot grow the exposition). */
void metrics_count_disconnect(struct server_stats *st, uint16_t code);

#endif
