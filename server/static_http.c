/*
 * static_http.c: a static file as an HTTP answer (see static_http.h).
 */
#include "static_http.h"

#include <libwebsockets.h>
#include <string.h>

int static_http_serve(struct lws *wsi, const char *file, const char *content_type)
{
    static const char html_headers[] = "cache-control: no-cache\r\nx-content-type-options: nosniff\r\n";
    static const char asset_headers[] = "cache-control: max-age=300\r\nx-content-type-options: nosniff\r\n";
    const char *headers = strncmp(content_type, "text/html", 9) == 0 ? html_headers : asset_headers;
    /* <0: failed, close. >0: answered at once (lws could not open the file: its own 404), the
     * transaction is ours to end. 0: lws streams the file, or a HEAD was answered and ended. */
    int n = lws_serve_http_file(wsi, file, content_type, headers, (int)strlen(headers));
    if (n < 0)
        return -1;
    if (n > 0)
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    return 0;
}
