/*
 * outq.c: a lone frame in place, else a growable ring of frame references (see outq.h).
 *
 * Invariants: cap == 0: count <= 1 and `one` is the frame (NULL when empty); cap > 0: count <= cap and
 * ring is owned. bytes == sum of the queued frames' len. An empty queue has no ring.
 */
#include "outq.h"

#include <stdlib.h>

/* The first ring's size, when a second frame comes; it doubles from there. */
#define OUTQ_FIRST_CAP 4

void outq_init(struct outq *q)
{
    q->ring = NULL;
    q->head = q->count = q->cap = 0;
    q->bytes = 0;
}

/* The i-th oldest frame's place (i < count). */
static struct frame **outq_slot(const struct outq *q, uint32_t i)
{
    if (!q->cap)
        return (struct frame **)&q->one;
    return &q->ring[(q->head + i) % q->cap];
}

static int outq_grow(struct outq *q)
{
    uint32_t ncap = q->cap ? q->cap * 2 : OUTQ_FIRST_CAP;
    if (ncap < q->cap)
        return -1;
    struct frame **nring = malloc(sizeof(*nring) * ncap);
    if (!nring)
        return -1;
    for (uint32_t i = 0; i < q->count; i++)
        nring[i] = *outq_slot(q, i);
    if (q->cap)
        free(q->ring);
    q->ring = nring;
    q->head = 0;
    q->cap = ncap;
    return 0;
}

int outq_push(struct outq *q, struct frame *f)
{
    if (q->count == (q->cap ? q->cap : 1) && outq_grow(q) != 0)
        return -1;
    frame_ref(f);
    q->count++;
    *outq_slot(q, q->count - 1) = f;
    q->bytes += f->len;
    return 0;
}

struct frame *outq_peek(const struct outq *q)
{
    return q->count ? *outq_slot(q, 0) : NULL;
}

struct frame *outq_at(const struct outq *q, uint32_t i)
{
    return i < q->count ? *outq_slot(q, i) : NULL;
}

/* After the last frame left: no ring, nothing held. */
static void outq_drained(struct outq *q)
{
    if (q->cap)
        free(q->ring);
    outq_init(q);
}

void outq_pop(struct outq *q)
{
    if (!q->count)
        return;
    struct frame **slot = outq_slot(q, 0);
    q->bytes -= (*slot)->len;
    frame_unref(slot);
    if (q->cap)
        q->head = (q->head + 1) % q->cap;
    if (!--q->count)
        outq_drained(q);
}

void outq_cleanup(struct outq *q)
{
    while (q->count)
        outq_pop(q);
    outq_drained(q);
}

bool outq_replace(struct outq *q, struct frame *f, long *delta)
{
    if (!f->ckey)
        return false;
    /* newest first: a key queued twice (not possible once conflating) would keep the later place */
    for (uint32_t i = q->count; i-- > 0;) {
        struct frame **slot = outq_slot(q, i);
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
        struct frame *f = *outq_slot(q, i);
        if (!f->broadcast)
            continue;
        *len = f->len;
        q->bytes -= f->len;
        frame_unref(&f);
        /* close the hole: shift the frames after it one place towards the head */
        for (uint32_t k = i; k + 1 < q->count; k++)
            *outq_slot(q, k) = *outq_slot(q, k + 1);
        if (!--q->count)
            outq_drained(q);
        return true;
    }
    return false;
}
