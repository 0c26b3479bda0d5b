/*
 * demo.h: the demo app of CONTRACT.md, the server's default app.
 *
 *   connect: token missing, empty or "bad" -> refused (HTTP 403); otherwise user id = token, socket id
 *            users_socket:<token>
 *   room:*       ping / shout / shout_others / fail / noreply / crash / leave_me / binary
 *   telemetry:*  join ok, inbound events ignored
 */
#ifndef CINDER_DEMO_H
#define CINDER_DEMO_H

#include "handler.h"

extern const struct channel_handler demo_room_handler;
extern const struct channel_handler demo_telemetry_handler;
extern const struct socket_handler demo_app;

#endif
