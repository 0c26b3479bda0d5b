/*
 * channel.h: a channel instance: one joined topic on one connection (core-internal view).
 *
 * Life: channel_create (joining, not subscribed) -> channel_activate (subscribed, linked into its
 * connection) -> channel_destroy (terminate exactly once if it was activated, unsubscribe, presence
 * leaves told to the topic, unlink, free). Handlers see only the opaque API of handler.h.
 */
#ifndef CINDER_CHANNEL_H
#define CINDER_CHANNEL_H

#include "handler.h"
#include "registry.h"

#include <stdbool.h>

struct conn;
struct channel_info;
struct tracker_entry;

/* Every joined channel pays for each byte of it: sizeof 112, and a short string join_ref (what
 * phoenix.js sends) is kept as text after the topic instead of as a Jansson string (80 bytes of
 * malloc chunks). Read the join_ref with channel_join_ref / channel_join_ref_is. */
struct channel {
    struct channel *next; /* in the connection's list */
    struct conn *conn;    /* borrowed: the connection outlives its channels */
    const struct channel_handler *handler;
    struct reg_sub sub;              /* kind SUB_CHANNEL while active */
    struct tracker_entry *presences; /* this instance's presence entries (tracker.h) */
    struct channel_info *infos;      /* pending handle_info messages, FIFO (a short list) */
    struct channel *crash_next;      /* in the server's list of channels to end as crashed */
    json_t *_join_ref; /* owned reference, or NULL: the join_ref unless _join_ref_inline (NULL: JSON null) */
    const char *topic; /* in the same allocation */
    void *state;       /* in the same allocation, or NULL */
    bool crash_pending;
    bool active;
    bool joined; /* the handler's join returned CH_OK: terminate is owed even if activation failed */
    bool terminated;
    bool _join_ref_inline; /* the join_ref is a string: its text follows the topic's NUL */
};

/* New joining instance (caller owns). topic copied, join_ref borrowed (a reference is taken). NULL when
 * out of memory. */
struct channel *channel_create(struct conn *c, const struct channel_handler *h, const char *topic,
                               json_t *join_ref);
/* Subscribe to the topic and link into the connection. 0 or -1 (out of memory). */
int channel_activate(struct channel *ch);
/* End the instance: terminate(reason) if it was active, then release everything. Sets *ch to NULL. */
void channel_destroy(struct channel **ch, enum ch_exit reason);

/* This instance's join_ref: a new reference (caller releases), NULL for JSON null, and NULL when out of
 * memory (the message then carries null, as a broadcast does). */
json_t *channel_join_ref(const struct channel *ch);
/* ref (borrowed; NULL == JSON null) equals this instance's join_ref (phx_ref_equal). */
bool channel_join_ref_is(const struct channel *ch, const json_t *ref);

/* Pop the oldest pending info (caller owns; channel_info_free), or NULL. */
struct channel_info *channel_next_info(struct channel *ch);
const char *channel_info_msg(const struct channel_info *i);
json_t *channel_info_data(const struct channel_info *i);
void channel_info_free(struct channel_info **i);

/* A hook failed where the channel cannot be ended at once (during a fan-out): queue it on the
 * server's list; router_end_crashed() ends it. Idempotent. */
void channel_mark_crashed(struct channel *ch);

/* Does this instance's handler intercept event? */
bool channel_intercepts(const struct channel *ch, const char *event);

#endif
