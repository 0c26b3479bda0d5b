/*
 * http.c: HTTP requests (see http.h).
 *
 * A request's state lives in struct http_request from LWS_CALLBACK_HTTP until the response is written
 * or the connection drops. The body is collected up to max_body_size; past it the rest is discarded and
 * the answer is 413. The response (headers, then the body from HTTP_WRITEABLE) is always complete JSON.
 */
#include "http.h"

#include "api.h"
#include "endpoint.h"
#include "log.h"
#include "longpoll.h"
#include "phx_buf.h"
#include "server.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum http_route { ROUTE_NONE, ROUTE_BROADCAST };

struct http_request {
    enum http_route route;
    struct phx_buf body;
    bool too_big;
    struct api_response resp; /* set once the answer is decided */
    bool close_after;         /* the body was refused before it was read: do not reuse the connection */
};

static struct http_request *request_of(struct session *ss)
{
    if (!ss->http) {
        ss->http = calloc(1, sizeof(*ss->http));
        if (ss->http)
            phx_buf_init(&ss->http->body, 0);
    }
    return ss->http;
}

void http_on_drop(struct session *ss)
{
    longpoll_on_drop(ss);
    struct http_request *r = ss->http;
    if (!r)
        return;
    phx_buf_cleanup(&r->body);
    free(r->resp.body);
    free(r);
    ss->http = NULL;
}

/* Write the status line and headers of r->resp, then ask for WRITEABLE to send the body. */
static int respond(struct lws *wsi, struct http_request *r)
{
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    size_t len = r->resp.body ? strlen(r->resp.body) : 0;
    if (lws_add_http_common_headers(wsi, (unsigned)r->resp.status, "application/json", len, &p, end))
        return -1;
    if (lws_add_http_header_by_name(
            wsi, (const unsigned char *)"cache-control:", (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (r->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_error(struct lws *wsi, struct http_request *r, int status, const char *message)
{
    if (api_error(status, message, &r->resp) != 0)
        return -1;
    return respond(wsi, r);
}

int http_on_request(struct server *s, struct lws *wsi, struct session *ss, const char *path)
{
    if (strcmp(path, LONGPOLL_PATH) == 0)
        return longpoll_on_request(endpoint_longpoll(wsi), wsi, ss);
    struct http_request *r = request_of(ss);
    if (!r)
        return -1;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    /* A body we will not read must not be parsed as the next request: close after answering. */
    r->close_after = post;
    if (strcmp(path, "/api/broadcast") == 0) {
        if (!post)
            return respond_error(wsi, r, 405, "use POST");
        char cl[32];
        if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
            strtoull(cl, NULL, 10) > s->opt.max_body_size) {
            r->close_after = true;
            return respond_error(wsi, r, 413, "body over max_body_size");
        }
        r->route = ROUTE_BROADCAST;
        r->close_after = false;
        return 0; /* the body follows */
    }
    if (strcmp(path, "/socket/websocket") == 0)
        return respond_error(wsi, r, 400, "websocket upgrade required");
    return respond_error(wsi, r, 404, "not found");
}

int http_on_body(struct server *s, struct session *ss, const void *in, size_t len)
{
    if (ss->lp)
        return longpoll_on_body(ss, in, len);
    struct http_request *r = ss->http;
    if (!r || r->route != ROUTE_BROADCAST || r->too_big)
        return 0;
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
        return 0; /* answered already, closes after the answer */
    if (r->too_big)
        return respond_error(wsi, r, 413, "body over max_body_size");
    const char *body = phx_buf_data(&r->body);
    if (api_broadcast(s, body ? body : "", r->body.len, &r->resp) != 0)
        return -1;
    phx_buf_cleanup(&r->body);
    return respond(wsi, r);
}

int http_on_writable(struct lws *wsi, struct session *ss)
{
    if (ss->lp)
        return longpoll_on_writable(wsi, ss);
    struct http_request *r = ss->http;
    if (!r || !r->resp.status)
        return 0;
    size_t len = r->resp.body ? strlen(r->resp.body) : 0;
    unsigned char *buf = malloc(LWS_PRE + len + 1);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, r->resp.body ? r->resp.body : "", len);
    int n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
    free(buf);
    bool close_after = r->close_after;
    http_on_drop(ss);
    if (n < (int)len || close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}
