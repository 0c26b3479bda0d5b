/*
 * redis_loop.h: hiredis's async API attached to the libwebsockets event loop (a hiredis "adapter",
 * like its stock adapters/libuv.h, in one small file).
 *
 * lws adopts a dup() of the hiredis socket as a raw descriptor: lws only reports readiness (RAW_RX_FILE
 * -> redisAsyncHandleRead, RAW_WRITEABLE_FILE -> redisAsyncHandleWrite), hiredis keeps owning and
 * closing its own descriptor, and lws closes its duplicate. Lifetimes: the watch lives until both sides
 * are done with it: hiredis's cleanup hook (context freed) and lws's RAW_CLOSE_FILE (wsi gone).
 */
#ifndef CINDER_REDIS_LOOP_H
#define CINDER_REDIS_LOOP_H

#include <hiredis/async.h>

struct lws_vhost;
struct redis_watch;

/* Called (from the event loop, never from inside hiredis) when lws dropped the descriptor while the
 * context was still alive: the owner must free or disconnect ac. */
typedef void (*redis_lost_fn)(void *arg, redisAsyncContext *ac);

/* Attach ac to vh's loop through the "phoenix" protocol's callback. 0, or -1 (then ac is untouched). */
int redis_loop_attach(struct lws_vhost *vh, redisAsyncContext *ac, redis_lost_fn lost, void *arg);

/* The lws callback's cases for an adopted descriptor (w from struct session). */
int redis_loop_on_readable(struct redis_watch *w);
int redis_loop_on_writable(struct redis_watch *w);
void redis_loop_on_closed(struct redis_watch *w);

#endif
