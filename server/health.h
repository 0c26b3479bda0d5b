/*
 * health.h: liveness and readiness answers, transport-free (http.c sends them).
 *
 *   GET /health  -> 200 {"status":"ok"}: the event loop answers. Stays 200 while draining, so an
 *                   orchestrator does not kill a node that is closing its sockets.
 *   GET /ready   -> 200 when every check passes, else 503; the body names every check and its state:
 *     {"status":"ready","checks":{"draining":"ok","connections":"ok","redis":"ok"}}
 *     {"status":"unavailable","failing":["redis"],"checks":{...,"redis":"bridge down"}}
 *   Checks: not draining; open connections under max_connections; and, when Redis is configured, the
 *   bridge is up and this node's own heartbeat came back through Redis (cluster_stats' last_probe_ms)
 *   within 3 cluster heartbeats. Without Redis the check reads "not configured" and passes.
 */
#ifndef CINDER_HEALTH_H
#define CINDER_HEALTH_H

#include "api.h"
#include "metrics.h"

/* How many cluster heartbeats old the self-probe may be for /ready to pass. */
#define HEALTH_PROBE_HEARTBEATS 3

/* Fill *out (its body is owned by the caller). 0, or -1 when out of memory. */
int health_live(struct api_response *out);
/* src borrowed. Fill *out with 200 or 503 and the body above. 0, or -1 when out of memory. */
int health_ready(const struct metrics_source *src, struct api_response *out);

#endif
