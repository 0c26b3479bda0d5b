/*
 * Tests server/pubsub.c: encode once per serializer, broadcast_from, the socket id's "disconnect",
 * intercepts (rewrite, drop, crash), binary broadcasts.
 */
#include "channel.h"
#include "harness.h"
#include "pubsub.h"

static void join(struct conn *c, const char *jr, const char *topic)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "[\"%s\",\"%s\",\"%s\",\"phx_join\",{}]", jr, jr, topic);
    if (c->vsn == PHX_V1)
        snprintf(buf, sizeof(buf), "{\"topic\":\"%s\",\"event\":\"phx_join\",\"payload\":{},\"ref\":\"%s\"}",
                 topic, jr);
    cr_assert_eq(send_text(c, buf), 0);
    free(next_frame(c, NULL, NULL));
    /* the join's presence diff reaches every subscriber of the topic */
    for (struct conn *it = c->srv->conns; it; it = it->next)
        drain_presence(it);
}

Test(pubsub, one_frame_shared_per_serializer)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a = mk_conn(s, PHX_V2, "a"), *b = mk_conn(s, PHX_V2, "b"), *v1 = mk_conn(s, PHX_V1, "c");
    join(a, "1", "room:x");
    join(b, "1", "room:x");
    join(v1, "1", "room:x");
    json_t *p = json_pack("{si}", "seq", 1);
    struct broadcast br = {.topic = "room:x", .event = "shout", .json = p};
    int wakes = mock_of(a)->wakes;
    uint64_t deliveries = s->stats.deliveries;
    cr_assert_eq(pubsub_broadcast(s, &br), 3);
    cr_assert_eq(mock_of(a)->wakes, wakes + 1, "an empty queue that gets a frame wakes its transport once");
    struct frame *fa = outq_peek(&a->q), *fb = outq_peek(&b->q), *fc = outq_peek(&v1->q);
    cr_assert_eq(fa, fb, "V2 subscribers share one frame");
    cr_assert_neq(fa, fc, "V1 gets its own encoding");
    cr_assert_eq(atomic_load(&fa->refs), 2, "only the two queues hold it");
    cr_assert_eq(atomic_load(&fc->refs), 1);
    expect_frame(a, "[null,null,\"room:x\",\"shout\",{\"seq\":1}]");
    expect_frame(b, "[null,null,\"room:x\",\"shout\",{\"seq\":1}]");
    expect_frame(v1, "{\"topic\":\"room:x\",\"event\":\"shout\",\"payload\":{\"seq\":1},\"ref\":null}");
    json_decref(p);
    cr_assert_eq(s->stats.deliveries, deliveries + 3);
    end_conn(&a);
    end_conn(&b);
    end_conn(&v1);
    end_server(&s);
}

Test(pubsub, no_subscribers_no_work)
{
    struct server *s = mk_server(NULL, NULL);
    json_t *p = json_object();
    struct broadcast br = {.topic = "room:empty", .event = "e", .json = p};
    cr_assert_eq(pubsub_broadcast(s, &br), 0);
    json_decref(p);
    end_server(&s);
}

Test(pubsub, broadcast_from_skips_only_the_sending_instance)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a1 = mk_conn(s, PHX_V2, "alice"), *a2 = mk_conn(s, PHX_V2, "alice");
    join(a1, "1", "room:x");
    join(a2, "1", "room:x");
    send_text(a1, "[\"1\",\"2\",\"room:x\",\"shout_others\",{\"b\":1}]");
    expect_frame(a1, "[\"1\",\"2\",\"room:x\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_none(a1);
    expect_frame(a2, "[null,null,\"room:x\",\"shout\",{\"b\":1}]");
    end_conn(&a1);
    end_conn(&a2);
    end_server(&s);
}

Test(pubsub, disconnect_on_socket_id_closes_every_connection_of_the_user)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a1 = mk_conn(s, PHX_V2, "alice"), *a2 = mk_conn(s, PHX_V2, "alice"),
                *b = mk_conn(s, PHX_V2, "bob");
    json_t *p = json_object();
    struct broadcast other = {.topic = "users_socket:alice", .event = "whatever", .json = p};
    pubsub_broadcast(s, &other);
    cr_assert_not(a1->closing, "other events on the id topic are ignored");
    struct broadcast br = {.topic = "users_socket:alice", .event = "disconnect", .json = p};
    pubsub_broadcast(s, &br);
    cr_assert(a1->closing && a2->closing);
    cr_assert_eq(a1->close_code, 1001);
    cr_assert_eq(mock_of(a2)->closes, 1);
    cr_assert_not(b->closing);
    json_decref(p);
    end_conn(&a1);
    end_conn(&a2);
    end_conn(&b);
    end_server(&s);
}

