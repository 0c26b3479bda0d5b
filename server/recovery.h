/*
 * recovery.h: a join on a history topic (topic_policy.h) says where the topic stands and, when the
 * client asks with {"since": {"seq": N, "epoch": "E"}}, replays what it missed.
 *
 * The join reply's response gets "epoch" (16 hex digits), "seq" (the topic's last number) and, when
 * `since` was given, "recovered": true (every message after N follows the reply, in order, before any
 * new broadcast) or false (too old, another epoch, a gap: the app should refetch).
 */
#ifndef CINDER_RECOVERY_H
#define CINDER_RECOVERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct conn;
struct server;
struct topic_history;
struct topic_policy;

struct recovery {
    struct topic_history *th; /* NULL: the topic keeps no history, nothing to do */
    const struct topic_policy *pol;
    uint64_t epoch, since;
    bool asked;    /* the client gave `since` */
    bool complete; /* ... and the replay will be complete */
};

/* Decide, before the reply: params (borrowed) are the join's; *response (owned, may be NULL) gets the
 * history fields (a non-object response is left alone). */
void recovery_prepare(struct server *s, const char *topic, const json_t *params, json_t **response,
                      struct recovery *r);
/* After the reply: queue the missed messages for c (when asked and complete). */
void recovery_replay(struct conn *c, const char *topic, const struct recovery *r);

/* The hex form of an epoch ("00000000075bcd15"), and back (0 when malformed). */
void recovery_epoch_hex(uint64_t epoch, char out[17]);
uint64_t recovery_epoch_parse(const char *hex);

#endif
