/*
 * Tests server/metrics.c: the exposition is well-formed (every sample under its family's HELP and TYPE,
 * histograms cumulative) and its numbers follow what happens on a server: connections, traffic through
 * the write queue, broadcasts and their latency, disconnects by code, admission refusals, the Redis
 * bridge and the cluster.
 */
#include "api.h"
#include "bridge.h"
#include "cluster.h"
#include "harness.h"
#include "metrics.h"

#include <math.h>
#include <stdio.h>

/* Render src's exposition (caller frees). */
static char *render(const struct metrics_source *src)
{
    struct phx_buf b;
    phx_buf_init(&b, 0);
    cr_assert_eq(metrics_render(src, &b), 0);
    cr_assert_eq(phx_buf_append_byte(&b, '\0'), 0);
    char *text = strdup(phx_buf_data(&b));
    phx_buf_cleanup(&b);
    return text;
}

static char *render_server(struct server *s)
{
    struct metrics_source src = {.srv = s, .bridge = NULL, .now_ms = server_now_ms()};
    return render(&src);
}

/* The value of the sample whose name and labels are exactly `series` (e.g. `a{b="c"}`), or NAN. */
static double value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            break;
        if ((size_t)(eol - line) > n && strncmp(line, series, n) == 0 && line[n] == ' ') {
            if (strncmp(line + n + 1, "+Inf", 4) == 0)
                return INFINITY;
            return strtod(line + n + 1, NULL);
        }
        line = eol + 1;
    }
    return NAN;
}

/* The exposition is well-formed: HELP then TYPE once per family, every sample after its family's TYPE
 * and named for it (histograms: _bucket/_sum/_count), every value a number, buckets non-decreasing and
 * +Inf equal to _count. Returns the number of samples. */
static int check_format(const char *text)
{
    char family[128] = "", type[32] = "", seen[8192] = " ";
    double last_bucket = -1;
    int samples = 0;
    cr_assert(text[0] && text[strlen(text) - 1] == '\n', "ends with a newline");
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        char l[1024];
        size_t len = (size_t)(eol - line);
        cr_assert_lt(len, sizeof(l));
        memcpy(l, line, len);
        l[len] = '\0';
        line = eol + 1;
        if (strncmp(l, "# HELP ", 7) == 0) {
            char name[128];
            cr_assert_eq(sscanf(l + 7, "%127s", name), 1);
            char key[140];
            snprintf(key, sizeof(key), " %s ", name);
            cr_assert_null(strstr(seen, key), "family %s appears once", name);
            strcat(seen, key + 1);
            snprintf(family, sizeof(family), "%s", name);
            type[0] = '\0';
            continue;
        }
        if (strncmp(l, "# TYPE ", 7) == 0) {
            char name[128];
            cr_assert_eq(sscanf(l + 7, "%127s %31s", name, type), 2);
            cr_assert_str_eq(name, family, "TYPE right after its HELP");
            cr_assert(!strcmp(type, "counter") || !strcmp(type, "gauge") || !strcmp(type, "histogram"));
            if (!strcmp(type, "counter"))
                cr_assert(strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"), "%s ends in _total",
                          name);
            cr_assert_eq(strncmp(name, "cinder_", 7), 0);
            continue;
        }
        cr_assert_neq(l[0], '#', "only HELP and TYPE comments: %s", l);
        cr_assert(type[0], "sample after a TYPE: %s", l);
        size_t nlen = strcspn(l, "{ ");
        char name[128];
        cr_assert_lt(nlen, sizeof(name));
        memcpy(name, l, nlen);
        name[nlen] = '\0';
        const char *v = strrchr(l, ' ') + 1;
        char *end;
        double d = strncmp(v, "+Inf", 4) == 0 ? INFINITY : strtod(v, &end);
        cr_assert(strncmp(v, "+Inf", 4) == 0 || *end == '\0', "numeric value: %s", l);
        if (!strcmp(type, "histogram")) {
            size_t f = strlen(family);
            cr_assert_eq(strncmp(name, family, f), 0);
            const char *suffix = name + f;
            cr_assert(!strcmp(suffix, "_bucket") || !strcmp(suffix, "_sum") || !strcmp(suffix, "_count"),
                      "%s", l);
            if (!strcmp(suffix, "_bucket")) {
                cr_assert_geq(d, last_bucket, "cumulative buckets: %s", l);
                last_bucket = strstr(l, "le=\"+Inf\"") ? -(d + 1) : d; /* remember +Inf as negative */
            } else if (!strcmp(suffix, "_count")) {
                cr_assert_eq(-(last_bucket + 1), d, "_count equals the +Inf bucket: %s", l);
                last_bucket = -1;
            }
        } else {
            cr_assert_str_eq(name, family, "sample named for its family: %s", l);
        }
        samples++;
    }
    return samples;
}

