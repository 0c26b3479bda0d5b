/*
 * registry.c: topic -> intrusive list of subscribers, hashed with uthash.
 *
 * Invariants: every topic in the table has count >= 1 subscribers, all linked through next/_prev and
 * pointing back with _topic; nsubs is the sum of the counts. New subscribers go to the head.
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct reg_topic {
    UT_hash_handle hh;
    struct reg_sub *head;
    size_t count;
    char name[];
};

struct registry {
    struct reg_topic *topics; /* uthash head */
    size_t ntopics;
    size_t nsubs;
};

struct registry *registry_create(void)
{
    return calloc(1, sizeof(struct registry));
}

void registry_destroy(struct registry **rp)
{
    struct registry *r = *rp;
    if (!r)
        return;
    struct reg_topic *t, *tmp;
    HASH_ITER(hh, r->topics, t, tmp)
    {
        for (struct reg_sub *s = t->head; s; s = s->next)
            s->_topic = NULL;
        HASH_DEL(r->topics, t);
        free(t);
    }
    free(r);
    *rp = NULL;
}

struct reg_topic *registry_find(const struct registry *r, const char *topic)
{
    struct reg_topic *t = NULL;
    HASH_FIND_STR(r->topics, topic, t);
    return t;
}

int registry_subscribe(struct registry *r, const char *topic, struct reg_sub *s)
{
    if (s->_topic)
        return -2;
    struct reg_topic *t = registry_find(r, topic);
    if (!t) {
        size_t len = strlen(topic);
        t = malloc(sizeof(*t) + len + 1);
        if (!t)
            return -1;
        memcpy(t->name, topic, len + 1);
        t->head = NULL;
        t->count = 0;
        HASH_ADD(hh, r->topics, name[0], len, t);
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
        HASH_DEL(r->topics, t);
        free(t);
        r->ntopics--;
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
