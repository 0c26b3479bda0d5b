/* test_phx_binary.c: tests protocol/phx_binary.c, V2 binary frames (PROTOCOL.md section 4). */
#include "phx_binary.h"
#include "phx_error.h"
#include "phx_test.h"

#include <stdlib.h>

/* Section 4: client pushes event "binary", bytes 01 02 03 on "room:a", jr "1", ref "2". */
static const unsigned char push_in[] = {0x00, 0x01, 0x01, 0x06, 0x06, 0x31, 0x32, 0x72, 0x6f, 0x6f, 0x6d,
                                        0x3a, 0x61, 0x62, 0x69, 0x6e, 0x61, 0x72, 0x79, 0x01, 0x02, 0x03};
/* ... and the server's reply. */
static const unsigned char reply_out[] = {0x01, 0x01, 0x01, 0x06, 0x02, 0x31, 0x32, 0x72, 0x6f,
                                          0x6f, 0x6d, 0x3a, 0x61, 0x6f, 0x6b, 0x01, 0x02, 0x03};

static void assert_zeroed(const struct phx_msg *m)
{
    struct phx_msg zero;

    memset(&zero, 0, sizeof zero);
    cr_assert_eq(memcmp(m, &zero, sizeof zero), 0, "message not zeroed after an error");
}

static void assert_json_str(const json_t *v, const char *s)
{
    cr_assert(json_is_string(v), "not a JSON string");
    cr_assert_eq(json_string_length(v), strlen(s));
    cr_assert_str_eq(json_string_value(v), s);
}

/* ---- decoding ---- */

Test(binary_decode, section4_push)
{
    unsigned char *copy = malloc(sizeof push_in);
    struct phx_msg m;

    memcpy(copy, push_in, sizeof push_in);
    cr_assert_eq(phx_decode_binary(copy, sizeof push_in, &m), 0);
    memset(copy, 0xee, sizeof push_in);
    free(copy); /* the message owns copies of everything */
    assert_json_str(m.join_ref, "1");
    assert_json_str(m.ref, "2");
    cr_assert_str_eq(m.topic, "room:a");
    cr_assert_eq(m.topic_len, 6);
    cr_assert_str_eq(m.event, "binary");
    cr_assert_eq(m.event_len, 6);
    cr_assert_null(m.json, "a binary message has no JSON payload");
    cr_assert_eq(m.bin_len, 3);
    cr_assert_eq(memcmp(m.bin, "\x01\x02\x03", 3), 0);
    phx_msg_cleanup(&m);
    assert_zeroed(&m);
}

Test(binary_decode, decode_then_reply_is_section4_bytes)
{
    struct phx_msg in, reply;
    struct phx_buf b;

    cr_assert_eq(phx_decode_binary(push_in, sizeof push_in, &in), 0);
    reply = in;
    reply.event = "ok";
    reply.event_len = 2;
    phx_buf_init(&b, 16);
    cr_assert_eq(phx_encode_binary(PHX_BIN_REPLY, &reply, &b), 0);
    assert_buf_bytes(&b, reply_out, sizeof reply_out);
    phx_msg_cleanup(&in);
    phx_buf_cleanup(&b);
}

Test(binary_decode, empty_refs_are_null)
{
    static const unsigned char f[] = {0, 0, 0, 1, 1, 't', 'e', 0xff, 0x00};
    struct phx_msg m;

    cr_assert_eq(phx_decode_binary(f, sizeof f, &m), 0);
    cr_assert_null(m.join_ref);
    cr_assert_null(m.ref);
    cr_assert_str_eq(m.topic, "t");
    cr_assert_str_eq(m.event, "e");
    cr_assert_eq(m.bin_len, 2);
    cr_assert_eq(m.bin[0], 0xff);
    cr_assert_eq(m.bin[1], 0x00);
    phx_msg_cleanup(&m);
}

