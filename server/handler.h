/*
 * handler.h: the API a channel handler is written against (Phoenix's Channel behaviour, in C).
 *
 * A handler is a const table of hooks chosen by topic pattern; NULL where a hook is not used. The core
 * runs the hooks of one channel instance one at a time, on the connection's event-loop thread, and turns
 * every return code into wire frames in one place (router.c): hooks never write error frames themselves.
 *
 *     static const struct channel_handler room = {
 *         .pattern = "room:*",
 *         .state_size = sizeof(struct room_state),
 *         .join = room_join,
 *         .handle_in = room_in,
 *     };
 *
 * Ownership, in Jansson's words: every json_t handed to a hook is borrowed (valid until the hook
 * returns; json_incref to keep it). A hook that sets reply->response hands over a new reference (the
 * core steals it, whatever the return code). Binary bytes are borrowed until the hook returns.
 */
#ifndef CINDER_HANDLER_H
#define CINDER_HANDLER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct channel;
struct options;
struct query;

/* A payload: JSON (json != NULL) or raw bytes from a V2 binary frame (json == NULL). Borrowed. */
struct ch_payload {
    json_t *json;
    const unsigned char *bin;
    size_t bin_len;
};

#define CH_JSON(j) (&(const struct ch_payload){.json = (j)})

/* What a hook answers to the client's message. */
struct ch_reply {
    const char *status;       /* "ok", "error", ...; borrowed; NULL means "ok" for CH_REPLY */
    json_t *response;         /* stolen by the core; NULL means {} (or the binary below) */
    const unsigned char *bin; /* binary response when response == NULL; borrowed */
    size_t bin_len;
};

/* Hook return codes. */
enum ch_result {
    CH_OK = 0,     /* join: accepted (reply->response, if set, is the ok response); other hooks: no reply */
    CH_REPLY = 1,  /* handle_in: send *reply */
    CH_REFUSE = 2, /* join: refused; error reply carrying reply->response */
    CH_STOP = 3,   /* handle_in/handle_info: send *reply if reply->status is set, then close the channel
                      gracefully (the client gets phx_close and does not rejoin) */
    CH_CRASH = -1, /* any hook failed: join -> {"reason":"join crashed"}; later hooks -> phx_error
                      {"reason":"channel_crash"} for this channel only (the client rejoins) */
};

/* Why a channel ended, as passed to terminate. */
enum ch_exit {
    CH_EXIT_LEFT,      /* the client sent phx_leave */
    CH_EXIT_STOPPED,   /* a hook returned CH_STOP */
    CH_EXIT_CRASHED,   /* a hook returned CH_CRASH */
    CH_EXIT_DUPLICATE, /* the client joined the same topic again; this instance is replaced */
    CH_EXIT_CLOSED,    /* the connection closed (or the server is shutting down) */
};

struct channel_handler {
    /* Topic pattern: exact ("lobby") or a prefix ending in '*' ("room:*"). First match wins. */
    const char *pattern;
    /* The handler's own configuration, for hooks shared by several tables (channel_handler_data); the
     * core never reads it. NULL for a handler that is its code alone. */
    const void *data;
    /* Bytes of per-channel state, zeroed before join; see channel_state(). */
    size_t state_size;
    /* NULL-terminated list of events that go through handle_out for each subscriber, or NULL. */
    const char *const *intercepts;

    /* The client asked to join. params borrowed. CH_OK, CH_REFUSE or CH_CRASH. The channel is not yet
     * subscribed to its topic: broadcasts made here do not reach the joiner (use channel_send_info to
     * act right after the join reply). */
    int (*join)(struct channel *ch, const struct ch_payload *params, struct ch_reply *reply);
    /* An event from the client. event and payload borrowed. CH_OK (no reply), CH_REPLY, CH_STOP or
     * CH_CRASH. A channel without handle_in answers every event with {"reason":"unknown event"}. */
    int (*handle_in)(struct channel *ch, const char *event, const struct ch_payload *payload,
                     struct ch_reply *reply);
    /* A message the server sent to this channel with channel_send_info (Phoenix's handle_info). msg and
     * data borrowed. CH_OK, CH_STOP or CH_CRASH. */
    int (*handle_info)(struct channel *ch, const char *msg, json_t *data);
    /* An intercepted broadcast, once per subscribing channel: push it (possibly rewritten) with
     * channel_push, or drop it by not pushing. Runs during fan-out: it must not join or leave. CH_OK or
     * CH_CRASH. */
    int (*handle_out)(struct channel *ch, const char *event, const struct ch_payload *payload);
    /* Runs exactly once for every channel whose join returned CH_OK, whatever ended it. Release what
     * the state holds here; the state memory itself belongs to the core. It is the last hook, and the core
     * reads nothing of this table after it returns: a table that lives only as long as its channels hold
     * it (handlers/generic.c) may be released here. */
    void (*terminate)(struct channel *ch, enum ch_exit reason);
};

