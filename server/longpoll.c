/*
 * longpoll.c: the long-poll transport (see longpoll.h).
 *
 * Two objects. A session (struct lp_session) owns one struct conn and lives across requests, indexed
 * by conn id; a request (struct lp_request) lives on one lws HTTP transaction, from LWS_CALLBACK_HTTP to
 * its answer or its connection's close. They point at each other only while a GET waits on a session
 * (sess->poll == r and r->sess == sess); whichever goes first cuts both links, so neither can dangle.
 * A POST remembers only the session id and looks the session up again once its body is in.
 *
 * Every answer is written from HTTP_WRITEABLE: deciding an answer (anywhere, e.g. in the core's wake
 * during a fan-out, or in a timer) only stores it and asks for WRITEABLE. A poll answered from the
 * session's queue takes its frames at WRITEABLE time, so everything queued by then travels together.
 *
 * Session timer (sess->timer): armed for 1.5 windows whenever no GET is waiting on the session;
 * re-armed to fire at once when the conn is closed by the core. Either way it ends the session from the
 * event loop, outside any core call.
 */
#include "longpoll.h"

#include "conn.h"
#include "endpoint.h"
#include "log.h"
#include "lp_batch.h"
#include "lp_token.h"
#include "query.h"
#include "server.h"

#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <uthash.h>

/* Seconds lws may keep a held GET beyond the window before it cuts the connection itself. */
#define LP_HOLD_GRACE_S 5
/* Shortest session token lifetime; otherwise three windows (a token is renewed with every poll). */
#define LP_TOKEN_MIN_TTL_MS 30000
/* Longest access-control-request-headers value echoed in a preflight. */
#define LP_MAX_ALLOW_HEADERS 1024

struct lp_session;

struct lp_request {
    struct lp_request *next, *prev; /* lp->requests */
    struct longpoll *lp;            /* borrowed; NULL once longpoll_destroy ran */
    struct lws *wsi;
    struct lp_session *sess;       /* a GET waiting on (or being answered from) sess; sess->poll == this */
    uint64_t session_id;           /* a POST: the session its body is for */
    lws_sorted_usec_list_t window; /* a held GET: the end of its window */
    bool poll_ready;               /* sess's queue answers this GET at the next WRITEABLE */
    bool rx_paused;                /* a GET: lws reads nothing from the client until the answer */
    bool want_body;                /* a POST whose body is being read */
    bool ndjson;
    bool too_big;
    struct phx_buf body;
    bool ready;       /* the answer below is decided */
    int http_status;  /* 200, or 400 for a method we do not serve */
    char *resp;       /* owned JSON text, or NULL for an empty body */
    char *allow_hdrs; /* owned: an OPTIONS request's access-control-request-headers */
    bool preflight;
    bool close_after; /* the request body was not read: close rather than parse it as a request */
};

struct lp_session {
    UT_hash_handle hh;
    uint64_t id; /* == conn->id, the key */
    struct longpoll *lp;
    struct conn *conn;            /* owned */
    struct lp_request *poll;      /* the GET waiting on the session, or NULL */
    lws_sorted_usec_list_t timer; /* expiry, or the deferred end */
    bool ending;                  /* the end is scheduled or running: no new work */
};

struct longpoll {
    struct server *srv;
    struct lws_context *ctx;
    struct lp_session *sessions; /* uthash by id */
    struct lp_request *requests; /* every live request */
    uint64_t binary_dropped;     /* binary frames that could not travel over long-poll */
};

static void session_end(struct lp_session *sess, const char *why);

/* ---- answers ---------------------------------------------------------------------------------- */

static char *status_body(int status)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "{\"status\":%d}", status);
    return strdup(buf);
}

