/*
 * tracker.c: presence state (see tracker.h).
 *
 * Layout: a uthash of topics, each a uthash of keys, each a doubly linked list of entries in tracking
 * order. An entry is also on its owner's singly linked list. Invariants: a key exists while it has an
 * entry, a topic while it has a key; `entries` counts every entry.
 *
 * phx_ref: 12 bytes (64-bit wall-clock nanoseconds, 16-bit hash of the node id, 16-bit counter) in
 * URL-safe base64 without padding: 16 characters, as Phoenix.Tracker makes them. Unique per node
 * through the counter, across nodes through the node hash and the clock.
 */
#include "tracker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#define PHX_REF_LEN 16

struct tracker_key;

struct tracker_entry {
    struct tracker_entry *next, *prev; /* in the key */
    struct tracker_entry *owner_next;  /* in the owner's list */
    struct tracker_key *key;
    uint64_t origin;
    json_t *meta; /* owned; includes phx_ref */
};

struct tracker_topic;

struct tracker_key {
    UT_hash_handle hh;
    struct tracker_topic *topic;
    struct tracker_entry *head, *tail;
    char name[];
};

struct tracker_topic {
    UT_hash_handle hh;
    struct tracker_key *keys;
    char name[];
};

struct tracker {
    struct tracker_topic *topics;
    uint64_t node_id;
    uint16_t node_hash;
    uint16_t counter;
    size_t entries;
    size_t ntopics;
};

struct tracker *tracker_create(uint64_t node_id)
{
    struct tracker *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->node_id = node_id;
    uint64_t h = node_id * 0x9E3779B97F4A7C15ull;
    t->node_hash = (uint16_t)(h >> 48);
    return t;
}

static void entry_free(struct tracker_entry *e)
{
    json_decref(e->meta);
    free(e);
}

void tracker_destroy(struct tracker **tp)
{
    struct tracker *t = *tp;
    if (!t)
        return;
    struct tracker_topic *topic, *ttmp;
    HASH_ITER(hh, t->topics, topic, ttmp)
    {
        struct tracker_key *k, *ktmp;
        HASH_ITER(hh, topic->keys, k, ktmp)
        {
            for (struct tracker_entry *e = k->head, *n; e; e = n) {
                n = e->next;
                entry_free(e);
            }
            HASH_DEL(topic->keys, k);
            free(k);
        }
        HASH_DEL(t->topics, topic);
        free(topic);
    }
    free(t);
    *tp = NULL;
}

json_t *tracker_diff_new(void)
{
    return json_pack("{s{}s{}}", "joins", "leaves");
}

int tracker_diff_empty(const json_t *diff)
{
    return json_object_size(json_object_get(diff, "joins")) == 0 &&
           json_object_size(json_object_get(diff, "leaves")) == 0;
}

/* Append meta to diff[side][key].metas. */
static int diff_add(json_t *diff, const char *side, const char *key, json_t *meta)
{
    if (!diff)
        return 0;
    json_t *s = json_object_get(diff, side);
    json_t *k = json_object_get(s, key);
    if (!k) {
        k = json_pack("{s[]}", "metas");
        if (!k || json_object_set_new(s, key, k) != 0)
            return -1;
    }
    return json_array_append(json_object_get(k, "metas"), meta);
}

