/*
 * health.c: /health and /ready (see health.h).
 */
#include "health.h"

#include "bridge.h"
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int health_live(struct api_response *out)
{
    out->status = 200;
    out->body = strdup("{\"status\":\"ok\"}");
    return out->body ? 0 : -1;
}

/* The Redis check: "ok", "not configured", or why not into buf. Passing: *ok. */
static const char *redis_check(const struct metrics_source *src, const struct metrics_view *v, char *buf,
                               size_t size, bool *ok)
{
    const struct server *s = src->srv;
    *ok = false;
    if (!s->opt.redis_url) {
        *ok = true;
        return "not configured";
    }
    if (!v->bridged || !v->clustered)
        return "bridge missing";
    if (v->bridge.state != BRIDGE_UP)
        return v->bridge.state == BRIDGE_CONNECTING ? "bridge connecting" : "bridge down";
    uint64_t last = v->cluster.last_probe_ms;
    uint64_t limit = HEALTH_PROBE_HEARTBEATS * s->opt.cluster_heartbeat_ms;
    if (!last)
        return "no self-probe back yet";
    uint64_t age = src->now_ms > last ? src->now_ms - last : 0;
    if (age > limit) {
        snprintf(buf, size, "self-probe %llu ms old (limit %llu ms)", (unsigned long long)age,
                 (unsigned long long)limit);
        return buf;
    }
    *ok = true;
    return "ok";
}

int health_ready(const struct metrics_source *src, struct api_response *out)
{
    const struct server *s = src->srv;
    struct metrics_view total;
    metrics_total(src, &total);
    char conns[96], redis_buf[96];
    bool draining_ok = !total.draining;
    size_t open = admission_connections(s->adm);
    bool conns_ok = open < s->opt.max_connections;
    if (!conns_ok)
        snprintf(conns, sizeof(conns), "%zu open, max_connections %u", open, s->opt.max_connections);
    bool redis_ok;
    const char *redis = redis_check(src, &total, redis_buf, sizeof(redis_buf), &redis_ok);

    json_t *failing = json_array();
    json_t *checks = json_pack("{s:s, s:s, s:s}", "draining", draining_ok ? "ok" : "draining", "connections",
                               conns_ok ? "ok" : conns, "redis", redis);
    bool ready = draining_ok && conns_ok && redis_ok;
    json_t *body = NULL;
    if (failing && checks) {
        if (!draining_ok)
            json_array_append_new(failing, json_string("draining"));
        if (!conns_ok)
            json_array_append_new(failing, json_string("connections"));
        if (!redis_ok)
            json_array_append_new(failing, json_string("redis"));
        body = ready ? json_pack("{s:s, s:O}", "status", "ready", "checks", checks)
                     : json_pack("{s:s, s:O, s:O}", "status", "unavailable", "failing", failing, "checks",
                                 checks);
    }
    out->status = ready ? 200 : 503;
    out->body = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    json_decref(checks);
    json_decref(failing);
    return out->body ? 0 : -1;
}
