/*
 * readers.c: reader threads (see readers.h).
 */
#include "readers.h"

#include <stdlib.h>

#define READERS_TICK_US 1000000u

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    struct readers *rs = r->rs;
    uint64_t last_tick = lg_now_us();
    /* Bounded by the stop flag, which the main thread sets by its own deadline. */
    while (!atomic_load_explicit(&rs->stop, memory_order_acquire)) {
        if (lg_loop_poll(&r->loop, 5000) < 0)
            break; /* its subscribers' deliveries stop: fanout counts them lost */
        uint64_t now = lg_now_us();
        if (rs->tick && now - last_tick >= READERS_TICK_US) {
            rs->tick(r, now);
            last_tick = now;
        }
    }
    return NULL;
}

int readers_init(struct readers *rs)
{
    atomic_init(&rs->stop, false);
    rs->r = calloc(rs->k ? rs->k : 1, sizeof(*rs->r));
    if (!rs->r)
        return -1;
    for (unsigned i = 0; i < rs->k; i++) {
        rs->r[i].loop.epfd = -1;
        rs->r[i].index = i;
        rs->r[i].rs = rs;
    }
    for (unsigned i = 0; i < rs->k; i++)
        if (lg_loop_init(&rs->r[i].loop) != 0)
            return -1;
    return 0;
}

int readers_start(struct readers *rs)
{
    for (unsigned i = 0; i < rs->k; i++) {
        if (pthread_create(&rs->r[i].thread, NULL, reader_main, &rs->r[i]) != 0) {
            readers_stop(rs);
            return -1;
        }
        rs->r[i].started = true;
    }
    return 0;
}

void readers_stop(struct readers *rs)
{
    atomic_store_explicit(&rs->stop, true, memory_order_release);
    for (unsigned i = 0; rs->r && i < rs->k; i++) {
        if (rs->r[i].started)
            pthread_join(rs->r[i].thread, NULL);
        rs->r[i].started = false;
    }
}

void readers_cleanup(struct readers *rs)
{
    for (unsigned i = 0; rs->r && i < rs->k; i++)
        lg_loop_cleanup(&rs->r[i].loop); /* safe on a loop whose init failed or never ran (epfd -1) */
    free(rs->r);
    rs->r = NULL;
}