static void make_ref(struct tracker *t, char out[PHX_REF_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    uint16_t n = t->counter++;
    unsigned char b[12];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(ns >> (56 - 8 * i));
    b[8] = (unsigned char)(t->node_hash >> 8);
    b[9] = (unsigned char)t->node_hash;
    b[10] = (unsigned char)(n >> 8);
    b[11] = (unsigned char)n;
    for (int i = 0, o = 0; i < 12; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    out[PHX_REF_LEN] = '\0';
}

/* A copy of meta with a fresh phx_ref (and phx_ref_prev when prev is given); NULL on OOM. */
static json_t *stamp(struct tracker *t, json_t *meta, const char *prev)
{
    json_t *m = json_deep_copy(meta);
    char ref[PHX_REF_LEN + 1];
    make_ref(t, ref);
    if (!m || json_object_set_new(m, "phx_ref", json_string(ref)) != 0 ||
        (prev && json_object_set_new(m, "phx_ref_prev", json_string(prev)) != 0)) {
        json_decref(m);
        return NULL;
    }
    if (!prev)
        json_object_del(m, "phx_ref_prev");
    return m;
}

static struct tracker_key *key_get(struct tracker *t, const char *topic, const char *key)
{
    struct tracker_topic *tp = NULL;
    HASH_FIND_STR(t->topics, topic, tp);
    if (!tp) {
        size_t len = strlen(topic);
        tp = calloc(1, sizeof(*tp) + len + 1);
        if (!tp)
            return NULL;
        memcpy(tp->name, topic, len + 1);
        HASH_ADD(hh, t->topics, name[0], len, tp);
        t->ntopics++;
    }
    struct tracker_key *k = NULL;
    HASH_FIND_STR(tp->keys, key, k);
    if (!k) {
        size_t len = strlen(key);
        k = calloc(1, sizeof(*k) + len + 1);
        if (!k)
            return NULL; /* an empty topic may stay until its next key leaves; harmless */
        memcpy(k->name, key, len + 1);
        k->topic = tp;
        HASH_ADD(hh, tp->keys, name[0], len, k);
    }
    return k;
}

/* Unlink e from its key (freeing the key and topic when they empty) and free it. Not from the owner
 * list: the caller does that. */
static void entry_remove(struct tracker *t, struct tracker_entry *e)
{
    struct tracker_key *k = e->key;
    if (e->prev)
        e->prev->next = e->next;
    else
        k->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        k->tail = e->prev;
    entry_free(e);
    t->entries--;
    if (!k->head) {
        struct tracker_topic *tp = k->topic;
        HASH_DEL(tp->keys, k);
        free(k);
        if (!tp->keys) {
            HASH_DEL(t->topics, tp);
            free(tp);
            t->ntopics--;
        }
    }
}

int tracker_track(struct tracker *t, struct tracker_entry **owner, const char *topic, const char *key,
                  json_t *meta, json_t *diff)
{
    if (!json_is_object(meta))
        return -2;
    struct tracker_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    e->meta = stamp(t, meta, NULL);
    struct tracker_key *k = e->meta ? key_get(t, topic, key) : NULL;
    if (!k) {
        entry_free(e);
        return -1;
    }
    e->key = k;
    e->origin = t->node_id;
    e->prev = k->tail;
    if (k->tail)
        k->tail->next = e;
    else
        k->head = e;
    k->tail = e;
    e->owner_next = *owner;
    *owner = e;
    t->entries++;
    return diff_add(diff, "joins", key, e->meta);
}

int tracker_update(struct tracker *t, struct tracker_entry **owner, const char *key, json_t *meta,
                   json_t *diff)
{
    if (!json_is_object(meta))
        return -2;
    int found = 0;
    for (struct tracker_entry *e = *owner; e; e = e->owner_next) {
        if (strcmp(e->key->name, key) != 0)
            continue;
        json_t *m = stamp(t, meta, json_string_value(json_object_get(e->meta, "phx_ref")));
        if (!m)
            return -1;
        diff_add(diff, "leaves", key, e->meta);
        json_decref(e->meta);
        e->meta = m;
        diff_add(diff, "joins", key, m);
        found = 1;
    }
    return found ? 0 : -3;
}

int tracker_untrack(struct tracker *t, struct tracker_entry **owner, const char *key, json_t *diff)
{
    int found = 0;
    for (struct tracker_entry **it = owner; *it;) {
        struct tracker_entry *e = *it;
        if (strcmp(e->key->name, key) == 0) {
            *it = e->owner_next;
            diff_add(diff, "leaves", key, e->meta);
            entry_remove(t, e);
            found = 1;
        } else {
            it = &e->owner_next;
        }
    }
    return found ? 0 : -3;
}

void tracker_untrack_all(struct tracker *t, struct tracker_entry **owner, json_t *diff)
{
    while (*owner) {
        struct tracker_entry *e = *owner;
        *owner = e->owner_next;
        diff_add(diff, "leaves", e->key->name, e->meta);
        entry_remove(t, e);
    }
}

json_t *tracker_list(const struct tracker *t, const char *topic)
{
    json_t *out = json_object();
    struct tracker_topic *tp = NULL;
    HASH_FIND_STR(t->topics, topic, tp);
    if (!out || !tp)
        return out;
    for (struct tracker_key *k = tp->keys; k; k = k->hh.next) {
        json_t *metas = json_array();
        for (struct tracker_entry *e = k->head; e; e = e->next)
            json_array_append(metas, e->meta);
        json_object_set_new(out, k->name, json_pack("{so}", "metas", metas));
    }
    return out;
}

size_t tracker_entry_count(const struct tracker *t)
{
    return t->entries;
}

size_t tracker_topic_count(const struct tracker *t)
{
    return t->ntopics;
}