Test(binary_decode, header_and_fields_only_empty_payload)
{
    static const unsigned char f[] = {0, 1, 0, 1, 1, '9', 't', 'e'};
    struct phx_msg m;

    cr_assert_eq(phx_decode_binary(f, sizeof f, &m), 0);
    assert_json_str(m.join_ref, "9");
    cr_assert_null(m.ref);
    cr_assert_eq(m.bin_len, 0);
    cr_assert_not_null(m.bin);
    cr_assert_null(m.json);
    phx_msg_cleanup(&m);
}

Test(binary_decode, all_empty_fields)
{
    static const unsigned char f[] = {0, 0, 0, 0, 0};
    struct phx_msg m;

    /* the codec does not judge an empty topic; the server's topic check does */
    cr_assert_eq(phx_decode_binary(f, sizeof f, &m), 0);
    cr_assert_str_eq(m.topic, "");
    cr_assert_str_eq(m.event, "");
    cr_assert_eq(m.bin_len, 0);
    phx_msg_cleanup(&m);
}

Test(binary_decode, max_length_fields)
{
    size_t len = 5 + 4 * 255 + 10;
    unsigned char *f = malloc(len);
    struct phx_msg m;

    f[0] = 0;
    memset(f + 1, 255, 4);
    memset(f + 5, 'j', 255);
    memset(f + 5 + 255, 'r', 255);
    memset(f + 5 + 510, 't', 255);
    memset(f + 5 + 765, 'e', 255);
    memset(f + 5 + 1020, 'p', 10);
    cr_assert_eq(phx_decode_binary(f, len, &m), 0);
    free(f);
    cr_assert_eq(json_string_length(m.join_ref), 255);
    cr_assert_eq(json_string_length(m.ref), 255);
    cr_assert_eq(m.topic_len, 255);
    cr_assert_eq(strlen(m.topic), 255);
    cr_assert_eq(m.event_len, 255);
    cr_assert_eq(strlen(m.event), 255);
    cr_assert_eq(m.bin_len, 10);
    cr_assert_eq(m.bin[9], 'p');
    phx_msg_cleanup(&m);
}

Test(binary_decode, large_payload)
{
    size_t n = 8u << 20;
    unsigned char *f = malloc(5 + 6 + n);
    struct phx_msg m;

    memcpy(f,
           "\x00\x00\x00\x03\x03"
           "abcdef",
           11);
    for (size_t i = 0; i < n; i++)
        f[11 + i] = (unsigned char)(i * 13);
    cr_assert_eq(phx_decode_binary(f, 11 + n, &m), 0);
    cr_assert_eq(m.bin_len, n);
    cr_assert_eq(memcmp(m.bin, f + 11, n), 0);
    free(f);
    cr_assert_str_eq(m.topic, "abc");
    cr_assert_str_eq(m.event, "def");
    phx_msg_cleanup(&m);
}

static const struct {
    const char *name;
    const unsigned char *bytes;
    size_t len;
    int err;
} bad[] = {
#define F(name, err, ...)                                                                                    \
    {                                                                                                        \
        name, (const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__}), err        \
    }
    F("kind 1 (reply)", PHX_E_BINARY, 1, 1, 1, 6, 2, '1', '2', 'r', 'o', 'o', 'm', ':', 'a', 'o', 'k', 1),
    F("kind 2 (broadcast)", PHX_E_BINARY, 2, 1, 1, 't', 'e'),
    F("kind 7", PHX_E_BINARY, 7, 0, 0, 1, 1, 't', 'e'),
    F("kind 0xff", PHX_E_BINARY, 0xff, 0, 0, 0, 0),
    F("1-byte header", PHX_E_BINARY, 0),
    F("2-byte header", PHX_E_BINARY, 0, 0),
    F("3-byte header", PHX_E_BINARY, 0, 0, 0),
    F("4-byte header", PHX_E_BINARY, 0, 1, 1, 1),
    F("one byte short", PHX_E_BINARY, 0, 1, 1, 1, 1, 'j', 'r', 't'),
    F("all short", PHX_E_BINARY, 0, 255, 255, 255, 255, 'x'),
    F("topic past end", PHX_E_BINARY, 0, 0, 0, 10, 0, 'r', 'o', 'o', 'm'),
    F("NUL in topic", PHX_E_TYPE, 0, 0, 0, 3, 1, 'a', 0, 'b', 'e'),
    F("NUL in event", PHX_E_TYPE, 0, 0, 0, 1, 2, 't', 'e', 0),
    F("bad UTF-8 topic", PHX_E_TYPE, 0, 0, 0, 1, 1, 0xff, 'e'),
    F("bad UTF-8 event", PHX_E_TYPE, 0, 0, 0, 1, 1, 't', 0xc3),
    F("bad UTF-8 join_ref", PHX_E_TYPE, 0, 1, 0, 1, 1, 0x80, 't', 'e'),
    F("bad UTF-8 ref", PHX_E_TYPE, 0, 1, 1, 1, 1, '1', 0xc0, 't', 'e'),
