/*
 * phx_binary.c: V2 binary frames (PROTOCOL.md section 4): decoding the client's kind 0 push, encoding
 * the server's push (kind 0, 4-byte header, no ref), reply (kind 1) and broadcast (kind 2, 3-byte header).
 *
 * A decoded message owns one block, m->_owned = "topic\0event\0payload...", and two JSON strings for the
 * refs (m->_refs), so the frame may be freed as soon as the decoder returns. Topic and event must be
 * UTF-8 without NUL bytes (they are used as C strings and may be re-encoded as JSON); refs must be
 * UTF-8 (they become JSON strings). Both cases are PHX_E_TYPE.
 */
#include "phx_binary.h"

#include "phx_error.h"
#include "phx_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PHX_BIN_PUSH_IN_HEADER 5

/* ---- decoding ---- */

/* A ref field: length 0 is JSON null (*out stays NULL), otherwise a new JSON string. */
static int decode_ref(const unsigned char *s, size_t n, json_t **out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    if (!phx_utf8_valid(s, n))
        return PHX_E_TYPE;
    *out = json_stringn((const char *)s, n);
    return *out ? 0 : PHX_E_NOMEM;
}

static int check_name(const unsigned char *s, size_t n)
{
    return memchr(s, '\0', n) || !phx_utf8_valid(s, n) ? PHX_E_TYPE : 0;
}

int phx_decode_binary(const unsigned char *data, size_t len, struct phx_msg *out)
{
    size_t jr_len, ref_len, topic_len, event_len, payload_len;
    const unsigned char *jr, *ref, *topic, *event, *payload;
    char *owned;
    int rc;

    if (!out)
        return PHX_E_INVAL;
    memset(out, 0, sizeof *out);
    if (!data || len < PHX_BIN_PUSH_IN_HEADER || data[0] != PHX_BIN_PUSH)
        return PHX_E_BINARY;
    jr_len = data[1];
    ref_len = data[2];
    topic_len = data[3];
    event_len = data[4];
    /* each length <= 255, so the sum cannot overflow */
    if (jr_len + ref_len + topic_len + event_len > len - PHX_BIN_PUSH_IN_HEADER)
        return PHX_E_BINARY;
    jr = data + PHX_BIN_PUSH_IN_HEADER;
    ref = jr + jr_len;
    topic = ref + ref_len;
    event = topic + topic_len;
    payload = event + event_len;
    payload_len = len - (size_t)(payload - data);

    if ((rc = check_name(topic, topic_len)) != 0 || (rc = check_name(event, event_len)) != 0)
        goto fail;
    if ((rc = decode_ref(jr, jr_len, &out->_refs[0])) != 0 ||
        (rc = decode_ref(ref, ref_len, &out->_refs[1])) != 0)
        goto fail;

    /* payload_len < len, and topic/event add at most 512: no overflow unless len is near SIZE_MAX */
    if (payload_len > SIZE_MAX - topic_len - event_len - 2) {
        rc = PHX_E_NOMEM;
        goto fail;
    }
    owned = malloc(topic_len + 1 + event_len + 1 + payload_len + 1);
    if (!owned) {
        rc = PHX_E_NOMEM;
        goto fail;
    }
    memcpy(owned, topic, topic_len);
    owned[topic_len] = '\0';
    memcpy(owned + topic_len + 1, event, event_len);
    owned[topic_len + 1 + event_len] = '\0';
    memcpy(owned + topic_len + 1 + event_len + 1, payload, payload_len);

    out->_owned = owned;
    out->topic = owned;
    out->topic_len = topic_len;
    out->event = owned + topic_len + 1;
    out->event_len = event_len;
    out->bin = (const unsigned char *)owned + topic_len + 1 + event_len + 1;
    out->bin_len = payload_len;
    out->join_ref = out->_refs[0];
    out->ref = out->_refs[1];
    return 0;

fail:
    phx_msg_cleanup(out);
    return rc;
}

/* ---- encoding ---- */

/* A ref for the wire: a JSON string, or NULL / JSON null written as length 0. */
static int encode_ref(const json_t *v, const char **s, size_t *n)
{
    *s = "";
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return PHX_E_TYPE;
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

int phx_encode_binary(enum phx_bin_kind kind, const struct phx_msg *m, struct phx_buf *out)
{
    /* the string fields in wire order; the header carries their lengths in the same order */
    const char *field[4];
    size_t field_len[4], nfields = 0, mark;
    const char *jr, *ref;
    size_t jr_len, ref_len;
    int rc;

    if (!m || !out || !m->topic || !m->event || m->json || (!m->bin && m->bin_len))
        return PHX_E_INVAL;
    switch (kind) {
    case PHX_BIN_PUSH:
        /* server -> client push: no ref (phoenix.js decodes it as null) */
        if ((rc = encode_ref(m->join_ref, &jr, &jr_len)) != 0)
            return rc;
        field[nfields] = jr, field_len[nfields++] = jr_len;
        break;
    case PHX_BIN_REPLY:
        if ((rc = encode_ref(m->join_ref, &jr, &jr_len)) != 0 ||
            (rc = encode_ref(m->ref, &ref, &ref_len)) != 0)
            return rc;
        field[nfields] = jr, field_len[nfields++] = jr_len;
        field[nfields] = ref, field_len[nfields++] = ref_len;
        break;
    case PHX_BIN_BROADCAST:
        /* join_ref and ref are not part of a broadcast */
        break;
    default:
        return PHX_E_INVAL;
    }
    field[nfields] = m->topic, field_len[nfields++] = phx_field_len(m->topic, m->topic_len);
    field[nfields] = m->event, field_len[nfields++] = phx_field_len(m->event, m->event_len);
    for (size_t i = 0; i < nfields; i++)
        if (field_len[i] > PHX_BIN_FIELD_MAX)
            return PHX_E_TOOLONG;

    mark = out->len;
    rc = phx_buf_append_byte(out, (unsigned char)kind);
    for (size_t i = 0; i < nfields && !rc; i++)
        rc = phx_buf_append_byte(out, (unsigned char)field_len[i]);
    for (size_t i = 0; i < nfields && !rc; i++)
        rc = phx_buf_append(out, field[i], field_len[i]);
    if (!rc)
        rc = phx_buf_append(out, m->bin, m->bin_len);
    if (rc)
        out->len = mark;
    return rc;
}
