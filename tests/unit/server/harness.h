/*
 * harness.h: a server with connections on a mock transport, for the core's unit tests.
 *
 * The mock transport records wakes and closes and never frees anything itself: a test ends each
 * connection with conn_destroy, as a real transport does from its close callback. Frames are read
 * back from a connection's write queue exactly as a transport would write them.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include "conn.h"
#include "handlers/demo.h"
#include "options.h"
#include "registry.h"
#include "server.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

struct mock_state {
    int wakes;
    int closes;
};

static void mock_wake(struct conn *c)
{
    ((struct mock_state *)c->transport_handle)->wakes++;
}

static void mock_close(struct conn *c)
{
    ((struct mock_state *)c->transport_handle)->closes++;
}

static const struct transport_ops mock_ops = {.name = "mock", .wake = mock_wake, .close = mock_close};

static inline struct server *mk_server(const struct socket_handler *app, void (*tweak)(struct options *))
{
    struct options o;
    options_defaults(&o);
    if (tweak)
        tweak(&o);
    struct server *s = server_create(&o, app ? app : &demo_app);
    cr_assert_not_null(s);
    return s;
}

/* A connection on the mock transport whose admission seat is already taken (server_admit). */
static inline struct conn *mk_conn_admitted(struct server *s, enum phx_vsn vsn, const char *user)
{
    struct mock_state *m = calloc(1, sizeof(*m));
    char *sid = malloc(strlen(user) + 16);
    sprintf(sid, "users_socket:%s", user);
    struct conn *c = conn_create(s, &mock_ops, m, vsn, strdup(user), sid);
    cr_assert_not_null(c);
    return c;
}

/* A connection on the mock transport, its seat taken without asking the limits. */
static inline struct conn *mk_conn(struct server *s, enum phx_vsn vsn, const char *user)
{
    cr_assert_eq(server_user_add(s, user), 0);
    return mk_conn_admitted(s, vsn, user);
}

static inline struct mock_state *mock_of(struct conn *c)
{
    return c->transport_handle;
}

static inline void end_conn(struct conn **c)
{
    free((*c)->transport_handle);
    conn_destroy(c);
}

/* Free the server after checking that nothing is left behind. */
static inline void end_server(struct server **s)
{
    cr_assert_eq((*s)->nconns, 0);
    cr_assert_eq(registry_topic_count((*s)->registry), 0, "registry empty at the end");
    cr_assert_eq(registry_sub_count((*s)->registry), 0);
    cr_assert_null((*s)->crashed);
    server_destroy(s);
}

static inline int send_text(struct conn *c, const char *text)
{
    return conn_on_message(c, text, strlen(text), false);
}

/* The next queued frame as a NUL-terminated copy (caller frees), or NULL. */
static inline char *next_frame(struct conn *c, size_t *len, int *binary)
{
    struct frame *f = outq_peek(&c->q);
    if (!f)
        return NULL;
    char *copy = malloc(f->len + 1);
    memcpy(copy, frame_data(f), f->len);
    copy[f->len] = '\0';
    if (len)
        *len = f->len;
    if (binary)
        *binary = f->binary;
    outq_pop(&c->q);
    return copy;
}

/* Join topic with join ref "1" and pop the reply: into *reply (caller frees) or freed (reply NULL). */
static inline void join_topic(struct conn *c, const char *topic, char **reply)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "[\"1\",\"1\",\"%s\",\"phx_join\",{}]", topic);
    cr_assert_eq(send_text(c, buf), 0);
    char *r = next_frame(c, NULL, NULL);
    cr_assert_not_null(r);
    if (reply)
        *reply = r;
    else
        free(r);
}

/* Pop every queued frame; how many contained needle. */
static inline int count_frames(struct conn *c, const char *needle)
{
    int n = 0;
    char *f;
    while ((f = next_frame(c, NULL, NULL))) {
        n += strstr(f, needle) != NULL;
        free(f);
    }
    return n;
}

static inline int has_presence_event(struct frame *f)
{
    for (uint32_t i = 0; i + 10 <= f->len; i++)
        if (memcmp(frame_data(f) + i, "\"presence_", 10) == 0)
            return 1;
    return 0;
}

/* Pop the presence_state / presence_diff frames at the head of the queue; how many. */
static inline int drain_presence(struct conn *c)
{
    int n = 0;
    struct frame *f;
    while ((f = outq_peek(&c->q)) && !f->binary && has_presence_event(f)) {
        outq_pop(&c->q);
        n++;
    }
    return n;
}

#define expect_frame(c, exact)                                                                               \
    do {                                                                                                     \
        char *got_ = next_frame((c), NULL, NULL);                                                            \
        cr_assert_not_null(got_, "expected %s, got nothing", (exact));                                       \
        cr_assert_str_eq(got_, (exact));                                                                     \
        free(got_);                                                                                          \
    } while (0)

#define expect_none(c)                                                                                       \
    do {                                                                                                     \
        char *got_ = next_frame((c), NULL, NULL);                                                            \
        cr_assert_null(got_, "expected no frame, got %s", got_);                                             \
    } while (0)

#endif
