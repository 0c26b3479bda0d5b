/* test_phx_json.c: tests protocol/phx_json.c, V1 and V2 text frames (PROTOCOL.md sections 2, 3, 5). */
#include "phx_error.h"
#include "phx_json.h"
#include "phx_test.h"

#include <stdlib.h>

/* A JSON value from text, for building messages; the caller releases it. */
static json_t *J(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

    cr_assert_not_null(v, "bad test JSON %s: %s", text, err.text);
    return v;
}

static int decode(enum phx_vsn vsn, const char *text, struct phx_msg *m)
{
    return phx_decode_text(vsn, text, strlen(text), m);
}

/* Compact dump of a value, for comparing decoded fields; NULL -> "null". Caller frees. */
static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
}

#define assert_json(v, text)                                                                                 \
    do {                                                                                                     \
        char *d_ = dump(v);                                                                                  \
        cr_assert_str_eq(d_, text);                                                                          \
        free(d_);                                                                                            \
    } while (0)

static void assert_zeroed(const struct phx_msg *m)
{
    struct phx_msg zero;

    memset(&zero, 0, sizeof zero);
    cr_assert_eq(memcmp(m, &zero, sizeof zero), 0, "message not zeroed after an error");
}

/* ---- V2 decoding ---- */

Test(json_v2_decode, join)
{
    struct phx_msg m;

    cr_assert_eq(decode(PHX_V2, "[\"3\",\"3\",\"room:lobby\",\"phx_join\",{}]", &m), 0);
    assert_json(m.join_ref, "\"3\"");
    assert_json(m.ref, "\"3\"");
    cr_assert_str_eq(m.topic, "room:lobby");
    cr_assert_eq(m.topic_len, 10);
    cr_assert_str_eq(m.event, "phx_join");
    cr_assert_eq(m.event_len, 8);
    assert_json(m.json, "{}");
    cr_assert_null(m.bin);
    cr_assert_not_null(m._root);
    phx_msg_cleanup(&m);
    assert_zeroed(&m);
}

Test(json_v2_decode, ping)
{
    struct phx_msg m;

    cr_assert_eq(decode(PHX_V2, "[\"3\",\"4\",\"room:lobby\",\"ping\",{\"x\":1}]", &m), 0);
    assert_json(m.ref, "\"4\"");
    cr_assert_str_eq(m.event, "ping");
    assert_json(m.json, "{\"x\":1}");
    phx_msg_cleanup(&m);
}

Test(json_v2_decode, heartbeat_null_join_ref)
{
    struct phx_msg m;

    cr_assert_eq(decode(PHX_V2, "[null,\"5\",\"phoenix\",\"heartbeat\",{}]", &m), 0);
    cr_assert_null(m.join_ref, "JSON null is stored as NULL");
    assert_json(m.ref, "\"5\"");
    cr_assert_str_eq(m.topic, "phoenix");
    cr_assert_str_eq(m.event, "heartbeat");
    phx_msg_cleanup(&m);
}

Test(json_v2_decode, whitespace_allowed)
{
    struct phx_msg m;

    cr_assert_eq(decode(PHX_V2, " \n[ null , null ,\t\"t\" , \"e\" , { } ]\r\n", &m), 0);
    cr_assert_null(m.ref);
    cr_assert_str_eq(m.topic, "t");
    phx_msg_cleanup(&m);
}

Test(json_v2_decode, extra_trailing_elements_ignored)
{
    struct phx_msg m;

    cr_assert_eq(decode(PHX_V2, "[\"1\",\"2\",\"room:a\",\"ev\",{\"a\":1},\"extra\",[1,2],null]", &m), 0);
    cr_assert_str_eq(m.topic, "room:a");
    cr_assert_str_eq(m.event, "ev");
    assert_json(m.json, "{\"a\":1}");
    phx_msg_cleanup(&m);
}

Test(json_v2_decode, refs_any_json_value)
{
    static const char *refs[] = {"\"17\"",           "17",       "-3", "1.5", "true", "\"\"",
                                 "{\"a\":[1,null]}", "[1,\"2\"]"};

    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char text[256];
        struct phx_msg m;

        snprintf(text, sizeof text, "[%s,%s,\"t\",\"e\",{}]", refs[i], refs[i]);
        cr_assert_eq(decode(PHX_V2, text, &m), 0, "%s", text);
        assert_json(m.join_ref, refs[i]);
        assert_json(m.ref, refs[i]);
        phx_msg_cleanup(&m);
    }
}

