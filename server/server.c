/*
 * server.c: one event loop's state (see server.h).
 */
#include "server.h"

#include "conn.h"
#include "phx_topic.h"
#include "registry.h"

#include <stdlib.h>
#include <time.h>

struct server *server_create(const struct options *opt, const struct socket_handler *app)
{
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->opt = *opt;
    s->app = app;
    s->registry = registry_create();
    if (!s->registry) {
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
    phx_buf_cleanup(&s->scratch);
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