/* {"status":S,"token":T,"messages":M} with a fresh token for sess. messages stolen (NULL: []). */
static char *session_body(struct lp_session *sess, int status, json_t *messages)
{
    struct server *s = sess->lp->srv;
    uint64_t ttl = 3 * s->opt.longpoll_window_ms;
    if (ttl < LP_TOKEN_MIN_TTL_MS)
        ttl = LP_TOKEN_MIN_TTL_MS;
    char tok[LP_TOKEN_SIZE];
    if (!messages)
        messages = json_array();
    if (!messages || lp_token_sign(&s->lp_token_key, sess->id, server_now_ms() + ttl, tok) != LP_TOKEN_OK) {
        json_decref(messages);
        return NULL;
    }
    json_t *o = json_pack("{s:i, s:s, s:o}", "status", status, "token", tok, "messages", messages);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* Ask for WRITEABLE. A GET's paused rx must be resumed first: lws services neither direction of a
 * flow-controlled HTTP/1 connection. */
static void request_wake(struct lp_request *r)
{
    if (r->rx_paused) {
        r->rx_paused = false;
        lws_rx_flow_control(r->wsi, 1);
    }
    lws_callback_on_writable(r->wsi);
}

/* Decide r's answer (body stolen; NULL means out of memory: the connection is cut) and ask for
 * WRITEABLE to send it. */
static void answer(struct lp_request *r, int http_status, char *body)
{
    if (r->ready) {
        free(body);
        return;
    }
    r->ready = true;
    r->http_status = http_status;
    r->resp = body;
    request_wake(r);
}

static void answer_status(struct lp_request *r, int status)
{
    answer(r, 200, status_body(status));
}

/* ---- sessions --------------------------------------------------------------------------------- */

static uint64_t window_ms(const struct longpoll *lp)
{
    return lp->srv->opt.longpoll_window_ms;
}

static void on_session_timer(lws_sorted_usec_list_t *sul)
{
    session_end(lws_container_of(sul, struct lp_session, timer), "expired");
}

/* No GET is waiting: the session ends unless one arrives within 1.5 windows. */
static void session_arm_expiry(struct lp_session *sess)
{
    if (sess->ending)
        return;
    lws_sul_schedule(sess->lp->ctx, 0, &sess->timer, on_session_timer,
                     (lws_usec_t)(window_ms(sess->lp) * 3 / 2) * LWS_US_PER_MS);
}

/* Unlink a GET from its session and stop its window. */
static void request_detach(struct lp_request *r)
{
    if (r->sess) {
        r->sess->poll = NULL;
        r->sess = NULL;
    }
    lws_sul_cancel(&r->window);
    r->poll_ready = false;
}

/* The GET waiting on the session is to be answered from its queue at the next WRITEABLE. */
static void poll_ready(struct lp_request *r)
{
    lws_sul_cancel(&r->window);
    if (r->poll_ready || r->ready)
        return;
    r->poll_ready = true;
    request_wake(r);
}

/* transport_ops.wake: frames were queued. */
static void lp_wake(struct conn *c)
{
    struct lp_session *sess = c->transport_handle;
    if (sess->poll)
        poll_ready(sess->poll);
}

/* transport_ops.close: the core closed the conn (possibly mid fan-out): end the session soon. */
static void lp_close(struct conn *c)
{
    struct lp_session *sess = c->transport_handle;
    if (sess->ending)
        return;
    sess->ending = true;
    lws_sul_schedule(sess->lp->ctx, 0, &sess->timer, on_session_timer, 1);
}

static const struct transport_ops lp_transport = {
    .name = "longpoll",
    .kind = TRANSPORT_LONGPOLL,
    .wake = lp_wake,
    .close = lp_close,
};

/* End sess now: a waiting GET is told 410, the conn is destroyed (its channels terminate), sess freed.
 * Called from the session timer or longpoll_destroy only. why: for the log when the core did not close
 * the conn. */
static void session_end(struct lp_session *sess, const char *why)
{
    struct longpoll *lp = sess->lp;
    sess->ending = true; /* the conn's own teardown may close it: nothing may re-arm the timer */
    lws_sul_cancel(&sess->timer);
    if (sess->poll) {
        struct lp_request *r = sess->poll;
        request_detach(r);
        answer_status(r, 410);
    }
    HASH_DEL(lp->sessions, sess);
    struct conn *c = sess->conn;
    if (c->closing)
        log_msg(c->close_code == CLOSE_POLICY ? LOG_WARN : LOG_DEBUG,
                "conn %llu (user %s): long-poll closed %u: %s", (unsigned long long)c->id, c->user_id,
                c->close_code, c->close_reason);
    else
        log_msg(LOG_DEBUG, "conn %llu (user %s): long-poll session %s", (unsigned long long)c->id, c->user_id,
                why);
    conn_destroy(&sess->conn);
    free(sess);
}

static struct lp_session *session_find(struct longpoll *lp, uint64_t id)
{
    struct lp_session *sess = NULL;
    HASH_FIND(hh, lp->sessions, &id, sizeof(id), sess);
    return sess;
}

/* A usable session: found and not ending. */
static struct lp_session *session_live(struct longpoll *lp, uint64_t id)
{
    struct lp_session *sess = session_find(lp, id);
    return sess && !sess->ending && !sess->conn->closing ? sess : NULL;
}

/* ---- request parsing -------------------------------------------------------------------------- */

/* The request's decoded query pairs into q. 0 or -1 (too many or out of memory). */
static int read_query(struct lws *wsi, struct query *q)
{
    char frag[1024];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            return 0;
        if (n > 0 && query_add(q, frag) != 0)
            return -1;
    }
}

