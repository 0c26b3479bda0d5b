/*
 * loop.h: the load generator's event loop: one epoll set, level-triggered, a handler per socket, and
 * one shared read buffer (no per-connection receive buffer: a connection keeps bytes only while a
 * frame is cut by a read).
 *
 *   struct lg_loop l;  lg_loop_init(&l);
 *   s->fd = fd;  s->on_event = my_handler;  lg_loop_add(&l, s, EPOLLIN);
 *   while (!done && lg_now_us() < deadline)
 *       lg_loop_poll(&l, 1000);            // waits at most 1 ms, dispatches what is ready
 */
#ifndef CINDER_BENCH_LOOP_H
#define CINDER_BENCH_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct lg_sock;
typedef void (*lg_event_fn)(struct lg_sock *s, uint32_t events);

/* Embedded first in every object the loop watches. Objects are owned by the modes and outlive the loop's
 * use of them; a handler that closed its socket sets fd to -1 and ignores any event still delivered to
 * it in the same batch. */
struct lg_sock {
    int fd;
    lg_event_fn on_event;
};

#define LG_RBUF_SIZE (256 * 1024)

struct lg_loop {
    int epfd;
    uint8_t *rbuf; /* LG_RBUF_SIZE bytes, shared by every handler for its reads */
};

/* CLOCK_MONOTONIC in microseconds: the clock of every timestamp the benchmarks put in payloads. */
uint64_t lg_now_us(void);

/* 0, or -1 (epoll or memory). */
int lg_loop_init(struct lg_loop *l);
void lg_loop_cleanup(struct lg_loop *l);

/* Watch s (borrowed: it must outlive its registration) for events. 0 or -1. */
int lg_loop_add(struct lg_loop *l, struct lg_sock *s, uint32_t events);
int lg_loop_mod(struct lg_loop *l, struct lg_sock *s, uint32_t events);
void lg_loop_del(struct lg_loop *l, struct lg_sock *s);

/* Waits up to timeout_us for events and dispatches them. Returns how many, or -1. */
int lg_loop_poll(struct lg_loop *l, uint64_t timeout_us);

#endif
