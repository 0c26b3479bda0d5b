/*
 * http.c: HTTP requests (see http.h).
 *
 * A request's state lives in struct http_request from LWS_CALLBACK_HTTP to the end of its body. The
 * body is collected up to max_body_size; past it the rest is discarded and the answer is 413. Every
 * answer is complete JSON written at once (respond), after which no state of the request remains.
 */
#include "http.h"

#include "api.h"
#include "bridge.h"
#include "endpoint.h"
#include "health.h"
#include "log.h"
#include "longpoll.h"
#include "metrics.h"
#include "phx_buf.h"
#include "server.h"
#include "static_files.h"
#include "static_http.h"

#include <libwebsockets.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum http_route { ROUTE_NONE, ROUTE_BROADCAST };

/* A request's state between its headers and the end of its body. */
struct http_request {
    enum http_route route;
    struct phx_buf body;
    bool too_big;
};

static struct http_request *request_new(struct session *ss)
{
    http_on_drop(ss);
    ss->http = calloc(1, sizeof(*ss->http));
    if (ss->http)
        phx_buf_init(&ss->http->body, 0);
    return ss->http;
}

void http_on_drop(struct session *ss)
{
    longpoll_on_drop(ss);
    struct http_request *r = ss->http;
    if (!r)
        return;
    phx_buf_cleanup(&r->body);
    free(r);
    ss->http = NULL;
}

/* Answer the request at once, headers and body in one write, and end it: nothing about it is left
 * afterwards, so a pipelined next request starts clean. close_after: the connection is not reused
 * (a body we did not read must not be parsed as the next request). Returns what the lws callback
 * returns. */
static int respond_as(struct lws *wsi, struct session *ss, int status, const char *type, const char *body,
                      size_t len, bool close_after)
{
    http_on_drop(ss);
    size_t cap = LWS_PRE + 512 + len;
    unsigned char *buf = malloc(cap), *start = buf + LWS_PRE, *p = start, *end = buf + cap - len - 1;
    int rc = -1;
    if (!buf)
        return -1;
    if (lws_add_http_common_headers(wsi, (unsigned)status, type, len, &p, end) ||
        lws_add_http_header_by_name(
            wsi, (const unsigned char *)"cache-control:", (const unsigned char *)"no-store", 8, &p, end) ||
        (close_after && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                                     (const unsigned char *)"close", 5, &p, end)) ||
        lws_finalize_http_header(wsi, &p, end))
        goto out;
    if (len)
        memcpy(p, body, len);
    p += len;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP) != (int)(p - start))
        goto out;
    rc = close_after || lws_http_transaction_completed(wsi) ? -1 : 0;
out:
    free(buf);
    return rc;
}

/* respond_as with a JSON body. */
static int respond(struct lws *wsi, struct session *ss, const struct api_response *resp, bool close_after)
{
    return respond_as(wsi, ss, resp->status, "application/json", resp->body,
                      resp->body ? strlen(resp->body) : 0, close_after);
}

static int respond_error(struct lws *wsi, struct session *ss, int status, const char *message,
                         bool close_after)
{
    struct api_response resp = {0};
    if (api_error(status, message, &resp) != 0)
        return -1;
    int rc = respond(wsi, ss, &resp, close_after);
    free(resp.body);
    return rc;
}

/* What /metrics and /ready read: the server, its Redis bridge (through the endpoint serving wsi), the
 * other shards' figures (src->others: the caller frees it). */
static struct metrics_source ops_source(struct server *s, struct lws *wsi)
{
    const struct bridge *b = endpoint_bridge(lws_context_user(lws_get_context(wsi)));
    size_t n;
    struct metrics_view *others = endpoint_other_views(wsi, &n);
    return (struct metrics_source){.srv = s,
                                   .bridge = b ? bridge_stats(b) : NULL,
                                   .now_ms = server_now_ms(),
                                   .others = others,
                                   .nothers = n};
}

/* GET /metrics, /health, /ready (metrics.h, health.h). They answer while draining too: they are plain
 * requests, not upgrades, and readiness saying "draining" is the point. */
static int on_ops(struct server *s, struct lws *wsi, struct session *ss, const char *path)
{
    struct metrics_source src = ops_source(s, wsi);
    struct metrics_view *others = (struct metrics_view *)src.others;
    int rc = -1;
    if (strcmp(path, "/metrics") == 0) {
        struct phx_buf text;
        phx_buf_init(&text, 0);
        if (metrics_render(&src, &text) == 0)
            rc = respond_as(wsi, ss, 200, METRICS_CONTENT_TYPE, phx_buf_data(&text), text.len, false);
        phx_buf_cleanup(&text);
        free(others);
        return rc;
    }
    struct api_response resp = {0};
    if ((strcmp(path, "/health") == 0 ? health_live(&resp) : health_ready(&src, &resp)) == 0)
        rc = respond(wsi, ss, &resp, false);
    free(resp.body);
    free(others);
    return rc;
}

