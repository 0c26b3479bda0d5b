/*
 * metrics.c: the Prometheus exposition (see metrics.h).
 *
 * A family is written as its HELP and TYPE lines followed by its samples; label values are escaped as
 * the format requires (\\, \" and \n). The order of families is fixed and series within a family are
 * sorted (transports in enum order, close codes ascending), so two scrapes of an idle server are
 * identical text.
 */
#include "metrics.h"

#include "bridge.h"
#include "cluster.h"
#include "registry.h"
#include "tracker.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef CINDER_VERSION
#define CINDER_VERSION "0.0.0"
#endif

/* Upper bounds of the latency buckets, microseconds: 0.5 ms to 5 s. */
static const uint64_t latency_bounds_us[] = {500,    1000,   2500,   5000,    10000,   25000,  50000,
                                             100000, 250000, 500000, 1000000, 2500000, 5000000};
_Static_assert(sizeof(latency_bounds_us) / sizeof(*latency_bounds_us) == STATS_LATENCY_BUCKETS,
               "one bound per bucket");

static const char *const transport_names[TRANSPORT_KINDS] = {"websocket", "longpoll"};

/* enum admit -> the reason label */
static const char *const admit_labels[ADMIT_KINDS] = {
    [ADMIT_DRAINING] = "draining",
    [ADMIT_FULL] = "max_connections",
    [ADMIT_RATE] = "connection_rate",
    [ADMIT_USER] = "max_connections_per_user",
};

void metrics_observe_latency(struct server_stats *st, enum transport_kind t, uint64_t us)
{
    size_t i = 0;
    while (i < STATS_LATENCY_BUCKETS && us > latency_bounds_us[i])
        i++;
    st->latency_buckets[t][i]++;
    st->latency_sum_us[t] += us;
}

void metrics_count_disconnect(struct server_stats *st, uint16_t code)
{
    for (unsigned i = 0; i < st->close_used; i++) {
        if (st->close_code[i] == code) {
            st->close_n[i]++;
            return;
        }
    }
    if (st->close_used < STATS_CLOSE_CODES) {
        st->close_code[st->close_used] = code;
        st->close_n[st->close_used++] = 1;
        return;
    }
    st->close_other++;
}

/* ---- writing ---------------------------------------------------------------------------------- */

struct out {
    struct phx_buf *b;
    int err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        o->err = -1; /* every line here is short; a long one is a bug, not data to truncate */
        return;
    }
    if (phx_buf_append(o->b, line, (size_t)n) != 0)
        o->err = -1;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped into buf (truncated to fit). */