/* Remove every pair key=value from q (value borrowed; may point into q). */
static void query_drop(struct query *q, const char *key, const char *value)
{
    char *v = strdup(value);
    size_t keep = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (v && strcmp(q->pairs[i].key, key) == 0 && strcmp(q->pairs[i].value, v) == 0)
            free(q->pairs[i].key);
        else
            q->pairs[keep++] = q->pairs[i];
    }
    q->n = keep;
    free(v);
}

/* The session token the request carries: header x-phoenix-longpoll-token, else the last `token` query
 * parameter (copied into buf). NULL when there is none. */
static const char *request_token(struct lws *wsi, const struct query *q, char *buf, int buflen)
{
    static const char hdr[] = "x-phoenix-longpoll-token:";
    if (lws_hdr_custom_length(wsi, hdr, (int)sizeof(hdr) - 1) > 0 &&
        lws_hdr_custom_copy(wsi, buf, buflen, hdr, (int)sizeof(hdr) - 1) > 0)
        return buf;
    const char *t = query_get(q, "token");
    if (!t)
        return NULL;
    snprintf(buf, (size_t)buflen, "%s", t);
    return buf;
}

/* phoenix.js's authToken, sent raw in X-Phoenix-AuthToken by its LongPoll: malloc'd, or NULL. */
static char *request_auth_token(struct lws *wsi)
{
    static const char hdr[] = "x-phoenix-authtoken:";
    int len = lws_hdr_custom_length(wsi, hdr, (int)sizeof(hdr) - 1);
    char *tok = len > 0 ? malloc((size_t)len + 1) : NULL;
    if (tok && lws_hdr_custom_copy(wsi, tok, len + 1, hdr, (int)sizeof(hdr) - 1) <= 0) {
        free(tok);
        tok = NULL;
    }
    return tok;
}

/* The session the token names, with the verification outcome in *vrc (LP_TOKEN_*). */
static struct lp_session *token_session(struct longpoll *lp, const char *tok, int *vrc)
{
    uint64_t id = 0;
    *vrc = tok ? lp_token_verify(&lp->srv->lp_token_key, tok, strlen(tok), server_now_ms(), &id)
               : LP_TOKEN_E_MALFORMED;
    return *vrc == LP_TOKEN_OK ? session_live(lp, id) : NULL;
}

static long long content_length(struct lws *wsi)
{
    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    char *end;
    long long n = strtoll(cl, &end, 10);
    return *end || n < 0 ? -1 : n;
}

