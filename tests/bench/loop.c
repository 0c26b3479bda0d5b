/*
 * loop.c: the epoll loop (see loop.h).
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LG_MAX_EVENTS 512

uint64_t lg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int lg_loop_init(struct lg_loop *l)
{
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->rbuf = malloc(LG_RBUF_SIZE);
    if (l->epfd < 0 || !l->rbuf) {
        lg_loop_cleanup(l);
        return -1;
    }
    return 0;
}

void lg_loop_cleanup(struct lg_loop *l)
{
    if (l->epfd >= 0)
        close(l->epfd);
    l->epfd = -1;
    free(l->rbuf);
    l->rbuf = NULL;
}

static int ctl(struct lg_loop *l, int op, struct lg_sock *s, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    return epoll_ctl(l->epfd, op, s->fd, &ev) == 0 ? 0 : -1;
}

int lg_loop_add(struct lg_loop *l, struct lg_sock *s, uint32_t events)
{
    return ctl(l, EPOLL_CTL_ADD, s, events);
}

int lg_loop_mod(struct lg_loop *l, struct lg_sock *s, uint32_t events)
{
    return ctl(l, EPOLL_CTL_MOD, s, events);
}

void lg_loop_del(struct lg_loop *l, struct lg_sock *s)
{
    if (s->fd >= 0)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
}

int lg_loop_poll(struct lg_loop *l, uint64_t timeout_us)
{
    struct epoll_event ev[LG_MAX_EVENTS];
    struct timespec ts = {(time_t)(timeout_us / 1000000u), (long)(timeout_us % 1000000u) * 1000};
    int n = epoll_pwait2(l->epfd, ev, LG_MAX_EVENTS, &ts, NULL);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        struct lg_sock *s = ev[i].data.ptr;
        s->on_event(s, ev[i].events);
    }
    return n;
}
