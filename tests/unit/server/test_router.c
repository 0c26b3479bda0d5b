/*
 * Tests server/router.c: every Phoenix 1.8.12 socket rule of PROTOCOL.md section 6, byte for byte,
 * through the demo app and a test handler.
 */
#include "channel.h"
#include "harness.h"

static struct server *s;
static struct conn *c;

static void setup(void)
{
    s = mk_server(NULL, NULL);
    c = mk_conn(s, PHX_V2, "alice");
}

static void teardown(void)
{
    if (c)
        end_conn(&c);
    end_server(&s);
}

TestSuite(router, .init = setup, .fini = teardown);

static void join(const char *jr, const char *topic)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "[\"%s\",\"%s\",\"%s\",\"phx_join\",{}]", jr, jr, topic);
    cr_assert_eq(send_text(c, buf), 0);
    snprintf(buf, sizeof(buf), "[\"%s\",\"%s\",\"%s\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]", jr,
             jr, topic);
    expect_frame(c, buf);
    drain_presence(c);
}

Test(router, heartbeat_always_answered_with_null_join_ref)
{
    send_text(c, "[null,\"5\",\"phoenix\",\"heartbeat\",{}]");
    expect_frame(c, "[null,\"5\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    send_text(c, "[\"9\",\"6\",\"phoenix\",\"heartbeat\",{}]");
    expect_frame(c, "[null,\"6\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_none(c);
}

Test(router, join_ok_and_ping)
{
    join("3", "room:lobby");
    send_text(c, "[\"3\",\"4\",\"room:lobby\",\"ping\",{\"x\":1}]");
    expect_frame(c, "[\"3\",\"4\",\"room:lobby\",\"phx_reply\",{\"status\":\"ok\",\"response\":{\"x\":1}}]");
    cr_assert_eq(c->nchannels, 1);
    expect_none(c);
}

Test(router, refs_are_echoed_verbatim)
{
    send_text(c, "[7,{\"a\":[1]},\"room:x\",\"phx_join\",{}]");
    expect_frame(c, "[7,{\"a\":[1]},\"room:x\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    drain_presence(c);
    send_text(c, "[7,1.5,\"room:x\",\"ping\",{}]");
    expect_frame(c, "[7,1.5,\"room:x\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
}

Test(router, unmatched_topic_has_null_join_ref)
{
    send_text(c, "[\"1\",\"1\",\"nope:1\",\"phx_join\",{}]");
    expect_frame(
        c, "[null,\"1\",\"nope:1\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":\"unmatched "
           "topic\"}}]");
    send_text(c, "[\"1\",\"2\",\"room:notjoined\",\"ping\",{}]");
    expect_frame(
        c, "[null,\"2\",\"room:notjoined\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
           "\"unmatched topic\"}}]");
    send_text(c, "[null,\"3\",\"phoenix\",\"other\",{}]");
    expect_frame(c, "[null,\"3\",\"phoenix\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                    "\"unmatched topic\"}}]");
    cr_assert_eq(c->nchannels, 0);
}

Test(router, invalid_topic_is_unmatched)
{
    char buf[600] = "[\"1\",\"1\",\"room:";
    memset(buf + strlen(buf), 'a', 300);
    strcat(buf, "\",\"phx_join\",{}]");
    send_text(c, buf);
    char *f = next_frame(c, NULL, NULL);
    cr_assert(strstr(f, "unmatched topic"));
    free(f);
}

Test(router, refused_join)
{
    send_text(c, "[\"1\",\"1\",\"room:forbidden\",\"phx_join\",{}]");
    expect_frame(
        c, "[\"1\",\"1\",\"room:forbidden\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
           "\"unauthorized\"}}]");
    cr_assert_eq(c->nchannels, 0);
    cr_assert_eq(registry_topic_count(s->registry), 1, "only the socket id topic");
}

Test(router, duplicate_join_replies_then_closes_old)
{
    join("1", "room:a");
    send_text(c, "[\"2\",\"2\",\"room:a\",\"phx_join\",{}]");
    expect_frame(c, "[\"2\",\"2\",\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(c, "[\"1\",\"1\",\"room:a\",\"phx_close\",{}]");
    cr_assert_eq(drain_presence(c), 2, "the new instance's presence diff and state");
    cr_assert_eq(c->nchannels, 1);
    cr_assert_eq(registry_topic_subscribers(registry_find(s->registry, "room:a")), 1);
    /* the old join_ref is now stale */
    send_text(c, "[\"1\",\"3\",\"room:a\",\"ping\",{}]");
    expect_none(c);
    send_text(c, "[\"2\",\"4\",\"room:a\",\"ping\",{}]");
    expect_frame(c, "[\"2\",\"4\",\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
}

Test(router, stale_join_ref_dropped_null_forwarded)
{
    join("5", "room:a");
    send_text(c, "[\"4\",\"6\",\"room:a\",\"ping\",{}]");
    expect_none(c);
    send_text(c, "[null,\"7\",\"room:a\",\"ping\",{}]");
    expect_frame(c, "[\"5\",\"7\",\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
}

Test(router, leave_joined_and_unjoined)
{
    join("1", "room:a");
    send_text(c, "[\"1\",\"2\",\"room:a\",\"phx_leave\",{}]");
    expect_frame(c, "[\"1\",\"2\",\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(c, "[\"1\",\"1\",\"room:a\",\"phx_close\",{}]");
    cr_assert_eq(c->nchannels, 0);
    cr_assert_null(registry_find(s->registry, "room:a"));
    send_text(c, "[\"9\",\"3\",\"room:b\",\"phx_leave\",{}]");
    expect_frame(c, "[\"9\",\"3\",\"room:b\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_none(c);
}

Test(router, leave_with_stale_join_ref_dropped)
{
    join("1", "room:a");
    send_text(c, "[\"0\",\"2\",\"room:a\",\"phx_leave\",{}]");
    expect_none(c);
    cr_assert_eq(c->nchannels, 1);
}

Test(router, demo_events)
{
    join("1", "room:a");
    send_text(c, "[\"1\",\"2\",\"room:a\",\"fail\",{}]");
    expect_frame(c, "[\"1\",\"2\",\"room:a\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                    "\"failed\"}}]");
    send_text(c, "[\"1\",\"3\",\"room:a\",\"noreply\",{}]");
    expect_none(c);
    send_text(c, "[\"1\",\"4\",\"room:a\",\"what\",{}]");
    expect_frame(c, "[\"1\",\"4\",\"room:a\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                    "\"unknown event\"}}]");
    send_text(c, "[\"1\",\"5\",\"room:a\",\"shout\",{\"body\":\"hi\"}]");
    expect_frame(c, "[null,null,\"room:a\",\"shout\",{\"body\":\"hi\"}]");
    expect_frame(c, "[\"1\",\"5\",\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    send_text(c, "[\"1\",\"6\",\"room:a\",\"shout_others\",{\"body\":\"hi\"}]");
    expect_frame(c, "[\"1\",\"6\",\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_none(c);
}

Test(router, crash_gives_phx_error_with_ref_equal_join_ref)
{
    join("1", "room:a");
    join("2", "room:b");
    send_text(c, "[\"1\",\"3\",\"room:a\",\"crash\",{}]");
    expect_frame(c, "[\"1\",\"1\",\"room:a\",\"phx_error\",{\"reason\":\"channel_crash\"}]");
    cr_assert_eq(c->nchannels, 1);
    send_text(c, "[\"1\",\"4\",\"room:a\",\"ping\",{}]");
    expect_frame(c, "[null,\"4\",\"room:a\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                    "\"unmatched topic\"}}]");
    send_text(c, "[\"2\",\"5\",\"room:b\",\"ping\",{}]");
    expect_frame(c, "[\"2\",\"5\",\"room:b\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
}

Test(router, leave_me_replies_then_closes)
{
    join("1", "room:a");
    send_text(c, "[\"1\",\"2\",\"room:a\",\"leave_me\",{}]");
    expect_frame(c, "[\"1\",\"2\",\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(c, "[\"1\",\"1\",\"room:a\",\"phx_close\",{}]");
    cr_assert_eq(c->nchannels, 0);
}

Test(router, telemetry_ignores_inbound)
{
    join("1", "telemetry:fleet");
    send_text(c, "[\"1\",\"2\",\"telemetry:fleet\",\"position\",{\"id\":1}]");
    expect_none(c);
}

static void three_channels(struct options *o)
{
    o->max_channels = 3;
}

Test(router, channel_limit)
{
    end_conn(&c);
    end_server(&s);
    s = mk_server(NULL, three_channels);
    c = mk_conn(s, PHX_V2, "alice");
    join("1", "room:1");
    join("2", "room:2");
    join("3", "room:3");
    send_text(c, "[\"4\",\"4\",\"room:4\",\"phx_join\",{}]");
    expect_frame(c, "[\"4\",\"4\",\"room:4\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                    "\"too many channels joined\"}}]");
    /* rejoining a joined topic is not a new channel */
    send_text(c, "[\"5\",\"5\",\"room:3\",\"phx_join\",{}]");
    expect_frame(c, "[\"5\",\"5\",\"room:3\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(c, "[\"3\",\"3\",\"room:3\",\"phx_close\",{}]");
    drain_presence(c);
    cr_assert_eq(c->nchannels, 3);
}

Test(router, v1_frames_have_no_join_ref)
{
    struct conn *v1 = mk_conn(s, PHX_V1, "bob");
    cr_assert_eq(send_text(v1, "{\"topic\":\"room:a\",\"event\":\"phx_join\",\"payload\":{},\"ref\":\"1\","
                               "\"join_ref\":\"1\"}"),
                 0);
    expect_frame(
        v1, "{\"topic\":\"room:a\",\"event\":\"phx_reply\",\"payload\":{\"status\":\"ok\",\"response\":{}},"
            "\"ref\":\"1\"}");
    cr_assert_eq(drain_presence(v1), 2);
    send_text(
        v1, "{\"topic\":\"room:a\",\"event\":\"leave_me\",\"payload\":{},\"ref\":\"2\",\"join_ref\":\"1\"}");
    expect_frame(
        v1, "{\"topic\":\"room:a\",\"event\":\"phx_reply\",\"payload\":{\"status\":\"ok\",\"response\":{}},"
            "\"ref\":\"2\"}");
    expect_frame(v1, "{\"topic\":\"room:a\",\"event\":\"phx_close\",\"payload\":{},\"ref\":\"1\"}");
    end_conn(&v1);
}

Test(router, binary_echo)
{
    join("1", "room:a");
    static const unsigned char push[] = {0x00, 0x01, 0x01, 0x06, 0x06, '1', '2', 'r', 'o',  'o',  'm',
                                         ':',  'a',  'b',  'i',  'n',  'a', 'r', 'y', 0x01, 0x02, 0x03};
    static const unsigned char want[] = {0x01, 0x01, 0x01, 0x06, 0x02, '1', '2',  'r',  'o',
                                         'o',  'm',  ':',  'a',  'o',  'k', 0x01, 0x02, 0x03};
    cr_assert_eq(conn_on_message(c, push, sizeof(push), true), 0);
    size_t len;
    int binary;
    char *got = next_frame(c, &len, &binary);
    cr_assert_not_null(got);
    cr_assert(binary);
    cr_assert_eq(len, sizeof(want));
    cr_assert_eq(memcmp(got, want, len), 0);
    free(got);
}

/* ---- a test handler: terminate counting, handle_info, join crash ---- */

static int terminations;
static enum ch_exit last_exit;

static int t_join(struct channel *ch, const struct ch_payload *params, struct ch_reply *reply)
{
    json_t *mode = json_object_get(params->json, "mode");
    if (json_is_string(mode) && strcmp(json_string_value(mode), "crash") == 0)
        return CH_CRASH;
    channel_send_info(ch, "after_join", json_pack("{si}", "n", 1));
    reply->response = json_pack("{sb}", "welcome", 1);
    return CH_OK;
}

static int t_info(struct channel *ch, const char *msg, json_t *data)
{
    if (strcmp(msg, "after_join") == 0)
        return channel_push(ch, "hello", CH_JSON(data)) == 0 ? CH_OK : CH_CRASH;
    if (strcmp(msg, "stop") == 0)
        return CH_STOP;
    return CH_CRASH;
}

static int t_in(struct channel *ch, const char *event, const struct ch_payload *p, struct ch_reply *reply)
{
    channel_send_info(ch, event, NULL);
    return CH_OK;
}

static void t_terminate(struct channel *ch, enum ch_exit reason)
{
    terminations++;
    last_exit = reason;
}

static const struct channel_handler t_handler = {
    .pattern = "t:*",
    .join = t_join,
    .handle_in = t_in,
    .handle_info = t_info,
    .terminate = t_terminate,
};
static const struct channel_handler *const t_routes[] = {&t_handler, NULL};
static int t_connect(const struct connect_info *info, struct connect_result *out)
{
    out->user_id = strdup("u");
    return 0;
}
static const struct socket_handler t_app = {.connect = t_connect, .channels = t_routes};

Test(router, handle_info_after_join_reply_and_terminate_once)
{
    struct server *s2 = mk_server(&t_app, NULL);
    struct conn *c2 = mk_conn(s2, PHX_V2, "u");
    terminations = 0;
    send_text(c2, "[\"1\",\"1\",\"t:1\",\"phx_join\",{}]");
    expect_frame(c2,
                 "[\"1\",\"1\",\"t:1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{\"welcome\":true}}]");
    expect_frame(c2, "[\"1\",null,\"t:1\",\"hello\",{\"n\":1}]");
    send_text(c2, "[\"1\",\"2\",\"t:1\",\"stop\",{}]");
    expect_frame(c2, "[\"1\",\"1\",\"t:1\",\"phx_close\",{}]");
    cr_assert_eq(terminations, 1);
    cr_assert_eq(last_exit, CH_EXIT_STOPPED);

    send_text(c2, "[\"2\",\"2\",\"t:1\",\"phx_join\",{}]");
    free(next_frame(c2, NULL, NULL)); /* join reply */
    free(next_frame(c2, NULL, NULL)); /* hello */
    send_text(c2, "[\"2\",\"3\",\"t:1\",\"boom\",{}]");
    expect_frame(c2, "[\"2\",\"2\",\"t:1\",\"phx_error\",{\"reason\":\"channel_crash\"}]");
    cr_assert_eq(terminations, 2);
    cr_assert_eq(last_exit, CH_EXIT_CRASHED);

    send_text(c2, "[\"3\",\"3\",\"t:1\",\"phx_join\",{\"mode\":\"crash\"}]");
    expect_frame(c2, "[\"3\",\"3\",\"t:1\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                     "\"join crashed\"}}]");
    cr_assert_eq(terminations, 2, "a failed join is never terminated");

    send_text(c2, "[\"4\",\"4\",\"t:2\",\"phx_join\",{}]");
    end_conn(&c2);
    cr_assert_eq(terminations, 3, "closing the connection terminates its channels");
    cr_assert_eq(last_exit, CH_EXIT_CLOSED);
    end_server(&s2);
}

Test(router, demo_intercept_rewrites_per_subscriber_and_drops_skipped)
{
    struct conn *bob = mk_conn(s, PHX_V2, "bob"), *carol = mk_conn(s, PHX_V2, "carol");
    join("1", "room:i");
    send_text(bob, "[\"7\",\"7\",\"room:i\",\"phx_join\",{}]");
    send_text(carol, "[\"8\",\"8\",\"room:i\",\"phx_join\",{}]");
    for (int i = 0; i < 6; i++) { /* replies and presence frames */
        free(next_frame(bob, NULL, NULL));
        free(next_frame(carol, NULL, NULL));
        drain_presence(c);
    }
    outq_cleanup(&bob->q);
    outq_cleanup(&carol->q);
    send_text(c, "[\"1\",\"2\",\"room:i\",\"shout_tagged\",{\"m\":1,\"skip\":\"carol\"}]");
    expect_frame(c, "[\"1\",null,\"room:i\",\"tagged\",{\"m\":1,\"skip\":\"carol\",\"to\":\"alice\"}]");
    expect_frame(c, "[\"1\",\"2\",\"room:i\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(bob, "[\"7\",null,\"room:i\",\"tagged\",{\"m\":1,\"skip\":\"carol\",\"to\":\"bob\"}]");
    expect_none(carol);
    end_conn(&bob);
    end_conn(&carol);
}