Test(json_v2_decode, payload_any_json_value)
{
    static const char *payloads[] = {"{}", "[]", "\"s\"", "1", "null", "false", "{\"a\":{\"b\":[]}}"};

    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char text[256];
        struct phx_msg m;

        snprintf(text, sizeof text, "[null,null,\"t\",\"e\",%s]", payloads[i]);
        cr_assert_eq(decode(PHX_V2, text, &m), 0, "%s", text);
        /* even a null payload stays a json_t: json == NULL would mean a binary message */
        cr_assert_not_null(m.json, "%s", text);
        assert_json(m.json, payloads[i]);
        phx_msg_cleanup(&m);
    }
}

Test(json_v2_decode, escaped_topic_and_event)
{
    struct phx_msg m;

    cr_assert_eq(decode(PHX_V2, "[null,null,\"room:caf\\u00e9\\\"q\\\"\",\"a\\/b\\n\",{}]", &m), 0);
    cr_assert_str_eq(m.topic, "room:caf\xc3\xa9\"q\"");
    cr_assert_eq(m.topic_len, strlen("room:caf\xc3\xa9\"q\""));
    cr_assert_str_eq(m.event, "a/b\n");
    phx_msg_cleanup(&m);
}

Test(json_v2_decode, nul_allowed_in_payload_and_refs)
{
    struct phx_msg m;

    cr_assert_eq(decode(PHX_V2, "[\"a\\u0000b\",null,\"t\",\"e\",{\"k\":\"x\\u0000y\"}]", &m), 0);
    cr_assert_eq(json_string_length(m.join_ref), 3);
    cr_assert_eq(json_string_length(json_object_get(m.json, "k")), 3);
    phx_msg_cleanup(&m);
}

Test(json_v2_decode, large_payload)
{
    size_t n = 4u << 20;
    char *text = malloc(n + 64);
    struct phx_msg m;
    size_t len;

    cr_assert_not_null(text);
    len = (size_t)sprintf(text, "[\"1\",\"2\",\"room:big\",\"blob\",{\"data\":\"");
    memset(text + len, 'q', n);
    len += n;
    len += (size_t)sprintf(text + len, "\"}]");
    cr_assert_eq(phx_decode_text(PHX_V2, text, len, &m), 0);
    free(text); /* the message does not borrow the input */
    cr_assert_eq(json_string_length(json_object_get(m.json, "data")), n);
    cr_assert_str_eq(m.topic, "room:big");
    phx_msg_cleanup(&m);
}

Test(json_v2_decode, not_nul_terminated_input)
{
    const char text[] = "[null,\"1\",\"t\",\"e\",{}]GARBAGE";
    struct phx_msg m;

    cr_assert_eq(phx_decode_text(PHX_V2, text, strlen("[null,\"1\",\"t\",\"e\",{}]"), &m), 0);
    assert_json(m.ref, "\"1\"");
    phx_msg_cleanup(&m);
}

/* ---- V2 malformed ---- */

static const struct {
    const char *text;
    int err;
} v2_bad[] = {
    {"", PHX_E_JSON},
    {"   ", PHX_E_JSON},
    {"[", PHX_E_JSON},
    {"[null,null,\"t\",\"e\",{}", PHX_E_JSON},
    {"[null,null,\"t\",\"e\",{}] x", PHX_E_JSON},
    {"[null,null,\"t\",\"e\",{}][]", PHX_E_JSON},
    {"[null,null,'t',\"e\",{}]", PHX_E_JSON},
    {"[null,null,\"t\",\"e\",{},]", PHX_E_JSON},
    {"[null,null,\"\xff\",\"e\",{}]", PHX_E_JSON},
    {"[null,null,\"t\",\"e\",{\"a\":1,}]", PHX_E_JSON},
    {"{}", PHX_E_SHAPE},
    {"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":null}", PHX_E_SHAPE},
    {"\"[null,null,\\\"t\\\",\\\"e\\\",{}]\"", PHX_E_SHAPE},
    {"5", PHX_E_SHAPE},
    {"null", PHX_E_SHAPE},
    {"true", PHX_E_SHAPE},
    {"[]", PHX_E_SHAPE},
    {"[null]", PHX_E_SHAPE},
    {"[null,null,\"t\",\"e\"]", PHX_E_SHAPE},
    {"[null,null,1,\"e\",{}]", PHX_E_TYPE},
    {"[null,null,null,\"e\",{}]", PHX_E_TYPE},
    {"[null,null,[\"t\"],\"e\",{}]", PHX_E_TYPE},
    {"[null,null,{},\"e\",{}]", PHX_E_TYPE},
    {"[null,null,\"t\",null,{}]", PHX_E_TYPE},
    {"[null,null,\"t\",2,{}]", PHX_E_TYPE},
    {"[null,null,\"t\",true,{}]", PHX_E_TYPE},
    {"[null,null,\"room\\u0000x\",\"e\",{}]", PHX_E_TYPE},
    {"[null,null,\"t\",\"e\\u0000\",{}]", PHX_E_TYPE},
};

