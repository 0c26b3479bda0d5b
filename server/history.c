/*
 * history.c: per-topic rings of recent broadcasts (see history.h).
 *
 * A topic's messages sit in a growable array sorted by number (appends at the end are the common
 * case; an out-of-order arrival is inserted in place). `floor` is the number below which nothing is
 * kept any more (evicted by size or age): a replay from before it cannot be complete. `barrier` is the
 * last number before an unsequenced delivery.
 */
#include "history.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <uthash.h>

struct topic_history {
    UT_hash_handle hh;
    uint64_t epoch;
    uint64_t next;    /* history_next_seq */
    uint64_t last;    /* highest number seen */
    uint64_t floor;   /* numbers <= floor are no longer kept */
    uint64_t barrier; /* replays from since <= barrier fail (0: none) */
    bool has_barrier;
    struct history_msg *msgs;
    size_t n, cap;
    char topic[];
};

struct history {
    struct topic_history *topics;
    uint64_t seed; /* 0: random epochs */
};

static uint64_t random_epoch(void)
{
    uint64_t e = 0;
    if (getrandom(&e, sizeof(e), 0) != (ssize_t)sizeof(e)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        e = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec;
    }
    return e ? e : 1;
}

static void msg_free(struct history_msg *m)
{
    free(m->event);
    json_decref(m->payload);
    free(m->bin);
}

static void th_clear(struct topic_history *th)
{
    for (size_t i = 0; i < th->n; i++)
        msg_free(&th->msgs[i]);
    th->n = 0;
}

struct history *history_create(void)
{
    return calloc(1, sizeof(struct history));
}

struct history *history_create_seeded(uint64_t seed)
{
    struct history *h = calloc(1, sizeof(struct history));
    if (h)
        h->seed = seed;
    return h;
}

/* The seed and the topic hashed (FNV-1a, then a final mix), below 2^52 and never 0. */
static uint64_t seeded_epoch(uint64_t seed, const char *topic)
{
    uint64_t x = 0xcbf29ce484222325ull ^ seed;
    for (const unsigned char *p = (const unsigned char *)topic; *p; p++)
        x = (x ^ *p) * 0x100000001b3ull;
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    x &= (1ull << 52) - 1;
    return x ? x : 1;
}

void history_destroy(struct history **hp)
{
    struct history *h = *hp;
    if (!h)
        return;
    struct topic_history *th, *tmp;
    HASH_ITER(hh, h->topics, th, tmp)
    {
        HASH_DEL(h->topics, th);
        th_clear(th);
        free(th->msgs);
        free(th);
    }
    free(h);
    *hp = NULL;
}

struct topic_history *history_get(struct history *h, const char *topic, bool create)
{
    struct topic_history *th = NULL;
    HASH_FIND_STR(h->topics, topic, th);
    if (th || !create)
        return th;
    size_t len = strlen(topic);
    th = calloc(1, sizeof(*th) + len + 1);
    if (!th)
        return NULL;
    memcpy(th->topic, topic, len + 1);
    th->epoch = h->seed ? seeded_epoch(h->seed, topic) : random_epoch();
    HASH_ADD(hh, h->topics, topic[0], len, th);
    return th;
}

uint64_t history_epoch(const struct topic_history *th)
{
    return th->epoch;
}

uint64_t history_last_seq(const struct topic_history *th)
{
    return th->last;
}

uint64_t history_next_seq(struct topic_history *th)
{
    if (th->next < th->last)
        th->next = th->last;
    return ++th->next;
}

size_t history_count(const struct topic_history *th)
{
    return th->n;
}

/* Drop the oldest message. */
static void drop_first(struct topic_history *th)
{
    if (th->msgs[0].seq > th->floor)
        th->floor = th->msgs[0].seq;
    msg_free(&th->msgs[0]);
    memmove(th->msgs, th->msgs + 1, (th->n - 1) * sizeof(*th->msgs));
    th->n--;
}

static void expire(struct topic_history *th, uint64_t now_ms, uint64_t ttl_ms)
{
    if (!ttl_ms)
        return;
    while (th->n && now_ms - th->msgs[0].at_ms > ttl_ms)
        drop_first(th);
}

int history_add(struct topic_history *th, uint64_t epoch, uint64_t seq, const char *event, json_t *payload,
                const unsigned char *bin, size_t bin_len, uint64_t now_ms, size_t size, uint64_t ttl_ms)
{
    if (epoch != th->epoch) {
        th_clear(th);
        th->epoch = epoch;
        th->last = th->floor = th->next = 0;
        th->has_barrier = false;
        /* a topic first seen mid-epoch (a node joining late) has nothing before this message */
        th->floor = seq ? seq - 1 : 0;
    }
    if (seq <= th->floor)
        return 0; /* too old to keep */
    struct history_msg m = {.seq = seq, .at_ms = now_ms};
    m.event = strdup(event);
    if (payload)
        m.payload = json_incref(payload);
    if (bin && bin_len) {
        m.bin = malloc(bin_len);
        if (m.bin)
            memcpy(m.bin, bin, bin_len);
        m.bin_len = bin_len;
    }
    if (!m.event || (bin && bin_len && !m.bin)) {
        msg_free(&m);
        return -1;
    }
    if (th->n == th->cap) {
        size_t ncap = th->cap ? th->cap * 2 : 16;
        struct history_msg *nm = realloc(th->msgs, ncap * sizeof(*nm));
        if (!nm) {
            msg_free(&m);
            return -1;
        }
        th->msgs = nm;
        th->cap = ncap;
    }
    /* sorted insert, from the end: arrivals are almost always in order */
    size_t i = th->n;
    while (i > 0 && th->msgs[i - 1].seq > seq)
        i--;
    if (i > 0 && th->msgs[i - 1].seq == seq) {
        msg_free(&m); /* already kept */
        return 0;
    }
    memmove(th->msgs + i + 1, th->msgs + i, (th->n - i) * sizeof(*th->msgs));
    th->msgs[i] = m;
    th->n++;
    if (seq > th->last)
        th->last = seq;
    while (th->n > size)
        drop_first(th);
    expire(th, now_ms, ttl_ms);
    return 0;
}

void history_mark_unsequenced(struct topic_history *th)
{
    th->barrier = th->last;
    th->has_barrier = true;
}

bool history_replay(struct topic_history *th, uint64_t epoch, uint64_t since, uint64_t now_ms,
                    uint64_t ttl_ms, history_fn fn, void *arg)
{
    expire(th, now_ms, ttl_ms);
    if (epoch != th->epoch || since > th->last || since < th->floor)
        return false;
    if (th->has_barrier && since <= th->barrier)
        return false;
    /* everything in (since, last] must be here, without a gap */
    size_t i = 0;
    while (i < th->n && th->msgs[i].seq <= since)
        i++;
    uint64_t expect = since + 1;
    for (size_t k = i; k < th->n; k++, expect++)
        if (th->msgs[k].seq != expect)
            return false;
    if (expect != th->last + 1)
        return false;
    for (; i < th->n; i++)
        fn(arg, &th->msgs[i]);
    return true;
}
