/*
 * router.h: the Phoenix socket rules (PROTOCOL.md section 6, Phoenix 1.8.12+), in one place.
 *
 * Heartbeats are answered at once; phx_join / phx_leave manage channel instances; every other event
 * goes to the joined channel's handle_in. Every hook return code becomes its wire frames here, so no
 * handler ever writes an error frame itself.
 */
#ifndef CINDER_ROUTER_H
#define CINDER_ROUTER_H

#include "phx_msg.h"

struct conn;
struct server;

/* Route one decoded message of c. m borrowed. 0, or negative when out of memory. */
int router_dispatch(struct conn *c, const struct phx_msg *m);

/* End, with phx_error, every channel marked by channel_mark_crashed. Call where no hook is running:
 * after a dispatch, after a broadcast from outside a channel. */
void router_end_crashed(struct server *s);

#endif
