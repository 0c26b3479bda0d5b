/*
 * phx_vsn.h: serializer negotiation from the `vsn` query parameter, as Phoenix does it.
 *
 * A missing vsn means "1.0.0" (V1 JSON objects). Phoenix matches `~> 1.0.0` to V1 and `~> 2.0.0` to V2
 * (so 1.0.x and 2.0.x); a version that matches neither, or does not parse as MAJOR.MINOR.PATCH, is
 * refused (the transport answers HTTP 403).
 *
 *     phx_vsn_parse(NULL)      == PHX_V1
 *     phx_vsn_parse("2.0.0")   == PHX_V2
 *     phx_vsn_parse("3.0.0")   == PHX_VSN_INVALID
 */
#ifndef PHX_VSN_H
#define PHX_VSN_H

enum phx_vsn {
    PHX_VSN_INVALID = 0,
    PHX_V1 = 1, /* JSON objects {"topic","event","payload","ref"[, "join_ref"]} */
    PHX_V2 = 2, /* JSON arrays [join_ref, ref, topic, event, payload] and binary frames */
};

enum phx_vsn phx_vsn_parse(const char *vsn);

#endif
