/*
 * fuzz_text.h: the body of fuzz_frame_v1 and fuzz_frame_v2: phx_decode_text on arbitrary bytes, and
 * for every frame it accepts, the round trips a server relies on:
 *
 *   decode(encode(m)) == m         topic, event, ref, payload (and join_ref in V2; V1 never sends one)
 *   encode(decode(encode(m))) is byte for byte encode(m)       (the encoding is canonical)
 *   decode(encode_reply(m)) is a phx_reply on m's topic with {"status": m.event, "response": m.payload}
 *
 * A refused frame must leave the message zeroed (the caller's cleanup is then a no-op).
 */
#ifndef FUZZ_TEXT_H
#define FUZZ_TEXT_H

#include "fuzz_check.h"
#include "phx_buf.h"
#include "phx_error.h"
#include "phx_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting depth of a JSON value (a scalar is 1). Jansson refuses documents deeper than 2048. */
static inline size_t fuzz_json_depth(const json_t *v)
{
    size_t max = 0, d;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if ((d = fuzz_json_depth(json_array_get(v, i))) > max)
                max = d;
    } else if (json_is_object(v)) {
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it))
            if ((d = fuzz_json_depth(json_object_iter_value(it))) > max)
                max = d;
    }
    return max + 1;
}

static inline int fuzz_str_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

static inline void fuzz_text_frame(enum phx_vsn vsn, const uint8_t *data, size_t size)
{
    struct phx_msg m, again;
    struct phx_buf b, b2;

    int rc = phx_decode_text(vsn, (const char *)data, size, &m);
    if (rc != 0) {
        static const struct phx_msg zero;
        FUZZ_CHECK(memcmp(&m, &zero, sizeof m) == 0, "refused frame left fields set");
        FUZZ_CHECK(rc == PHX_E_JSON || rc == PHX_E_SHAPE || rc == PHX_E_TYPE || rc == PHX_E_NOMEM, "rc %d",
                   rc);
        return;
    }
    FUZZ_CHECK(m.json != NULL, "an accepted text frame has a JSON payload");
    FUZZ_CHECK(strlen(m.topic) == m.topic_len && strlen(m.event) == m.event_len, "NUL in topic or event");

    phx_buf_init(&b, 16);
    phx_buf_init(&b2, 0);
    rc = phx_encode_text(vsn, &m, &b);
    FUZZ_CHECK(rc == 0, "re-encoding a decoded frame: %s", phx_strerror(rc));
    rc = phx_decode_text(vsn, phx_buf_data(&b), b.len, &again);
    FUZZ_CHECK(rc == 0, "our own frame does not decode (%s): %.*s", phx_strerror(rc), (int)b.len,
               phx_buf_data(&b));
    FUZZ_CHECK(fuzz_str_eq(m.topic, m.topic_len, again.topic, again.topic_len), "topic changed");
    FUZZ_CHECK(fuzz_str_eq(m.event, m.event_len, again.event, again.event_len), "event changed");
    FUZZ_CHECK(phx_ref_equal(m.ref, again.ref), "ref changed");
    if (vsn == PHX_V2)
        FUZZ_CHECK(phx_ref_equal(m.join_ref, again.join_ref), "join_ref changed");
    else
        FUZZ_CHECK(again.join_ref == NULL, "V1 frames carry no join_ref");
    FUZZ_CHECK(json_equal(m.json, again.json), "payload changed: %.*s", (int)b.len, phx_buf_data(&b));

    rc = phx_encode_text(vsn, &again, &b2);
    FUZZ_CHECK(rc == 0 && b2.len == b.len && memcmp(phx_buf_data(&b), phx_buf_data(&b2), b.len) == 0,
               "encoding is not canonical: %.*s", (int)b.len, phx_buf_data(&b));
    phx_msg_cleanup(&again);

    /* The reply a handler would send with the frame's event as status and its payload as response. */
    phx_buf_reset(&b);
    rc = phx_encode_reply(vsn, m.join_ref, m.ref, m.topic, m.event, m.json, &b);
    FUZZ_CHECK(rc == 0, "encoding a reply: %s", phx_strerror(rc));
    rc = phx_decode_text(vsn, phx_buf_data(&b), b.len, &again);
    /* The reply nests the payload one level deeper: past Jansson's depth limit only our check fails. */
    if (rc == PHX_E_JSON && fuzz_json_depth(m.json) >= 2047) {
        phx_msg_cleanup(&m);
        phx_buf_cleanup(&b);
        phx_buf_cleanup(&b2);
        return;
    }
    FUZZ_CHECK(rc == 0, "our reply does not decode (%s): %.*s", phx_strerror(rc), (int)b.len,
               phx_buf_data(&b));
    FUZZ_CHECK(fuzz_str_eq(m.topic, m.topic_len, again.topic, again.topic_len), "reply topic");
    FUZZ_CHECK(strcmp(again.event, "phx_reply") == 0, "reply event %s", again.event);
    FUZZ_CHECK(phx_ref_equal(m.ref, again.ref), "reply ref");
    if (vsn == PHX_V2)
        FUZZ_CHECK(phx_ref_equal(m.join_ref, again.join_ref), "reply join_ref");
    json_t *status = json_object_get(again.json, "status");
    FUZZ_CHECK(json_is_string(status) &&
                   fuzz_str_eq(json_string_value(status), json_string_length(status), m.event, m.event_len),
               "reply status");
    FUZZ_CHECK(json_equal(json_object_get(again.json, "response"), m.json), "reply response");
    FUZZ_CHECK(json_object_size(again.json) == 2, "reply payload has exactly status and response");

    phx_msg_cleanup(&again);
    phx_msg_cleanup(&m);
    phx_buf_cleanup(&b);
    phx_buf_cleanup(&b2);
}

#endif