static bool is_ndjson(struct lws *wsi)
{
    static const char type[] = "application/x-ndjson";
    char ct[128];
    if (lws_hdr_copy(wsi, ct, sizeof(ct), WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
        return false;
    size_t n = sizeof(type) - 1;
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* ---- GET -------------------------------------------------------------------------------------- */

/* No valid session token: vsn and the app's connect decide; a new session answers 410 + token. */
static void get_new_session(struct longpoll *lp, struct lp_request *r, struct query *q, const char *tok,
                            int vrc)
{
    /* A token this server signed is ours, not the app's: the app sees its own parameter again. */
    if (tok && (vrc == LP_TOKEN_OK || vrc == LP_TOKEN_E_EXPIRED))
        query_drop(q, "token", tok);
    enum phx_vsn vsn = phx_vsn_parse(query_get(q, "vsn"));
    struct connect_result who = {.reason = "unsupported vsn"};
    char *auth = vsn == PHX_VSN_INVALID ? NULL : request_auth_token(r->wsi);
    if (vsn == PHX_VSN_INVALID || server_connect(lp->srv, q, auth, &who) != 0) {
        free(auth);
        log_msg(LOG_DEBUG, "long-poll connect refused (403): %s",
                who.reason ? who.reason : "refused by the app");
        answer_status(r, 403);
        return;
    }
    free(auth);
    char *user_id = who.user_id, *socket_id = who.socket_id;
    enum admit a = server_admit(lp->srv, user_id, server_now_ms());
    if (a != ADMIT_OK) {
        /* phoenix.js treats any status but 200/204/410 as an error and reconnects with backoff */
        log_conn(LOG_DEBUG, 0, user_id, NULL, "long-poll refused: %s", server_admit_reason(a));
        free(user_id);
        free(socket_id);
        json_decref(who.assigns);
        answer_status(r, a == ADMIT_USER ? 429 : 503);
        return;
    }
    struct lp_session *sess = calloc(1, sizeof(*sess));
    if (!sess) {
        server_user_remove(lp->srv, user_id); /* the seat server_admit took */
        free(user_id);
        free(socket_id);
        json_decref(who.assigns);
        answer(r, 200, NULL);
        return;
    }
    sess->lp = lp;
    sess->conn = conn_create(lp->srv, &lp_transport, sess, vsn, user_id, socket_id);
    if (sess->conn)
        sess->conn->assigns = who.assigns;
    else
        json_decref(who.assigns);
    if (!sess->conn) {
        free(sess);
        log_msg(LOG_ERROR, "out of memory opening a long-poll session");
        answer(r, 200, NULL);
        return;
    }
    sess->id = sess->conn->id;
    HASH_ADD(hh, lp->sessions, id, sizeof(sess->id), sess);
    session_arm_expiry(sess);
    log_msg(LOG_DEBUG, "conn %llu: long-poll open, user %s, vsn %d", (unsigned long long)sess->id,
            sess->conn->user_id, (int)vsn);
    answer(r, 200, session_body(sess, 410, NULL));
}

static void on_window(lws_sorted_usec_list_t *sul)
{
    poll_ready(lws_container_of(sul, struct lp_request, window));
}

/* Whether the client of a GET has gone. lws reads nothing while a request is in progress, so it cannot
 * tell (and while the socket is readable its loop would spin: hence rx is paused while a GET waits); a
 * peek at the socket can: end of stream or an error, as opposed to "nothing to read yet". Checked
 * before the queue is drained into an answer, so frames are not lost on a client that left. */
static bool client_gone(struct lws *wsi)
{
    lws_sockfd_type fd = lws_get_socket_fd(wsi);
    if (fd == LWS_SOCK_INVALID)
        return true;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* A GET on a live session: answer from the queue now, or wait for frames up to the window. */
static void get_poll(struct longpoll *lp, struct lp_request *r, struct lp_session *sess)
{
    lws_rx_flow_control(r->wsi, 0);
    r->rx_paused = true;
    sess->conn->last_rx_ms = server_now_ms(); /* polls are the session's traffic: no idle close */
    if (sess->poll) {
        /* Only one GET waits per session; the newer one is the client's, the older one is told 204. */
        struct lp_request *old = sess->poll;
        request_detach(old);
        answer(old, 200, session_body(sess, 204, NULL));
    }
    lws_sul_cancel(&sess->timer);
    sess->poll = r;
    r->sess = sess;
    if (!outq_empty(&sess->conn->q)) {
        poll_ready(r);
        return;
    }
    uint64_t w = window_ms(lp);
    lws_sul_schedule(lp->ctx, 0, &r->window, on_window, (lws_usec_t)w * LWS_US_PER_MS);
    /* lws gave the request timeout_secs; a held poll needs the whole window. */
    lws_set_timeout(r->wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)((w + 999) / 1000) + LP_HOLD_GRACE_S);
}

/* The answer to a GET from its session's queue: 200 with the text frames, or 204 when none. */
static char *poll_body(struct longpoll *lp, struct lp_session *sess)
{
    struct conn *c = sess->conn;
    if (sess->ending || c->closing)
        return status_body(410);
    json_t *messages = json_array();
    if (!messages)
        return NULL;
    struct frame *f;
    unsigned dropped = 0;
    while ((f = outq_peek(&c->q))) {
        json_t *m = f->binary ? NULL : json_stringn((const char *)frame_data(f), f->len);
        bool sent = m && json_array_append_new(messages, m) == 0;
        if (!sent)
            dropped++; /* binary frames have no long-poll form (nor would invalid UTF-8) */
        conn_pop(c, sent);
    }
    if (dropped) {
        lp->binary_dropped += dropped;
        log_msg(LOG_DEBUG, "conn %llu: %u binary frames dropped (long-poll carries text only; %llu in all)",
                (unsigned long long)c->id, dropped, (unsigned long long)lp->binary_dropped);
    }
    return session_body(sess, json_array_size(messages) ? 200 : 204, messages);
}

/* ---- POST ------------------------------------------------------------------------------------- */

/* The POST's body is complete (or there is none): deliver it to its session. */
static void post_done(struct longpoll *lp, struct lp_request *r)
{
    struct lp_session *sess = session_live(lp, r->session_id);
    if (!sess) {
        answer_status(r, 410);
        return;
    }
    struct conn *c = sess->conn;
    c->last_rx_ms = server_now_ms();
    if (r->too_big) {
        conn_close(c, CLOSE_TOO_BIG, "long-poll body over max_body_size");
        answer_status(r, 413);
        return;
    }
    const char *body = phx_buf_data(&r->body);
    int status = lp_batch_feed(c, body ? body : "", r->body.len, r->ndjson);
    phx_buf_cleanup(&r->body);
    if (status != 200)
        log_msg(status == 500 ? LOG_ERROR : LOG_INFO, "conn %llu (user %s): long-poll POST refused %d: %s",
                (unsigned long long)c->id, c->user_id, status, c->close_reason);
    answer_status(r, status);
}

/* A POST's headers: check the declared size; the body follows (or not). A POST without a live session
 * still has its body read (and discarded) when it is within the limit, so that the client reads our
 * answer rather than a reset. */
static void post_start(struct longpoll *lp, struct lp_request *r, struct lp_session *sess)
{
    long long cl = content_length(r->wsi);
    r->session_id = sess ? sess->id : 0; /* conn ids start at 1: 0 names no session */
    r->ndjson = is_ndjson(r->wsi);
    if (cl > 0 && (unsigned long long)cl > lp->srv->opt.max_body_size) {
        /* Refuse before reading: answer now and close rather than read the body. */
        r->close_after = true;
        r->too_big = true;
        post_done(lp, r);
        return;
    }
    if (cl < 0) {
        /* No Content-Length: lws reads no body (it has no chunked request bodies); take it as empty and
         * close afterwards so whatever follows is not parsed as a request. */
        r->close_after = true;
        post_done(lp, r);
        return;
    }
    r->want_body = true; /* lws delivers the body, then BODY_COMPLETION (also for an explicit 0) */
}

/* ---- lws events ------------------------------------------------------------------------------- */

static void request_free(struct lp_request *r)
{
    request_detach(r);
    if (r->lp) {
        if (r->prev)
            r->prev->next = r->next;
        else
            r->lp->requests = r->next;
        if (r->next)
            r->next->prev = r->prev;
    }
    phx_buf_cleanup(&r->body);
    free(r->resp);
    free(r->allow_hdrs);
    free(r);
}

void longpoll_on_drop(struct session *ss)
{
    struct lp_request *r = ss->lp;
    if (!r)
        return;
    ss->lp = NULL;
    struct lp_session *sess = r->sess;
    request_free(r);
    /* A held GET whose client went away: the session now waits for the next poll. */
    if (sess)
        session_arm_expiry(sess);
}

int longpoll_on_request(struct longpoll *lp, struct lws *wsi, struct session *ss)
{
    longpoll_on_drop(ss); /* a previous request on this connection is over, whatever lws told us */
    struct lp_request *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->lp = lp;
    r->wsi = wsi;
    phx_buf_init(&r->body, 0);
    r->next = lp->requests;
    if (lp->requests)
        lp->requests->prev = r;
    lp->requests = r;
    ss->lp = r;

    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0) {
        char v[LP_MAX_ALLOW_HEADERS];
        if (lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP_AC_REQUEST_HEADERS) > 0)
            r->allow_hdrs = strdup(v);
        r->preflight = true;
        answer(r, 200, NULL);
        return 0;
    }
    if (!get && !post) {
        r->close_after = true;
        answer(r, 400, status_body(400));
        return 0;
    }

    struct query q;
    query_init(&q);
    char tok[LP_TOKEN_SIZE + 64];
    if (read_query(wsi, &q) != 0) {
        query_cleanup(&q);
        r->close_after = post;
        answer_status(r, get ? 403 : 410);
        return 0;
    }
    const char *t = request_token(wsi, &q, tok, (int)sizeof(tok));
    int vrc;
    struct lp_session *sess = token_session(lp, t, &vrc);
    if (get && sess)
        get_poll(lp, r, sess);
    else if (get)
        get_new_session(lp, r, &q, t, vrc);
    else
        post_start(lp, r, sess);
    query_cleanup(&q);
    return 0;
}

int longpoll_on_body(struct session *ss, const void *in, size_t len)
{
    struct lp_request *r = ss->lp;
    if (!r || !r->lp)
        return -1;
    if (!r->want_body || r->too_big || !r->session_id)
        return 0; /* refused already, or for no session: read and forget */
    if (r->body.len + len > r->lp->srv->opt.max_body_size) {
        r->too_big = true; /* keep reading to the end, keep nothing */
        phx_buf_cleanup(&r->body);
        return 0;
    }
    return phx_buf_append(&r->body, in, len) == 0 ? 0 : -1;
}

int longpoll_on_body_done(struct session *ss)
{
    struct lp_request *r = ss->lp;
    if (!r || !r->lp)
        return -1;
    if (r->want_body) {
        r->want_body = false;
        post_done(r->lp, r);
    }
    return 0;
}

/* Status line and headers of r's answer into [*p, end). 0 or -1. */
static int write_headers(struct lws *wsi, struct lp_request *r, size_t len, unsigned char **p,
                         unsigned char *end)
{
#define HDR(name, value)                                                                                     \
    lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)(value),            \
                                (int)strlen(value), p, end)
    if (lws_add_http_common_headers(wsi, (unsigned)r->http_status, "application/json; charset=utf-8", len, p,
                                    end) ||
        HDR("access-control-allow-origin:", "*") || HDR("cache-control:", "no-store"))
        return -1;
    if (r->preflight && ((r->allow_hdrs && HDR("access-control-allow-headers:", r->allow_hdrs)) ||
                         HDR("access-control-allow-methods:", "get, post, options") ||
                         HDR("access-control-max-age:", "3600")))
        return -1;
    if (r->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, p, end))
        return -1;