Test(pubsub, binary_broadcast_v2_only)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a = mk_conn(s, PHX_V2, "a"), *v1 = mk_conn(s, PHX_V1, "b");
    join(a, "1", "room:x");
    join(v1, "1", "room:x");
    static const unsigned char bytes[] = {9, 8};
    struct broadcast br = {.topic = "room:x", .event = "ev", .bin = bytes, .bin_len = 2};
    cr_assert_eq(pubsub_broadcast(s, &br), 1, "V1 cannot carry binary");
    size_t len;
    int binary;
    char *got = next_frame(a, &len, &binary);
    static const unsigned char want[] = {2, 6, 2, 'r', 'o', 'o', 'm', ':', 'x', 'e', 'v', 9, 8};
    cr_assert(binary);
    cr_assert_eq(len, sizeof(want));
    cr_assert_eq(memcmp(got, want, len), 0);
    free(got);
    expect_none(v1);
    end_conn(&a);
    end_conn(&v1);
    end_server(&s);
}

/* ---- intercepts ---- */

static int terminated;

static int i_out(struct channel *ch, const char *event, const struct ch_payload *p)
{
    json_t *mode = json_object_get(p->json, "mode");
    const char *m = json_string_value(mode);
    if (m && strcmp(m, "drop") == 0)
        return CH_OK;
    if (m && strcmp(m, "crash") == 0 && strcmp(channel_user_id(ch), "victim") == 0)
        return CH_CRASH;
    json_t *rewritten = json_pack("{ss}", "for", channel_user_id(ch));
    int rc = channel_push(ch, event, CH_JSON(rewritten));
    json_decref(rewritten);
    return rc == 0 ? CH_OK : CH_CRASH;
}

static int i_in(struct channel *ch, const char *event, const struct ch_payload *p, struct ch_reply *r)
{
    /* broadcast from inside a hook: the crash of this very channel must wait until the hook is done */
    channel_broadcast(ch, event, p);
    return CH_REPLY;
}

static void i_terminate(struct channel *ch, enum ch_exit reason)
{
    terminated++;
}

static const char *const secret_events[] = {"secret", NULL};
static const struct channel_handler i_handler = {
    .pattern = "i:*",
    .intercepts = secret_events,
    .handle_in = i_in,
    .handle_out = i_out,
    .terminate = i_terminate,
};
static const struct channel_handler *const i_routes[] = {&i_handler, NULL};
static int i_connect(const struct connect_info *info, struct connect_result *out)
{
    out->user_id = strdup("x");
    return 0;
}
static const struct socket_handler i_app = {.connect = i_connect, .channels = i_routes};

Test(pubsub, intercepted_event_rewritten_per_subscriber_others_fastlane)
{
    struct server *s = mk_server(&i_app, NULL);
    struct conn *a = mk_conn(s, PHX_V2, "ann"), *b = mk_conn(s, PHX_V2, "ben");
    join(a, "1", "i:1");
    join(b, "1", "i:1");
    json_t *p = json_object();
    struct broadcast secret = {.topic = "i:1", .event = "secret", .json = p};
    cr_assert_eq(pubsub_broadcast(s, &secret), 2);
    expect_frame(a, "[\"1\",null,\"i:1\",\"secret\",{\"for\":\"ann\"}]");
    expect_frame(b, "[\"1\",null,\"i:1\",\"secret\",{\"for\":\"ben\"}]");
    struct broadcast plain = {.topic = "i:1", .event = "plain", .json = p};
    pubsub_broadcast(s, &plain);
    expect_frame(a, "[null,null,\"i:1\",\"plain\",{}]");
    json_t *drop = json_pack("{ss}", "mode", "drop");
    struct broadcast dropped = {.topic = "i:1", .event = "secret", .json = drop};
    pubsub_broadcast(s, &dropped);
    expect_none(a);
    json_decref(drop);
    json_decref(p);
    end_conn(&a);
    end_conn(&b);
    end_server(&s);
}

Test(pubsub, handle_out_crash_ends_only_that_channel_after_the_hook)
{
    struct server *s = mk_server(&i_app, NULL);
    struct conn *v = mk_conn(s, PHX_V2, "victim"), *o = mk_conn(s, PHX_V2, "other");
    join(v, "1", "i:1");
    join(o, "1", "i:1");
    terminated = 0;
    /* the victim itself broadcasts: its own handle_out crashes while its handle_in is running */
    send_text(v, "[\"1\",\"2\",\"i:1\",\"secret\",{\"mode\":\"crash\"}]");
    expect_frame(v, "[\"1\",\"2\",\"i:1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(v, "[\"1\",\"1\",\"i:1\",\"phx_error\",{\"reason\":\"channel_crash\"}]");
    cr_assert_eq(v->nchannels, 0);
    cr_assert_eq(terminated, 1);
    expect_frame(o, "[\"1\",null,\"i:1\",\"secret\",{\"for\":\"other\"}]");
    cr_assert_eq(o->nchannels, 1);
    end_conn(&v);
    end_conn(&o);
    end_server(&s);
}
