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

struct frame *outq_at(const struct outq *q, uint32_t i)
{
    return i < q->count ? q->ring[(q->head + i) % q->cap] : NULL;
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

bool outq_replace(struct outq *q, struct frame *f, long *delta)
{
    if (!f->ckey)
        return false;
    /* newest first: a key queued twice (not possible once conflating) would keep the later place */
    for (uint32_t i = q->count; i-- > 0;) {
        struct frame **slot = &q->ring[(q->head + i) % q->cap];
        if ((*slot)->ckey != f->ckey)
            continue;
        *delta = (long)f->len - (long)(*slot)->len;
        q->bytes = q->bytes - (*slot)->len + f->len;
        frame_unref(slot);
        frame_ref(f);
        *slot = f;
        return true;
    }
    return false;
}

bool outq_drop_oldest_broadcast(struct outq *q, size_t *len)
{
    for (uint32_t i = 0; i < q->count; i++) {
        uint32_t at = (q->head + i) % q->cap;
        struct frame *f = q->ring[at];
        if (!f->broadcast)
            continue;
        *len = f->len;
        q->bytes -= f->len;
        frame_unref(&f);
        /* close the hole: shift the frames after it one place towards the head */
        for (uint32_t k = i; k + 1 < q->count; k++)
            q->ring[(q->head + k) % q->cap] = q->ring[(q->head + k + 1) % q->cap];
        q->count--;
        if (!q->count)
            q->head = 0;
        return true;
    }
    return false;
}
