/*
 * outq.h: one connection's write queue, a FIFO of frame references with a byte count.
 *
 * The queue never copies frame bytes: it holds references. It costs nothing while empty (no memory); a
 * lone frame, the usual case of a subscriber that keeps up, is held in the queue itself, so a delivery
 * allocates nothing. A second frame brings a ring of pointers, which grows as needed and is released
 * when the queue drains, so an idle connection holds no queue memory. The byte limit and what happens
 * past it are the connection's policy (conn.c), not the queue's.
 *
 *     struct outq q;
 *     outq_init(&q);
 *     outq_push(&q, f);            // q holds a new reference to f
 *     struct frame *head = outq_peek(&q);
 *     outq_pop(&q);                // drops that reference
 *     outq_cleanup(&q);            // drops every reference left
 */
#ifndef CINDER_OUTQ_H
#define CINDER_OUTQ_H

#include "frame.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outq {
    union {
        struct frame **ring; /* cap > 0: owned, cap slots */
        struct frame *one;   /* cap == 0: the lone frame while count == 1, else NULL */
    };
    uint32_t head;
    uint32_t count;
    uint32_t cap; /* 0: no ring */
    size_t bytes; /* sum of len of the queued frames */
};

void outq_init(struct outq *q);
/* Append f, taking a new reference (f itself stays borrowed). 0, or -1 when out of memory (then q is
 * unchanged and no reference was taken). */
int outq_push(struct outq *q, struct frame *f);
/* The oldest frame (borrowed), or NULL when empty. */
struct frame *outq_peek(const struct outq *q);
/* The i-th oldest frame (borrowed; outq_at(q, 0) is outq_peek(q)), or NULL when i >= the count. */
struct frame *outq_at(const struct outq *q, uint32_t i);
/* Drop the oldest frame. No-op when empty. */
void outq_pop(struct outq *q);
/* Put f (a new reference is taken) in the place of the queued frame with the same non-zero ckey, whose
 * reference is dropped. *delta gets the change in bytes. false (nothing changed) when there is none. */
bool outq_replace(struct outq *q, struct frame *f, long *delta);
/* Remove the oldest queued broadcast frame (replies and pushes stay), dropping its reference; *len gets
 * its size. false when the queue holds no broadcast. */
bool outq_drop_oldest_broadcast(struct outq *q, size_t *len);
/* Drop every frame and free the ring (if any); the queue is empty and usable afterwards. */
void outq_cleanup(struct outq *q);

static inline int outq_empty(const struct outq *q)
{
    return q->count == 0;
}

#endif
