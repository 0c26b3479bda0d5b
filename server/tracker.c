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

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#define PHX_REF_LEN 16

struct tracker_key;

struct tracker_entry {
    struct tracker_entry *next, *prev; /* in the key */
    struct tracker_entry *owner_next;  /* in the owner's list (local) or the origin's list (remote) */
    struct tracker_entry *owner_prev;  /* remote entries only: the origin's list is doubly linked */
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

/* Another node's entries. */
struct tracker_origin {
    UT_hash_handle hh;
    uint64_t id;
    struct tracker_entry *head;
    size_t count;
};

struct tracker {
    struct tracker_topic *topics;
    struct tracker_origin *origins;
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
    struct tracker_origin *o, *otmp;
    HASH_ITER(hh, t->origins, o, otmp)
    {
        HASH_DEL(t->origins, o);
        free(o);
    }
    free(t);
    *tp = NULL;
}

/* Jansson objects built directly (not json_pack, whose format parsing costs more than the objects on
 * this path, once per join and leave). */
static json_t *object_with(const char *key, json_t *value)
{
    json_t *o = json_object();
    if (!o || json_object_set_new_nocheck(o, key, value) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *tracker_diff_new(void)
{
    json_t *d = object_with("joins", json_object());
    if (d && json_object_set_new_nocheck(d, "leaves", json_object()) != 0) {
        json_decref(d);
        return NULL;
    }
    return d;
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
        k = object_with("metas", json_array());
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
    if (!m || json_object_set_new_nocheck(m, "phx_ref", json_stringn_nocheck(ref, PHX_REF_LEN)) != 0 ||
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

/* ---- remote entries ---- */

static struct tracker_origin *origin_find(const struct tracker *t, uint64_t id)
{
    struct tracker_origin *o = NULL;
    HASH_FIND(hh, t->origins, &id, sizeof(id), o);
    return o;
}

static struct tracker_entry *key_find_ref(const struct tracker *t, const char *topic, const char *key,
                                          const char *phx_ref)
{
    struct tracker_topic *tp = NULL;
    HASH_FIND_STR(t->topics, topic, tp);
    struct tracker_key *k = NULL;
    if (tp)
        HASH_FIND_STR(tp->keys, key, k);
    for (struct tracker_entry *e = k ? k->head : NULL; e; e = e->next) {
        const char *r = json_string_value(json_object_get(e->meta, "phx_ref"));
        if (r && strcmp(r, phx_ref) == 0)
            return e;
    }
    return NULL;
}

int tracker_remote_join(struct tracker *t, uint64_t origin, const char *topic, const char *key, json_t *meta,
                        json_t *diff)
{
    const char *ref = json_string_value(json_object_get(meta, "phx_ref"));
    if (!json_is_object(meta) || !ref)
        return -2;
    if (key_find_ref(t, topic, key, ref))
        return 0;
    struct tracker_origin *o = origin_find(t, origin);
    if (!o) {
        o = calloc(1, sizeof(*o));
        if (!o)
            return -1;
        o->id = origin;
        HASH_ADD(hh, t->origins, id, sizeof(o->id), o);
    }
    struct tracker_entry *e = calloc(1, sizeof(*e));
    struct tracker_key *k = e ? key_get(t, topic, key) : NULL;
    e = k ? e : (free(e), NULL);
    if (!e || !(e->meta = json_deep_copy(meta))) {
        free(e);
        return -1;
    }
    e->key = k;
    e->origin = origin;
    e->prev = k->tail;
    if (k->tail)
        k->tail->next = e;
    else
        k->head = e;
    k->tail = e;
    e->owner_next = o->head;
    if (o->head)
        o->head->owner_prev = e;
    o->head = e;
    o->count++;
    t->entries++;
    return diff_add(diff, "joins", key, e->meta);
}

/* Unlink e from its origin's list; frees the origin when it empties. */
static void origin_unlink(struct tracker *t, struct tracker_entry *e)
{
    struct tracker_origin *o = origin_find(t, e->origin);
    if (!o)
        return;
    if (e->owner_prev)
        e->owner_prev->owner_next = e->owner_next;
    else
        o->head = e->owner_next;
    if (e->owner_next)
        e->owner_next->owner_prev = e->owner_prev;
    if (--o->count == 0) {
        HASH_DEL(t->origins, o);
        free(o);
    }
}

int tracker_remote_leave(struct tracker *t, uint64_t origin, const char *topic, const char *key,
                         const char *phx_ref, json_t *diff)
{
    struct tracker_entry *e = key_find_ref(t, topic, key, phx_ref);
    if (!e || e->origin != origin || origin == t->node_id)
        return -3;
    diff_add(diff, "leaves", key, e->meta);
    origin_unlink(t, e);
    entry_remove(t, e);
    return 0;
}

/* diffs: {topic: diff}; the diff object for topic, created on first use. */
static json_t *topic_diff(json_t *diffs, const char *topic)
{
    json_t *d = json_object_get(diffs, topic);
    if (!d) {
        d = tracker_diff_new();
        json_object_set_new(diffs, topic, d);
    }
    return d;
}

static void report(json_t *diffs, tracker_topic_fn fn, void *arg)
{
    const char *topic;
    json_t *d;
    json_object_foreach(diffs, topic, d)
    {
        if (fn && !tracker_diff_empty(d))
            fn(arg, topic, d);
    }
}

void tracker_drop_origin(struct tracker *t, uint64_t origin, tracker_topic_fn fn, void *arg)
{
    struct tracker_origin *o = origin_find(t, origin);
    if (!o || origin == t->node_id)
        return;
    json_t *diffs = json_object();
    while (o) {
        struct tracker_entry *e = o->head;
        diff_add(topic_diff(diffs, e->key->topic->name), "leaves", e->key->name, e->meta);
        struct tracker_origin *next = o->count > 1 ? o : NULL;
        origin_unlink(t, e);
        entry_remove(t, e);
        o = next;
    }
    report(diffs, fn, arg);
    json_decref(diffs);
}

int tracker_sync_origin(struct tracker *t, uint64_t origin, json_t *state, tracker_topic_fn fn, void *arg)
{
    if (!json_is_array(state) || origin == t->node_id)
        return -2;
    /* wanted: phx_ref -> [topic, key, meta] */
    json_t *wanted = json_object();
    size_t i;
    json_t *item;
    json_array_foreach(state, i, item)
    {
        json_t *meta = json_array_get(item, 2);
        const char *ref = json_string_value(json_object_get(meta, "phx_ref"));
        if (!json_is_string(json_array_get(item, 0)) || !json_is_string(json_array_get(item, 1)) ||
            !json_is_object(meta) || !ref) {
            json_decref(wanted);
            return -2;
        }
        json_object_set(wanted, ref, item);
    }
    json_t *diffs = json_object();
    struct tracker_origin *o = origin_find(t, origin);
    for (struct tracker_entry *e = o ? o->head : NULL, *next; e; e = next) {
        next = e->owner_next;
        const char *ref = json_string_value(json_object_get(e->meta, "phx_ref"));
        if (ref && json_object_get(wanted, ref)) {
            json_object_del(wanted, ref); /* already known */
            continue;
        }
        diff_add(topic_diff(diffs, e->key->topic->name), "leaves", e->key->name, e->meta);
        bool last = o->count == 1;
        origin_unlink(t, e);
        entry_remove(t, e);
        if (last)
            break;
    }
    const char *ref;
    json_object_foreach(wanted, ref, item)
    {
        const char *topic = json_string_value(json_array_get(item, 0));
        tracker_remote_join(t, origin, topic, json_string_value(json_array_get(item, 1)),
                            json_array_get(item, 2), topic_diff(diffs, topic));
    }
    report(diffs, fn, arg);
    json_decref(diffs);
    json_decref(wanted);
    return 0;
}

json_t *tracker_local_state(const struct tracker *t)
{
    json_t *out = json_array();
    for (struct tracker_topic *tp = t->topics; out && tp; tp = tp->hh.next)
        for (struct tracker_key *k = tp->keys; k; k = k->hh.next)
            for (struct tracker_entry *e = k->head; e; e = e->next)
                if (e->origin == t->node_id)
                    json_array_append_new(out, json_pack("[ssO]", tp->name, k->name, e->meta));
    return out;
}

size_t tracker_origin_count(const struct tracker *t, uint64_t origin)
{
    struct tracker_origin *o = origin_find(t, origin);
    return o ? o->count : 0;
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
        json_object_set_new(out, k->name, object_with("metas", metas));
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
