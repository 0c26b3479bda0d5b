/*
 * registry.c: topic -> intrusive list of subscribers, in an open-addressing hash table.
 *
 * Invariants: every topic in the table has count >= 1 subscribers, all linked through next/_prev and
 * pointing back with _topic; nsubs is the sum of the counts. New subscribers go to the head. The table
 * (linear probing, no tombstones: a removal shifts the entries after it back) has a power-of-two
 * capacity, at most 3/4 full, halved again when it falls under 1/8 full.
 *
 * Why not uthash: a topic entry is 16 bytes plus its name here, against uthash's 56-byte handle plus
 * buckets; with a socket id per connection (Phoenix's "users_socket:<id>"), every connection owns a
 * topic, so that is ~50 bytes of every idle connection.
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

struct reg_topic {
    struct reg_sub *head;
    uint32_t count;
    uint32_t hash;
    char name[];
};

struct registry {
    struct reg_topic **slots; /* cap entries, NULL when empty */
    size_t cap;               /* 0 (no table yet) or a power of two */
    size_t ntopics;
    size_t nsubs;
};

#define REG_MIN_CAP 16

/* FNV-1a: short keys, no seed (as uthash's default was). */
static uint32_t topic_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot holding topic, or the empty slot where it would go. Needs a table (cap > 0). */
static size_t slot_of(const struct registry *r, const char *topic, uint32_t h)
{
    size_t mask = r->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct reg_topic *t = r->slots[i];
        if (!t || (t->hash == h && strcmp(t->name, topic) == 0))
            return i;
    }
}

/* Move every topic into a new table of ncap slots. 0 or -1 (out of memory: the old table stays). */
static int rehash(struct registry *r, size_t ncap)
{
    struct reg_topic **nslots = calloc(ncap, sizeof(*nslots));
    if (!nslots)
        return -1;
    for (size_t i = 0; i < r->cap; i++) {
        struct reg_topic *t = r->slots[i];
        if (!t)
            continue;
        size_t j = t->hash & (ncap - 1);
        while (nslots[j])
            j = (j + 1) & (ncap - 1);
        nslots[j] = t;
    }
    free(r->slots);
    r->slots = nslots;
    r->cap = ncap;
    return 0;
}

/* Empty slot i and shift the run of entries after it back into place (linear probing's deletion). */
static void remove_slot(struct registry *r, size_t i)
{
    size_t mask = r->cap - 1;
    r->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; r->slots[j]; j = (j + 1) & mask) {
        size_t home = r->slots[j]->hash & mask;
        /* the entry at j may move to the hole at i if its home is not in (i, j] (cyclically) */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            r->slots[i] = r->slots[j];
            r->slots[j] = NULL;
            i = j;
        }
    }
}

struct registry *registry_create(void)
{
    return calloc(1, sizeof(struct registry));
}

void registry_destroy(struct registry **rp)
{
    struct registry *r = *rp;
    if (!r)
        return;
    for (size_t i = 0; i < r->cap; i++) {
        struct reg_topic *t = r->slots[i];
        if (!t)
            continue;
        for (struct reg_sub *s = t->head; s; s = s->next)
            s->_topic = NULL;
        free(t);
    }
    free(r->slots);
    free(r);
    *rp = NULL;
}

struct reg_topic *registry_find(const struct registry *r, const char *topic)
{
    if (!r->cap)
        return NULL;
    return r->slots[slot_of(r, topic, topic_hash(topic))];
}

int registry_subscribe(struct registry *r, const char *topic, struct reg_sub *s)
{
    if (s->_topic)
        return -2;
    /* room for one more topic, at most 3/4 full */
    if ((r->ntopics + 1) * 4 > r->cap * 3 && rehash(r, r->cap ? r->cap * 2 : REG_MIN_CAP) != 0)
        return -1;
    uint32_t h = topic_hash(topic);
    size_t i = slot_of(r, topic, h);
    struct reg_topic *t = r->slots[i];
    if (!t) {
        size_t len = strlen(topic);
        t = malloc(sizeof(*t) + len + 1);
        if (!t)
            return -1;
        memcpy(t->name, topic, len + 1);
        t->head = NULL;
        t->count = 0;
        t->hash = h;
        r->slots[i] = t;
        r->ntopics++;
    }
    s->_prev = NULL;
    s->next = t->head;
    if (t->head)
        t->head->_prev = s;
    t->head = s;
    s->_topic = t;
    t->count++;
    r->nsubs++;
    return 0;
}

void registry_unsubscribe(struct registry *r, struct reg_sub *s)
{
    struct reg_topic *t = s->_topic;
    if (!t)
        return;
    if (s->_prev)
        s->_prev->next = s->next;
    else
        t->head = s->next;
    if (s->next)
        s->next->_prev = s->_prev;
    s->next = s->_prev = NULL;
    s->_topic = NULL;
    r->nsubs--;
    if (--t->count == 0) {
        remove_slot(r, slot_of(r, t->name, t->hash));
        free(t);
        r->ntopics--;
        /* give memory back after a crowd left; a failed shrink just keeps the bigger table */
        if (r->cap > REG_MIN_CAP && r->ntopics * 8 < r->cap)
            rehash(r, r->cap / 2);
    }
}

struct reg_sub *registry_first(const struct reg_topic *t)
{
    return t ? t->head : NULL;
}

size_t registry_topic_subscribers(const struct reg_topic *t)
{
    return t ? t->count : 0;
}

const char *registry_sub_topic(const struct reg_sub *s)
{
    return s->_topic ? s->_topic->name : NULL;
}

size_t registry_topic_count(const struct registry *r)
{
    return r->ntopics;
}

size_t registry_sub_count(const struct registry *r)
{
    return r->nsubs;
}
