/* Tests server/handlers/generic.c: the `channels` schema and its errors, routing before the app's
 * channels, the join rules (any, deny, claim, max_subscribers), client_publish, presence, and a reload
 * that changes the rules for new joins only. Ends every test with an empty registry. */
#include "handlers/generic.h"

#include "harness.h"

static json_t *channels_config;

static void with_channels(struct options *o)
{
    json_decref(o->channels);
    o->channels = json_deep_copy(channels_config);
}

static struct server *server_with(const char *json)
{
    json_error_t jerr;
    channels_config = json_loads(json, 0, &jerr);
    cr_assert_not_null(channels_config, "%s", jerr.text);
    char err[256];
    cr_assert_eq(generic_channels_check(channels_config, err, sizeof(err)), 0, "%s", err);
    struct server *s = mk_server(NULL, with_channels);
    json_decref(channels_config);
    return s;
}

static void check_fails(const char *json, const char *want)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    cr_assert_not_null(v, "%s", json);
    char err[256] = "";
    cr_assert_eq(generic_channels_check(v, err, sizeof(err)), -1, "%s", json);
    cr_assert(strstr(err, want), "'%s' for %s, expected '%s'", err, json, want);
    cr_assert_null(generic_channels_create(v, err, sizeof(err)));
    json_decref(v);
}

static void join(struct conn *c, const char *ref, const char *topic)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "[\"%s\",\"%s\",\"%s\",\"phx_join\",{}]", ref, ref, topic);
    send_text(c, msg);
}

#define OK_JOIN(c, ref, topic)                                                                               \
    do {                                                                                                     \
        join((c), (ref), (topic));                                                                           \
        expect_frame((c), "[\"" ref "\",\"" ref "\",\"" topic                                                \
                          "\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");                          \
    } while (0)

#define REFUSED_JOIN(c, ref, topic, why)                                                                     \
    do {                                                                                                     \
        join((c), (ref), (topic));                                                                           \
        expect_frame((c), "[\"" ref "\",\"" ref "\",\"" topic                                                \
                          "\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":\"" why "\"}}]"); \
    } while (0)

Test(generic, schema_errors_name_the_entry_and_key)
{
    check_fails("{}", "an array of channels expected");
    check_fails("[\"chat:*\"]", "channels[0]: an object expected");
    check_fails("[{\"pattern\":\"a\"},{\"pattern\":\"b\",\"joins\":\"any\"}]",
                "channels[1]: unknown key \"joins\"");
    check_fails("[{\"join\":\"any\"}]", "channels[0].pattern");
    check_fails("[{\"pattern\":\"\"}]", "channels[0].pattern");
    check_fails("[{\"pattern\":\"a*b\"}]", "channels[0].pattern");
    check_fails("[{\"pattern\":\"a\\u0001\"}]", "channels[0].pattern");
    check_fails("[{\"pattern\":\"a\",\"join\":\"anyone\"}]",
                "channels[0].join: \"any\", \"deny\" or \"claim\"");
    check_fails("[{\"pattern\":\"a\",\"join\":true}]", "channels[0].join");
    check_fails("[{\"pattern\":\"a\",\"client_publish\":\"yes\"}]",
                "channels[0].client_publish: true or false");
    check_fails("[{\"pattern\":\"a\",\"presence\":1}]", "channels[0].presence");
    check_fails("[{\"pattern\":\"a\",\"max_subscribers\":-1}]", "channels[0].max_subscribers");
    check_fails("[{\"pattern\":\"a\",\"max_subscribers\":2.5}]", "channels[0].max_subscribers");
    check_fails("[{\"pattern\":\"chat:*\"},{\"pattern\":\"chat:vip\"}]",
                "channels[1]: \"chat:vip\" can never match: channels[0] (\"chat:*\") comes first");
    check_fails("[{\"pattern\":\"chat:*\"},{\"pattern\":\"chat:*\"}]", "can never match");
    check_fails("[{\"pattern\":\"*\"},{\"pattern\":\"x\"}]", "can never match");
    /* The narrower one first is fine. */
    json_t *ok =
        json_loads("[{\"pattern\":\"chat:vip\"},{\"pattern\":\"chat:*\"},{\"pattern\":\"chat\"}]", 0, NULL);
    char err[256];
    cr_assert_eq(generic_channels_check(ok, err, sizeof(err)), 0, "%s", err);
    struct generic_channels *set = generic_channels_create(ok, err, sizeof(err));
    cr_assert_eq(generic_channels_count(set), 3);
    cr_assert_str_eq(generic_channels_route(set, "chat:vip")->pattern, "chat:vip");
    cr_assert_str_eq(generic_channels_route(set, "chat:1")->pattern, "chat:*");
    cr_assert_null(generic_channels_route(set, "room:1"));
    cr_assert_null(generic_channels_route(NULL, "chat:1"));
    generic_channels_unref(&set);
    cr_assert_null(set);
    json_decref(ok);
}

