/*
 * static_http.h: send a file resolved by static_files.h as the answer to a GET or HEAD (libwebsockets).
 *
 * Headers: content-type from the caller, content-length, x-content-type-options: nosniff, and
 * cache-control: no-cache for HTML (always revalidated: the page names its scripts) or max-age=300
 * for the other assets. libwebsockets streams the body from WRITEABLE and ends the transaction itself
 * (LWS_CALLBACK_HTTP_FILE_COMPLETION, answered by lws_callback_http_dummy); a HEAD gets no body.
 */
#ifndef CINDER_STATIC_HTTP_H
#define CINDER_STATIC_HTTP_H

struct lws;

/* file: an absolute path (borrowed); content_type: borrowed. Returns what the lws callback returns:
 * 0 to go on, non-zero to close the connection. */
int static_http_serve(struct lws *wsi, const char *file, const char *content_type);

#endif