static const char *join(const char *topic)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "[\"1\",\"1\",\"%s\",\"phx_join\",{}]", topic);
    return buf;
}

/* Hand every queued frame of c to the "peer", as a transport's writable callback does. */
static int write_all(struct conn *c)
{
    int n = 0;
    while (outq_peek(&c->q)) {
        conn_pop(c, true);
        n++;
    }
    return n;
}

Test(metrics, idle_server_is_well_formed)
{
    struct server *s = mk_server(NULL, NULL);
    char *text = render_server(s);
    cr_assert_gt(check_format(text), 40);
    cr_assert_not_null(strstr(text, "cinder_build_info{version=\"" CINDER_TEST_VERSION "\"} 1\n"));
    cr_assert_eq(value(text, "cinder_connections{transport=\"websocket\"}"), 0);
    cr_assert_eq(value(text, "cinder_connections{transport=\"longpoll\"}"), 0);
    cr_assert_eq(value(text, "cinder_draining"), 0);
    cr_assert_eq(value(text, "cinder_publish_write_latency_seconds_count{transport=\"websocket\"}"), 0);
    cr_assert_null(strstr(text, "cinder_redis"), "no Redis families on a single node");
    cr_assert_null(strstr(text, "cinder_disconnects_total{"), "no disconnect series before a disconnect");
    free(text);
    end_server(&s);
}

Test(metrics, traffic_broadcasts_queue_and_latency)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a = mk_conn(s, PHX_V2, "alice"), *b = mk_conn(s, PHX_V2, "bob");
    cr_assert_eq(send_text(a, join("room:m")), 0);
    cr_assert_eq(send_text(b, join("room:m")), 0);
    write_all(a); /* join replies and presence */
    write_all(b);

    char *text = render_server(s);
    cr_assert_eq(value(text, "cinder_connections{transport=\"websocket\"}"), 2);
    cr_assert_eq(value(text, "cinder_connections_opened_total{transport=\"websocket\"}"), 2);
    cr_assert_eq(value(text, "cinder_frames_received_total{transport=\"websocket\"}"), 2);
    cr_assert_eq(value(text, "cinder_received_bytes_total{transport=\"websocket\"}"),
                 2 * strlen(join("room:m")));
    cr_assert_eq(value(text, "cinder_joined_channels"), 2);
    cr_assert_eq(value(text, "cinder_presence_entries"), 2);
    cr_assert_eq(value(text, "cinder_write_queue_bytes"), 0);
    double sent_before = value(text, "cinder_frames_sent_total{transport=\"websocket\"}");
    cr_assert_gt(sent_before, 0);
    /* the presence diffs of the joins were broadcasts; the replies were not */
    double timed_before = value(text, "cinder_publish_write_latency_seconds_count{transport=\"websocket\"}");
    double broadcasts_before = value(text, "cinder_broadcasts_total");
    double deliveries_before = value(text, "cinder_deliveries_total");
    cr_assert_lt(timed_before, sent_before);
    free(text);

    struct api_response resp = {0};
    const char *body = "{\"topic\":\"room:m\",\"event\":\"e\",\"payload\":{\"x\":1}}";
    cr_assert_eq(api_broadcast(s, body, strlen(body), &resp), 0);
    cr_assert_eq(resp.status, 202);
    free(resp.body);
    size_t queued = a->q.bytes + b->q.bytes;
    cr_assert_gt(queued, 0);
    text = render_server(s);
    check_format(text);
    cr_assert_eq(value(text, "cinder_write_queue_bytes"), (double)queued);
    cr_assert_eq(value(text, "cinder_broadcasts_total"), broadcasts_before + 1);
    cr_assert_eq(value(text, "cinder_deliveries_total"), deliveries_before + 2);
    free(text);

    cr_assert_eq(write_all(a), 1);
    cr_assert_eq(write_all(b), 1);
    text = render_server(s);
    cr_assert_eq(value(text, "cinder_write_queue_bytes"), 0);
    cr_assert_eq(value(text, "cinder_frames_sent_total{transport=\"websocket\"}"), sent_before + 2);
    cr_assert_eq(value(text, "cinder_publish_write_latency_seconds_count{transport=\"websocket\"}"),
                 timed_before + 2);
    cr_assert_eq(value(text, "cinder_publish_write_latency_seconds_bucket{transport=\"websocket\",le=\"5\"}"),
                 timed_before + 2, "written within 5 s of their encoding");
    cr_assert_eq(value(text, "cinder_publish_write_latency_seconds_count{transport=\"longpoll\"}"), 0);
    free(text);

    /* a frame dropped by the transport leaves the queue total without counting as sent */
    cr_assert_eq(api_broadcast(s, body, strlen(body), &resp), 0);
    free(resp.body);
    conn_pop(a, false);
    text = render_server(s);
    cr_assert_eq(value(text, "cinder_write_queue_bytes"), (double)b->q.bytes);
    cr_assert_eq(value(text, "cinder_frames_sent_total{transport=\"websocket\"}"), sent_before + 2);
    free(text);

    /* a closing connection's queue leaves the total at once; the last destroy brings it to zero */
    conn_close(b, CLOSE_POLICY, "test");
    cr_assert_eq(s->stats.queue_bytes, 0);
    end_conn(&a);
    end_conn(&b);
    text = render_server(s);
    cr_assert_eq(value(text, "cinder_connections{transport=\"websocket\"}"), 0);
    cr_assert_eq(value(text, "cinder_joined_channels"), 0);
    cr_assert_eq(value(text, "cinder_write_queue_bytes"), 0);
    cr_assert_eq(value(text, "cinder_disconnects_total{code=\"1006\"}"), 1, "a without any close: 1006");
    cr_assert_eq(value(text, "cinder_disconnects_total{code=\"1008\"}"), 1);
    free(text);
    end_server(&s);
}

