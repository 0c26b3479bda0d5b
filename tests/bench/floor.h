/*
 * floor.h: the kernel's floor on this machine: what one write() of one small frame to a loopback TCP
 * socket costs, measured rather than assumed, so every server figure can be given as a ratio of it.
 *
 * One thread writes one frame per write() to each of N sockets in turn (TCP_NODELAY, as the server's
 * are), another drains the peers through epoll. The figure is writes per CPU-second of the writing
 * thread (its user + system time from getrusage(RUSAGE_THREAD)), which includes the loopback delivery
 * the kernel does inside write(): the same work a server does per delivery, and nothing else.
 */
#ifndef CINDER_BENCH_FLOOR_H
#define CINDER_BENCH_FLOOR_H

#include <stddef.h>
#include <stdint.h>

struct floor_result {
    int sockets;
    size_t frame_len;
    double secs;          /* wall time of the writing */
    uint64_t writes;      /* frames written whole */
    uint64_t eagain;      /* writes refused because the peer's buffers were full (not counted) */
    double w_user, w_sys; /* the writer's CPU seconds */
    double writes_per_cpu_s;
    double drain_cpu_s; /* the draining thread's CPU seconds */
    uint64_t bytes_drained;
};

/* Runs the measurement for secs seconds on nsock socket pairs. 0, or -1 with err set. */
int floor_measure(int nsock, size_t frame_len, double secs, struct floor_result *r, char *err, size_t errlen);

#endif