static bool is_ops_path(const char *path)
{
    return strcmp(path, "/metrics") == 0 || strcmp(path, "/health") == 0 || strcmp(path, "/ready") == 0;
}

/* GET or HEAD of a file under --static-dir (static_files.h), other methods 404. */
static int on_static(struct server *s, struct lws *wsi, struct session *ss, const char *path)
{
    int method_len = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);
    if (method_len <= 0)
        method_len = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI);
    if (method_len <= 0)
        return respond_error(wsi, ss, 404, "not found", false);
    /* lws decoded the URL into a C string: a %00 inside it shows as a length that strlen disagrees with. */
    size_t len = strlen(path);
    if ((size_t)method_len != len)
        return respond_error(wsi, ss, 400, "bad path", false);
    char file[PATH_MAX];
    const char *type = NULL;
    switch (static_files_resolve(s->opt.static_dir, path, len, file, sizeof(file), &type)) {
    case STATIC_OK:
        http_on_drop(ss);
        return static_http_serve(wsi, file, type);
    case STATIC_BAD_PATH:
        return respond_error(wsi, ss, 400, "bad path", false);
    default:
        return respond_error(wsi, ss, 404, "not found", false);
    }
}

int http_on_request(struct server *s, struct lws *wsi, struct session *ss, const char *path)
{
    if (strcmp(path, LONGPOLL_PATH) == 0)
        return longpoll_on_request(endpoint_longpoll(wsi), wsi, ss);
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    if (strcmp(path, "/api/broadcast") == 0) {
        if (!post)
            return respond_error(wsi, ss, 405, "use POST", false);
        if (s->opt.api_token) {
            char auth[512];
            int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
            if (!api_authorized(s, n > 0 ? auth : NULL))
                return respond_error(wsi, ss, 401, "missing or wrong Authorization: Bearer token", true);
        }
        char cl[32];
        /* lws 4.1.6 does not read chunked request bodies: a body needs its length up front. */
        if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
            return respond_error(wsi, ss, 411, "Content-Length required", true);
        if (strtoull(cl, NULL, 10) > s->opt.max_body_size)
            return respond_error(wsi, ss, 413, "body over max_body_size", true);
        struct http_request *r = request_new(ss);
        if (!r)
            return -1;
        r->route = ROUTE_BROADCAST;
        return 0; /* the body follows */
    }
    if (is_ops_path(path))
        return lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0
                   ? on_ops(s, wsi, ss, path)
                   : respond_error(wsi, ss, 405, "use GET", true);
    if (strcmp(path, "/socket/websocket") == 0)
        return respond_error(wsi, ss, 400, "websocket upgrade required", post);
    if (!post && s->opt.static_dir && strncmp(path, "/socket/", 8) != 0 && strncmp(path, "/api/", 5) != 0)
        return on_static(s, wsi, ss, path);
    return respond_error(wsi, ss, 404, "not found", post);
}

/* libwebsockets 4.1.6 loses the framing of a request pipelined behind one with a body: it hands the
 * next request's head over as that request's body. A JSON body never starts with a method token, so
 * this is how the misframing shows; the connection is then closed after the first answer, as a server
 * that does not pipeline may do (the client retries on a new connection). */
static bool misframed(const void *in, size_t len)
{
    static const char *const methods[] = {"POST ", "GET ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH "};
    for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
        size_t n = strlen(methods[i]);
        if (len >= n && memcmp(in, methods[i], n) == 0)
            return true;
    }
    return false;
}

int http_on_body(struct server *s, struct session *ss, const void *in, size_t len)
{
    if (ss->lp)
        return longpoll_on_body(ss, in, len);
    struct http_request *r = ss->http;
    if (!r || r->route != ROUTE_BROADCAST || r->too_big)
        return 0;
    if (r->body.len == 0 && misframed(in, len)) {
        log_msg(LOG_INFO, "pipelined HTTP request: closing the connection after the first answer");
        return -1;
    }
    if (r->body.len + len > s->opt.max_body_size) {
        r->too_big = true;
        phx_buf_cleanup(&r->body);
        return 0;
    }
    return phx_buf_append(&r->body, in, len) == 0 ? 0 : -1;
}

int http_on_body_done(struct server *s, struct lws *wsi, struct session *ss)
{
    if (ss->lp)
        return longpoll_on_body_done(ss);
    struct http_request *r = ss->http;
    if (!r || r->route != ROUTE_BROADCAST)
        return -1; /* no request in progress: nothing sane to answer */
    if (r->too_big)
        return respond_error(wsi, ss, 413, "body over max_body_size", false);
    struct api_response resp = {0};
    const char *body = phx_buf_data(&r->body);
    if (api_broadcast(s, body ? body : "", r->body.len, &resp) != 0)
        return -1;
    int rc = respond(wsi, ss, &resp, false);
    free(resp.body);
    return rc;
}

int http_on_writable(struct lws *wsi, struct session *ss)
{
    return ss->lp ? longpoll_on_writable(wsi, ss) : 0;
}
