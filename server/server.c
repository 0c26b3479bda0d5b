/*
 * server.c: one event loop's state (see server.h).
 */
#include "server.h"

#include "conn.h"
#include "phx_topic.h"
#include "registry.h"
#include "tracker.h"

#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A node id unique per process start: random, with the clock and pid as a fallback. */
static uint64_t random_node_id(void)
{
    uint64_t id = 0;
    if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        id = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
    }
    return id ? id : 1;
}

struct server *server_create(const struct options *opt, const struct socket_handler *app)
{
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->opt = *opt;
    s->app = app;
    s->node_id = random_node_id();
    s->registry = registry_create();
    s->tracker = tracker_create(s->node_id);
    if (!s->registry || !s->tracker || lp_token_key_init(&s->lp_token_key) != LP_TOKEN_OK) {
        registry_destroy(&s->registry);
        tracker_destroy(&s->tracker);
        free(s);
        return NULL;
    }
    phx_buf_init(&s->scratch, 0);
    return s;
}

void server_destroy(struct server **sp)
{
    struct server *s = *sp;
    if (!s)
        return;
    registry_destroy(&s->registry);
    tracker_destroy(&s->tracker);
    phx_buf_cleanup(&s->scratch);
    lp_token_key_cleanup(&s->lp_token_key);
    free(s);
    *sp = NULL;
}

int server_connect(struct server *s, const struct query *params, char **user_id, char **socket_id)
{
    *user_id = NULL;
    *socket_id = NULL;
    if (!s->app->connect)
        return -1;
    if (s->app->connect(params, user_id, socket_id) != 0 || !*user_id) {
        free(*user_id);
        free(*socket_id);
        *user_id = *socket_id = NULL;
        return -1;
    }
    return 0;
}

const struct channel_handler *server_route(const struct server *s, const char *topic)
{
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