Test(metrics, disconnect_codes_sorted_and_capped)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *c = mk_conn(s, PHX_V2, "peer");
    conn_on_peer_close(c, 4000);
    end_conn(&c);
    c = mk_conn(s, PHX_V2, "peer");
    conn_on_peer_close(c, 0); /* a close frame without a code */
    end_conn(&c);
    c = mk_conn(s, PHX_V2, "peer");
    conn_on_peer_close(c, 4001);
    conn_close(c, CLOSE_SERVICE_RESTART, "drain"); /* ours wins: it is what the client saw */
    end_conn(&c);

    char *text = render_server(s);
    check_format(text);
    cr_assert_eq(value(text, "cinder_disconnects_total{code=\"4000\"}"), 1);
    cr_assert_eq(value(text, "cinder_disconnects_total{code=\"1005\"}"), 1);
    cr_assert_eq(value(text, "cinder_disconnects_total{code=\"1012\"}"), 1);
    cr_assert(isnan(value(text, "cinder_disconnects_total{code=\"4001\"}")));
    const char *p1005 = strstr(text, "code=\"1005\""), *p1012 = strstr(text, "code=\"1012\""),
               *p4000 = strstr(text, "code=\"4000\"");
    cr_assert(p1005 < p1012 && p1012 < p4000, "series sorted by code");
    free(text);

    for (uint16_t code = 4100; code < 4100 + 2 * STATS_CLOSE_CODES; code++)
        metrics_count_disconnect(&s->stats, code);
    text = render_server(s);
    check_format(text);
    /* 3 codes were there; the next STATS_CLOSE_CODES - 3 get series, the rest share "other" */
    cr_assert_eq(value(text, "cinder_disconnects_total{code=\"other\"}"), STATS_CLOSE_CODES + 3);
    free(text);
    end_server(&s);
}

Test(metrics, latency_buckets)
{
    struct server *s = mk_server(NULL, NULL);
    metrics_observe_latency(&s->stats, TRANSPORT_LONGPOLL, 400);     /* <= 0.0005 */
    metrics_observe_latency(&s->stats, TRANSPORT_LONGPOLL, 500);     /* == 0.0005: le is inclusive */
    metrics_observe_latency(&s->stats, TRANSPORT_LONGPOLL, 30000);   /* <= 0.05 */
    metrics_observe_latency(&s->stats, TRANSPORT_LONGPOLL, 6000000); /* past 5 s: +Inf only */
    char *text = render_server(s);
    check_format(text);
#define LP(le) "cinder_publish_write_latency_seconds_bucket{transport=\"longpoll\",le=\"" le "\"}"
    cr_assert_eq(value(text, LP("0.0005")), 2);
    cr_assert_eq(value(text, LP("0.025")), 2);
    cr_assert_eq(value(text, LP("0.05")), 3);
    cr_assert_eq(value(text, LP("5")), 3);
    cr_assert_eq(value(text, LP("+Inf")), 4);
#undef LP
    cr_assert_eq(value(text, "cinder_publish_write_latency_seconds_count{transport=\"longpoll\"}"), 4);
    cr_assert_float_eq(value(text, "cinder_publish_write_latency_seconds_sum{transport=\"longpoll\"}"),
                       6.0309, 1e-9);
    free(text);
    end_server(&s);
}