static const char *escape_label(const char *v, char *buf, size_t size)
{
    size_t n = 0;
    for (; *v && n + 3 < size; v++) {
        if (*v == '\\' || *v == '"') {
            buf[n++] = '\\';
            buf[n++] = *v;
        } else if (*v == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else {
            buf[n++] = *v;
        }
    }
    buf[n] = '\0';
    return buf;
}

static void sample(struct out *o, const char *name, uint64_t v)
{
    put(o, "%s %llu\n", name, (unsigned long long)v);
}

/* One family with a series per transport: name{transport="..."} values[t]. */
static void by_transport(struct out *o, const char *name, const char *type, const char *help,
                         const uint64_t values[TRANSPORT_KINDS])
{
    family(o, name, type, help);
    for (int t = 0; t < TRANSPORT_KINDS; t++)
        put(o, "%s{transport=\"%s\"} %llu\n", name, transport_names[t], (unsigned long long)values[t]);
}

static void one(struct out *o, const char *name, const char *type, const char *help, uint64_t v)
{
    family(o, name, type, help);
    sample(o, name, v);
}

/* ---- views -------------------------------------------------------------------------------------- */

void metrics_view_take(struct metrics_view *v, const struct server *s, const struct bridge_stats *b)
{
    memset(v, 0, sizeof(*v));
    v->shard = s->shard;
    v->stats = s->stats;
    v->topics = registry_topic_count(s->registry);
    v->presence_entries = tracker_entry_count(s->tracker);
    v->draining = s->draining;
    if (s->cluster) {
        v->clustered = true;
        v->cluster = *cluster_stats(s->cluster);
        v->peers = cluster_peer_count(s->cluster);
    }
    if (b) {
        v->bridged = true;
        v->bridge = *b;
    }
}

static void add_n(uint64_t *sum, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sum[i] += v[i];
}
#define ADD_ARRAY(field) add_n((uint64_t *)(sum->field), (const uint64_t *)(v->field), sizeof(v->field) / 8)

static void add_stats(struct server_stats *sum, const struct server_stats *v)
{
    sum->connections_total += v->connections_total;
    sum->broadcasts += v->broadcasts;
    sum->deliveries += v->deliveries;
    sum->messages_in += v->messages_in;
    sum->slow_consumer_closes += v->slow_consumer_closes;
    ADD_ARRAY(slow_dropped);
    sum->slow_conflated += v->slow_conflated;
    sum->bad_frames += v->bad_frames;
    ADD_ARRAY(connections);
    ADD_ARRAY(opened);
    ADD_ARRAY(frames_in);
    ADD_ARRAY(bytes_in);
    ADD_ARRAY(frames_out);
    ADD_ARRAY(bytes_out);
    sum->queue_bytes += v->queue_bytes;
    sum->channels += v->channels;
    ADD_ARRAY(latency_buckets);
    ADD_ARRAY(latency_sum_us);
    for (unsigned i = 0; i < v->close_used; i++) {
        unsigned j = 0;
        while (j < sum->close_used && sum->close_code[j] != v->close_code[i])
            j++;
        if (j < sum->close_used) {
            sum->close_n[j] += v->close_n[i];
        } else if (sum->close_used < STATS_CLOSE_CODES) {
            sum->close_code[sum->close_used] = v->close_code[i];
            sum->close_n[sum->close_used++] = v->close_n[i];
        } else {
            sum->close_other += v->close_n[i];
        }
    }
    sum->close_other += v->close_other;
    ADD_ARRAY(refused);
}

static int bridge_badness(enum bridge_state st)
{
    return st == BRIDGE_UP ? 0 : st == BRIDGE_CONNECTING ? 1 : 2;
}

static void add_view(struct metrics_view *sum, const struct metrics_view *v)
{
    add_stats(&sum->stats, &v->stats);
    sum->topics += v->topics;
    if (v->presence_entries > sum->presence_entries)
        sum->presence_entries = v->presence_entries;
    sum->draining |= v->draining;
    if (v->clustered) {
        struct cluster_stats *c = &sum->cluster;
        const struct cluster_stats *w = &v->cluster;
        uint64_t probe = sum->clustered ? c->last_probe_ms : w->last_probe_ms;
        if (sum->clustered && (!w->last_probe_ms || w->last_probe_ms < probe))
            probe = w->last_probe_ms;
        c->sent += w->sent;
        c->dropped += w->dropped;
        c->received += w->received;
        c->bad += w->bad;
        c->backend_published += w->backend_published;
        c->state_syncs += w->state_syncs;
        c->peers_expired += w->peers_expired;
        c->sequenced += w->sequenced;
        c->unsequenced += w->unsequenced;
        c->last_probe_ms = probe;
        if (v->peers > sum->peers)
            sum->peers = v->peers;
        sum->clustered = true;
    }
    if (v->bridged) {
        struct bridge_stats *b = &sum->bridge;
        if (!sum->bridged || bridge_badness(v->bridge.state) > bridge_badness(b->state))
            b->state = v->bridge.state;
        b->reconnects += v->bridge.reconnects;
        b->connects += v->bridge.connects;
        b->failures += v->bridge.failures;
        b->in_flight += v->bridge.in_flight;
        b->bad_messages += v->bridge.bad_messages;
        sum->bridged = true;
    }
}

void metrics_total(const struct metrics_source *src, struct metrics_view *out)
{
    metrics_view_take(out, src->srv, src->bridge);
    for (size_t i = 0; i < src->nothers; i++)
        add_view(out, &src->others[i]);
}

/* ---- families --------------------------------------------------------------------------------- */

static void render_connections(struct out *o, const struct metrics_view *s)
{
    const struct server_stats *st = &s->stats;
    by_transport(o, "cinder_connections", "gauge", "Open client connections (long-poll: sessions).",
                 st->connections);
    by_transport(o, "cinder_connections_opened_total", "counter", "Client connections accepted.", st->opened);

    family(o, "cinder_disconnects_total", "counter",
           "Connections ended, by the close code the client saw: the server's, else the client's own "
           "(1005: its close frame had none), else 1006 (gone without a close frame).");
    /* sorted by code: a copy of the (at most STATS_CLOSE_CODES) pairs, insertion-sorted */
    uint16_t code[STATS_CLOSE_CODES];
    uint64_t n[STATS_CLOSE_CODES];
    unsigned used = st->close_used;
    for (unsigned i = 0; i < used; i++) {
        unsigned j = i;
        while (j > 0 && code[j - 1] > st->close_code[i]) {
            code[j] = code[j - 1];
            n[j] = n[j - 1];
            j--;
        }
        code[j] = st->close_code[i];
        n[j] = st->close_n[i];
    }
    for (unsigned i = 0; i < used; i++)
        put(o, "cinder_disconnects_total{code=\"%u\"} %llu\n", code[i], (unsigned long long)n[i]);
    if (st->close_other)
        put(o, "cinder_disconnects_total{code=\"other\"} %llu\n", (unsigned long long)st->close_other);

    family(o, "cinder_admission_refusals_total", "counter",
           "New connections refused by admission control, by reason.");
    for (int a = 0; a < ADMIT_KINDS; a++)
        if (admit_labels[a])
            put(o, "cinder_admission_refusals_total{reason=\"%s\"} %llu\n", admit_labels[a],
                (unsigned long long)st->refused[a]);
    one(o, "cinder_slow_consumer_closes_total", "counter",
        "Connections closed (1008) because their write queue passed max_queue_size.",
        st->slow_consumer_closes);
    family(o, "cinder_slow_consumer_dropped_total", "counter",
           "Broadcasts dropped from slow consumers' queues, by the topic's slow_consumer policy.");
    for (int p = SLOW_DROP_OLDEST; p <= SLOW_CONFLATE; p++)
        put(o, "cinder_slow_consumer_dropped_total{policy=\"%s\"} %llu\n",
            slow_policy_name((enum slow_policy)p), (unsigned long long)st->slow_dropped[p]);
    one(o, "cinder_slow_consumer_conflated_total", "counter",
        "Queued broadcasts replaced by a newer one with the same conflation key.", st->slow_conflated);
    one(o, "cinder_draining", "gauge", "1 while the server drains (SIGTERM): new connections are refused.",
        s->draining);
}

static void render_traffic(struct out *o, const struct metrics_view *s)
{
    const struct server_stats *st = &s->stats;
    by_transport(o, "cinder_frames_received_total", "counter", "Whole messages received from clients.",
                 st->frames_in);
    by_transport(o, "cinder_received_bytes_total", "counter", "Bytes of the messages received from clients.",
                 st->bytes_in);
    by_transport(o, "cinder_frames_sent_total", "counter", "Frames written to clients.", st->frames_out);
    by_transport(o, "cinder_sent_bytes_total", "counter", "Bytes of the frames written to clients.",
                 st->bytes_out);
    one(o, "cinder_bad_frames_total", "counter", "Received messages that were not Phoenix messages.",
        st->bad_frames);
    one(o, "cinder_broadcasts_total", "counter",
        "Broadcasts fanned out to this node's subscribers (local ones and those from other nodes).",
        st->broadcasts);
    one(o, "cinder_deliveries_total", "counter", "Broadcast deliveries to channels on this node.",
        st->deliveries);
    one(o, "cinder_write_queue_bytes", "gauge", "Bytes waiting in the write queues of every connection.",
        st->queue_bytes);

    static const char *const name = "cinder_publish_write_latency_seconds";
    family(o, name, "histogram",
           "Seconds from a broadcast frame's encoding on this node to its write to a client.");
    for (int t = 0; t < TRANSPORT_KINDS; t++) {
        uint64_t cum = 0;
        for (int i = 0; i < STATS_LATENCY_BUCKETS; i++) {
            cum += st->latency_buckets[t][i];
            put(o, "%s_bucket{transport=\"%s\",le=\"%g\"} %llu\n", name, transport_names[t],
                (double)latency_bounds_us[i] / 1e6, (unsigned long long)cum);
        }
        cum += st->latency_buckets[t][STATS_LATENCY_BUCKETS];
        put(o, "%s_bucket{transport=\"%s\",le=\"+Inf\"} %llu\n", name, transport_names[t],
            (unsigned long long)cum);
        put(o, "%s_sum{transport=\"%s\"} %.6f\n", name, transport_names[t],
            (double)st->latency_sum_us[t] / 1e6);
        put(o, "%s_count{transport=\"%s\"} %llu\n", name, transport_names[t], (unsigned long long)cum);
    }
}

static void render_state(struct out *o, const struct metrics_view *s)
{
    one(o, "cinder_joined_channels", "gauge", "Channel instances joined on this node.", s->stats.channels);
    one(o, "cinder_topics", "gauge",
        "Topics with a local subscriber (channel topics and socket ids such as users_socket:alice), "
        "counted once per shard that has one.",
        s->topics);
    one(o, "cinder_presence_entries", "gauge",
        "Presence metas tracked on this node, its own and those replicated from other nodes.",
        s->presence_entries);
    one(o, "cinder_longpoll_sessions", "gauge", "Open long-poll sessions.",
        s->stats.connections[TRANSPORT_LONGPOLL]);
}

static uint64_t view_connections(const struct metrics_view *v)
{
    uint64_t n = 0;
    for (int t = 0; t < TRANSPORT_KINDS; t++)
        n += v->stats.connections[t];
    return n;
}

static void render_shards(struct out *o, const struct metrics_source *src)
{
    one(o, "cinder_shards", "gauge", "Event-loop threads (shards) serving clients.", src->nothers + 1);
    family(o, "cinder_shard_connections", "gauge", "Open client connections, by shard.");
    struct metrics_view own;
    metrics_view_take(&own, src->srv, NULL);
    for (unsigned k = 0; k <= src->nothers; k++) {
        const struct metrics_view *v = k == own.shard ? &own : NULL;
        for (size_t i = 0; !v && i < src->nothers; i++)
            if (src->others[i].shard == k)
                v = &src->others[i];
        put(o, "cinder_shard_connections{shard=\"%u\"} %llu\n", k,
            (unsigned long long)(v ? view_connections(v) : 0));
    }
}

static void render_cluster(struct out *o, const struct metrics_view *v, uint64_t now_ms)
{
    const struct bridge_stats *b = &v->bridge;
    static const char *const states[] = {
        [BRIDGE_CONNECTING] = "connecting", [BRIDGE_UP] = "up", [BRIDGE_DOWN] = "down"};
    family(o, "cinder_redis_bridge_state", "gauge", "The Redis bridge's state: 1 for the current one.");
    for (int i = 0; i < 3; i++)
        put(o, "cinder_redis_bridge_state{state=\"%s\"} %d\n", states[i], (int)b->state == i);
    one(o, "cinder_redis_reconnects_total", "counter", "Redis connections that came up after the first.",
        b->reconnects);
    one(o, "cinder_redis_failures_total", "counter", "Redis connection attempts or connections that failed.",
        b->failures);
    one(o, "cinder_redis_publishes_in_flight", "gauge", "Publishes awaiting Redis's answer.", b->in_flight);
    one(o, "cinder_redis_bad_messages_total", "counter", "Messages from Redis refused by the bridge.",
        b->bad_messages);

    if (!v->clustered)
        return;
    const struct cluster_stats *cs = &v->cluster;
    one(o, "cinder_cluster_sent_total", "counter",
        "Envelopes handed to the carrier: Redis, and this node's other shards.", cs->sent);
    one(o, "cinder_cluster_dropped_total", "counter",
        "Envelopes dropped because Redis was away or saturated (never queued).", cs->dropped);
    one(o, "cinder_cluster_received_total", "counter", "Envelopes from other nodes and shards accepted.",
        cs->received);
    one(o, "cinder_cluster_bad_messages_total", "counter", "Envelopes refused as malformed.", cs->bad);
    one(o, "cinder_cluster_backend_publishes_total", "counter",
        "Plain JSON publishes from backends (cinder:publish) delivered.", cs->backend_published);
    one(o, "cinder_cluster_state_syncs_total", "counter", "Full presence states applied from other nodes.",
        cs->state_syncs);
    one(o, "cinder_cluster_peers_expired_total", "counter", "Nodes dropped after cluster_expiry of silence.",
        cs->peers_expired);
    one(o, "cinder_cluster_peers", "gauge", "Other nodes heard from.", v->peers);
    family(o, "cinder_cluster_probe_age_seconds", "gauge",
           "Seconds since this node's own heartbeat last came back through Redis (+Inf: never).");
    if (cs->last_probe_ms && now_ms >= cs->last_probe_ms)
        put(o, "cinder_cluster_probe_age_seconds %.3f\n", (double)(now_ms - cs->last_probe_ms) / 1e3);
    else
        put(o, "cinder_cluster_probe_age_seconds +Inf\n");
}

int metrics_render(const struct metrics_source *src, struct phx_buf *out)
{
    struct out o = {.b = out, .err = 0};
    char version[64];
    family(&o, "cinder_build_info", "gauge", "Always 1; the version is in the label.");
    put(&o, "cinder_build_info{version=\"%s\"} 1\n", escape_label(CINDER_VERSION, version, sizeof(version)));
    struct metrics_view total;
    metrics_total(src, &total);
    render_connections(&o, &total);
    render_traffic(&o, &total);
    render_state(&o, &total);
    render_shards(&o, src);
    if (total.bridged)
        render_cluster(&o, &total, src->now_ms);
    return o.err;
}
