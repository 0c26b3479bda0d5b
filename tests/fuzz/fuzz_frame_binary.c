/*
 * fuzz_frame_binary.c: libFuzzer target for V2 binary frames (PROTOCOL.md section 4).
 *
 * phx_decode_binary on arbitrary bytes; for every frame it accepts, each server encoding of the decoded
 * message is checked against the input:
 *
 *   reply (kind 1)      the client push layout with kind 1: byte for byte the input with input[0] = 1
 *   push (kind 0)       00 | jr | topic | event | jr topic event payload   (no ref)
 *   broadcast (kind 2)  02 | topic | event | topic event payload
 *   text                a binary message has none (PHX_E_INVAL, nothing appended); with a JSON payload
 *                       in its place, its names and refs must make a V2 text frame that decodes back
 */
#include "fuzz_check.h"
#include "phx_binary.h"
#include "phx_error.h"
#include "phx_json.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t ref_len(const json_t *r)
{
    return r ? json_string_length(r) : 0;
}

/* out holds kind | the header lengths | the fields | the payload of m. */
static void check_layout(const struct phx_buf *out, enum phx_bin_kind kind, const json_t *const *refs,
                         size_t nrefs, const struct phx_msg *m)
{
    const unsigned char *p = (const unsigned char *)phx_buf_data(out);
    size_t header = 1 + nrefs + 2, pos = header;
    size_t want = header + m->topic_len + m->event_len + m->bin_len;
    for (size_t i = 0; i < nrefs; i++)
        want += ref_len(refs[i]);
    FUZZ_CHECK(out->len == want, "kind %d: %zu bytes, expected %zu", kind, out->len, want);
    FUZZ_CHECK(p[0] == kind, "kind byte %u", p[0]);
    for (size_t i = 0; i < nrefs; i++) {
        size_t n = ref_len(refs[i]);
        FUZZ_CHECK(p[1 + i] == n, "ref %zu length byte", i);
        FUZZ_CHECK(!n || memcmp(p + pos, json_string_value(refs[i]), n) == 0, "ref %zu bytes", i);
        pos += n;
    }
    FUZZ_CHECK(p[1 + nrefs] == m->topic_len && memcmp(p + pos, m->topic, m->topic_len) == 0, "topic");
    pos += m->topic_len;
    FUZZ_CHECK(p[2 + nrefs] == m->event_len && memcmp(p + pos, m->event, m->event_len) == 0, "event");
    pos += m->event_len;
    FUZZ_CHECK(!m->bin_len || memcmp(p + pos, m->bin, m->bin_len) == 0, "payload");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct phx_msg m, again;
    struct phx_buf b;

    int rc = phx_decode_binary(data, size, &m);
    if (rc != 0) {
        static const struct phx_msg zero;
        FUZZ_CHECK(memcmp(&m, &zero, sizeof m) == 0, "refused frame left fields set");
        FUZZ_CHECK(rc == PHX_E_BINARY || rc == PHX_E_TYPE || rc == PHX_E_NOMEM, "rc %d", rc);
        return 0;
    }
    FUZZ_CHECK(m.json == NULL && (m.bin || !m.bin_len), "a binary frame has a byte payload");
    FUZZ_CHECK(5 + ref_len(m.join_ref) + ref_len(m.ref) + m.topic_len + m.event_len + m.bin_len == size,
               "decoded fields do not add up to the frame");
    FUZZ_CHECK(strlen(m.topic) == m.topic_len && strlen(m.event) == m.event_len, "NUL in topic or event");
    FUZZ_CHECK((!m.join_ref || json_is_string(m.join_ref)) && (!m.ref || json_is_string(m.ref)),
               "refs are strings or null");

    phx_buf_init(&b, 16);
    rc = phx_encode_binary(PHX_BIN_REPLY, &m, &b);
    FUZZ_CHECK(rc == 0, "reply: %s", phx_strerror(rc));
    FUZZ_CHECK(b.len == size && (unsigned char)phx_buf_data(&b)[0] == PHX_BIN_REPLY &&
                   memcmp(phx_buf_data(&b) + 1, data + 1, size - 1) == 0,
               "a reply of the decoded push is not the push with kind 1");
    const json_t *reply_refs[2] = {m.join_ref, m.ref};
    check_layout(&b, PHX_BIN_REPLY, reply_refs, 2, &m);

    phx_buf_reset(&b);
    rc = phx_encode_binary(PHX_BIN_PUSH, &m, &b);
    FUZZ_CHECK(rc == 0, "push: %s", phx_strerror(rc));
    check_layout(&b, PHX_BIN_PUSH, reply_refs, 1, &m);

    phx_buf_reset(&b);
    rc = phx_encode_binary(PHX_BIN_BROADCAST, &m, &b);
    FUZZ_CHECK(rc == 0, "broadcast: %s", phx_strerror(rc));
    check_layout(&b, PHX_BIN_BROADCAST, NULL, 0, &m);

    phx_buf_reset(&b);
    FUZZ_CHECK(phx_encode_text(PHX_V2, &m, &b) == PHX_E_INVAL && b.len == 0, "binary message as text");
    FUZZ_CHECK(phx_encode_binary((enum phx_bin_kind)3, &m, &b) == PHX_E_INVAL && b.len == 0, "kind 3");

    /* The same names and refs with a JSON payload: a V2 text frame that decodes to them again. */
    struct phx_msg as_text = m;
    as_text.json = json_null();
    rc = phx_encode_text(PHX_V2, &as_text, &b);
    FUZZ_CHECK(rc == 0, "names of a binary frame as text: %s", phx_strerror(rc));
    rc = phx_decode_text(PHX_V2, phx_buf_data(&b), b.len, &again);
    FUZZ_CHECK(rc == 0, "text form does not decode: %s", phx_strerror(rc));
    FUZZ_CHECK(again.topic_len == m.topic_len && memcmp(again.topic, m.topic, m.topic_len) == 0, "topic");
    FUZZ_CHECK(again.event_len == m.event_len && memcmp(again.event, m.event, m.event_len) == 0, "event");
    FUZZ_CHECK(phx_ref_equal(again.join_ref, m.join_ref) && phx_ref_equal(again.ref, m.ref), "refs");
    phx_msg_cleanup(&again);

    phx_buf_cleanup(&b);
    phx_msg_cleanup(&m);
    return 0;
}