#undef HDR
    return 0;
}

int longpoll_on_writable(struct lws *wsi, struct session *ss)
{
    struct lp_request *r = ss->lp;
    if (!r || !r->lp)
        return -1;
    if (r->sess && r->poll_ready) {
        struct lp_session *sess = r->sess;
        if (client_gone(wsi)) {
            /* Keep the frames for the next poll; the session waits for it as after any poll. */
            request_detach(r);
            session_arm_expiry(sess);
            return -1;
        }
        char *body = poll_body(r->lp, sess);
        request_detach(r);
        session_arm_expiry(sess);
        answer(r, 200, body);
    }
    if (!r->ready)
        return 0; /* a held GET: nothing to say yet */
    if (r->http_status == 200 && !r->resp && !r->preflight)
        return -1; /* the answer could not be built (out of memory) */

    size_t len = r->resp ? strlen(r->resp) : 0;
    unsigned char hdr[LWS_PRE + 512 + LP_MAX_ALLOW_HEADERS];
    unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
    if (write_headers(wsi, r, len, &p, end) != 0 || lws_finalize_write_http_header(wsi, start, &p, end) != 0)
        return -1;
    if (len) {
        unsigned char *buf = malloc(LWS_PRE + len);
        if (!buf)
            return -1;
        memcpy(buf + LWS_PRE, r->resp, len);
        int n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
        free(buf);
        if (n < (int)len)
            return -1;
    }
    bool close_after = r->close_after;
    longpoll_on_drop(ss);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- lifetime --------------------------------------------------------------------------------- */

struct longpoll *longpoll_create(struct server *s, struct lws_context *ctx)
{
    struct longpoll *lp = calloc(1, sizeof(*lp));
    if (!lp)
        return NULL;
    lp->srv = s;
    lp->ctx = ctx;
    return lp;
}

void longpoll_destroy(struct longpoll **lpp)
{
    struct longpoll *lp = *lpp;
    if (!lp)
        return;
    *lpp = NULL;
    /* Requests outlive us until lws closes their connections: cut them loose first, so that ending the
     * sessions (whose teardown may wake other sessions) touches no request. */
    for (struct lp_request *r = lp->requests, *next; r; r = next) {
        next = r->next;
        request_detach(r);
        r->lp = NULL;
        r->next = r->prev = NULL;
    }
    lp->requests = NULL;
    struct lp_session *sess, *tmp;
    HASH_ITER(hh, lp->sessions, sess, tmp)
    {
        session_end(sess, "ended by shutdown");
    }
    free(lp);
}
