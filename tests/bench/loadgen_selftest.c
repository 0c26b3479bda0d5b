/*
 * loadgen_selftest.c: checks the load generator's own sans-IO parts, so that a figure it prints is not
 * an artefact of its parser: the frame decoder at every split of a byte stream, the upgrade answer,
 * the V2 header scanner, loss and duplicate bookkeeping, percentiles. Prints one line per failed check
 * and "selftest: N checks, M failed"; exits 1 when any failed. Run by scripts/test.sh with the smoke.
 */
#include "phx_scan.h"
#include "seqmap.h"
#include "stats.h"
#include "ws_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        checks++;                                                                                            \
        if (!(cond)) {                                                                                       \
            failures++;                                                                                      \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                           \
        }                                                                                                    \
    } while (0)

/* A server frame (unmasked) into out: returns its length. */
static size_t server_frame(uint8_t *out, int op, int fin, const uint8_t *p, size_t len)
{
    size_t h = 0;
    out[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (len < 126) {
        out[h++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        out[h++] = 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(out + h, p, len);
    return h + len;
}

struct got {
    int n;
    int ops[16];
    size_t lens[16];
    unsigned sums[16];
};

static int collect(void *ctx, int op, const uint8_t *data, size_t len)
{
    struct got *g = ctx;
    if (g->n < 16) {
        unsigned s = 0;
        for (size_t i = 0; i < len; i++)
            s = s * 31 + data[i];
        g->ops[g->n] = op;
        g->lens[g->n] = len;
        g->sums[g->n] = s;
    }
    g->n++;
    return 0;
}

static void test_decoder(void)
{
    static uint8_t stream[200000], payload[70000];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    size_t n = 0;
    n += server_frame(stream + n, WS_OP_TEXT, 1, payload, 0);
    n += server_frame(stream + n, WS_OP_TEXT, 1, payload, 125);
    n += server_frame(stream + n, WS_OP_TEXT, 1, payload, 126);
    n += server_frame(stream + n, WS_OP_TEXT, 0, payload, 10); /* fragmented: 10 + ping + 20 */
    n += server_frame(stream + n, WS_OP_PING, 1, payload, 4);
    n += server_frame(stream + n, WS_OP_CONT, 1, payload + 10, 20);
    n += server_frame(stream + n, WS_OP_BINARY, 1, payload, 65536);
    n += server_frame(stream + n, WS_OP_TEXT, 1, payload, 3);
    struct got whole = {0};
    struct ws_dec d;
    ws_dec_init(&d, 1 << 20);
    CHECK(ws_dec_feed(&d, stream, n, collect, &whole) == 0);
    ws_dec_cleanup(&d);
    CHECK(whole.n == 7);
    CHECK(whole.ops[3] == WS_OP_PING && whole.lens[3] == 4);
    CHECK(whole.ops[4] == WS_OP_TEXT && whole.lens[4] == 30); /* the fragments, joined */
    CHECK(whole.ops[5] == WS_OP_BINARY && whole.lens[5] == 65536);
    /* Every split into two reads, then reads of every size 1..40 bytes, give the same messages. */
    int bad = 0;
    for (size_t cut = 0; cut <= n && !bad; cut += cut < 400 ? 1 : 997) {
        struct got g = {0};
        ws_dec_init(&d, 1 << 20);
        bad |= ws_dec_feed(&d, stream, cut, collect, &g) != 0 ||
               ws_dec_feed(&d, stream + cut, n - cut, collect, &g) != 0;
        bad |= g.n != whole.n || memcmp(g.sums, whole.sums, sizeof(g.sums)) != 0 ||
               memcmp(g.lens, whole.lens, sizeof(g.lens)) != 0;
        ws_dec_cleanup(&d);
    }
    CHECK(!bad);
    for (size_t step = 1; step <= 40 && !bad; step++) {
        struct got g = {0};
        ws_dec_init(&d, 1 << 20);
        for (size_t at = 0; at < n; at += step)
            bad |= ws_dec_feed(&d, stream + at, at + step > n ? n - at : step, collect, &g) != 0;
        bad |= g.n != whole.n || memcmp(g.sums, whole.sums, sizeof(g.sums)) != 0;
        ws_dec_cleanup(&d);
    }
    CHECK(!bad);
    /* Protocol errors: a masked server frame, a message over the limit, a stray continuation. */
    uint8_t masked[] = {0x81, 0x81, 1, 2, 3, 4, 'x'}, cont[] = {0x80, 0x00};
    struct got g = {0};
    ws_dec_init(&d, 100);
    CHECK(ws_dec_feed(&d, masked, sizeof(masked), collect, &g) == WS_ERR_PROTOCOL);
    ws_dec_cleanup(&d);
    ws_dec_init(&d, 100);
    n = server_frame(stream, WS_OP_TEXT, 1, payload, 101);
    CHECK(ws_dec_feed(&d, stream, n, collect, &g) == WS_ERR_TOO_BIG);
    ws_dec_cleanup(&d);
    ws_dec_init(&d, 100);
    CHECK(ws_dec_feed(&d, cont, sizeof(cont), collect, &g) == WS_ERR_PROTOCOL);
    ws_dec_cleanup(&d);
}

static void test_encode_and_handshake(void)
{
    uint8_t out[300];
    const char *msg = "[null,\"1\",\"phoenix\",\"heartbeat\",{}]";
    size_t len = strlen(msg), n = ws_frame_encode(out, WS_OP_TEXT, msg, len, 0x11223344u);
    CHECK(n == ws_frame_size(len) && out[0] == 0x81 && out[1] == (0x80 | len));
    int same = 1;
    for (size_t i = 0; i < len; i++)
        same &= (char)(out[6 + i] ^ out[2 + (i & 3)]) == msg[i];
    CHECK(same);
    CHECK(ws_frame_size(126) == 126 + 8 && ws_frame_size(70000) == 70000 + 14);

    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00";
    int st;
    CHECK(ws_handshake_response(ok, 20, &st) == 0);
    int head = (int)(strstr(ok, "\r\n\r\n") + 4 - ok);
    CHECK(ws_handshake_response(ok, strlen(ok) + 1, &st) == head && st == 101);
    const char *no = "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n";
    CHECK(ws_handshake_response(no, strlen(no), &st) == WS_ERR_STATUS && st == 403);
    char req[512];
    CHECK(ws_handshake_request(req, sizeof(req), "127.0.0.1", 4000, "/socket/websocket?token=a&vsn=2.0.0") >
          0);
    CHECK(strstr(req, "GET /socket/websocket?token=a&vsn=2.0.0 HTTP/1.1\r\n") == req);
    CHECK(ws_handshake_request(req, 10, "127.0.0.1", 4000, "/x") == -1);
}

static void test_scan(void)
{
    struct phx_frame f;
    const char *b = "[null,null,\"telemetry:bench\",\"bench\",{\"s\":42,\"t\":123456789,\"p\":\"xx\"}]";
    CHECK(phx_scan(b, strlen(b), &f) == 0);
    CHECK(!f.join_ref.p && !f.ref.p && phx_str_is(&f.topic, "telemetry:bench") &&
          phx_str_is(&f.event, "bench"));
    uint64_t v = 0;
    CHECK(phx_payload_u64(f.payload, f.payload_len, "s", &v) == 0 && v == 42);
    CHECK(phx_payload_u64(f.payload, f.payload_len, "t", &v) == 0 && v == 123456789);
    CHECK(phx_payload_u64(f.payload, f.payload_len, "q", &v) == -1);
    const char *r = "[\"1\",\"7\",\"room:a\\\"b\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]";
    CHECK(phx_scan(r, strlen(r), &f) == 0 && phx_str_is(&f.ref, "7") && phx_str_is(&f.event, "phx_reply"));
    CHECK(phx_reply_ok(f.payload, f.payload_len) && f.payload[0] == '{' &&
          f.payload[f.payload_len - 1] == '}');
    CHECK(phx_str_starts(&f.topic, "room:") && !phx_str_starts(&f.join_ref, "12"));
    const char *e = "[\"1\",\"7\",\"room:a\",\"phx_reply\",{\"status\":\"error\",\"response\":{}}]";
    CHECK(phx_scan(e, strlen(e), &f) == 0 && !phx_reply_ok(f.payload, f.payload_len));
    CHECK(phx_scan("{\"topic\":1}", 11, &f) == -1);
    CHECK(phx_scan("[null,null,\"t\"]", 15, &f) == -1);
    CHECK(phx_scan("[null,null,\"t\",\"e\",]", 20, &f) == -1);
    CHECK(phx_scan("[1,null,\"t\",\"e\",{}]", 19, &f) == -1);
}

static void test_seqmap_and_stats(void)
{
    struct seqmap m;
    CHECK(seqmap_init(&m, 10) == 0);
    CHECK(seqmap_mark(&m, 3) == SEQ_NEW && seqmap_mark(&m, 3) == SEQ_DUP &&
          seqmap_mark(&m, 10) == SEQ_OUT_OF_RANGE);
    CHECK(seqmap_mark(&m, 0) == SEQ_NEW && seqmap_mark(&m, 9) == SEQ_NEW);
    CHECK(m.unique == 3 && m.dups == 1 && m.out_of_range == 1);
    CHECK(seqmap_has(&m, 9) && !seqmap_has(&m, 8) && !seqmap_has(&m, 10));
    seqmap_cleanup(&m);

    struct lat_hist h;
    lat_hist_init(&h);
    CHECK(lat_hist_percentile(&h, 0.5) == 0);
    for (uint64_t v = 1; v <= 100000; v++)
        lat_hist_add(&h, v);
    uint64_t p50 = lat_hist_percentile(&h, 0.5), p99 = lat_hist_percentile(&h, 0.99);
    CHECK(p50 >= 50000 && p50 <= 50000 * 1.016 + 1);
    CHECK(p99 >= 99000 && p99 <= 99000 * 1.016 + 1);
    CHECK(lat_hist_percentile(&h, 1.0) == 100000 && h.min == 1 && h.max == 100000);
    struct lat_hist small;
    lat_hist_init(&small);
    for (uint64_t v = 0; v < 60; v++)
        lat_hist_add(&small, v);
    CHECK(lat_hist_percentile(&small, 0.5) == 29); /* exact below 64 us */
    lat_hist_merge(&small, &h);
    CHECK(small.count == 100060 && small.min == 0 && small.max == 100000);
    lat_hist_add(&small, (uint64_t)1 << 50); /* beyond the last bucket: still the max */
    CHECK(lat_hist_percentile(&small, 1.0) == (uint64_t)1 << 50);
}

int main(void)
{
    test_decoder();
    test_encode_and_handshake();
    test_scan();
    test_seqmap_and_stats();
    printf("selftest: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
