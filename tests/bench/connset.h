/*
 * connset.h: N client WebSockets opened and (optionally) joined to one topic, with at most `window`
 * connects or joins in flight, then held: the common set-up of the conns, fanout and churn modes.
 *
 * Connection i connects from source address i % nsrc with token "<prefix><i>", and joins `topic` with
 * join_ref and ref "1". Once joined (or open, without a topic), every further text frame goes to the
 * mode's on_frame. A connection that closes after that counts as dropped; the first reason is kept.
 * Once every connection is ready, they may be moved to reader threads (readers.h): a drop is then
 * counted under the set's lock.
 * An upgrade answered 503 or 429 (admission control) is tried again after its Retry-After (1 s when
 * absent), at most CONNSET_MAX_ATTEMPTS times; the retries are counted.
 *
 *   struct connset cs = {.loop = &l, .n = 2000, .dst = &addr, .nsrc = 8, .prefix = "s", .topic =
 * "telemetry:bench", .window = 256, .on_frame = my_frame, .user = me}; if (connset_open(&cs, deadline) != 0)
 * ... cs.failed, cs.error
 *   ... loop ...
 *   connset_close(&cs);
 */
#ifndef CINDER_BENCH_CONNSET_H
#define CINDER_BENCH_CONNSET_H

#include "loop.h"
#include "phx_scan.h"
#include "stats.h"
#include "wsconn.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>

#define CONNSET_MAX_ATTEMPTS 30

struct connset {
    /* set by the caller */
    struct lg_loop *loop;
    int n;
    const struct sockaddr_in *dst;
    unsigned nsrc;
    const char *prefix;
    const char *topic; /* NULL: open only */
    int window;
    /* A frame after the join (f scanned from text; both borrowed). */
    void (*on_frame)(struct connset *cs, struct wsconn *c, const struct phx_frame *f, uint64_t now_us);
    void *user;

    /* filled in */
    struct wsconn *c;
    uint8_t *ready; /* per connection: enum connset_state */
    uint8_t *attempts;
    uint64_t *t_start;
    int *retry_q; /* connections waiting to try again, FIFO */
    uint64_t *retry_at;
    int rq_head, rq_len;
    int started, inflight, ready_count, failed, dropped, retries;
    pthread_mutex_t mu;        /* dropped and error, once connections may be on several threads */
    struct lat_hist setup_lat; /* connect start to join reply */
    double setup_secs;
    char error[200]; /* the first failure or drop */
};

/* Opens and joins all n; runs the loop until every one is ready or failed, or until deadline_us.
 * 0 when all are ready, -1 otherwise (cs->error says why); connset_close is needed either way. */
int connset_open(struct connset *cs, uint64_t deadline_us);

/* Heartbeats every open connection whose last send is older than interval_us. */
void connset_heartbeat(struct connset *cs, uint64_t now_us, uint64_t interval_us);
/* The same for connections first, first + step, first + 2 step... (a reader thread's share). */
void connset_heartbeat_share(struct connset *cs, int first, int step, uint64_t now_us, uint64_t interval_us);

void connset_close(struct connset *cs);

#endif
