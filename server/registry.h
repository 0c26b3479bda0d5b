/*
 * registry.h: the local topic index, topic -> subscribers.
 *
 * A subscriber embeds a struct reg_sub (intrusive: no allocation per subscription) and the registry
 * links it into its topic's list, so unsubscribing is O(1) and needs no lookup. A topic exists while it
 * has subscribers: the last unsubscribe frees it. The registry knows nothing of connections or
 * channels; `kind` lets the caller tell its own subscriber types apart (pubsub.c does).
 *
 * Iteration during fan-out must not unsubscribe: a subscriber that must go is marked and removed later.
 *
 *     struct reg_sub s = {.kind = 1};
 *     registry_subscribe(r, "room:1", &s);
 *     for (struct reg_sub *it = registry_first(registry_find(r, "room:1")); it; it = it->next) ...
 *     registry_unsubscribe(r, &s);        // "room:1" is freed: it had one subscriber
 */
#ifndef CINDER_REGISTRY_H
#define CINDER_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

struct reg_topic;
struct registry;

struct reg_sub {
    struct reg_sub *next; /* read-only for callers: the next subscriber of the same topic */
    struct reg_sub *_prev;
    struct reg_topic *_topic; /* NULL while not subscribed */
    uint8_t kind;             /* the caller's tag */
};

/* New empty registry (caller owns; registry_destroy) or NULL when out of memory. */
struct registry *registry_create(void);
/* Free the registry and every topic left; subscribers still linked are simply forgotten. NULL-safe,
 * sets *r to NULL. */
void registry_destroy(struct registry **r);

/* Link s (borrowed, must stay alive until unsubscribed) into topic (copied). 0, -1 when out of memory,
 * -2 when s is already subscribed. */
int registry_subscribe(struct registry *r, const char *topic, struct reg_sub *s);
/* Unlink s; frees its topic when it was the last subscriber. No-op when s is not subscribed. */
void registry_unsubscribe(struct registry *r, struct reg_sub *s);

/* The topic entry (borrowed, valid until its last subscriber leaves) or NULL. */
struct reg_topic *registry_find(const struct registry *r, const char *topic);
/* First subscriber of t, NULL when t is NULL. */
struct reg_sub *registry_first(const struct reg_topic *t);
size_t registry_topic_subscribers(const struct reg_topic *t);
/* The topic name s is subscribed to (borrowed), or NULL. */
const char *registry_sub_topic(const struct reg_sub *s);

size_t registry_topic_count(const struct registry *r);
size_t registry_sub_count(const struct registry *r);

#endif
