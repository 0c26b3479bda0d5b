/*
 * Tests server/health.c: /health always answers ok; /ready passes only when not draining, under
 * max_connections and, with Redis configured, with the bridge up and a recent self-probe; the body
 * names each check and lists the failing ones.
 */
#include "bridge.h"
#include "cluster.h"
#include "harness.h"
#include "health.h"

#include <jansson.h>

/* The /ready answer for s as parsed JSON (caller decrefs); *status gets the HTTP status. */
static json_t *ready(struct server *s, const struct bridge_stats *b, uint64_t now_ms, int *status)
{
    struct metrics_source src = {.srv = s, .bridge = b, .now_ms = now_ms};
    struct api_response resp = {0};
    cr_assert_eq(health_ready(&src, &resp), 0);
    *status = resp.status;
    json_t *j = json_loads(resp.body, 0, NULL);
    cr_assert_not_null(j, "JSON body: %s", resp.body);
    free(resp.body);
    return j;
}

static const char *check(json_t *j, const char *name)
{
    return json_string_value(json_object_get(json_object_get(j, "checks"), name));
}

/* The "failing" list joined with commas ("" when absent). */
static const char *failing(json_t *j)
{
    static char buf[128];
    buf[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "failing"), i, v)
    {
        if (i)
            strcat(buf, ",");
        strcat(buf, json_string_value(v));
    }
    return buf;
}

Test(health, live_is_ok)
{
    struct api_response resp = {0};
    cr_assert_eq(health_live(&resp), 0);
    cr_assert_eq(resp.status, 200);
    cr_assert_str_eq(resp.body, "{\"status\":\"ok\"}");
    free(resp.body);
}

Test(health, single_node_ready_until_draining)
{
    struct server *s = mk_server(NULL, NULL);
    int status;
    json_t *j = ready(s, NULL, 1000, &status);
    cr_assert_eq(status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "ready");
    cr_assert_str_eq(check(j, "draining"), "ok");
    cr_assert_str_eq(check(j, "connections"), "ok");
    cr_assert_str_eq(check(j, "redis"), "not configured");
    cr_assert_null(json_object_get(j, "failing"));
    json_decref(j);

    s->draining = true;
    j = ready(s, NULL, 1000, &status);
    cr_assert_eq(status, 503);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "unavailable");
    cr_assert_str_eq(failing(j), "draining");
    cr_assert_str_eq(check(j, "draining"), "draining");
    json_decref(j);
    end_server(&s);
}

static void one_max(struct options *o)
{
    o->max_connections = 1;
}

Test(health, full_node_is_not_ready)
{
    struct server *s = mk_server(NULL, one_max);
    struct conn *c = mk_conn(s, PHX_V2, "alice");
    int status;
    json_t *j = ready(s, NULL, 1000, &status);
    cr_assert_eq(status, 503);
    cr_assert_str_eq(failing(j), "connections");
    cr_assert_str_eq(check(j, "connections"), "1 open, max_connections 1");
    json_decref(j);
    end_conn(&c);
    j = ready(s, NULL, 1000, &status);
    cr_assert_eq(status, 200);
    json_decref(j);
    end_server(&s);
}

static void with_redis(struct options *o)
{
    o->redis_url = strdup("redis://127.0.0.1:6379/0");
    o->cluster_heartbeat_ms = 200;
}

struct loopback {
    unsigned char msg[4096];
    size_t len;
};

static int loop_send(void *ctx, const unsigned char *bytes, size_t len)
{
    struct loopback *l = ctx;
    memcpy(l->msg, bytes, len);
    l->len = len;
    return 0;
}

Test(health, redis_needs_the_bridge_up_and_a_recent_self_probe)
{
    struct server *s = mk_server(NULL, with_redis);
    int status;
    json_t *j = ready(s, NULL, 1000, &status);
    cr_assert_eq(status, 503, "configured but no bridge");
    cr_assert_str_eq(failing(j), "redis");
    json_decref(j);

    struct loopback lb = {0};
    struct cluster_carrier carrier = {.send = loop_send, .ctx = &lb};
    s->cluster = cluster_create(s, &carrier, 200, 1000);
    struct bridge_stats bs = {.state = BRIDGE_CONNECTING};
    j = ready(s, &bs, 1000, &status);
    cr_assert_eq(status, 503);
    cr_assert_str_eq(check(j, "redis"), "bridge connecting");
    json_decref(j);

    bs.state = BRIDGE_UP;
    j = ready(s, &bs, 1000, &status);
    cr_assert_eq(status, 503);
    cr_assert_str_eq(check(j, "redis"), "no self-probe back yet");
    json_decref(j);

    cluster_tick(s->cluster, 1000);
    cr_assert_eq(cluster_receive(s->cluster, lb.msg, lb.len, 1010), 0);
    j = ready(s, &bs, 1200, &status);
    cr_assert_eq(status, 200);
    cr_assert_str_eq(check(j, "redis"), "ok");
    json_decref(j);

    /* 3 heartbeats (600 ms) is the limit */
    j = ready(s, &bs, 1010 + 600, &status);
    cr_assert_eq(status, 200);
    json_decref(j);
    j = ready(s, &bs, 1010 + 601, &status);
    cr_assert_eq(status, 503);
    cr_assert_str_eq(check(j, "redis"), "self-probe 601 ms old (limit 600 ms)");
    json_decref(j);

    bs.state = BRIDGE_DOWN;
    s->draining = true;
    j = ready(s, &bs, 1200, &status);
    cr_assert_eq(status, 503);
    cr_assert_str_eq(failing(j), "draining,redis");
    cr_assert_str_eq(check(j, "redis"), "bridge down");
    json_decref(j);

    cluster_destroy(&s->cluster);
    end_server(&s);
}