Test(json_v2_decode, malformed)
{
    for (size_t i = 0; i < sizeof v2_bad / sizeof v2_bad[0]; i++) {
        struct phx_msg m;

        memset(&m, 0x5a, sizeof m); /* the decoder must zero it */
        cr_expect_eq(decode(PHX_V2, v2_bad[i].text, &m), v2_bad[i].err, "%s", v2_bad[i].text);
        assert_zeroed(&m);
        phx_msg_cleanup(&m);
    }
}

Test(json_v2_decode, embedded_nul_byte_in_input)
{
    static const char text[] = "[null,null,\"t\0\",\"e\",{}]";
    struct phx_msg m;

    cr_assert_eq(phx_decode_text(PHX_V2, text, sizeof text - 1, &m), PHX_E_JSON);
    phx_msg_cleanup(&m);
}

Test(json_decode, bad_arguments)
{
    struct phx_msg m;

    cr_assert_eq(phx_decode_text(PHX_V2, NULL, 0, &m), PHX_E_JSON);
    assert_zeroed(&m);
    cr_assert_eq(phx_decode_text(PHX_VSN_INVALID, "[null,null,\"t\",\"e\",{}]", 22, &m), PHX_E_INVAL);
    assert_zeroed(&m);
    cr_assert_eq(phx_decode_text(PHX_V2, "[]", 2, NULL), PHX_E_INVAL);
    phx_msg_cleanup(&m);
}

/* ---- V1 decoding ---- */

Test(json_v1_decode, join_with_join_ref)
{
    struct phx_msg m;

    cr_assert_eq(
        decode(
            PHX_V1,
            "{\"topic\":\"room:a\",\"event\":\"phx_join\",\"payload\":{},\"ref\":\"1\",\"join_ref\":\"1\"}",
            &m),
        0);
    cr_assert_str_eq(m.topic, "room:a");
    cr_assert_eq(m.topic_len, 6);
    cr_assert_str_eq(m.event, "phx_join");
    assert_json(m.json, "{}");
    assert_json(m.ref, "\"1\"");
    assert_json(m.join_ref, "\"1\"");
    phx_msg_cleanup(&m);
}

Test(json_v1_decode, join_ref_optional_and_null)
{
    struct phx_msg m;

    cr_assert_eq(
        decode(PHX_V1, "{\"ref\":null,\"payload\":{\"x\":1},\"event\":\"ping\",\"topic\":\"room:a\"}", &m),
        0);
    cr_assert_null(m.join_ref);
    cr_assert_null(m.ref);
    assert_json(m.json, "{\"x\":1}");
    phx_msg_cleanup(&m);

    cr_assert_eq(
        decode(PHX_V1, "{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":7,\"join_ref\":null,\"x\":1}",
               &m),
        0);
    cr_assert_null(m.join_ref);
    assert_json(m.ref, "7");
    phx_msg_cleanup(&m);
}

Test(json_v1_decode, duplicate_keys_last_wins)
{
    struct phx_msg m;

    cr_assert_eq(
        decode(PHX_V1, "{\"topic\":\"a\",\"event\":\"e\",\"payload\":{},\"ref\":\"1\",\"topic\":\"b\"}", &m),
        0);
    cr_assert_str_eq(m.topic, "b");
    phx_msg_cleanup(&m);
}

static const struct {
    const char *text;
    int err;
} v1_bad[] = {
    {"", PHX_E_JSON},
    {"{\"topic\":", PHX_E_JSON},
    {"{'topic':1}", PHX_E_JSON},
    {"[null,null,\"t\",\"e\",{}]", PHX_E_SHAPE},
    {"\"x\"", PHX_E_SHAPE},
    {"42", PHX_E_SHAPE},
    {"null", PHX_E_SHAPE},
    {"{}", PHX_E_SHAPE},
    {"{\"event\":\"e\",\"payload\":{},\"ref\":\"1\"}", PHX_E_SHAPE},
    {"{\"topic\":\"t\",\"payload\":{},\"ref\":\"1\"}", PHX_E_SHAPE},
    {"{\"topic\":\"t\",\"event\":\"e\",\"ref\":\"1\"}", PHX_E_SHAPE},
    {"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{}}", PHX_E_SHAPE},
    {"{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"join_ref\":\"1\"}", PHX_E_SHAPE},
    {"{\"topic\":1,\"event\":\"e\",\"payload\":{},\"ref\":\"1\"}", PHX_E_TYPE},
    {"{\"topic\":null,\"event\":\"e\",\"payload\":{},\"ref\":\"1\"}", PHX_E_TYPE},
    {"{\"topic\":\"t\",\"event\":{},\"payload\":{},\"ref\":\"1\"}", PHX_E_TYPE},
    {"{\"topic\":\"t\\u0000\",\"event\":\"e\",\"payload\":{},\"ref\":\"1\"}", PHX_E_TYPE},
};

