/* Tests server/ws_batch.c: RFC 6455 headers, how many frames fit, and the gathered bytes. */
#include "ws_batch.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(ws_batch, header_lengths_at_each_boundary)
{
    unsigned char h[WS_HEADER_MAX];
    cr_assert_eq(ws_header_encode(h, 0, false), 2);
    cr_assert_eq(h[0], 0x81); /* FIN, text */
    cr_assert_eq(h[1], 0x00); /* unmasked */
    cr_assert_eq(ws_header_encode(h, 125, true), 2);
    cr_assert_eq(h[0], 0x82); /* FIN, binary */
    cr_assert_eq(h[1], 125);
    cr_assert_eq(ws_header_encode(h, 126, false), 4);
    cr_assert_eq(h[1], 126);
    cr_assert_eq(h[2], 0x00);
    cr_assert_eq(h[3], 126);
    cr_assert_eq(ws_header_encode(h, 65535, false), 4);
    cr_assert_eq(h[2], 0xff);
    cr_assert_eq(h[3], 0xff);
    cr_assert_eq(ws_header_encode(h, 65536, false), 10);
    cr_assert_eq(h[1], 127);
    const unsigned char big[8] = {0, 0, 0, 0, 0, 1, 0, 0};
    cr_assert_eq(memcmp(h + 2, big, 8), 0);
    cr_assert_eq(ws_header_encode(h, 0xfedcba98u, true), 10);
    const unsigned char max[8] = {0, 0, 0, 0, 0xfe, 0xdc, 0xba, 0x98};
    cr_assert_eq(h[0], 0x82);
    cr_assert_eq(memcmp(h + 2, max, 8), 0);
}

static struct frame *frame_of(size_t len, char fill, bool binary)
{
    char *b = malloc(len ? len : 1);
    memset(b, fill, len);
    struct frame *f = frame_create(b, len, binary);
    free(b);
    return f;
}

/* Queue frames of the given lengths (text, filled with 'a', 'b', ...), dropping the caller's refs. */
static void push_lens(struct outq *q, const size_t *lens, int n)
{
    for (int i = 0; i < n; i++) {
        struct frame *f = frame_of(lens[i], (char)('a' + i), i % 2 == 1);
        cr_assert_eq(outq_push(q, f), 0);
        frame_unref(&f);
    }
}

Test(ws_batch, count_stops_at_frames_bytes_and_queue_end)
{
    struct outq q;
    outq_init(&q);
    size_t len = 99;
    cr_assert_eq(ws_batch_count(&q, 1024, 16, &len), 0, "an empty queue gathers nothing");
    cr_assert_eq(len, 0);
    const size_t lens[] = {10, 200, 10, 10};
    push_lens(&q, lens, 4);
    cr_assert_eq(ws_batch_count(&q, 1024, 16, &len), 4);
    cr_assert_eq(len, 12 + 204 + 12 + 12);
    cr_assert_eq(ws_batch_count(&q, 1024, 2, &len), 2, "at most max_frames");
    cr_assert_eq(len, 12 + 204);
    cr_assert_eq(ws_batch_count(&q, 12 + 203, 16, &len), 1, "stops at the first frame that does not fit");
    cr_assert_eq(len, 12);
    cr_assert_eq(ws_batch_count(&q, 12 + 204, 16, &len), 2, "an exact fit fits");
    cr_assert_eq(ws_batch_count(&q, 11, 16, &len), 0);
    cr_assert_eq(len, 0);
    cr_assert_eq(q.count, 4, "counting changes nothing");
    outq_cleanup(&q);
}

Test(ws_batch, fill_writes_each_frame_as_header_then_data)
{
    struct outq q;
    outq_init(&q);
    const size_t lens[] = {3, 300, 0, 70000};
    push_lens(&q, lens, 4);
    /* wrap the ring so gathering crosses its end */
    outq_pop(&q);
    push_lens(&q, lens, 1);
    size_t len;
    uint32_t k = ws_batch_count(&q, SIZE_MAX, 16, &len);
    cr_assert_eq(k, 4);
    cr_assert_eq(len, 304 + 2 + 70010 + 5);
    unsigned char *buf = malloc(len);
    cr_assert_eq(ws_batch_fill(&q, k, buf), len);
    /* then parse it back as a client would */
    const unsigned char *p = buf;
    for (uint32_t i = 0; i < k; i++) {
        struct frame *f = outq_at(&q, i);
        cr_assert_eq(p[0], f->binary ? 0x82 : 0x81);
        size_t n = p[1] & 0x7f, hl = 2;
        cr_assert_eq(p[1] & 0x80, 0, "a server never masks");
        if (n == 126) {
            n = (size_t)p[2] << 8 | p[3];
            hl = 4;
        } else if (n == 127) {
            n = 0;
            for (int b = 0; b < 8; b++)
                n = n << 8 | p[2 + b];
            hl = 10;
        }
        cr_assert_eq(n, f->len);
        cr_assert_eq(memcmp(p + hl, frame_data(f), n), 0);
        p += hl + n;
    }
    cr_assert_eq((size_t)(p - buf), len);
    free(buf);
    cr_assert_eq(q.count, 4, "filling changes nothing");
    outq_cleanup(&q);
    cr_assert(outq_empty(&q));
}

Test(ws_batch, outq_at_walks_the_ring)
{
    struct outq q;
    outq_init(&q);
    cr_assert_null(outq_at(&q, 0));
    const size_t lens[] = {1, 2, 3};
    push_lens(&q, lens, 3);
    outq_pop(&q);
    push_lens(&q, lens, 2); /* wraps: head at 1 of 4 slots */
    const uint32_t want[] = {2, 3, 1, 2};
    for (uint32_t i = 0; i < 4; i++)
        cr_assert_eq(outq_at(&q, i)->len, want[i]);
    cr_assert_eq(outq_at(&q, 0), outq_peek(&q));
    cr_assert_null(outq_at(&q, 4));
    outq_cleanup(&q);
}
