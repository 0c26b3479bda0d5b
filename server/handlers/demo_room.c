/*
 * demo_room.c: the demo `room:*` channel (CONTRACT.md).
 *
 *   join room:forbidden   -> error {"reason":"unauthorized"}
 *   join room:X           -> ok {}; then (after_join) presence: key = user id, meta
 *                            {"online_at": <unix seconds>}; the joiner gets presence_state, everyone
 *                            the presence_diff
 *   ping P                -> ok P
 *   shout P               -> broadcast shout P to all, ok {}
 *   shout_others P        -> broadcast shout P to all but this channel, ok {}
 *   fail                  -> error {"reason":"failed"}
 *   noreply               -> nothing
 *   crash                 -> the channel fails (phx_error)
 *   leave_me              -> ok {}, then the channel closes (phx_close)
 *   binary <bytes>        -> ok with the same bytes
 *   shout_tagged P        -> (beyond CONTRACT.md, shows intercepts) broadcast "tagged" P, ok {}; the
 *                            event is intercepted: each subscriber gets P plus {"to": <its user id>},
 *                            and the user named in P's "skip" gets nothing
 *   anything else         -> error {"reason":"unknown event"}
 */
#include "demo.h"

#include "presence.h"

#include <string.h>
#include <time.h>

static int reason(struct ch_reply *reply, const char *why)
{
    reply->status = "error";
    reply->response = json_pack("{ss}", "reason", why);
    return CH_REPLY;
}

static int room_join(struct channel *ch, const struct ch_payload *params, struct ch_reply *reply)
{
    if (strcmp(channel_topic(ch), "room:forbidden") == 0) {
        reply->response = json_pack("{ss}", "reason", "unauthorized");
        return CH_REFUSE;
    }
    return channel_send_info(ch, "after_join", NULL) == 0 ? CH_OK : CH_CRASH;
}

static int room_in(struct channel *ch, const char *event, const struct ch_payload *payload,
                   struct ch_reply *reply)
{
    if (strcmp(event, "ping") == 0) {
        if (payload->json)
            reply->response = json_incref(payload->json);
        else {
            reply->bin = payload->bin;
            reply->bin_len = payload->bin_len;
        }
        return CH_REPLY;
    }
    if (strcmp(event, "shout") == 0 || strcmp(event, "shout_others") == 0) {
        int rc = event[5] == '\0' ? channel_broadcast(ch, "shout", payload)
                                  : channel_broadcast_from(ch, "shout", payload);
        return rc == 0 ? CH_REPLY : reason(reply, "broadcast failed");
    }
    if (strcmp(event, "fail") == 0)
        return reason(reply, "failed");
    if (strcmp(event, "noreply") == 0)
        return CH_OK;
    if (strcmp(event, "crash") == 0)
        return CH_CRASH;
    if (strcmp(event, "leave_me") == 0)
        return reply->status = "ok", CH_STOP;
    if (strcmp(event, "shout_tagged") == 0) {
        if (!json_is_object(payload->json))
            return reason(reply, "object payload expected");
        return channel_broadcast(ch, "tagged", payload) == 0 ? CH_REPLY : reason(reply, "broadcast failed");
    }
    if (strcmp(event, "binary") == 0) {
        if (payload->json)
            return reason(reply, "binary payload expected");
        reply->bin = payload->bin;
        reply->bin_len = payload->bin_len;
        return CH_REPLY;
    }
    return reason(reply, "unknown event");
}

/* Intercepted "tagged": rewritten for each subscriber, or dropped for the skipped user. */
static int room_out(struct channel *ch, const char *event, const struct ch_payload *payload)
{
    const char *user = channel_user_id(ch);
    const char *skip = json_string_value(json_object_get(payload->json, "skip"));
    if (skip && strcmp(skip, user) == 0)
        return CH_OK;
    json_t *tagged = json_copy(payload->json);
    if (!tagged || json_object_set_new(tagged, "to", json_string(user)) != 0) {
        json_decref(tagged);
        return CH_CRASH;
    }
    /* A push that cannot be queued means the connection is closing: nothing to do about it here. */
    channel_push(ch, event, CH_JSON(tagged));
    json_decref(tagged);
    return CH_OK;
}

static const char *const room_intercepts[] = {"tagged", NULL};

const struct channel_handler demo_room_handler = {
    .pattern = "room:*",
    .join = room_join,
    .handle_in = room_in,
    .handle_info = presence_on_after_join,
    .intercepts = room_intercepts,
    .handle_out = room_out,
};