Test(json_v1_decode, malformed)
{
    for (size_t i = 0; i < sizeof v1_bad / sizeof v1_bad[0]; i++) {
        struct phx_msg m;

        cr_expect_eq(decode(PHX_V1, v1_bad[i].text, &m), v1_bad[i].err, "%s", v1_bad[i].text);
        assert_zeroed(&m);
        phx_msg_cleanup(&m);
    }
}

/* ---- V2 encoding: section 3 examples, byte for byte ---- */

Test(json_v2_encode, join_reply_ok)
{
    struct phx_buf b;
    json_t *three = json_string("3");

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_reply(PHX_V2, three, three, "room:lobby", "ok", NULL, &b), 0);
    assert_buf_str(&b, "[\"3\",\"3\",\"room:lobby\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    json_decref(three);
    phx_buf_cleanup(&b);
}

Test(json_v2_encode, presence_state_push)
{
    static const char *payload =
        "{\"alice\":{\"metas\":[{\"online_at\":1732140000,\"phx_ref\":\"GHvr0v2mJtH8kAGB\"}]}}";
    struct phx_buf b;
    struct phx_msg m = {0};

    m.join_ref = json_string("3");
    m.topic = "room:lobby";
    m.topic_len = 10;
    m.event = "presence_state";
    m.event_len = 14;
    m.json = J(payload);
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0);
    assert_buf_str(&b, "[\"3\",null,\"room:lobby\",\"presence_state\",{\"alice\":{\"metas\":[{\"online_at\":"
                       "1732140000,\"phx_ref\":\"GHvr0v2mJtH8kAGB\"}]}}]");
    json_decref(m.join_ref);
    json_decref(m.json);
    phx_buf_cleanup(&b);
}

Test(json_v2_encode, ping_reply_echoes_payload)
{
    struct phx_buf b;
    struct phx_msg in;

    phx_buf_init(&b, 0);
    cr_assert_eq(decode(PHX_V2, "[\"3\",\"4\",\"room:lobby\",\"ping\",{\"x\":1}]", &in), 0);
    cr_assert_eq(phx_encode_reply(PHX_V2, in.join_ref, in.ref, in.topic, "ok", in.json, &b), 0);
    assert_buf_str(&b,
                   "[\"3\",\"4\",\"room:lobby\",\"phx_reply\",{\"status\":\"ok\",\"response\":{\"x\":1}}]");
    phx_msg_cleanup(&in);
    phx_buf_cleanup(&b);
}

Test(json_v2_encode, heartbeat_reply)
{
    struct phx_buf b;
    struct phx_msg in;

    phx_buf_init(&b, 0);
    cr_assert_eq(decode(PHX_V2, "[\"9\",\"5\",\"phoenix\",\"heartbeat\",{}]", &in), 0);
    /* heartbeat replies carry join_ref null whatever the client sent */
    cr_assert_eq(phx_encode_reply(PHX_V2, NULL, in.ref, "phoenix", "ok", NULL, &b), 0);
    assert_buf_str(&b, "[null,\"5\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    phx_msg_cleanup(&in);
    phx_buf_cleanup(&b);
}

Test(json_v2_encode, broadcast)
{
    struct phx_buf b;
    struct phx_msg m = {.topic = "room:lobby", .event = "shout"}; /* lengths 0: strlen is used */

    m.json = J("{\"body\":\"hi\"}");
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0);
    assert_buf_str(&b, "[null,null,\"room:lobby\",\"shout\",{\"body\":\"hi\"}]");
    json_decref(m.json);
    phx_buf_cleanup(&b);
}

Test(json_v2_encode, error_reply_and_close_and_crash)
{
    struct phx_buf b;
    json_t *j = json_string("7"), *reason = J("{\"reason\":\"unmatched topic\"}"),
           *crash = J("{\"reason\":\"channel_crash\"}"), *empty = J("{}");
    struct phx_msg close = {.join_ref = j, .ref = j, .topic = "room:x", .event = "phx_close", .json = empty};
    struct phx_msg err = {.join_ref = j, .ref = j, .topic = "room:x", .event = "phx_error", .json = crash};

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_reply(PHX_V2, NULL, j, "room:x", "error", reason, &b), 0);
    assert_buf_str(&b, "[null,\"7\",\"room:x\",\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":"
                       "\"unmatched topic\"}}]");
    phx_buf_reset(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, &close, &b), 0);
    assert_buf_str(&b, "[\"7\",\"7\",\"room:x\",\"phx_close\",{}]");
    phx_buf_reset(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, &err, &b), 0);
    assert_buf_str(&b, "[\"7\",\"7\",\"room:x\",\"phx_error\",{\"reason\":\"channel_crash\"}]");
    json_decref(j);
    json_decref(reason);
    json_decref(crash);
    json_decref(empty);
    phx_buf_cleanup(&b);
}

