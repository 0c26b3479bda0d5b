/*
 * fuzz_envelope.c: libFuzzer target for what other nodes send through Redis: node envelopes
 * (server/envelope.h) and backends' plain JSON publishes, received by a node of a cluster
 * (server/cluster.h) that has local subscribers.
 *
 * The node: a demo-app server with a cluster on a mock carrier; alice (V2) and bob (V1) joined to
 * room:lobby (so remote broadcasts, presence diffs and full states reach them), carol (V2) to room:x.
 * Input: records of a header byte, a 2-byte big-endian length and that many bytes (a length past the
 * end takes the rest).
 *   header bit 0      a backend publish (cluster_receive_publish) instead of an envelope
 *   header bit 1      a cluster tick after the record (heartbeat out, silent peers expire)
 *   header bits 2-7   the clock moves on by that many 100 ms first (peers expire after 3 s)
 *
 * Properties: an envelope that decodes encodes back to exactly its bytes; every envelope the node sends
 * decodes, and its JSON bodies parse; local subscribers only ever get valid Phoenix frames; when the
 * cluster (dropping every peer's presence) and the connections are gone the server holds nothing (plus
 * libFuzzer's per-input leak check).
 */
#include "cluster.h"
#include "envelope.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The carrier: checks what the node sends; nothing travels anywhere. */
static int carrier_send(void *ctx, const unsigned char *bytes, size_t len)
{
    struct envelope e;
    int rc = envelope_decode(bytes, len, &e);
    FUZZ_CHECK(rc == 0, "the node sent an envelope that does not decode: %s", envelope_strerror(rc));
    if (e.kind == ENV_PRESENCE || e.kind == ENV_STATE ||
        (e.kind == ENV_BROADCAST && !(e.flags & ENV_FLAG_BINARY))) {
        json_error_t err;
        json_t *body = json_loadb((const char *)e.body, e.body_len, JSON_DECODE_ANY, &err);
        FUZZ_CHECK(body != NULL, "envelope %c with a body that is not JSON: %s", e.kind, err.text);
        json_decref(body);
    }
    ++*(size_t *)ctx;
    return 0;
}

/* An envelope that decodes is the canonical encoding of what it decoded to. */
static void check_envelope(const uint8_t *bytes, size_t len)
{
    struct envelope e;
    if (envelope_decode(bytes, len, &e) != 0)
        return;
    struct phx_buf b;
    phx_buf_init(&b, 0);
    FUZZ_CHECK(envelope_encode(&e, &b) == 0, "re-encoding a decoded envelope");
    FUZZ_CHECK(b.len == len && memcmp(phx_buf_data(&b), bytes, len) == 0, "decode/encode changed the bytes");
    phx_buf_cleanup(&b);
}

static void join(struct conn *c, const char *topic)
{
    char frame[128];
    int n = c->vsn == PHX_V2 ? snprintf(frame, sizeof(frame), "[\"1\",\"1\",\"%s\",\"phx_join\",{}]", topic)
                             : snprintf(frame, sizeof(frame),
                                        "{\"topic\":\"%s\",\"event\":\"phx_join\",\"payload\":{},"
                                        "\"ref\":\"1\",\"join_ref\":\"1\"}",
                                        topic);
    FUZZ_CHECK(conn_on_message(c, frame, (size_t)n, false) == 0, "join %s", topic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct server *s = fuzz_server(0);
    size_t sent = 0;
    struct cluster_carrier carrier = {.send = carrier_send, .ctx = &sent};
    s->cluster = cluster_create(s, &carrier, 1000, 3000);
    FUZZ_CHECK(s->cluster != NULL, "cluster_create");
    struct conn *c[3] = {fuzz_conn(s, PHX_V2, "alice"), fuzz_conn(s, PHX_V1, "bob"),
                         fuzz_conn(s, PHX_V2, "carol")};
    join(c[0], "room:lobby");
    join(c[1], "room:lobby");
    join(c[2], "room:x");
    for (int i = 0; i < 3; i++)
        fuzz_drain(c[i]);

    uint64_t now = 1000000;
    size_t pos = 0;
    while (pos < size) {
        uint8_t h = data[pos++];
        size_t len = 0;
        for (int i = 0; i < 2 && pos < size; i++)
            len = len << 8 | data[pos++];
        if (len > size - pos)
            len = size - pos;
        const uint8_t *msg = data + pos;
        pos += len;

        now += (uint64_t)(h >> 2) * 100;
        if (h & 1) {
            const char *problem = NULL;
            if (cluster_receive_publish(s->cluster, (const char *)msg, len, &problem) != 0)
                FUZZ_CHECK(problem && *problem, "a refused publish without a reason");
        } else {
            check_envelope(msg, len);
            int rc = cluster_receive(s->cluster, msg, len, now);
            FUZZ_CHECK(rc <= 0 && *envelope_strerror(rc), "rc %d", rc);
        }
        if (h & 2)
            cluster_tick(s->cluster, now);
        FUZZ_CHECK(s->crashed == NULL, "crashed channels left unended");
        for (int i = 0; i < 3; i++) {
            fuzz_check_conn(c[i]);
            fuzz_drain(c[i]);
        }
    }

    cluster_destroy(&s->cluster);
    for (int i = 0; i < 3; i++) {
        fuzz_drain(c[i]);
        fuzz_end_conn(&c[i]);
    }
    fuzz_end_server(&s);
    return 0;
}
