/*
 * outq.c: a growable ring of frame references (see outq.h).
 *
 * Invariants: count <= cap; bytes == sum of the queued frames' len; ring == NULL iff cap == 0.
 */
#include "outq.h"

#include <stdlib.h>

/* Rings up to this size are kept when the queue drains; bigger ones are returned to the allocator. */
#define OUTQ_KEEP_CAP 4

void outq_init(struct outq *q)
{
    q->ring = NULL;
    q->head = q->count = q->cap = 0;
    q->bytes = 0;
}

static int outq_grow(struct outq *q)
{
    uint32_t ncap = q->cap ? q->cap * 2 : OUTQ_KEEP_CAP;
    if (ncap < q->cap)
        return -1;
    struct frame **nring = malloc(sizeof(*nring) * ncap);
    if (!nring)
        return -1;
    for (uint32_t i = 0; i < q->count; i++)
        nring[i] = q->ring[(q->head + i) % q->cap];
    free(q->ring);
    q->ring = nring;
    q->head = 0;
    q->cap = ncap;
    return 0;
}

int outq_push(struct outq *q, struct frame *f)
{
    if (q->count == q->cap && outq_grow(q) != 0)
        return -1;
    frame_ref(f);
    q->ring[(q->head + q->count) % q->cap] = f;
    q->count++;
    q->bytes += f->len;
    return 0;
}

struct frame *outq_peek(const struct outq *q)
{
    return q->count ? q->ring[q->head] : NULL;
}

void outq_pop(struct outq *q)
{
    if (!q->count)
        return;
    struct frame *f = q->ring[q->head];
    q->bytes -= f->len;
    frame_unref(&f);
    q->head = (q->head + 1) % q->cap;
    q->count--;
    if (!q->count) {
        q->head = 0;
        if (q->cap > OUTQ_KEEP_CAP) {
            free(q->ring);
            q->ring = NULL;
            q->cap = 0;
        }
    }
}

void outq_cleanup(struct outq *q)
{
    while (q->count)
        outq_pop(q);
    free(q->ring);
    outq_init(q);
}