Test(generic, configured_channels_route_before_the_app)
{
    struct server *s = server_with("[{\"pattern\":\"room:vip\",\"join\":\"deny\"}]");
    struct conn *a = mk_conn(s, PHX_V2, "ann");
    REFUSED_JOIN(a, "1", "room:vip", "unauthorized");
    OK_JOIN(a, "2", "room:lobby"); /* the demo's room:* */
    drain_presence(a);
    send_text(a, "[\"2\",\"3\",\"room:lobby\",\"ping\",{\"n\":1}]");
    expect_frame(a, "[\"2\",\"3\",\"room:lobby\",\"phx_reply\",{\"status\":\"ok\",\"response\":{\"n\":1}}]");
    end_conn(&a);
    end_server(&s);
}

Test(generic, client_publish_on_and_off)
{
    struct server *s =
        server_with("[{\"pattern\":\"chat:*\",\"client_publish\":true},{\"pattern\":\"news:*\"}]");
    struct conn *a = mk_conn(s, PHX_V2, "ann"), *b = mk_conn(s, PHX_V2, "ben");
    OK_JOIN(a, "1", "chat:1");
    OK_JOIN(b, "1", "chat:1");
    send_text(a, "[\"1\",\"2\",\"chat:1\",\"msg\",{\"body\":\"hi\"}]");
    expect_frame(a, "[null,null,\"chat:1\",\"msg\",{\"body\":\"hi\"}]");
    expect_frame(a, "[\"1\",\"2\",\"chat:1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(b, "[null,null,\"chat:1\",\"msg\",{\"body\":\"hi\"}]");
    send_text(a, "[\"1\",\"3\",\"chat:1\",\"presence_diff\",{\"joins\":{},\"leaves\":{}}]");
    expect_frame(
        a, "[\"1\",\"3\",\"chat:1\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":\"reserved "
           "event\"}}]");
    send_text(a, "[\"1\",\"4\",\"chat:1\",\"phx_reply\",{}]");
    expect_frame(
        a, "[\"1\",\"4\",\"chat:1\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":\"reserved "
           "event\"}}]");
    expect_none(b);
    OK_JOIN(a, "5", "news:1");
    send_text(a, "[\"5\",\"6\",\"news:1\",\"msg\",{}]");
    expect_frame(a, "[\"5\",\"6\",\"news:1\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                    "\"publish not allowed\"}}]");
    expect_none(a);
    end_conn(&a);
    end_conn(&b);
    end_server(&s);
}

Test(generic, claim_join_reads_the_sockets_channels_assign)
{
    struct server *s = server_with("[{\"pattern\":\"private:*\",\"join\":\"claim\"}]");
    struct conn *a = mk_conn(s, PHX_V2, "ann"), *b = mk_conn(s, PHX_V2, "ben"), *c = mk_conn(s, PHX_V2, "cy");
    a->assigns = json_pack("{s[ss]}", "channels", "private:ann*", "private:shared");
    c->assigns = json_pack("{ss}", "channels", "private:*"); /* not an array: grants nothing */
    OK_JOIN(a, "1", "private:ann");
    OK_JOIN(a, "2", "private:ann:notes");
    OK_JOIN(a, "3", "private:shared");
    REFUSED_JOIN(a, "4", "private:ben", "unauthorized");
    REFUSED_JOIN(b, "1", "private:shared", "unauthorized");
    REFUSED_JOIN(c, "1", "private:shared", "unauthorized");
    end_conn(&a);
    end_conn(&b);
    end_conn(&c);
    end_server(&s);
}

Test(generic, max_subscribers_per_topic)
{
    struct server *s = server_with("[{\"pattern\":\"duo:*\",\"max_subscribers\":2}]");
    struct conn *a = mk_conn(s, PHX_V2, "ann"), *b = mk_conn(s, PHX_V2, "ben"), *c = mk_conn(s, PHX_V2, "cy");
    OK_JOIN(a, "1", "duo:1");
    OK_JOIN(b, "1", "duo:1");
    REFUSED_JOIN(c, "1", "duo:1", "channel full");
    OK_JOIN(c, "2", "duo:2");
    OK_JOIN(a, "3", "duo:1"); /* a rejoin replaces a's instance: still two */
    expect_frame(a, "[\"1\",\"1\",\"duo:1\",\"phx_close\",{}]");
    send_text(b, "[\"1\",\"2\",\"duo:1\",\"phx_leave\",{}]");
    expect_frame(b, "[\"1\",\"2\",\"duo:1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    OK_JOIN(c, "4", "duo:1");
    end_conn(&a);
    end_conn(&b);
    end_conn(&c);
    end_server(&s);
}

Test(generic, presence_on_and_off)
{
    struct server *s = server_with("[{\"pattern\":\"live:*\",\"presence\":true},{\"pattern\":\"quiet:*\"}]");
    struct conn *a = mk_conn(s, PHX_V2, "ann"), *b = mk_conn(s, PHX_V2, "ben");
    OK_JOIN(a, "1", "live:1");
    /* as the demo room: the diff to the topic (the joiner included), then the state to the joiner */
    char *diff = next_frame(a, NULL, NULL);
    cr_assert(diff && strstr(diff, "\"presence_diff\",{\"joins\":{\"ann\""), "%s", diff);
    free(diff);
    char *state = next_frame(a, NULL, NULL);
    cr_assert(state && strstr(state, "\"presence_state\",{\"ann\":{\"metas\":[{\"online_at\":"), "%s", state);
    free(state);
    OK_JOIN(b, "1", "quiet:1");
    expect_none(b);
    end_conn(&a);
    end_conn(&b);
    end_server(&s);
}

Test(generic, reload_changes_rules_for_new_joins_only)
{
    struct server *s = server_with("[{\"pattern\":\"chat:*\",\"client_publish\":true}]");
    struct conn *a = mk_conn(s, PHX_V2, "ann"), *b = mk_conn(s, PHX_V2, "ben");
    OK_JOIN(a, "1", "chat:1");
    struct options next;
    cr_assert_eq(options_copy(&next, &s->opt), 0);
    json_decref(next.channels);
    next.channels = json_loads("[{\"pattern\":\"chat:*\",\"client_publish\":false}]", 0, NULL);
    cr_assert_eq(server_apply_options(s, &next), 0);
    options_cleanup(&next);
    OK_JOIN(b, "1", "chat:1");
    /* a joined under the old rules (the old set is still alive through a's channel) */
    send_text(a, "[\"1\",\"2\",\"chat:1\",\"msg\",{}]");
    expect_frame(a, "[null,null,\"chat:1\",\"msg\",{}]");
    expect_frame(a, "[\"1\",\"2\",\"chat:1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(b, "[null,null,\"chat:1\",\"msg\",{}]");
    send_text(b, "[\"1\",\"2\",\"chat:1\",\"msg\",{}]");
    expect_frame(b, "[\"1\",\"2\",\"chat:1\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                    "\"publish not allowed\"}}]");
    /* a leaves: the old set's last reference goes (ASan/LSan check the rest) */
    send_text(a, "[\"1\",\"3\",\"chat:1\",\"phx_leave\",{}]");
    end_conn(&a);
    end_conn(&b);
    end_server(&s);
}
