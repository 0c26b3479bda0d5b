/* Tests server/auth_token.c: phoenix.js's authToken in Sec-WebSocket-Protocol, decoded or refused. */
#include "auth_token.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static void expect(const char *header, int rc, const char *want)
{
    char *tok = (char *)1;
    cr_assert_eq(auth_token_from_protocols(header, &tok), rc, "%s", header ? header : "(null)");
    if (want)
        cr_assert_str_eq(tok, want);
    else
        cr_assert_null(tok);
    free(tok);
}

Test(auth_token, phoenix_js_form)
{
    /* btoa("alice") == "YWxpY2U=", sent without the '=' */
    expect("phoenix, base64url.bearer.phx.YWxpY2U", 0, "alice");
    expect("phoenix,base64url.bearer.phx.YWxpY2U", 0, "alice");
    expect("base64url.bearer.phx.YWxpY2U, phoenix", 0, "alice");
    expect("phoenix, base64url.bearer.phx.YWxpY2U=", 0, "alice");
    /* the standard alphabet: btoa("\xfb\xff") == "+/8=" */
    expect("phoenix, base64url.bearer.phx.a2V5Pz4+Pw", 0, "key?>>?");
    expect("phoenix, base64url.bearer.phx.YT8/", 0, "a??");
}

Test(auth_token, absent)
{
    expect(NULL, 0, NULL);
    expect("", 0, NULL);
    expect("phoenix", 0, NULL);
    expect("phoenix, chat", 0, NULL);
    expect("base64url.bearer.phy.YWxpY2U", 0, NULL);
}

Test(auth_token, garbled_is_refused)
{
    expect("phoenix, base64url.bearer.phx.", -1, NULL);          /* empty token */
    expect("phoenix, base64url.bearer.phx.Y", -1, NULL);         /* one char is no byte */
    expect("phoenix, base64url.bearer.phx.YW-pY2U", -1, NULL);   /* base64url's '-' */
    expect("phoenix, base64url.bearer.phx.YWxp Y2U", -1, NULL);  /* inner space */
    expect("phoenix, base64url.bearer.phx.YQBi", -1, NULL);      /* "a\0b" */
    expect("phoenix, base64url.bearer.phx.YWxpY2V=", -1, NULL);  /* non-canonical last char */
    expect("phoenix, base64url.bearer.phx.YWxpY2U==", -1, NULL); /* too much padding */
}
