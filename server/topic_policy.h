/*
 * topic_policy.h: what the `topics` setting asks of the topics matching a pattern.
 *
 *   "topics": [
 *     {"pattern": "telemetry:*",
 *      "history": {"size": 1000, "ttl": "10m"},   // keep the last 1000 broadcasts, none older than 10 min
 *      "conflate": "id",                          // the key field for conflation
 *      "slow_consumer": "conflate"}               // close (default) | drop_oldest | conflate
 *   ]
 *
 * The first entry whose pattern matches a topic applies; a topic no entry matches has no history and
 * the `close` policy. A table is parsed once (at start and on reload) and read on every broadcast.
 */
#ifndef CINDER_TOPIC_POLICY_H
#define CINDER_TOPIC_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum slow_policy {
    SLOW_CLOSE = 0,   /* past max_queue_size the connection closes (1008) */
    SLOW_DROP_OLDEST, /* past max_queue_size the oldest queued messages are dropped */
    SLOW_CONFLATE,    /* a subscriber that is behind keeps only the latest message per key */
};

struct topic_policy {
    char *pattern;
    size_t history_size;     /* 0: no history */
    uint64_t history_ttl_ms; /* 0: no age limit */
    char *conflate_key;      /* NULL: no conflation */
    enum slow_policy slow;
};

struct topic_policies {
    struct topic_policy *items;
    size_t n;
};

/* Check a `topics` value (borrowed): 0, or -1 with err naming the entry and the problem. */
int topic_policies_check(const json_t *v, char *err, size_t errlen);
/* Parse a checked value into *out (caller owns; topic_policies_cleanup). 0 or -1 (OOM). */
int topic_policies_parse(const json_t *v, struct topic_policies *out);
void topic_policies_cleanup(struct topic_policies *p);
/* The policy of topic (borrowed), or NULL when no entry matches. */
const struct topic_policy *topic_policy_find(const struct topic_policies *p, const char *topic);

const char *slow_policy_name(enum slow_policy p);

#endif
