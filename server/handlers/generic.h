/*
 * generic.h: channels configured without C. The `channels` setting (options.h, config file only) is a
 * JSON array; each entry gives a topic pattern its rules, and one generic handler serves them all:
 *
 *     "channels": [
 *       {"pattern": "chat:*",    "join": "any",   "client_publish": true, "presence": true},
 *       {"pattern": "private:*", "join": "claim", "client_publish": true, "max_subscribers": 2},
 *       {"pattern": "admin:*",   "join": "deny"}
 *     ]
 *
 *   pattern          required: an exact topic or a prefix ending in '*' (as handler.h), 1..255 bytes
 *   join             "any" (default): every connected socket may join;
 *                    "deny": refused, {"reason": "unauthorized"};
 *                    "claim": only a socket whose token carried a "channels" claim with a pattern that
 *                    matches the topic (channel_assigns: {"channels": [...]}, see handlers/demo.h); others
 *                    are refused {"reason": "unauthorized"}
 *   client_publish   false (default): every client event is answered error {"reason": "publish not allowed"};
 *                    true: the event and its payload (JSON or binary) are broadcast to the topic, the sender
 *                    included, and answered ok {}. Events starting with "phx_" or "presence_" are Phoenix's
 *                    own and are refused {"reason": "reserved event"} (a client must not fake a presence
 * diff). presence         false (default); true: the joiner is tracked under its user id with meta
 *                    {"online_at": <unix seconds>}, gets presence_state and the topic a presence_diff
 *   max_subscribers  0 (default: no limit): a join is refused {"reason": "channel full"} when the topic
 *                    already has this many subscribers on this node (each node counts its own)
 * Unknown keys are errors (a typo must not silently open a channel). Entries are tried in order, first
 * match wins, and every configured channel comes before the app's own routes (server_route).
 *
 * Lifetime: a set is immutable and reference-counted. The server holds the current one; a channel joined
 * through an entry holds the set from its join to its terminate, so a reload (SIGHUP) that replaces the
 * set changes what new joins get while channels already joined keep the rules they joined under.
 */
#ifndef CINDER_GENERIC_H
#define CINDER_GENERIC_H

#include "handler.h"

#include <jansson.h>
#include <stddef.h>

struct generic_channels;

/* Check a `channels` value (borrowed) against the schema above. 0, or -1 with err naming the entry and
 * key ("channels[1].join: ..."). */
int generic_channels_check(const json_t *config, char *err, size_t errlen);

/* Build a set from a `channels` value (borrowed; copied; NULL: no channels). A new set with one reference
 * (caller releases it with generic_channels_unref), or NULL with err (invalid, or out of memory). */
struct generic_channels *generic_channels_create(const json_t *config, char *err, size_t errlen);
/* Drop one reference; the last frees the set. NULL-safe; sets *set to NULL. */
void generic_channels_unref(struct generic_channels **set);
/* Number of configured channels. */
size_t generic_channels_count(const struct generic_channels *set);

/* The handler of the first entry whose pattern matches topic, or NULL. Borrowed: valid while the caller
 * holds the set (a channel joined through it holds it itself). NULL-safe. */
const struct channel_handler *generic_channels_route(const struct generic_channels *set, const char *topic);

#endif
