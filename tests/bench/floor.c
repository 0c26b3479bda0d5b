/*
 * floor.c: the loopback write floor (see floor.h).
 */
#include "floor.h"

#include "loop.h"
#include "net.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct floor_run {
    int n;
    int *wfd, *rfd; /* writer side (accepted), drainer side (connected) */
    size_t frame_len;
    double secs;
    atomic_int writer_done;
    struct floor_result *r;
};

static void *writer(void *arg)
{
    struct floor_run *fr = arg;
    uint8_t frame[4096];
    memset(frame, 'x', sizeof(frame));
    frame[0] = 0x81; /* a WebSocket text frame, as a server would write */
    frame[1] = (uint8_t)(fr->frame_len - 2 < 126 ? fr->frame_len - 2 : 126);
    double u0, s0, u1, s1;
    thread_cpu_seconds(&u0, &s0);
    uint64_t t0 = lg_now_us(), end = t0 + (uint64_t)(fr->secs * 1e6), writes = 0, eagain = 0, now = t0;
    /* Bounded by time, checked every round of n writes. */
    while (now < end) {
        for (int i = 0; i < fr->n; i++) {
            ssize_t w = write(fr->wfd[i], frame, fr->frame_len);
            if (w == (ssize_t)fr->frame_len)
                writes++;
            else
                eagain++;
        }
        now = lg_now_us();
    }
    thread_cpu_seconds(&u1, &s1);
    fr->r->secs = (double)(now - t0) / 1e6;
    fr->r->writes = writes;
    fr->r->eagain = eagain;
    fr->r->w_user = u1 - u0;
    fr->r->w_sys = s1 - s0;
    atomic_store(&fr->writer_done, 1);
    return NULL;
}

static void *drainer(void *arg)
{
    struct floor_run *fr = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    uint8_t *buf = malloc(65536);
    double u0, s0, u1, s1;
    thread_cpu_seconds(&u0, &s0);
    if (ep >= 0 && buf) {
        for (int i = 0; i < fr->n; i++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, fr->rfd[i], &ev);
        }
        struct epoll_event evs[256];
        /* Ends one idle wait after the writer; bounded by the writer's duration plus that wait. */
        for (int idle = 0; idle < 2;) {
            int k = epoll_wait(ep, evs, 256, 20);
            if (k <= 0) {
                if (atomic_load(&fr->writer_done))
                    idle++;
                continue;
            }
            for (int j = 0; j < k; j++) {
                ssize_t n = read(fr->rfd[evs[j].data.u32], buf, 65536);
                if (n > 0)
                    fr->r->bytes_drained += (uint64_t)n;
            }
        }
    }
    thread_cpu_seconds(&u1, &s1);
    fr->r->drain_cpu_s = (u1 - u0) + (s1 - s0);
    free(buf);
    if (ep >= 0)
        close(ep);
    return NULL;
}

/* n connected pairs through a listener on 127.0.0.1. 0 or -1. */
static int make_pairs(struct floor_run *fr, char *err, size_t errlen)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a;
    net_loopback_addr("127.0.0.1", 1, &a);
    a.sin_port = 0;
    socklen_t alen = sizeof(a);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        snprintf(err, errlen, "floor: listen: %s", strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < fr->n; i++) {
        int c = net_connect(&a, (unsigned)i, 8);
        if (c < 0) {
            snprintf(err, errlen, "floor: connect %d: %s", i, strerror(-c));
            rc = -1;
            break;
        }
        fr->rfd[i] = c;
        int s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s < 0) {
            snprintf(err, errlen, "floor: accept %d: %s", i, strerror(errno));
            rc = -1;
            break;
        }
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fr->wfd[i] = s;
    }
    close(lfd);
    return rc;
}

int floor_measure(int nsock, size_t frame_len, double secs, struct floor_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    if (frame_len < 3 || frame_len > 127 || nsock < 1) {
        snprintf(err, errlen, "floor: frame length must be 3..127 bytes and sockets at least 1");
        return -1;
    }
    struct floor_run fr = {.n = nsock, .frame_len = frame_len, .secs = secs, .r = r};
    atomic_init(&fr.writer_done, 0);
    fr.wfd = malloc(sizeof(int) * (size_t)nsock);
    fr.rfd = malloc(sizeof(int) * (size_t)nsock);
    int rc = -1;
    if (!fr.wfd || !fr.rfd) {
        snprintf(err, errlen, "floor: out of memory");
        goto out;
    }
    for (int i = 0; i < nsock; i++)
        fr.wfd[i] = fr.rfd[i] = -1;
    if (make_pairs(&fr, err, errlen) != 0)
        goto out;
    pthread_t tw, td;
    if (pthread_create(&td, NULL, drainer, &fr) != 0) {
        snprintf(err, errlen, "floor: no thread");
        goto out;
    }
    if (pthread_create(&tw, NULL, writer, &fr) != 0) {
        atomic_store(&fr.writer_done, 1);
        pthread_join(td, NULL);
        snprintf(err, errlen, "floor: no thread");
        goto out;
    }
    pthread_join(tw, NULL);
    pthread_join(td, NULL);
    r->sockets = nsock;
    r->frame_len = frame_len;
    double cpu = r->w_user + r->w_sys;
    r->writes_per_cpu_s = cpu > 0 ? (double)r->writes / cpu : 0;
    rc = 0;
out:
    for (int i = 0; fr.wfd && fr.rfd && i < nsock; i++) {
        if (fr.wfd[i] >= 0)
            close(fr.wfd[i]);
        if (fr.rfd[i] >= 0)
            close(fr.rfd[i]);
    }
    free(fr.wfd);
    free(fr.rfd);
    return rc;
}
