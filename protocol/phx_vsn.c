/*
 * phx_vsn.c: maps the `vsn` query parameter to a serializer, as Phoenix's default
 * `[{V1.JSONSerializer, "~> 1.0.0"}, {V2.JSONSerializer, "~> 2.0.0"}]` does.
 *
 * Strict: exactly MAJOR.MINOR.PATCH, each a non-negative decimal without leading zeros (Elixir's
 * Version.parse rules); no pre-release or build suffix. "1.0.x" -> V1, "2.0.x" -> V2, else invalid.
 */
#include "phx_vsn.h"

#include <stddef.h>

/* Parse one version component at *p; returns its digit count (0 when malformed) and advances *p. */
static size_t vsn_component(const char **p)
{
    const char *s = *p;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0 || (n > 1 && s[0] == '0'))
        return 0;
    *p = s + n;
    return n;
}

enum phx_vsn phx_vsn_parse(const char *vsn)
{
    const char *p = vsn, *major, *minor;

    if (!vsn)
        return PHX_V1;
    major = p;
    if (vsn_component(&p) != 1 || *p++ != '.')
        return PHX_VSN_INVALID;
    minor = p;
    if (vsn_component(&p) != 1 || *p++ != '.')
        return PHX_VSN_INVALID;
    if (vsn_component(&p) == 0 || *p != '\0')
        return PHX_VSN_INVALID;
    if (*minor != '0')
        return PHX_VSN_INVALID;
    if (*major == '1')
        return PHX_V1;
    if (*major == '2')
        return PHX_V2;
    return PHX_VSN_INVALID;
}
