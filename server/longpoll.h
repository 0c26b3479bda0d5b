/*
 * longpoll.h: the long-poll transport: Phoenix's /socket/longpoll on libwebsockets' HTTP side.
 *
 * A session is a struct conn whose transport is a series of HTTP requests. Every answer is HTTP 200
 * with a JSON body whose "status" is the real outcome (PROTOCOL.md section 7):
 *
 *   GET, no valid session token   vsn + the app's connect on the query parameters; a new session:
 *                                 {"status":410,"token":T,"messages":[]}; refused: {"status":403}
 *   GET, valid session            queued frames at once, or held up to --longpoll-window for one:
 *                                 {"status":200,"token":T,"messages":["<frame>",...]}, or at the end of
 *                                 the window {"status":204,"token":T,"messages":[]}; a session that is
 *                                 ending: {"status":410}
 *   POST, valid session           application/x-ndjson: <= 100 lines, "[" or "{" starts a text frame,
 *                                 anything else is base64 of a binary frame; other types: the body is one
 *                                 text frame. {"status":200}. Malformed frame or more than 100 lines:
 *                                 {"status":400}; body over --max-body-size: {"status":413}; both end the
 *                                 session, as a WebSocket would be closed.
 *   POST, no valid session        {"status":410}
 *   OPTIONS                       CORS preflight, empty 200
 *   other methods                 HTTP 400
 *
 * The session token is the last `token` query parameter (or header x-phoenix-longpoll-token); one that
 * is not a valid session token is an app parameter and the request is a new session. Tokens are signed
 * (lp_token.h), renewed with every poll answer, accepted for max(3 windows, 30 s).
 *
 * Lifetimes: a session ends when no GET arrived for 1.5 windows while none was held, when its
 * connection is closed by the core (idle timeout, slow consumer, "disconnect" on the socket id,
 * malformed input), or at shutdown (longpoll_destroy). Ending destroys its conn (its channels terminate)
 * from a timer callback, never inside a core call. A held GET whose client goes away is simply dropped
 * (longpoll_on_drop); a newer GET on the same session answers the older one 204 at once. Frames are
 * read from the conn's write queue when a poll is answered; binary frames cannot travel over long-poll
 * and are dropped (counted).
 */
#ifndef CINDER_LONGPOLL_H
#define CINDER_LONGPOLL_H

#include <stddef.h>

#define LONGPOLL_PATH "/socket/longpoll"

struct lws;
struct lws_context;
struct server;
struct session;
struct longpoll;

/* The long-poll side of one lws context. s and ctx borrowed (they outlive it). NULL when out of memory. */
struct longpoll *longpoll_create(struct server *s, struct lws_context *ctx);
/* End every session (their conns are destroyed, held requests are left to be closed by lws) and free.
 * Call before the lws context is destroyed. NULL-safe; *lp = NULL. */
void longpoll_destroy(struct longpoll **lp);

/* LWS_CALLBACK_HTTP on LONGPOLL_PATH. 0 to go on, non-zero to close the connection. */
int longpoll_on_request(struct longpoll *lp, struct lws *wsi, struct session *ss);
/* LWS_CALLBACK_HTTP_BODY / _BODY_COMPLETION / HTTP_WRITEABLE for a request ss->lp. Same returns. */
int longpoll_on_body(struct session *ss, const void *in, size_t len);
int longpoll_on_body_done(struct session *ss);
int longpoll_on_writable(struct lws *wsi, struct session *ss);
/* The request is over or its connection closed: detach it from its session and free it. NULL-safe. */
void longpoll_on_drop(struct session *ss);

#endif
