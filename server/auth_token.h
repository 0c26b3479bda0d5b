/*
 * auth_token.h: phoenix.js's `authToken` socket option, as it travels over a WebSocket handshake
 * (PROTOCOL.md section 1). phoenix.js offers two subprotocols:
 *
 *     Sec-WebSocket-Protocol: phoenix, base64url.bearer.phx.<B64>
 *
 * where B64 is btoa(token) with its '=' padding removed: the *standard* base64 alphabet, despite the
 * prefix's name. The server answers the subprotocol "phoenix" (libwebsockets picks it: cinder's protocol
 * has that name) and hands the decoded token to the app's connect. Over long-poll the same token comes
 * raw in the X-Phoenix-AuthToken header; nothing to decode there.
 *
 *     char *tok;
 *     auth_token_from_protocols("phoenix, base64url.bearer.phx.YWxpY2U", &tok);   // 0, tok = "alice"
 *     free(tok);
 */
#ifndef CINDER_AUTH_TOKEN_H
#define CINDER_AUTH_TOKEN_H

#include <stddef.h>

#define AUTH_TOKEN_PREFIX "base64url.bearer.phx."

/* Find the bearer entry in a Sec-WebSocket-Protocol value (borrowed, NUL-terminated; NULL means no
 * header). 0 with *token the decoded token (malloc'd, caller frees) or NULL when there is no bearer
 * entry; -1 when the entry is there but is not base64 of a non-empty token without NUL bytes, or when
 * out of memory (*token NULL). Padding is accepted but not required. */
int auth_token_from_protocols(const char *header, char **token);

#endif