/* What the transport knows of a connecting client, for the app's connect (Phoenix's params and
 * connect_info). Everything borrowed, valid during the call. */
struct connect_info {
    const struct query *params; /* the URL query, vsn included */
    /* phoenix.js's authToken: the `base64url.bearer.phx.<B64>` entry of Sec-WebSocket-Protocol, decoded
     * (WebSocket), or the X-Phoenix-AuthToken header (long-poll); NULL when the client sent none */
    const char *auth_token;
    const struct options *opt; /* the settings in force (jwt_secret, jwt_leeway_ms, ...) */
};

/* What the app's connect answers. The core zeroes it before the call and takes every pointer set in it
 * (stolen), whether connect accepts or refuses. */
struct connect_result {
    char *user_id;      /* malloc'd; required to accept */
    char *socket_id;    /* malloc'd or NULL: the connection subscribes to that topic and a "disconnect"
                           broadcast there closes it */
    json_t *assigns;    /* a new reference or NULL: data for the socket's channels (Phoenix's socket
                           assigns), read with channel_assigns; e.g. {"channels": [...]} from a token's claim */
    const char *reason; /* static text or NULL: why connect refused, for the transport's log line */
};

/* The socket-level part of an app (Phoenix's UserSocket): who may connect, and the channel routes. */
struct socket_handler {
    /* Accept: return 0 with out->user_id set. Refuse: return -1 (the transport answers HTTP 403). */
    int (*connect)(const struct connect_info *info, struct connect_result *out);
    /* NULL-terminated route table. */
    const struct channel_handler *const *channels;
};

/* ---- What hooks may call (all on the channel's own thread). ---- */

/* The zeroed state_size bytes of this instance (NULL when state_size is 0). */
void *channel_state(struct channel *ch);
/* Borrowed, valid for the channel's life. */
const char *channel_topic(const struct channel *ch);
const char *channel_user_id(const struct channel *ch);
/* The data of the handler table this channel was routed to (channel_handler.data), borrowed. */
const void *channel_handler_data(const struct channel *ch);
/* The socket's assigns from connect (connect_result.assigns), borrowed; NULL when it set none. */
json_t *channel_assigns(const struct channel *ch);
/* Subscribers of this channel's topic on this shard (during join, not counting the joiner). */
size_t channel_topic_subscribers(const struct channel *ch);
/* A seat on this channel's topic, counted across the node's shards: true when fewer than max were
 * taken (now one more is), false when full. A channel that took one gives it back exactly once
 * (channel_release_seat, e.g. in terminate). */
bool channel_take_seat(struct channel *ch, size_t max);
void channel_release_seat(struct channel *ch);

/* Push an event to this channel's client only. 0 or negative error. */
int channel_push(struct channel *ch, const char *event, const struct ch_payload *payload);
/* Broadcast to every subscriber of this channel's topic, this one included. Returns 0 or negative. */
int channel_broadcast(struct channel *ch, const char *event, const struct ch_payload *payload);
/* Broadcast to every subscriber of the topic except this channel instance. */
int channel_broadcast_from(struct channel *ch, const char *event, const struct ch_payload *payload);
/* Queue a message for this channel's handle_info, run right after the current hook's reply has been
 * queued (the Phoenix idiom `send(self(), :after_join)`). data stolen (may be NULL). 0 or -1. */
int channel_send_info(struct channel *ch, const char *msg, json_t *data);

#endif
