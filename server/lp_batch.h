/*
 * lp_batch.h: the body of a long-poll POST, as phoenix.js's LongPoll sends it.
 *
 * With content-type application/x-ndjson the body is up to LP_BATCH_MAX_LINES lines (ended by \n or
 * \r\n): a line starting with '[' (V2) or '{' (V1) is one text frame, any other line is the base64 of
 * one binary frame. Any other content type: the whole body is one text frame. Each frame goes to
 * conn_on_message as if it had arrived on a WebSocket.
 *
 *     lp_batch_feed(c, "[null,\"1\",\"phoenix\",\"heartbeat\",{}]\n", len, true) == 200
 */
#ifndef CINDER_LP_BATCH_H
#define CINDER_LP_BATCH_H

#include <stdbool.h>
#include <stddef.h>

struct conn;

/* Lines one ndjson POST may carry (phoenix.js sends at most 100). */
#define LP_BATCH_MAX_LINES 100

/* Deliver body (borrowed) to c. Returns the long-poll status: 200, or, when a line closed the
 * connection (malformed, too big, over LP_BATCH_MAX_LINES lines, out of memory), 400 / 413 / 500, or
 * 410 for any other close. */
int lp_batch_feed(struct conn *c, const char *body, size_t len, bool ndjson);

#endif