Test(json_v2_encode, decoded_frames_round_trip_byte_exact)
{
    static const char *frames[] = {
        "[\"3\",\"3\",\"room:lobby\",\"phx_join\",{}]",
        "[\"3\",\"4\",\"room:lobby\",\"ping\",{\"x\":1}]",
        "[null,\"5\",\"phoenix\",\"heartbeat\",{}]",
        "[12,{\"r\":[1,null]},\"room:lobby\",\"e\",{\"z\":1,\"a\":2,\"m\":[true,false,null,\"s\",-1]}]",
        "[null,null,\"room:\\\"q\\\\\\n\\u0001\",\"e\",\"caf\xc3\xa9\"]",
        "[null,null,\"t\",\"e\",null]",
    };
    struct phx_buf b;

    phx_buf_init(&b, 0);
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        struct phx_msg m;

        phx_buf_reset(&b);
        cr_assert_eq(decode(PHX_V2, frames[i], &m), 0, "%s", frames[i]);
        cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0, "%s", frames[i]);
        assert_buf_str(&b, frames[i]);
        phx_msg_cleanup(&m);
    }
    phx_buf_cleanup(&b);
}

Test(json_v2_encode, refs_echoed_verbatim)
{
    static const char *refs[] = {"\"42\"", "42", "null", "{\"a\":1,\"b\":[2]}", "[\"x\"]", "true", "\"\""};
    struct phx_buf b;

    phx_buf_init(&b, 0);
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char text[256], want[256];
        struct phx_msg m;

        snprintf(text, sizeof text, "[%s,%s,\"room:a\",\"ping\",{}]", refs[i], refs[i]);
        snprintf(want, sizeof want, "[%s,%s,\"room:a\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]",
                 refs[i], refs[i]);
        cr_assert_eq(decode(PHX_V2, text, &m), 0);
        phx_buf_reset(&b);
        cr_assert_eq(phx_encode_reply(PHX_V2, m.join_ref, m.ref, m.topic, "ok", NULL, &b), 0);
        assert_buf_str(&b, want);
        phx_msg_cleanup(&m);
    }
    phx_buf_cleanup(&b);
}

Test(json_encode, string_escaping_matches_jansson)
{
    /* every byte that needs escaping, plus UTF-8, '/' and DEL which do not */
    char topic[64];
    size_t n = 0;
    struct phx_buf b;
    struct phx_msg m = {.event = "e"};
    json_t *s;
    char *want_topic, want[256];

    for (int c = 1; c < 0x20; c++)
        topic[n++] = (char)c;
    memcpy(topic + n, "\"\\/\x7f\xc3\xa9", 6);
    n += 6;
    topic[n] = '\0';
    m.topic = topic;
    m.topic_len = n;
    m.json = json_object();
    s = json_stringn(topic, n);
    want_topic = json_dumps(s, JSON_ENCODE_ANY);
    snprintf(want, sizeof want, "[null,null,%s,\"e\",{}]", want_topic);
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0);
    assert_buf_str(&b, want);
    /* and spelled out, in case Jansson ever changes */
    cr_assert_str_eq(want_topic,
                     "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000B\\f\\r"
                     "\\u000E\\u000F\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
                     "\\u0019\\u001A\\u001B\\u001C\\u001D\\u001E\\u001F\\\"\\\\/\x7f\xc3\xa9\"");
    free(want_topic);
    json_decref(s);
    json_decref(m.json);
    phx_buf_cleanup(&b);
}

Test(json_encode, topic_with_nul_inside_its_length)
{
    struct phx_buf b;
    struct phx_msg m = {.topic = "a\0b", .topic_len = 3, .event = "e"};

    m.json = json_object();
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0);
    assert_buf_str(&b, "[null,null,\"a\\u0000b\",\"e\",{}]");
    json_decref(m.json);
    phx_buf_cleanup(&b);
}

Test(json_encode, appends_after_existing_data_and_headroom)
{
    struct phx_buf b;
    struct phx_msg m = {.topic = "t", .event = "e"};

    m.json = json_object();
    phx_buf_init(&b, 16);
    cr_assert_eq(phx_buf_append(&b, "XY", 2), 0);
    cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0);
    cr_assert_eq(phx_buf_data(&b), b.mem + 16);
    assert_buf_str(&b, "XY[null,null,\"t\",\"e\",{}]");
    json_decref(m.json);
    phx_buf_cleanup(&b);
}

