/*
 * server.c: one event loop's state (see server.h).
 */
#define _GNU_SOURCE /* FNM_CASEFOLD */
#include "server.h"

#include "conn.h"
#include "handlers/generic.h"
#include "phx_topic.h"
#include "registry.h"
#include "history.h"
#include "tracker.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A node id unique per process start: random, with the clock and pid as a fallback; the low byte is
 * left for the shard. */
uint64_t server_random_node_id(void)
{
    uint64_t id = 0;
    if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        id = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
    }
    id &= ~(uint64_t)0xff;
    return id ? id : 0x100;
}

struct server *server_create(const struct options *opt, const struct socket_handler *app)
{
    return server_create_shard(opt, app, server_random_node_id(), 0, NULL);
}

struct server *server_create_shard(const struct options *opt, const struct socket_handler *app,
                                   uint64_t node_id, unsigned shard, struct admission *adm)
{
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (options_copy(&s->opt, opt) != 0) {
        free(s);
        return NULL;
    }
    s->app = app;
    s->node_id = node_id | (shard & 0xffu);
    s->shard = shard;
    s->adm = adm;
    if (!adm) {
        s->adm = admission_create(opt->connection_rate);
        s->owns_adm = true;
    }
    s->registry = registry_create();
    s->tracker = tracker_create(s->node_id);
    char err[256];
    s->channels = generic_channels_create(s->opt.channels, err, sizeof(err));
    if (!s->adm || !s->registry || !s->tracker || !s->channels ||
        topic_policies_parse(s->opt.topics, &s->policies) != 0 ||
        lp_token_key_init(&s->lp_token_key) != LP_TOKEN_OK) {
        topic_policies_cleanup(&s->policies);
        generic_channels_unref(&s->channels);
        registry_destroy(&s->registry);
        tracker_destroy(&s->tracker);
        if (s->owns_adm)
            admission_destroy(&s->adm);
        options_cleanup(&s->opt);
        free(s);
        return NULL;
    }
    phx_buf_init(&s->scratch, 0);
    write_list_init(&s->writes);
    return s;
}

void server_destroy(struct server **sp)
{
    struct server *s = *sp;
    if (!s)
        return;
    registry_destroy(&s->registry);
    tracker_destroy(&s->tracker);
    history_destroy(&s->history);
    topic_policies_cleanup(&s->policies);
    generic_channels_unref(&s->channels);
    if (s->owns_adm)
        admission_destroy(&s->adm);
    options_cleanup(&s->opt);
    phx_buf_cleanup(&s->scratch);
    write_list_cleanup(&s->writes);
    lp_token_key_cleanup(&s->lp_token_key);
    free(s);
    *sp = NULL;
}

int server_apply_options(struct server *s, const struct options *o)
{
    struct options copy;
    char err[256];
    if (options_copy(&copy, o) != 0)
        return -1;
    /* New joins route through the new set; channels joined before keep the old one alive (generic.h). */
    struct generic_channels *channels = generic_channels_create(copy.channels, err, sizeof(err));
    struct topic_policies policies;
    if (!channels || topic_policies_parse(copy.topics, &policies) != 0) {
        generic_channels_unref(&channels);
        options_cleanup(&copy);
        return -1;
    }
    /* Topic policies apply from the next broadcast and the next join on. */
    topic_policies_cleanup(&s->policies);
    s->policies = policies;
    generic_channels_unref(&s->channels);
    s->channels = channels;
    options_cleanup(&s->opt);
    s->opt = copy;
    return 0;
}

enum admit server_admit(struct server *s, const char *user_id, uint64_t now_ms)
{
    enum admit a = s->draining ? ADMIT_DRAINING : admission_enter(s->adm, user_id, &s->opt, now_ms);
    s->stats.refused[a]++;
    return a;
}

const char *server_admit_reason(enum admit a)
{
    switch (a) {
    case ADMIT_OK:
        return "ok";
    case ADMIT_DRAINING:
        return "draining";
    case ADMIT_FULL:
        return "max_connections reached";
    case ADMIT_RATE:
        return "connection_rate exceeded";
    case ADMIT_USER:
        return "max_connections_per_user reached";
    }
    return "?";
}

bool server_origin_allowed(const struct server *s, const char *origin)
{
    const char *list = s->opt.allowed_origins;
    if (!origin || !list || !*list)
        return true;
    char pattern[512];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        const char *start = p;
        while (n && (*start == ' ')) {
            start++;
            n--;
        }
        while (n && start[n - 1] == ' ')
            n--;
        if (n && n < sizeof(pattern)) {
            memcpy(pattern, start, n);
            pattern[n] = '\0';
            if (fnmatch(pattern, origin, FNM_CASEFOLD) == 0)
                return true;
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return false;
}

int server_user_add(struct server *s, const char *user_id)
{
    return admission_open(s->adm, user_id);
}

void server_user_remove(struct server *s, const char *user_id)
{
    admission_close(s->adm, user_id);
}

unsigned server_user_connections(const struct server *s, const char *user_id)
{
    return admission_user_connections(s->adm, user_id);
}

int server_connect(struct server *s, const struct query *params, const char *auth_token,
                   struct connect_result *out)
{
    memset(out, 0, sizeof(*out));
    const struct connect_info info = {.params = params, .auth_token = auth_token, .opt = &s->opt};
    if (!s->app->connect)
        return -1;
    if (s->app->connect(&info, out) != 0 || !out->user_id) {
        const char *reason = out->reason;
        free(out->user_id);
        free(out->socket_id);
        json_decref(out->assigns);
        memset(out, 0, sizeof(*out));
        out->reason = reason;
        return -1;
    }
    return 0;
}

const struct channel_handler *server_route(const struct server *s, const char *topic)
{
    const struct channel_handler *configured = generic_channels_route(s->channels, topic);
    if (configured)
        return configured;
    for (const struct channel_handler *const *h = s->app->channels; h && *h; h++)
        if (phx_topic_match((*h)->pattern, topic))
            return *h;
    return NULL;
}

void server_sweep_idle(struct server *s, uint64_t now_ms)
{
    for (struct conn *c = s->conns; c; c = c->next)
        if (!c->closing && now_ms - c->last_rx_ms > s->opt.idle_timeout_ms)
            conn_close(c, CLOSE_NORMAL, "idle timeout");
}

void server_close_all(struct server *s, uint16_t code, const char *reason)
{
    for (struct conn *c = s->conns; c; c = c->next)
        conn_close(c, code, reason);
}

uint64_t server_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t server_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
