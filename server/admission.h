/*
 * admission.h: the node's admission counts, shared by all its shards: open connections, connections
 * per user, the connection-rate token bucket and the seats taken on size-limited topics. One mutex guards
 * them, so any shard's thread may ask; a server created alone owns one of its own.
 *
 *     struct admission *a = admission_create(100.0);          // 100 new connections a second
 *     if (admission_enter(a, "ann", &opt, now_ms) == ADMIT_OK)  // counted: a seat is taken
 *         ...                                                  // later: admission_close(a, "ann")
 *
 * Deciding and counting are one step under the mutex: two shards admitting the same user at the same
 * moment cannot both take the user's last seat.
 */
#ifndef CINDER_ADMISSION_H
#define CINDER_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct options;
struct admission;

/* What admission control says to a new connection. */
enum admit {
    ADMIT_OK = 0,
    ADMIT_DRAINING, /* shutting down: 503, try another node */
    ADMIT_FULL,     /* max_connections reached: 503 */
    ADMIT_RATE,     /* connection_rate exceeded: 503, retry in a second */
    ADMIT_USER,     /* max_connections_per_user reached: 429 */
};
#define ADMIT_KINDS (ADMIT_USER + 1)

/* New counts (caller owns; admission_destroy) with a full bucket of `rate` tokens. NULL on OOM. */
struct admission *admission_create(double rate);
/* Free. NULL-safe; *a = NULL. */
void admission_destroy(struct admission **a);

/* May a connection of user_id (borrowed; NULL: anonymous) open now under o's max_connections,
 * max_connections_per_user and connection_rate? ADMIT_OK counts it at once (as admission_open: the
 * caller gives the seat back with admission_close) and takes one token from the bucket (which refills
 * at connection_rate a second and holds at most one second's worth). Out of memory for the user's
 * entry: ADMIT_FULL, nothing counted. Never ADMIT_DRAINING: draining is each loop's own state
 * (server.h). */
enum admit admission_enter(struct admission *a, const char *user_id, const struct options *o,
                           uint64_t now_ms);
/* Count a connection of user_id (borrowed; NULL: anonymous) without asking the limits / stop counting
 * it. 0 or -1 (OOM: nothing counted). */
int admission_open(struct admission *a, const char *user_id);
void admission_close(struct admission *a, const char *user_id);
/* A seat on topic (borrowed) if fewer than max are taken: true, and one more is taken. */
bool admission_topic_take(struct admission *a, const char *topic, size_t max);
/* Give one back (the last one frees the topic's entry). */
void admission_topic_release(struct admission *a, const char *topic);
/* Open connections: in all, and of user_id. */
size_t admission_connections(struct admission *a);
unsigned admission_user_connections(struct admission *a, const char *user_id);

#endif
