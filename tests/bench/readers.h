/*
 * readers.h: K reader threads, each with its own epoll loop (loop.h), that run until told to stop.
 *
 * A mode that must read many sockets at once (fanout's subscribers) hands each thread a share of
 * them, so the client's reading is not one thread's serial work: on a box where client and server
 * share the cores, one reading thread is what a broadcast's last delivery waits for. What a thread
 * reads, only it touches until readers_stop returns; the mode counts per thread and merges after. A
 * thread whose epoll fails ends early: what it no longer reads, the mode's own checks count as lost.
 *
 *   struct readers rs = {.k = 2, .tick = my_tick, .user = me};
 *   readers_init(&rs);                       // the loops, no threads yet
 *   wsconn_move(c, &rs.r[i % rs.k].loop);    // give each socket to one thread
 *   readers_start(&rs);
 *   ... the main thread publishes ...
 *   readers_stop(&rs);                       // joins the threads; the loops stay until readers_cleanup
 *   readers_cleanup(&rs);
 */
#ifndef CINDER_BENCH_READERS_H
#define CINDER_BENCH_READERS_H

#include "loop.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct readers;

struct reader {
    struct lg_loop loop;
    unsigned index; /* 0..k-1 */
    struct readers *rs;
    pthread_t thread;
    bool started;
};

struct readers {
    /* set by the caller */
    unsigned k;
    /* Called on reader r's thread about once a second (heartbeats): may write r's sockets. */
    void (*tick)(struct reader *r, uint64_t now_us);
    void *user;
    /* filled in */
    struct reader *r; /* k of them */
    atomic_bool stop;
};

/* The k loops. 0, or -1 (memory, epoll); readers_cleanup is needed either way. */
int readers_init(struct readers *rs);
/* Starts the k threads. 0, or -1 (the ones started are stopped). */
int readers_start(struct readers *rs);
/* Tells the threads to stop and joins them (each notices within 5 ms). */
void readers_stop(struct readers *rs);
/* Frees the loops (after readers_stop; the sockets must be closed or no longer used). */
void readers_cleanup(struct readers *rs);

#endif