static void two_max(struct options *o)
{
    o->max_connections = 2;
}

Test(metrics, admission_refusals_and_draining)
{
    struct server *s = mk_server(NULL, two_max);
    struct conn *a = mk_conn(s, PHX_V2, "a"), *b = mk_conn(s, PHX_V2, "b");
    cr_assert_eq(server_admit(s, "c", server_now_ms()), ADMIT_FULL);
    s->draining = true;
    cr_assert_eq(server_admit(s, "c", server_now_ms()), ADMIT_DRAINING);
    cr_assert_eq(server_admit(s, "c", server_now_ms()), ADMIT_DRAINING);
    char *text = render_server(s);
    check_format(text);
    cr_assert_eq(value(text, "cinder_admission_refusals_total{reason=\"max_connections\"}"), 1);
    cr_assert_eq(value(text, "cinder_admission_refusals_total{reason=\"draining\"}"), 2);
    cr_assert_eq(value(text, "cinder_admission_refusals_total{reason=\"connection_rate\"}"), 0);
    cr_assert_eq(value(text, "cinder_draining"), 1);
    free(text);
    end_conn(&a);
    end_conn(&b);
    end_server(&s);
}

/* A carrier that keeps the last message, to feed a node its own heartbeat back. */
struct loopback {
    unsigned char msg[4096];
    size_t len;
};

static int loop_send(void *ctx, const unsigned char *bytes, size_t len)
{
    struct loopback *l = ctx;
    cr_assert_leq(len, sizeof(l->msg));
    memcpy(l->msg, bytes, len);
    l->len = len;
    return 0;
}

Test(metrics, redis_bridge_and_cluster)
{
    struct server *s = mk_server(NULL, NULL);
    struct loopback lb = {0};
    struct cluster_carrier carrier = {.send = loop_send, .ctx = &lb};
    s->cluster = cluster_create(s, &carrier, 1000, 5000);
    cr_assert_not_null(s->cluster);
    struct bridge_stats bs = {.state = BRIDGE_DOWN, .reconnects = 2, .failures = 3, .in_flight = 7};
    struct metrics_source src = {.srv = s, .bridge = &bs, .now_ms = 10000};

    char *text = render(&src);
    check_format(text);
    cr_assert_eq(value(text, "cinder_redis_bridge_state{state=\"down\"}"), 1);
    cr_assert_eq(value(text, "cinder_redis_bridge_state{state=\"up\"}"), 0);
    cr_assert_eq(value(text, "cinder_redis_bridge_state{state=\"connecting\"}"), 0);
    cr_assert_eq(value(text, "cinder_redis_reconnects_total"), 2);
    cr_assert_eq(value(text, "cinder_redis_failures_total"), 3);
    cr_assert_eq(value(text, "cinder_redis_publishes_in_flight"), 7);
    cr_assert(isinf(value(text, "cinder_cluster_probe_age_seconds")), "no probe yet: +Inf");
    cr_assert_eq(value(text, "cinder_cluster_peers"), 0);
    free(text);

    bs.state = BRIDGE_UP;
    cluster_tick(s->cluster, 9000); /* a heartbeat goes out ... */
    cr_assert_gt(lb.len, 0);
    cr_assert_eq(cluster_receive(s->cluster, lb.msg, lb.len, 9500), 0); /* ... and comes back at 9.5 s */
    text = render(&src);
    check_format(text);
    cr_assert_eq(value(text, "cinder_redis_bridge_state{state=\"up\"}"), 1);
    cr_assert_float_eq(value(text, "cinder_cluster_probe_age_seconds"), 0.5, 1e-9);
    cr_assert_geq(value(text, "cinder_cluster_sent_total"), 1);
    cr_assert_eq(value(text, "cinder_cluster_dropped_total"), 0);
    free(text);

    cluster_destroy(&s->cluster);
    end_server(&s);
}
