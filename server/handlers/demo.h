/*
 * demo.h: the demo app of CONTRACT.md, the server's default app.
 *
 *   connect: the token is phoenix.js's authToken, else the `token` query parameter.
 *            Without jwt_secret: missing, empty or "bad" -> refused (HTTP 403); otherwise user id = token.
 *            With jwt_secret: an HS256 JWT (jwt.h) or refused; user id = its "sub", and its optional
 *            "channels" claim (topic patterns) becomes the assigns {"channels": [...]} (generic.h "claim").
 *            The socket id is users_socket:<user id>.
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
