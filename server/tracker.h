/*
 * tracker.h: presence state, Phoenix.Tracker's model: topic -> key -> metas.
 *
 * Each meta is one tracked process (here: one channel instance) under a key (a user id): the same user
 * on two sockets is one key with two metas. Every meta carries a unique `phx_ref` (and `phx_ref_prev`
 * after an update), and an origin node id so that another node's entries can be merged in and expired
 * as a whole when that node goes away. The tracker only keeps state and describes changes as diffs
 * ({"joins": {...}, "leaves": {...}}, Phoenix's presence_diff payload); broadcasting them is the
 * caller's business (presence.c).
 *
 * A local entry belongs to an owner (a channel instance), linked into the owner's list so that all of
 * its entries can be dropped when it ends.
 *
 *     struct tracker_entry *mine = NULL;
 *     json_t *diff = tracker_diff_new();
 *     tracker_track(t, &mine, "room:1", "alice", meta, diff);   // diff.joins.alice.metas == [meta+phx_ref]
 *     tracker_untrack_all(t, &mine, diff);                     // diff.leaves.alice.metas == [...]
 */
#ifndef CINDER_TRACKER_H
#define CINDER_TRACKER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct tracker;
struct tracker_entry;

/* node_id tags local entries and seeds phx_ref generation. Caller owns the result; NULL on OOM. */
struct tracker *tracker_create(uint64_t node_id);
/* Frees every entry. Owner lists that still point at entries must not be used afterwards. */
void tracker_destroy(struct tracker **t);

/* A new empty diff {"joins":{},"leaves":{}} (new reference), NULL on OOM. */
json_t *tracker_diff_new(void);
/* Whether a diff has any join or leave. */
int tracker_diff_empty(const json_t *diff);

/* Track a new meta for key on topic, owned by the list *owner (all of one owner's entries must share a
 * topic). meta (borrowed) must be an object; it is copied and given a fresh phx_ref. The join is added
 * to diff. 0, -1 OOM, -2 meta not an object. */
int tracker_track(struct tracker *t, struct tracker_entry **owner, const char *topic, const char *key,
                  json_t *meta, json_t *diff);
/* Replace the owner's meta(s) for key with a copy of meta, with a fresh phx_ref and phx_ref_prev set to
 * the old one: the new meta in joins, the old in leaves. 0, -1 OOM, -2 meta not an object, -3 not
 * tracked. */
int tracker_update(struct tracker *t, struct tracker_entry **owner, const char *key, json_t *meta,
                   json_t *diff);
/* Drop the owner's meta(s) for key, adding them to leaves. 0, or -3 when not tracked. */
int tracker_untrack(struct tracker *t, struct tracker_entry **owner, const char *key, json_t *diff);
/* Drop every entry of the owner. diff may be NULL (nobody to tell). */
void tracker_untrack_all(struct tracker *t, struct tracker_entry **owner, json_t *diff);

/* ---- entries of other nodes (origin != this node's id; no owner) ---- */

/* Called once per topic that changed, with that topic's diff (borrowed). */
typedef void (*tracker_topic_fn)(void *arg, const char *topic, json_t *diff);

/* Add another node's meta (borrowed; must carry its phx_ref, kept as is) unless that phx_ref is
 * already there. The join is added to diff. 0, -1 OOM, -2 meta not an object with a phx_ref. */
int tracker_remote_join(struct tracker *t, uint64_t origin, const char *topic, const char *key, json_t *meta,
                        json_t *diff);
/* Remove another node's meta by phx_ref, adding it to diff's leaves. 0, or -3 when not there. */
int tracker_remote_leave(struct tracker *t, uint64_t origin, const char *topic, const char *key,
                         const char *phx_ref, json_t *diff);
/* Remove every entry of origin (a node that went away); fn gets each topic's leaves. */
void tracker_drop_origin(struct tracker *t, uint64_t origin, tracker_topic_fn fn, void *arg);
/* Make origin's entries exactly state ([[topic, key, meta], ...], borrowed), as a node's full state
 * says; fn gets each topic's joins and leaves. 0, -1 OOM, -2 state malformed (nothing changed). */
int tracker_sync_origin(struct tracker *t, uint64_t origin, json_t *state, tracker_topic_fn fn, void *arg);
/* This node's own entries as [[topic, key, meta], ...] (new reference), NULL on OOM. */
json_t *tracker_local_state(const struct tracker *t);
/* Number of entries of origin. */
size_t tracker_origin_count(const struct tracker *t, uint64_t origin);

/* The topic's state {"key": {"metas": [...]}, ...} (new reference; {} when empty), NULL on OOM. */
json_t *tracker_list(const struct tracker *t, const char *topic);

size_t tracker_entry_count(const struct tracker *t);
size_t tracker_topic_count(const struct tracker *t);

#endif