#undef F
};

Test(binary_decode, malformed)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct phx_msg m;

        memset(&m, 0x5a, sizeof m); /* the decoder must zero it */
        cr_expect_eq(phx_decode_binary(bad[i].bytes, bad[i].len, &m), bad[i].err, "%s", bad[i].name);
        assert_zeroed(&m);
        phx_msg_cleanup(&m);
    }
}

Test(binary_decode, empty_and_null)
{
    static const unsigned char one = 0;
    struct phx_msg m;

    cr_assert_eq(phx_decode_binary(&one, 0, &m), PHX_E_BINARY);
    assert_zeroed(&m);
    cr_assert_eq(phx_decode_binary(NULL, 0, &m), PHX_E_BINARY);
    assert_zeroed(&m);
    cr_assert_eq(phx_decode_binary(NULL, 5, &m), PHX_E_BINARY);
    cr_assert_eq(phx_decode_binary(push_in, sizeof push_in, NULL), PHX_E_INVAL);
    phx_msg_cleanup(&m);
}

Test(binary_decode, every_truncation_of_a_good_frame)
{
    /* cutting the section 4 frame anywhere inside its header or strings is an error; cutting the
     * payload just shortens it */
    for (size_t len = 0; len <= sizeof push_in; len++) {
        struct phx_msg m;
        int rc = phx_decode_binary(push_in, len, &m);

        if (len < 19) {
            cr_expect_eq(rc, PHX_E_BINARY, "length %zu", len);
        } else {
            cr_expect_eq(rc, 0, "length %zu", len);
            cr_expect_eq(m.bin_len, len - 19);
        }
        phx_msg_cleanup(&m);
    }
}

/* ---- encoding ---- */

static struct phx_msg bin_msg(json_t *jr, json_t *ref, const char *topic, const char *event)
{
    struct phx_msg m = {.join_ref = jr, .ref = ref, .topic = topic, .event = event};

    m.topic_len = strlen(topic);
    m.event_len = strlen(event);
    m.bin = (const unsigned char *)"\x01\x02\x03";
    m.bin_len = 3;
    return m;
}

Test(binary_encode, section4_reply)
{
    json_t *jr = json_string("1"), *ref = json_string("2");
    struct phx_msg m = bin_msg(jr, ref, "room:a", "ok");
    struct phx_buf b;

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_binary(PHX_BIN_REPLY, &m, &b), 0);
    assert_buf_bytes(&b, reply_out, sizeof reply_out);
    json_decref(jr);
    json_decref(ref);
    phx_buf_cleanup(&b);
}

Test(binary_encode, push_has_four_byte_header_and_no_ref)
{
    static const unsigned char want[] = {0x00, 0x01, 0x06, 0x06, '1', 'r', 'o', 'o',  'm',  ':',
                                         'a',  'b',  'i',  'n',  'a', 'r', 'y', 0x01, 0x02, 0x03};
    json_t *jr = json_string("1"), *ref = json_integer(99); /* ref is not part of a push */
    struct phx_msg m = bin_msg(jr, ref, "room:a", "binary");
    struct phx_buf b;

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_binary(PHX_BIN_PUSH, &m, &b), 0);
    assert_buf_bytes(&b, want, sizeof want);
    json_decref(jr);
    json_decref(ref);
    phx_buf_cleanup(&b);
}

