/*
 * presence.h: Phoenix.Presence for channel handlers.
 *
 * Track who is on a channel's topic under a key (usually the user id) with a meta object. Every change
 * is broadcast to the topic's subscribers as `presence_diff` {"joins": {...}, "leaves": {...}}; a
 * joiner is sent the whole state with `presence_state` by its handler (presence_list). A channel's
 * entries leave by themselves when it ends, however it ends (leave, crash, closed socket).
 *
 *     static int room_info(struct channel *ch, const char *msg, json_t *data)   // after_join
 *     {
 *         json_t *meta = json_pack("{sI}", "online_at", (json_int_t)time(NULL));
 *         presence_track(ch, channel_user_id(ch), meta);
 *         json_decref(meta);
 *         json_t *state = presence_list(ch);
 *         channel_push(ch, "presence_state", CH_JSON(state));
 *         json_decref(state);
 *         return CH_OK;
 *     }
 */
#ifndef CINDER_PRESENCE_H
#define CINDER_PRESENCE_H

#include <jansson.h>

struct channel;

/* Track this channel under key with meta (borrowed, an object; copied and given a phx_ref).
 * 0, -1 out of memory, -2 meta is not an object. */
int presence_track(struct channel *ch, const char *key, json_t *meta);
/* Replace this channel's meta for key (the diff carries the old meta in leaves, the new one, with
 * phx_ref_prev, in joins). 0, -1, -2, or -3 when the key is not tracked by this channel. */
int presence_update(struct channel *ch, const char *key, json_t *meta);
/* Stop tracking this channel under key. 0, or -3 when not tracked. */
int presence_untrack(struct channel *ch, const char *key);
/* The topic's presence state {"key": {"metas": [...]}} (new reference), NULL on OOM. */
json_t *presence_list(struct channel *ch);

/* The Phoenix after_join idiom in one call: track this channel under key with meta (borrowed) and push
 * the topic's presence_state to its client. 0, or -1 when tracking or pushing failed. */
int presence_join(struct channel *ch, const char *key, json_t *meta);

/* A handle_info hook for handlers that track presence: on the "after_join" message (queued by their
 * join with channel_send_info), presence_join the user with {"online_at": <unix seconds>}. Other
 * messages are ignored. CH_OK, or CH_CRASH when tracking or pushing failed. */
int presence_on_after_join(struct channel *ch, const char *msg, json_t *data);

/* Core only: drop the entries of a channel that ends, telling the topic. */
void presence_channel_ended(struct channel *ch);

#endif
