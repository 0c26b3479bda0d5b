/*
 * frame.c: refcounted immutable frames (see frame.h).
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct frame *frame_create(const void *bytes, size_t len, bool binary)
{
    if (len > UINT32_MAX)
        return NULL;
    struct frame *f = malloc(sizeof(*f) + FRAME_HEADROOM + len);
    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->len = (uint32_t)len;
    f->binary = binary;
    f->ckey = 0;
    f->broadcast = false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    f->created_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (len)
        memcpy(frame_data(f), bytes, len);
    return f;
}

void frame_ref(struct frame *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void frame_unref(struct frame **fp)
{
    struct frame *f = *fp;
    if (!f)
        return;
    *fp = NULL;
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
        free(f);
}
