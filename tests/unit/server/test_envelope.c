/* Tests server/envelope.c: round trips and every malformed class. */
#include "envelope.h"

#include <criterion/criterion.h>
#include <string.h>

static size_t encode(struct envelope *e, struct phx_buf *b)
{
    phx_buf_init(b, 0);
    cr_assert_eq(envelope_encode(e, b), 0);
    return b->len;
}

Test(envelope, broadcast_round_trip)
{
    struct envelope e = {
        .kind = ENV_BROADCAST, .flags = ENV_FLAG_FROM, .origin = 0x0102030405060708ull, .seq = 9};
    strcpy(e.topic, "room:1");
    strcpy(e.event, "shout");
    e.body = (const unsigned char *)"{\"a\":1}";
    e.body_len = 7;
    struct phx_buf b;
    size_t len = encode(&e, &b);
    cr_assert_eq(len, ENVELOPE_HEADER + 6 + 5 + 7);
    const unsigned char *raw = (const unsigned char *)phx_buf_data(&b);
    cr_assert_eq(raw[0], 'C');
    cr_assert_eq(raw[4], 0x01);
    cr_assert_eq(raw[11], 0x08);
    struct envelope d;
    cr_assert_eq(envelope_decode(raw, len, &d), 0);
    cr_assert_eq(d.kind, ENV_BROADCAST);
    cr_assert_eq(d.flags, ENV_FLAG_FROM);
    cr_assert_eq(d.origin, e.origin);
    cr_assert_eq(d.seq, 9);
    cr_assert_str_eq(d.topic, "room:1");
    cr_assert_str_eq(d.event, "shout");
    cr_assert_eq(d.body_len, 7);
    cr_assert_eq(memcmp(d.body, "{\"a\":1}", 7), 0);
    phx_buf_cleanup(&b);
}

Test(envelope, heartbeat_without_topic_or_body)
{
    struct envelope e = {.kind = ENV_HEARTBEAT, .origin = 5, .seq = 3};
    struct phx_buf b;
    size_t len = encode(&e, &b);
    struct envelope d;
    cr_assert_eq(envelope_decode((const unsigned char *)phx_buf_data(&b), len, &d), 0);
    cr_assert_eq(d.kind, ENV_HEARTBEAT);
    cr_assert_str_eq(d.topic, "");
    cr_assert_eq(d.body_len, 0);
    phx_buf_cleanup(&b);
}

Test(envelope, malformed_is_refused_not_crashed)
{
    struct envelope e = {.kind = ENV_BROADCAST};
    strcpy(e.topic, "t");
    strcpy(e.event, "e");
    struct phx_buf b;
    size_t len = encode(&e, &b);
    unsigned char raw[64];
    memcpy(raw, phx_buf_data(&b), len);
    struct envelope d;
    cr_assert_eq(envelope_decode(raw, 0, &d), ENV_E_SHORT);
    cr_assert_eq(envelope_decode((const unsigned char *)"{\"topic\":1}", 11, &d), ENV_E_MAGIC);
    cr_assert_eq(envelope_decode(raw, ENVELOPE_HEADER - 1, &d), ENV_E_SHORT);
    cr_assert_eq(envelope_decode(raw, len - 1, &d), ENV_E_SHORT, "event cut short");
    raw[1] = 2;
    cr_assert_eq(envelope_decode(raw, len, &d), ENV_E_VERSION);
    raw[1] = ENVELOPE_VERSION;
    raw[2] = 'Z';
    cr_assert_eq(envelope_decode(raw, len, &d), ENV_E_KIND);
    raw[2] = ENV_BROADCAST;
    raw[ENVELOPE_HEADER] = '\n';
    cr_assert_eq(envelope_decode(raw, len, &d), ENV_E_FIELD, "control character in topic");
    raw[ENVELOPE_HEADER] = 't';
    raw[20] = 0;
    cr_assert_eq(envelope_decode(raw, len, &d), ENV_E_FIELD, "a broadcast needs a topic");
    cr_assert_str_neq(envelope_strerror(ENV_E_FIELD), "ok");
    phx_buf_cleanup(&b);
}

Test(envelope, oversized_fields_refused_on_encode)
{
    struct envelope e = {.kind = ENV_BROADCAST};
    memset(e.topic, 'a', 255);
    e.topic[255] = '\0';
    strcpy(e.event, "e");
    struct phx_buf b;
    phx_buf_init(&b, 0);
    cr_assert_eq(envelope_encode(&e, &b), 0, "255 bytes fit");
    phx_buf_cleanup(&b);
}