Test(binary_encode, broadcast_has_three_byte_header)
{
    static const unsigned char want[] = {0x02, 0x06, 0x05, 'r', 'o', 'o',  'm',  ':', 'a',
                                         's',  'h',  'o',  'u', 't', 0x01, 0x02, 0x03};
    json_t *jr = json_integer(5); /* ignored: a broadcast has neither ref */
    struct phx_msg m = bin_msg(jr, jr, "room:a", "shout");
    struct phx_buf b;

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_binary(PHX_BIN_BROADCAST, &m, &b), 0);
    assert_buf_bytes(&b, want, sizeof want);
    json_decref(jr);
    phx_buf_cleanup(&b);
}

Test(binary_encode, null_refs_are_length_zero)
{
    static const unsigned char want_reply[] = {0x01, 0, 0, 1, 5, 't', 'e', 'r', 'r', 'o', 'r', 1, 2, 3};
    static const unsigned char want_push[] = {0x00, 0, 1, 1, 't', 'e', 1, 2, 3};
    json_t *null = json_null();
    struct phx_msg reply = bin_msg(NULL, null, "t", "error");
    struct phx_msg push = bin_msg(null, NULL, "t", "e");
    struct phx_buf b;

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_binary(PHX_BIN_REPLY, &reply, &b), 0);
    assert_buf_bytes(&b, want_reply, sizeof want_reply);
    phx_buf_reset(&b);
    cr_assert_eq(phx_encode_binary(PHX_BIN_PUSH, &push, &b), 0);
    assert_buf_bytes(&b, want_push, sizeof want_push);
    phx_buf_cleanup(&b);
}

Test(binary_encode, empty_payload_and_implicit_lengths)
{
    static const unsigned char want[] = {0x02, 1, 1, 't', 'e'};
    struct phx_msg m = {.topic = "t", .event = "e"}; /* lengths 0: strlen is used */
    struct phx_buf b;

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_encode_binary(PHX_BIN_BROADCAST, &m, &b), 0);
    assert_buf_bytes(&b, want, sizeof want);
    phx_buf_cleanup(&b);
}

Test(binary_encode, appends_after_headroom_and_data)
{
    struct phx_msg m = {.topic = "t", .event = "e"};
    struct phx_buf b;

    phx_buf_init(&b, 16);
    cr_assert_eq(phx_buf_append(&b, "Z", 1), 0);
    cr_assert_eq(phx_encode_binary(PHX_BIN_BROADCAST, &m, &b), 0);
    cr_assert_eq(phx_buf_data(&b), b.mem + 16);
    assert_buf_bytes(&b, "Z\x02\x01\x01te", 6);
    phx_buf_cleanup(&b);
}

/* A 255-byte field is fine, 256 is PHX_E_TOOLONG; field: 0 jr, 1 ref, 2 topic, 3 event. */
static int encode_with_long_field(enum phx_bin_kind kind, int field, size_t n, struct phx_buf *b)
{
    char *s = malloc(n + 1);
    json_t *jr, *ref;
    struct phx_msg m;
    int rc;

    memset(s, 'x', n);
    s[n] = '\0';
    jr = json_string(field == 0 ? s : "1");
    ref = json_string(field == 1 ? s : "2");
    m = bin_msg(jr, ref, field == 2 ? s : "t", field == 3 ? s : "e");
    rc = phx_encode_binary(kind, &m, b);
    json_decref(jr);
    json_decref(ref);
    free(s);
    return rc;
}

