/*
 * server.h: the state of one event loop: settings, the app, the topic registry, the connections.
 *
 * Created in main.c and passed down explicitly; there are no globals, so a test can build two.
 */
#ifndef CINDER_SERVER_H
#define CINDER_SERVER_H

#include "admission.h"
#include "handler.h"
#include "lp_token.h"
#include "options.h"
#include "phx_buf.h"
#include "topic_policy.h"
#include "write_list.h"

#include <stdbool.h>
#include <stdint.h>

struct channel;
struct cluster;
struct conn;
struct generic_channels;
struct registry;
struct tracker;
struct query;

/* The transports a connection may use; indexes the per-transport counters below. */
enum transport_kind { TRANSPORT_WEBSOCKET = 0, TRANSPORT_LONGPOLL = 1, TRANSPORT_KINDS };

/* Buckets of the publish->write latency histogram (their bounds are in metrics.c), +Inf not included. */
#define STATS_LATENCY_BUCKETS 13
/* Distinct close codes counted one by one; further codes are counted together (metrics.c). */
#define STATS_CLOSE_CODES 24

/* Counters and running gauges of one loop, read by metrics.c. Counters only grow; the gauges
 * (connections, queue_bytes, channels) are kept exact by the code that changes what they count. */
struct server_stats {
    uint64_t connections_total;
    uint64_t broadcasts;
    uint64_t deliveries;
    uint64_t messages_in;
    uint64_t slow_consumer_closes;
    uint64_t slow_dropped[3]; /* by enum slow_policy: broadcasts dropped for slow consumers */
    uint64_t slow_conflated;  /* queued broadcasts replaced by a newer one of the same key */
    uint64_t bad_frames;
    /* per transport */
    uint64_t connections[TRANSPORT_KINDS]; /* gauge: open now */
    uint64_t opened[TRANSPORT_KINDS];
    uint64_t frames_in[TRANSPORT_KINDS], bytes_in[TRANSPORT_KINDS];   /* whole messages decoded */
    uint64_t frames_out[TRANSPORT_KINDS], bytes_out[TRANSPORT_KINDS]; /* frames written to the peer */
    /* gauges */
    uint64_t queue_bytes; /* sum of every connection's write queue bytes */
    uint64_t channels;    /* joined channel instances */
    /* publish->write latency of broadcast frames, by transport: per-bucket (not cumulative) counts,
     * the last one past the largest bound */
    uint64_t latency_buckets[TRANSPORT_KINDS][STATS_LATENCY_BUCKETS + 1];
    uint64_t latency_sum_us[TRANSPORT_KINDS];
    /* disconnects by close code: code[i] counted n[i] times; the rest in close_other */
    uint16_t close_code[STATS_CLOSE_CODES];
    uint64_t close_n[STATS_CLOSE_CODES];
    unsigned close_used;
    uint64_t close_other;
    /* server_admit's answers by enum admit (the ADMIT_OK slot counts admissions, not reported) */
    uint64_t refused[ADMIT_KINDS];
};

struct server {
    struct options opt;    /* owned copy; server_apply_options replaces it */
    bool draining;         /* SIGTERM: new connections refused, ready says no */
    struct admission *adm; /* the node's admission counts: owned, or shared by the shards */
    bool owns_adm;
    unsigned shard;                   /* which of the node's shards this loop is (0 when alone) */
    const struct socket_handler *app; /* borrowed, static */
    struct registry *registry;        /* owned */
    struct tracker *tracker;          /* owned: presence state */
    struct history *history;          /* owned: history topics' recent broadcasts (history.h) */
    struct topic_policies policies;   /* owned: parsed from opt.topics (topic_policy.h) */
    struct cluster *cluster;          /* the other nodes (cluster.h), NULL when single-node; not owned */
    uint64_t node_id;                 /* random per process start; the low byte is the shard */
    struct phx_buf scratch;           /* encode buffer reused by every encode on this loop */
    struct conn *conns;               /* every live connection */
    struct write_list writes;         /* connections to write at the end of the loop turn (ws.c) */
    struct channel *crashed;          /* handle_out failed: to end in router_end_crashed */
    size_t nconns;
    uint64_t next_conn_id;
    struct server_stats stats;
    struct lp_token_key lp_token_key; /* signs long-poll session tokens; drawn at creation */
    /* One reference: the configured channels (opt.channels), routed before the app's; replaced by
     * server_apply_options (handlers/generic.h). */
    struct generic_channels *channels;
};

/* New server (caller owns; server_destroy). opt copied, app borrowed. NULL when out of memory. */
struct server *server_create(const struct options *opt, const struct socket_handler *app);
/* The same for shard `shard` of a node: node_id is the node's random id with the shard in its low
 * byte, adm the node's shared admission counts (borrowed: they outlive the server). */
struct server *server_create_shard(const struct options *opt, const struct socket_handler *app,
                                   uint64_t node_id, unsigned shard, struct admission *adm);
/* A random node id for a new process, its low byte 0 (for the shard). */
uint64_t server_random_node_id(void);
/* Free the server. Every connection must have been destroyed first. NULL-safe; *s = NULL. */
void server_destroy(struct server **s);

/* Replace the settings (o copied; the caller keeps o). What depends on them reads them when used, so
 * limits apply from the next connection, frame or request on. 0 or -1 (OOM: nothing changed). */
int server_apply_options(struct server *s, const struct options *o);

/* May a new connection of user_id (borrowed; NULL: anonymous) come in now? Draining, then the node's
 * admission counts (admission.h). ADMIT_OK takes one token of the connection-rate bucket and counts the
 * connection at once, node-wide: the caller owns that seat and hands it to conn_create, or gives it
 * back with server_user_remove. A refusal is counted by reason (stats.refused, metrics). */
enum admit server_admit(struct server *s, const char *user_id, uint64_t now_ms);
const char *server_admit_reason(enum admit a);
/* Whether an Origin header value passes allowed_origins (no header, or no list: yes). */
bool server_origin_allowed(const struct server *s, const char *origin);
/* Node-wide count of open connections, per user: take a seat without asking the limits (0 or -1: OOM)
 * / give one back (conn_destroy does, for the seat conn_create took over). */
int server_user_add(struct server *s, const char *user_id);
void server_user_remove(struct server *s, const char *user_id);
unsigned server_user_connections(const struct server *s, const char *user_id);

/* Run the app's connect on the URL query and phoenix.js's authToken (both borrowed; auth_token NULL when
 * absent) under the current settings. 0 with *out filled (caller owns what it holds: free the ids,
 * json_decref the assigns), or -1 refused (*out zeroed but for the reason, static text or NULL). */
int server_connect(struct server *s, const struct query *params, const char *auth_token,
                   struct connect_result *out);
/* The handler for topic (borrowed): the first configured channel whose pattern matches, else the app's
 * first match, else NULL. A configured channel's handler stays valid while its set is held (generic.h). */
const struct channel_handler *server_route(const struct server *s, const char *topic);
/* Close every connection silent for longer than idle_timeout_ms (1000, "idle timeout"). */
void server_sweep_idle(struct server *s, uint64_t now_ms);
/* Close every connection (code, reason), e.g. at shutdown. */
void server_close_all(struct server *s, uint16_t code, const char *reason);

/* Monotonic milliseconds. */
uint64_t server_now_ms(void);
/* Monotonic microseconds (the clock of frame->created_us). */
uint64_t server_now_us(void);

#endif
