/*
 * acceptor.c: accept and place (see acceptor.h). epoll, edge-triggered for the connections being
 * read: MSG_PEEK leaves the bytes in the socket, so only new bytes may wake us again.
 */
#define _GNU_SOURCE /* accept4 */
#include "acceptor.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WS_PATH "/socket/websocket"
/* libwebsockets' header buffer: a request whose headers do not end within it is refused by lws anyway */
#define PEEK_BYTES 4096
#define ACCEPT_BATCH 256
#define FD_PAUSE_MS 100

struct pending {
    struct pending *prev, *next; /* oldest first */
    int fd;
    uint64_t deadline_ms;
};

struct acceptor {
    int lfd, ep;
    bool peek;
    acceptor_place_fn place;
    void *arg;
    struct pending *head, *tail;
    size_t npending;
    uint64_t paused_until_ms; /* out of descriptors: accept again after this */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* bind as an IPv4 address, else as the name of an interface with one. 0 or -1. */
static int resolve(const char *addr, struct in_addr *out)
{
    if (!addr || !*addr) {
        out->s_addr = htonl(INADDR_ANY);
        return 0;
    }
    if (inet_pton(AF_INET, addr, out) == 1)
        return 0;
    struct ifaddrs *ifs, *i;
    int rc = -1;
    if (getifaddrs(&ifs) != 0)
        return -1;
    for (i = ifs; i && rc; i = i->ifa_next) {
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && strcmp(i->ifa_name, addr) == 0) {
            *out = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
            rc = 0;
        }
    }
    freeifaddrs(ifs);
    return rc;
}

struct acceptor *acceptor_create(const char *addr, int port, bool peek, acceptor_place_fn place, void *arg,
                                 char *err, size_t errlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (resolve(addr, &sa.sin_addr) != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: not an IPv4 address or interface", addr, port);
        return NULL;
    }
    struct acceptor *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->peek = peek;
    a->place = place;
    a->arg = arg;
    a->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    a->ep = epoll_create1(EPOLL_CLOEXEC);
    int one = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (a->lfd < 0 || a->ep < 0 || setsockopt(a->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(a->lfd, SOMAXCONN) != 0 ||
        epoll_ctl(a->ep, EPOLL_CTL_ADD, a->lfd, &ev) != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", addr ? addr : "*", port, strerror(errno));
        if (a->lfd >= 0)
            close(a->lfd);
        if (a->ep >= 0)
            close(a->ep);
        free(a);
        return NULL;
    }
    return a;
}

static void unlink_pending(struct acceptor *a, struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        a->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        a->tail = p->prev;
    a->npending--;
}

/* Stop reading p: place its connection (websocket as decided), or close it (place false). */
static void finish(struct acceptor *a, struct pending *p, bool place, bool websocket)
{
    epoll_ctl(a->ep, EPOLL_CTL_DEL, p->fd, NULL);
    unlink_pending(a, p);
    if (place)
        a->place(a->arg, p->fd, websocket);
    else
        close(p->fd);
    free(p);
}

/* What the request in buf[0..n) is, once its headers have ended (or filled the buffer): 1 a WebSocket
 * upgrade on the socket path, 0 anything else; -1 not yet. Waiting for the whole header block keeps the
 * 10 s that a client may take before its request is complete one deadline, the acceptor's: libwebsockets
 * gets it whole and starts its own timer only then. */
static int classify(const char *buf, size_t n)
{
    const char *sp = memchr(buf, ' ', n);
    if (!sp && n < 16)
        return -1;
    if (!sp)
        return 0; /* no method within 16 bytes: not HTTP; libwebsockets refuses it */
    if (n < PEEK_BYTES && !memmem(buf, n, "\r\n\r\n", 4))
        return -1;
    size_t off = (size_t)(sp - buf) + 1, len = 0;
    while (off + len < n && !strchr(" ?\r\n", buf[off + len]))
        len++;
    bool get = sp - buf == 3 && memcmp(buf, "GET", 3) == 0;
    return get && len == strlen(WS_PATH) && memcmp(buf + off, WS_PATH, len) == 0;
}

static void on_readable(struct acceptor *a, struct pending *p)
{
    char buf[PEEK_BYTES];
    ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        finish(a, p, false, false); /* gone before its request */
        return;
    }
    if (n < 0)
        return;
    int kind = classify(buf, (size_t)n);
    if (kind >= 0)
        finish(a, p, true, kind == 1);
}

static void on_accepted(struct acceptor *a, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!a->peek || a->npending >= ACCEPTOR_MAX_PENDING) {
        a->place(a->arg, fd, false);
        return;
    }
    struct pending *p = calloc(1, sizeof(*p));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET};
    ev.data.ptr = p;
    if (!p || epoll_ctl(a->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        free(p);
        a->place(a->arg, fd, false);
        return;
    }
    p->fd = fd;
    p->deadline_ms = now_ms() + ACCEPTOR_PEEK_MS;
    p->prev = a->tail;
    if (a->tail)
        a->tail->next = p;
    else
        a->head = p;
    a->tail = p;
    a->npending++;
    on_readable(a, p); /* its request may be there already */
}

static void accept_some(struct acceptor *a)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            on_accepted(a, fd);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* The connection stays in the backlog; the listening socket would wake us at once again. */
            log_msg(LOG_WARN, "accept: %s: pausing %d ms", strerror(errno), FD_PAUSE_MS);
            a->paused_until_ms = now_ms() + FD_PAUSE_MS;
            struct epoll_event ev = {.events = 0, .data.ptr = NULL};
            epoll_ctl(a->ep, EPOLL_CTL_MOD, a->lfd, &ev);
        }
        return; /* EAGAIN, or a connection that failed before we took it */
    }
}

int acceptor_service(struct acceptor *a, int timeout_ms)
{
    uint64_t now = now_ms();
    if (a->paused_until_ms && now >= a->paused_until_ms) {
        a->paused_until_ms = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        epoll_ctl(a->ep, EPOLL_CTL_MOD, a->lfd, &ev);
    }
    if (a->head && a->head->deadline_ms > now && a->head->deadline_ms - now < (uint64_t)timeout_ms)
        timeout_ms = (int)(a->head->deadline_ms - now);
    if (a->paused_until_ms && a->paused_until_ms - now < (uint64_t)timeout_ms)
        timeout_ms = (int)(a->paused_until_ms - now);
    struct epoll_event evs[64];
    int n = epoll_wait(a->ep, evs, 64, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        if (!evs[i].data.ptr)
            accept_some(a);
        else
            on_readable(a, evs[i].data.ptr);
    }
    now = now_ms();
    while (a->head && a->head->deadline_ms <= now)
        finish(a, a->head, false, false); /* no request line in time */
    return 0;
}

void acceptor_destroy(struct acceptor **ap)
{
    struct acceptor *a = *ap;
    if (!a)
        return;
    while (a->head)
        finish(a, a->head, false, false);
    close(a->lfd);
    close(a->ep);
    free(a);
    *ap = NULL;
}