Test(binary_encode, field_length_limit)
{
    struct phx_buf b;

    phx_buf_init(&b, 0);
    for (int field = 0; field < 4; field++) {
        phx_buf_reset(&b);
        cr_assert_eq(encode_with_long_field(PHX_BIN_REPLY, field, 255, &b), 0, "field %d", field);
        cr_assert_eq(b.len, 5 + 255 + 3 + 3);
        cr_assert_eq((unsigned char)phx_buf_data(&b)[1 + field], 255);
        phx_buf_reset(&b);
        cr_assert_eq(phx_buf_append(&b, "keep", 4), 0);
        cr_assert_eq(encode_with_long_field(PHX_BIN_REPLY, field, 256, &b), PHX_E_TOOLONG, "field %d", field);
        assert_buf_str(&b, "keep");
    }
    phx_buf_reset(&b);
    cr_assert_eq(encode_with_long_field(PHX_BIN_PUSH, 0, 256, &b), PHX_E_TOOLONG);
    cr_assert_eq(encode_with_long_field(PHX_BIN_PUSH, 2, 256, &b), PHX_E_TOOLONG);
    cr_assert_eq(encode_with_long_field(PHX_BIN_PUSH, 1, 256, &b), 0, "a push carries no ref");
    phx_buf_reset(&b);
    cr_assert_eq(encode_with_long_field(PHX_BIN_BROADCAST, 3, 256, &b), PHX_E_TOOLONG);
    cr_assert_eq(encode_with_long_field(PHX_BIN_BROADCAST, 0, 256, &b), 0, "a broadcast carries no refs");
    phx_buf_reset(&b);
    cr_assert_eq(encode_with_long_field(PHX_BIN_BROADCAST, 2, 255, &b), 0);
    cr_assert_eq(b.len, 3 + 255 + 1 + 3);
    phx_buf_cleanup(&b);
}

Test(binary_encode, errors_append_nothing)
{
    json_t *num = json_integer(1), *obj = json_object(), *str = json_string("1");
    struct phx_msg num_jr = bin_msg(num, str, "t", "e");
    struct phx_msg obj_ref = bin_msg(str, obj, "t", "ok");
    struct phx_msg json_payload = bin_msg(str, str, "t", "e");
    struct phx_msg no_topic = bin_msg(str, str, "t", "e");
    struct phx_msg no_event = bin_msg(str, str, "t", "e");
    struct phx_msg bad_bin = bin_msg(str, str, "t", "e");
    struct phx_buf b;

    json_payload.json = obj;
    no_topic.topic = NULL;
    no_event.event = NULL;
    bad_bin.bin = NULL;
    phx_buf_init(&b, 4);
    cr_assert_eq(phx_buf_append(&b, "keep", 4), 0);
    cr_assert_eq(phx_encode_binary(PHX_BIN_REPLY, &num_jr, &b), PHX_E_TYPE);
    cr_assert_eq(phx_encode_binary(PHX_BIN_PUSH, &num_jr, &b), PHX_E_TYPE);
    cr_assert_eq(phx_encode_binary(PHX_BIN_REPLY, &obj_ref, &b), PHX_E_TYPE);
    cr_assert_eq(phx_encode_binary(PHX_BIN_REPLY, &json_payload, &b), PHX_E_INVAL);
    cr_assert_eq(phx_encode_binary(PHX_BIN_BROADCAST, &no_topic, &b), PHX_E_INVAL);
    cr_assert_eq(phx_encode_binary(PHX_BIN_BROADCAST, &no_event, &b), PHX_E_INVAL);
    cr_assert_eq(phx_encode_binary(PHX_BIN_BROADCAST, &bad_bin, &b), PHX_E_INVAL);
    cr_assert_eq(phx_encode_binary((enum phx_bin_kind)3, &obj_ref, &b), PHX_E_INVAL);
    cr_assert_eq(phx_encode_binary(PHX_BIN_PUSH, NULL, &b), PHX_E_INVAL);
    assert_buf_str(&b, "keep");
    cr_assert_eq(phx_encode_binary(PHX_BIN_PUSH, &obj_ref, NULL), PHX_E_INVAL);
    json_decref(num);
    json_decref(obj);
    json_decref(str);
    phx_buf_cleanup(&b);
}
