/*
 * demo_telemetry.c: the demo `telemetry:*` channel: anyone may join and listen; what clients send is
 * ignored (no reply). Backends publish to it through the HTTP API.
 */
#include "demo.h"

static int telemetry_join(struct channel *ch, const struct ch_payload *params, struct ch_reply *reply)
{
    return CH_OK;
}

static int telemetry_in(struct channel *ch, const char *event, const struct ch_payload *payload,
                        struct ch_reply *reply)
{
    return CH_OK;
}

const struct channel_handler demo_telemetry_handler = {
    .pattern = "telemetry:*",
    .join = telemetry_join,
    .handle_in = telemetry_in,
};
