/*
 * fuzz_conn_messages.c: libFuzzer target for whole conversations with the demo app: two clients,
 * alice and bob, send frames through conn_on_data (in fragments) and conn_on_message, so the router,
 * channels, presence, intercepts and pubsub all run against each other, on the demo routes (room:*,
 * telemetry:*) and on configured channels (fuzz_common.h: chat:*, private:* by claim, admin:*, full:*).
 *
 * Input: one config byte, then records of a header byte, a 2-byte big-endian length and that many
 * bytes (a length past the end takes the rest).
 *   config bit 0 / bit 1   alice / bob speak V1 (else V2)
 *   config bit 2           small limits (fuzz_small_limits: frames of 256 bytes, queues of 2 KiB,
 *                          4 channels)
 *   header bit 0           sent by bob (else alice)
 *   header bit 1           a binary message
 *   header bits 2-3        delivered in 1 + n fragments through conn_on_data (0: one conn_on_message)
 *   header bit 4           fragments announce the bytes still to come (lws_remaining_packet_payload)
 *   header bit 5           the sender reconnects first (abrupt close: its conn is destroyed, a new one made)
 *   header bit 6           queues are not drained after this record (a client that stops reading)
 *   header bit 7           an idle sweep far in the future runs after this record (everyone is closed)
 * After each record every connection is checked (limits, channel count, queue bytes) and, unless bit 6,
 * drained, each frame checked to be a valid Phoenix frame of its serializer. A connection the core
 * closed is destroyed and replaced, as phoenix.js would reconnect. At the end everything is destroyed
 * and the server must be empty (plus libFuzzer's per-input leak check).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const users[2] = {"alice", "bob"};

struct convo {
    struct server *s;
    struct conn *c[2];
    enum phx_vsn vsn[2];
};

static void reconnect(struct convo *cv, int who)
{
    fuzz_end_conn(&cv->c[who]);
    cv->c[who] = fuzz_conn(cv->s, cv->vsn[who], users[who]);
}

/* One message from c: whole, or in `pieces` fragments as libwebsockets would deliver them. */
static void deliver(struct conn *c, const uint8_t *msg, size_t len, bool binary, unsigned pieces,
                    bool announce)
{
    if (pieces == 0) {
        int rc = conn_on_message(c, msg, len, binary);
        FUZZ_CHECK((rc == 0) == !c->closing, "conn_on_message %d with the conn %s", rc,
                   c->closing ? "closing" : "open");
        return;
    }
    size_t step = len / pieces, off = 0;
    for (unsigned i = 0; i < pieces; i++) {
        size_t n = i + 1 == pieces ? len - off : step;
        bool final = i + 1 == pieces;
        int rc = conn_on_data(c, msg + off, n, i == 0, final, binary, announce ? len - off - n : 0);
        off += n;
        FUZZ_CHECK((rc == 0) == !c->closing, "conn_on_data %d with the conn %s", rc,
                   c->closing ? "closing" : "open");
        if (rc != 0)
            return;
        /* a message past max_frame_size is read to its end without being kept, then closed (1009) */
        FUZZ_CHECK(final || (c->rx && (c->rx->overflow ? c->rx->buf.mem == NULL : c->rx->buf.len == off)),
                   "assembled %zu of %zu bytes", c->rx ? c->rx->buf.len : 0, off);
    }
    FUZZ_CHECK(c->rx == NULL, "assembly state kept after the message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t config = data[0];
    struct convo cv = {.s = fuzz_server(config & 4)};
    for (int i = 0; i < 2; i++) {
        cv.vsn[i] = config & (1u << i) ? PHX_V1 : PHX_V2;
        cv.c[i] = fuzz_conn(cv.s, cv.vsn[i], users[i]);
    }

    size_t pos = 1;
    while (pos < size) {
        uint8_t h = data[pos++];
        size_t len = 0;
        for (int i = 0; i < 2 && pos < size; i++)
            len = len << 8 | data[pos++];
        if (len > size - pos)
            len = size - pos;
        const uint8_t *msg = data + pos;
        pos += len;

        int who = h & 1;
        if (h & 0x20)
            reconnect(&cv, who);
        deliver(cv.c[who], msg, len, h & 2, (h >> 2) & 3, h & 0x10);
        if (h & 0x80)
            server_sweep_idle(cv.s, server_now_ms() + cv.s->opt.idle_timeout_ms + 1);

        for (int i = 0; i < 2; i++) {
            fuzz_check_conn(cv.c[i]);
            if (!(h & 0x40))
                fuzz_drain(cv.c[i]);
        }
        /* What the transport does once the core closed a connection; the client comes back. */
        for (int i = 0; i < 2; i++)
            if (cv.c[i]->closing)
                reconnect(&cv, i);
        FUZZ_CHECK(cv.s->nconns == 2 && cv.s->crashed == NULL, "%zu conns", cv.s->nconns);
    }

    for (int i = 0; i < 2; i++)
        fuzz_end_conn(&cv.c[i]);
    fuzz_end_server(&cv.s);
    return 0;
}
