/* Tests server/outq.c: FIFO order, byte count, growth, release of memory when drained. */
#include "outq.h"

#include <criterion/criterion.h>

Test(outq, fifo_order_and_bytes)
{
    struct outq q;
    outq_init(&q);
    cr_assert(outq_empty(&q));
    cr_assert_null(outq_peek(&q));
    struct frame *a = frame_create("aa", 2, false), *b = frame_create("bbb", 3, false);
    cr_assert_eq(outq_push(&q, a), 0);
    cr_assert_eq(outq_push(&q, b), 0);
    cr_assert_eq(q.bytes, 5);
    cr_assert_eq(atomic_load(&a->refs), 2);
    cr_assert_eq(outq_peek(&q), a);
    outq_pop(&q);
    cr_assert_eq(atomic_load(&a->refs), 1);
    cr_assert_eq(outq_peek(&q), b);
    cr_assert_eq(q.bytes, 3);
    outq_pop(&q);
    cr_assert(outq_empty(&q));
    cr_assert_eq(q.bytes, 0);
    outq_pop(&q); /* no-op when empty */
    frame_unref(&a);
    frame_unref(&b);
    outq_cleanup(&q);
}

Test(outq, grows_wraps_and_returns_big_rings)
{
    struct outq q;
    outq_init(&q);
    struct frame *f = frame_create("x", 1, false);
    /* interleave pushes and pops so the ring wraps before it grows */
    for (int i = 0; i < 3; i++)
        outq_push(&q, f);
    outq_pop(&q);
    outq_pop(&q);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(outq_push(&q, f), 0);
    cr_assert_eq(q.count, 101);
    cr_assert_eq(q.bytes, 101);
    cr_assert_eq(atomic_load(&f->refs), 102);
    cr_assert_geq(q.cap, 101);
    while (!outq_empty(&q))
        outq_pop(&q);
    cr_assert_null(q.ring, "a drained queue that grew big holds no memory");
    cr_assert_eq(q.cap, 0);
    cr_assert_eq(atomic_load(&f->refs), 1);
    frame_unref(&f);
}

Test(outq, a_lone_frame_needs_no_ring_and_cleanup_drops_all)
{
    struct outq q;
    outq_init(&q);
    struct frame *f = frame_create("x", 1, false);
    struct frame *g = frame_create("yy", 2, false);
    outq_push(&q, f);
    cr_assert_eq(q.cap, 0, "one frame is held in the queue itself");
    cr_assert_eq(outq_peek(&q), f);
    cr_assert_null(outq_at(&q, 1));
    outq_pop(&q);
    cr_assert(outq_empty(&q));
    cr_assert_null(q.ring);
    outq_push(&q, f);
    outq_push(&q, g); /* the second frame brings a ring, the first moved into it */
    cr_assert_gt(q.cap, 0);
    cr_assert_eq(outq_peek(&q), f);
    cr_assert_eq(outq_at(&q, 1), g);
    cr_assert_eq(q.bytes, 3);
    outq_pop(&q);
    cr_assert_eq(outq_peek(&q), g);
    outq_pop(&q);
    cr_assert_null(q.ring, "a drained queue holds no memory");
    cr_assert_eq(q.cap, 0);
    outq_push(&q, f);
    outq_push(&q, g);
    outq_push(&q, f);
    outq_cleanup(&q);
    cr_assert_null(q.ring);
    cr_assert_eq(q.count, 0);
    cr_assert_eq(q.bytes, 0);
    cr_assert_eq(atomic_load(&f->refs), 1);
    cr_assert_eq(atomic_load(&g->refs), 1);
    frame_unref(&f);
    frame_unref(&g);
}

Test(outq, replace_by_conflation_key_and_drop_oldest_broadcast)
{
    struct outq q;
    outq_init(&q);
    struct frame *reply = frame_create("r", 1, false), *a1 = frame_create("a1", 2, false),
                 *b1 = frame_create("b11", 3, false), *a2 = frame_create("a222", 4, false);
    a1->broadcast = b1->broadcast = a2->broadcast = true;
    a1->ckey = a2->ckey = 7;
    b1->ckey = 9;
    outq_push(&q, reply);
    outq_push(&q, a1);
    outq_push(&q, b1);
    long delta = 0;
    cr_assert(outq_replace(&q, a2, &delta));
    cr_assert_eq(delta, 2);
    cr_assert_eq(q.count, 3);
    cr_assert_eq(q.bytes, 1 + 4 + 3);
    cr_assert_eq(atomic_load(&a1->refs), 1, "the replaced frame's reference is dropped");
    struct frame *none = frame_create("x", 1, false);
    cr_assert_not(outq_replace(&q, none, &delta), "no key: nothing to replace");
    size_t len;
    cr_assert(outq_drop_oldest_broadcast(&q, &len));
    cr_assert_eq(len, 4, "a2 sits where a1 was: the oldest broadcast");
    cr_assert_eq(outq_peek(&q), reply, "replies are never dropped");
    cr_assert(outq_drop_oldest_broadcast(&q, &len));
    cr_assert_not(outq_drop_oldest_broadcast(&q, &len));
    cr_assert_eq(q.count, 1);
    cr_assert_eq(q.bytes, 1);
    outq_cleanup(&q);
    struct frame *all[] = {reply, a1, b1, a2, none};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(atomic_load(&all[i]->refs), 1);
        frame_unref(&all[i]);
    }
}

Test(outq, replace_and_drop_a_lone_frame)
{
    struct outq q;
    outq_init(&q);
    struct frame *a1 = frame_create("a1", 2, false), *a2 = frame_create("a222", 4, false);
    a1->broadcast = a2->broadcast = true;
    a1->ckey = a2->ckey = 7;
    outq_push(&q, a1);
    long delta = 0;
    cr_assert(outq_replace(&q, a2, &delta));
    cr_assert_eq(delta, 2);
    cr_assert_eq(outq_peek(&q), a2);
    cr_assert_eq(q.bytes, 4);
    cr_assert_eq(atomic_load(&a1->refs), 1);
    size_t len;
    cr_assert(outq_drop_oldest_broadcast(&q, &len));
    cr_assert_eq(len, 4);
    cr_assert(outq_empty(&q));
    cr_assert_null(outq_peek(&q));
    cr_assert_eq(q.bytes, 0);
    cr_assert_eq(atomic_load(&a2->refs), 1);
    frame_unref(&a1);
    frame_unref(&a2);
}
