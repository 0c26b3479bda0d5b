/*
 * auth_token.c: the bearer entry of Sec-WebSocket-Protocol (see auth_token.h).
 */
#include "auth_token.h"

#include "base64.h"

#include <stdlib.h>
#include <string.h>

/* Decode len characters of standard base64, padded or not, into a NUL-terminated string. 0 or -1. */
static int decode_entry(const char *b64, size_t len, char **token)
{
    size_t pad = (4 - len % 4) % 4;
    char *padded = malloc(len + pad + 1);
    char *out = malloc(BASE64_DECODED_MAX(len + pad) + 1);
    size_t n = 0;
    int rc = -1;
    if (padded && out) {
        memcpy(padded, b64, len);
        memset(padded + len, '=', pad);
        padded[len + pad] = '\0';
        if (len % 4 != 1 && base64_decode(padded, len + pad, BASE64_STD, (unsigned char *)out, &n) == 0 &&
            n > 0 && !memchr(out, '\0', n)) {
            out[n] = '\0';
            *token = out;
            out = NULL;
            rc = 0;
        }
    }
    free(padded);
    free(out);
    return rc;
}

int auth_token_from_protocols(const char *header, char **token)
{
    static const char prefix[] = AUTH_TOKEN_PREFIX;
    *token = NULL;
    for (const char *p = header; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *start = p, *end = p + n;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t len = (size_t)(end - start);
        if (len >= sizeof(prefix) - 1 && memcmp(start, prefix, sizeof(prefix) - 1) == 0)
            return decode_entry(start + sizeof(prefix) - 1, len - (sizeof(prefix) - 1), token);
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}
