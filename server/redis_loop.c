/*
 * redis_loop.c: hiredis on the lws loop (see redis_loop.h).
 *
 * Write interest: lws's raw-file role clears POLLOUT after every writable callback, so when hiredis
 * still has output after a write (it asked for write interest again meanwhile) the interest is asked
 * again from a timer run on the next loop turn.
 */
#include "redis_loop.h"

#include "endpoint.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct redis_watch {
    struct lws *wsi;       /* NULL once lws closed it */
    redisAsyncContext *ac; /* NULL once hiredis cleaned up */
    struct lws_context *ctx;
    bool writing;  /* hiredis wants write readiness */
    bool in_write; /* inside redisAsyncHandleWrite */
    lws_sorted_usec_list_t rearm;
    lws_sorted_usec_list_t lost_sul;
    redis_lost_fn lost;
    void *arg;
};

static void free_if_done(struct redis_watch *w)
{
    if (!w->wsi && !w->ac) {
        lws_sul_schedule(w->ctx, 0, &w->rearm, NULL, LWS_SET_TIMER_USEC_CANCEL);
        lws_sul_schedule(w->ctx, 0, &w->lost_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
        free(w);
    }
}

static void on_rearm(lws_sorted_usec_list_t *sul)
{
    struct redis_watch *w = lws_container_of(sul, struct redis_watch, rearm);
    if (w->wsi && w->ac && w->writing)
        lws_callback_on_writable(w->wsi);
}

static void hook_add_read(void *privdata)
{
    (void)privdata; /* lws always watches for readability */
}

static void hook_del_read(void *privdata)
{
    (void)privdata;
}

static void hook_add_write(void *privdata)
{
    struct redis_watch *w = privdata;
    w->writing = true;
    if (w->wsi && !w->in_write)
        lws_callback_on_writable(w->wsi);
}

static void hook_del_write(void *privdata)
{
    struct redis_watch *w = privdata;
    w->writing = false;
}

static void hook_cleanup(void *privdata)
{
    struct redis_watch *w = privdata;
    w->ac = NULL;
    w->writing = false;
    if (w->wsi)
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    else
        free_if_done(w);
}

int redis_loop_attach(struct lws_vhost *vh, redisAsyncContext *ac, redis_lost_fn lost, void *arg)
{
    if (ac->ev.data)
        return -1;
    int fd = dup(ac->c.fd);
    if (fd < 0)
        return -1;
    struct redis_watch *w = calloc(1, sizeof(*w));
    if (!w) {
        close(fd);
        return -1;
    }
    lws_sock_file_fd_type desc;
    desc.filefd = fd;
    w->wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, desc, "phoenix", NULL);
    if (!w->wsi) {
        close(fd);
        free(w);
        return -1;
    }
    struct session *ss = lws_wsi_user(w->wsi);
    ss->redis = w;
    w->ac = ac;
    w->ctx = lws_get_context(w->wsi);
    w->lost = lost;
    w->arg = arg;
    ac->ev.data = w;
    ac->ev.addRead = hook_add_read;
    ac->ev.delRead = hook_del_read;
    ac->ev.addWrite = hook_add_write;
    ac->ev.delWrite = hook_del_write;
    ac->ev.cleanup = hook_cleanup;
    return 0;
}

int redis_loop_on_readable(struct redis_watch *w)
{
    if (w && w->ac)
        redisAsyncHandleRead(w->ac);
    return 0;
}

int redis_loop_on_writable(struct redis_watch *w)
{
    if (!w || !w->ac)
        return 0;
    w->in_write = true;
    redisAsyncHandleWrite(w->ac);
    if (w->ac) {
        w->in_write = false;
        if (w->writing) /* more to write: lws dropped POLLOUT after this callback, ask again */
            lws_sul_schedule(w->ctx, 0, &w->rearm, on_rearm, 1);
    }
    return 0;
}

static void on_lost(lws_sorted_usec_list_t *sul)
{
    struct redis_watch *w = lws_container_of(sul, struct redis_watch, lost_sul);
    redisAsyncContext *ac = w->ac;
    if (ac && w->lost)
        w->lost(w->arg, ac); /* the owner frees ac: hook_cleanup then frees w */
    else
        free_if_done(w);
}

void redis_loop_on_closed(struct redis_watch *w)
{
    if (!w)
        return;
    w->wsi = NULL;
    if (w->ac) /* lws gave up on the descriptor (hang-up, error) while hiredis still uses it */
        lws_sul_schedule(w->ctx, 0, &w->lost_sul, on_lost, 1);
    else
        free_if_done(w);
}