Test(json_encode, large_payload_round_trip)
{
    size_t n = 2u << 20;
    char *big = malloc(n + 1), *frame;
    struct phx_buf b;
    struct phx_msg m = {.topic = "room:big", .event = "blob"};

    cr_assert_not_null(big);
    memset(big, 'w', n);
    big[n] = '\0';
    m.json = json_pack("{s:s}", "d", big);
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0);
    frame = malloc(n + 64);
    snprintf(frame, n + 64, "[null,null,\"room:big\",\"blob\",{\"d\":\"%s\"}]", big);
    assert_buf_str(&b, frame);
    free(frame);
    free(big);
    json_decref(m.json);
    phx_buf_cleanup(&b);
}

/* ---- encode errors leave the buffer unchanged ---- */

static void assert_untouched(const struct phx_buf *b)
{
    assert_buf_str(b, "keep");
}

Test(json_encode, errors_append_nothing)
{
    struct phx_buf b;
    json_t *obj = json_object(), *cyclic = json_object(), *inner = json_array();
    struct phx_msg bin = {.topic = "t", .event = "e", .bin = (const unsigned char *)"x", .bin_len = 1};
    struct phx_msg notopic = {.event = "e", .json = obj};
    struct phx_msg noevent = {.topic = "t", .json = obj};
    struct phx_msg badutf = {.topic = "room:\xff", .event = "e", .json = obj};
    struct phx_msg badevent = {.topic = "t", .event = "\xc3", .json = obj};
    struct phx_msg cyc = {.topic = "t", .event = "e", .json = cyclic};
    struct phx_msg cycref = {.topic = "t", .event = "e", .json = obj, .ref = cyclic};

    /* a cycle: Jansson refuses to dump it after having written part of the frame */
    json_object_set(cyclic, "a", inner);
    json_array_append(inner, cyclic);

    phx_buf_init(&b, 8);
    cr_assert_eq(phx_buf_append(&b, "keep", 4), 0);
    cr_assert_eq(phx_encode_text(PHX_V2, &bin, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V1, &bin, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, &notopic, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, &noevent, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, &badutf, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V1, &badevent, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, &cyc, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V1, &cycref, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_VSN_INVALID, &badutf, &b), PHX_E_INVAL);
    cr_assert_eq(phx_encode_text((enum phx_vsn)7, &cyc, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, NULL, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_reply(PHX_V2, NULL, NULL, "t", NULL, NULL, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_reply(PHX_V2, NULL, NULL, NULL, "ok", NULL, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_reply(PHX_V2, NULL, NULL, "t", "o\xffk", NULL, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_reply(PHX_V1, NULL, NULL, "t", "ok", cyclic, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_json_dump(cyclic, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_json_dump(NULL, &b), PHX_E_INVAL);
    assert_untouched(&b);
    cr_assert_eq(phx_encode_reply(PHX_V2, NULL, NULL, "t", "ok", NULL, NULL), PHX_E_INVAL);

    json_array_clear(inner); /* break the cycle so both are freed */
    json_decref(inner);
    json_decref(cyclic);
    json_decref(obj);
    phx_buf_cleanup(&b);
}

/* ---- V1 encoding: section 5 examples ---- */

Test(json_v1_encode, reply_has_no_join_ref_key)
{
    struct phx_buf b;
    json_t *one = json_string("1");

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_reply(PHX_V1, one, one, "room:a", "ok", NULL, &b), 0);
    assert_buf_str(
        &b, "{\"topic\":\"room:a\",\"event\":\"phx_reply\",\"payload\":{\"status\":\"ok\",\"response\":{}},"
            "\"ref\":\"1\"}");
    json_decref(one);
    phx_buf_cleanup(&b);
}

Test(json_v1_encode, push_and_broadcast_have_null_ref)
{
    struct phx_buf b;
    json_t *jr = json_string("1");
    struct phx_msg push = {.join_ref = jr, .topic = "room:a", .event = "presence_state"};
    struct phx_msg bcast = {.topic = "room:a", .event = "shout"};

    push.json = J("{\"alice\":{\"metas\":[]}}");
    bcast.json = J("{\"body\":\"hi\"}");
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_text(PHX_V1, &push, &b), 0);
    assert_buf_str(
        &b, "{\"topic\":\"room:a\",\"event\":\"presence_state\",\"payload\":{\"alice\":{\"metas\":[]}},"
            "\"ref\":null}");
    phx_buf_reset(&b);
    cr_assert_eq(phx_encode_text(PHX_V1, &bcast, &b), 0);
    assert_buf_str(&b,
                   "{\"topic\":\"room:a\",\"event\":\"shout\",\"payload\":{\"body\":\"hi\"},\"ref\":null}");
    json_decref(jr);
    json_decref(push.json);
    json_decref(bcast.json);
    phx_buf_cleanup(&b);
}

Test(json_v1_encode, close_carries_ref_equal_join_ref)
{
    struct phx_buf b;
    json_t *one = json_string("1");
    struct phx_msg m = {.join_ref = one, .ref = one, .topic = "room:a", .event = "phx_close"};

    m.json = json_object();
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_text(PHX_V1, &m, &b), 0);
    assert_buf_str(&b, "{\"topic\":\"room:a\",\"event\":\"phx_close\",\"payload\":{},\"ref\":\"1\"}");
    json_decref(one);
    json_decref(m.json);
    phx_buf_cleanup(&b);
}

Test(json_v1_encode, decoded_join_answers_byte_exact)
{
    struct phx_buf b;
    struct phx_msg in;

    cr_assert_eq(
        decode(
            PHX_V1,
            "{\"topic\":\"room:a\",\"event\":\"phx_join\",\"payload\":{},\"ref\":\"1\",\"join_ref\":\"1\"}",
            &in),
        0);
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_reply(PHX_V1, in.join_ref, in.ref, in.topic, "ok", NULL, &b), 0);
    assert_buf_str(
        &b, "{\"topic\":\"room:a\",\"event\":\"phx_reply\",\"payload\":{\"status\":\"ok\",\"response\":{}},"
            "\"ref\":\"1\"}");
    /* re-encoding the decoded message drops its join_ref */
    phx_buf_reset(&b);
    cr_assert_eq(phx_encode_text(PHX_V1, &in, &b), 0);
    assert_buf_str(&b, "{\"topic\":\"room:a\",\"event\":\"phx_join\",\"payload\":{},\"ref\":\"1\"}");
    phx_msg_cleanup(&in);
    phx_buf_cleanup(&b);
}

Test(phx_json, integers_past_64_bits_are_read_as_doubles_not_refused)
{
    static const char frame[] =
        "[\"1\",\"2\",\"room:a\",\"ping\",{\"big\":10000000000000000000,\"small\":7}]";
    struct phx_msg m;
    cr_assert_eq(phx_decode_text(PHX_V2, frame, sizeof(frame) - 1, &m), PHX_OK);
    cr_assert(json_is_real(json_object_get(m.json, "big")));
    cr_assert_float_eq(json_real_value(json_object_get(m.json, "big")), 1e19, 1e4);
    phx_msg_cleanup(&m);

    static const char ordinary[] = "[\"1\",\"2\",\"room:a\",\"ping\",{\"small\":7}]";
    cr_assert_eq(phx_decode_text(PHX_V2, ordinary, sizeof(ordinary) - 1, &m), PHX_OK);
    cr_assert(json_is_integer(json_object_get(m.json, "small")), "ordinary integers stay integers");
    phx_msg_cleanup(&m);
}

/* The encoder writes JSON values itself: byte for byte what Jansson's compact dump writes. */
Test(json_encode, values_match_jansson_dump)
{
    static const char *const texts[] = {
        "{}",
        "[]",
        "null",
        "true",
        "false",
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "0.1",
        "-0.0",
        "1.0",
        "1e300",
        "1e-7",
        "1e20",
        "123456789012345678.0",
        "2.5e-300",
        "3.14159",
        "\"\"",
        "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"",
        "\"\\u0000x\"",
        "\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"",
        "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"\\n\":\"k\"}",
        "{\"online_at\":1763694000,\"phx_ref\":\"GHlAiX2V_dBa8AAB\"}",
        "[[],{},[[]],{\"x\":{}}]",
        "{\"z\":1,\"a\":2,\"m\":3}",

    };
    struct phx_buf b;
    phx_buf_init(&b, 0);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_error_t err;
        json_t *v = json_loads(texts[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        cr_assert_not_null(v, "bad test JSON %s: %s", texts[i], err.text);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        struct phx_msg m = {.topic = "t", .event = "e", .json = v};
        phx_buf_reset(&b);
        cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0, "%s", texts[i]);
        char frame[512];
        snprintf(frame, sizeof frame, "[null,null,\"t\",\"e\",%s]", want);
        assert_buf_str(&b, frame);
        phx_buf_reset(&b);
        cr_assert_eq(phx_json_dump(v, &b), 0, "%s", texts[i]);
        assert_buf_str(&b, want);
        free(want);
        json_decref(v);
    }
    /* built in C: reals Jansson never reads back as such, and a value deeper than the encoder's own
     * recursion goes (Jansson writes the rest) */
    json_t *deep = json_integer(7);
    for (int i = 0; i < 600; i++) {
        json_t *wrap = i % 2 ? json_array() : json_object();
        if (i % 2)
            json_array_append_new(wrap, deep);
        else
            json_object_set_new(wrap, "d", deep);
        deep = wrap;
    }
    json_t *built = json_pack("[f,f,f,o]", 1e21, 5e-324, -123.0, deep);
    char *want = json_dumps(built, JSON_COMPACT | JSON_ENCODE_ANY);
    phx_buf_reset(&b);
    cr_assert_eq(phx_json_dump(built, &b), 0);
    assert_buf_str(&b, want);
    struct phx_msg m = {.topic = "t", .event = "e", .json = built};
    phx_buf_reset(&b);
    cr_assert_eq(phx_encode_text(PHX_V2, &m, &b), 0);
    cr_assert_eq(b.len, strlen("[null,null,\"t\",\"e\",]") + strlen(want));
    cr_assert(memcmp(phx_buf_data(&b) + strlen("[null,null,\"t\",\"e\","), want, strlen(want)) == 0);
    free(want);
    json_decref(built);
    phx_buf_cleanup(&b);
}

/* phoenix.js's plain shape is decoded without parsing the envelope; whatever path a text takes, the
 * message is what parsing the whole array gives. */
Test(json_v2_decode, plain_shape_matches_full_parse)
{
    static const char *const texts[] = {
        "[\"1\",\"2\",\"room:a\",\"phx_join\",{}]",
        "[null,\"2\",\"phoenix\",\"heartbeat\",{}]",
        "[\"1\",null,\"t\",\"e\",{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null}}]",
        "[\"\",\"\",\"\",\"\",[]]",
        "[\"1\",\"2\",\"t\",\"e\",{} ]",
        "[\"1\",\"2\",\"t\",\"e\", {}]",
        "[\"1\",\"2\",\"t\",\"e\",{},1]",
        "[\"1\",\"2\",\"t\",\"e\",{},{}]",
        "[\"1\",\"2\",\"t\",\"e\",null]",
        "[\"1\",\"2\",\"t\",\"e\",\"str\"]",
        "[\"1\",\"2\",\"t\",\"e\",123]",
        "[\"1\",\"2\",\"t\",\"e\",\"]\"]",
        "[1,2,\"t\",\"e\",{}]",
        "[\"1\",\"2\",\"t\\u0041\",\"e\",{}]",
        "[\"1\",\"2\",\"caf\xc3\xa9\",\"e\",{}]",
        "[\"nul\",\"null\",\"t\",\"e\",{}]",
        " [\"1\",\"2\",\"t\",\"e\",{}]",
        "[\"1\",\"2\",\"t\",\"e\",{}]\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_error_t err;
        json_t *want = json_loads(texts[i], 0, &err);
        cr_assert_not_null(want, "bad test JSON %s: %s", texts[i], err.text);
        struct phx_msg m;
        cr_assert_eq(decode(PHX_V2, texts[i], &m), 0, "%s", texts[i]);
        json_t *jr = json_array_get(want, 0), *ref = json_array_get(want, 1);
        cr_expect(json_is_null(jr) ? m.join_ref == NULL : json_equal(m.join_ref, jr), "%s", texts[i]);
        cr_expect(json_is_null(ref) ? m.ref == NULL : json_equal(m.ref, ref), "%s", texts[i]);
        cr_expect_str_eq(m.topic, json_string_value(json_array_get(want, 2)), "%s", texts[i]);
        cr_expect_eq(m.topic_len, json_string_length(json_array_get(want, 2)), "%s", texts[i]);
        cr_expect_str_eq(m.event, json_string_value(json_array_get(want, 3)), "%s", texts[i]);
        cr_expect_eq(m.event_len, json_string_length(json_array_get(want, 3)), "%s", texts[i]);
        cr_expect(json_equal(m.json, json_array_get(want, 4)), "%s", texts[i]);
        phx_msg_cleanup(&m);
        json_decref(want);
    }
    static const struct {
        const char *text;
        int err;
    } bad[] = {
        {"[\"1\",\"2\",\"t\",\"e\",]", PHX_E_JSON},
        {"[\"1\",\"2\",\"t\",\"e\",{}", PHX_E_JSON},
        {"[\"1\",\"2\",\"t\",\"e\",{}]]", PHX_E_JSON},
        {"[\"1\",\"2\",\"t\",\"e\",{\"a\":}]", PHX_E_JSON},
        {"[\"1\",\"2\",null,\"e\",{}]", PHX_E_TYPE},
        {"[\"1\",\"2\",\"t\",null,{}]", PHX_E_TYPE},
        {"[\"1\",\"2\",\"t\",\"e\"]", PHX_E_SHAPE},
        {"[\"1\",\"2\",\"t\",\"e\",{},]", PHX_E_JSON},
        {"[\"1\",\"2\",\"t\",\"e\",\"\xff\"]", PHX_E_JSON},
        {"[\"1\"\"2\",\"t\",\"e\",{}]", PHX_E_JSON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct phx_msg m;
        memset(&m, 0x5a, sizeof m);
        cr_expect_eq(decode(PHX_V2, bad[i].text, &m), bad[i].err, "%s", bad[i].text);
        assert_zeroed(&m);
        phx_msg_cleanup(&m);
    }
}
