/*
 * frame.h: an immutable, refcounted, encoded frame: the unit every write queue holds.
 *
 * A broadcast is encoded once into one frame and every subscriber's queue holds a reference to it; the
 * last frame_unref frees it. FRAME_HEADROOM bytes stay free before the data so a transport can put its
 * own header there in place (libwebsockets' LWS_PRE; the WebSocket transport checks the size at compile
 * time). The count is atomic so a frame may cross event-loop threads.
 *
 *     struct frame *f = frame_create("[1]", 3, false);   // refs == 1
 *     frame_ref(f);                                      // refs == 2, e.g. a second queue
 *     frame_unref(&f);                                   // f == NULL, one reference left elsewhere
 */
#ifndef CINDER_FRAME_H
#define CINDER_FRAME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADROOM 16

struct frame {
    atomic_uint refs;
    uint32_t len;         /* bytes of data */
    bool binary;          /* a WebSocket binary message rather than text */
    bool broadcast;       /* a broadcast's shared frame (pubsub.c): its writes are timed (metrics) */
    uint64_t ckey;        /* conflation key (topic and key value hashed, topic_policy.h); 0: none */
    uint64_t created_us;  /* monotonic microseconds at creation (server_now_us's clock) */
    unsigned char _mem[]; /* FRAME_HEADROOM bytes, then the data */
};

/* New frame holding a copy of bytes, stamped with the time (created_us), not a broadcast; one reference
 * owned by the caller. NULL when out of memory or len > UINT32_MAX. */
struct frame *frame_create(const void *bytes, size_t len, bool binary);
/* Take another reference. */
void frame_ref(struct frame *f);
/* Drop the reference *f and set *f to NULL; frees on the last one. NULL-safe. */
void frame_unref(struct frame **f);

static inline unsigned char *frame_data(struct frame *f)
{
    return f->_mem + FRAME_HEADROOM;
}

#endif
