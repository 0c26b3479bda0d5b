/*
 * demo_socket.c: the demo app's socket: who may connect, and its channel routes.
 *
 * The token is phoenix.js's authToken when the client sent one, else the `token` query parameter.
 * Without jwt_secret the CONTRACT.md rule holds: a missing, empty or "bad" token is refused, any other
 * token is the user id. With jwt_secret the token must be an HS256 JWT signed with it (jwt.h: exp, nbf,
 * jwt_leeway); its "sub" is the user id, and an optional "channels" claim (an array of topic patterns)
 * becomes the socket's assigns {"channels": [...]}, which configured channels with "join": "claim" read
 * (handlers/generic.h). Either way the socket id is users_socket:<user>.
 */
#include "demo.h"

#include "jwt.h"
#include "options.h"
#include "phx_topic.h"
#include "query.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A "channels" claim is an array of topic patterns (exact, or a prefix ending in '*'). */
static bool valid_patterns(const json_t *a)
{
    size_t i;
    json_t *p;
    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, p)
    {
        const char *s = json_string_value(p);
        if (!s || !phx_topic_valid(s, strlen(s)))
            return false;
    }
    return true;
}

/* The JWT rule: 0 with out->user_id = sub and out->assigns from the channels claim, or -1 (out->reason). */
static int jwt_connect(const struct options *opt, const char *token, struct connect_result *out)
{
    json_t *claims;
    int64_t leeway_s = (int64_t)((opt->jwt_leeway_ms + 999) / 1000);
    int rc = jwt_verify(token, strlen(token), opt->jwt_secret, strlen(opt->jwt_secret), (int64_t)time(NULL),
                        leeway_s, &claims);
    if (rc != JWT_OK) {
        out->reason = jwt_strerror(rc);
        return -1;
    }
    json_t *channels = json_object_get(claims, "channels");
    rc = -1;
    if (channels && !valid_patterns(channels))
        out->reason = "the channels claim is not an array of topic patterns";
    else if (channels && !(out->assigns = json_pack("{sO}", "channels", channels)))
        out->reason = "out of memory";
    else if (!(out->user_id = strdup(json_string_value(json_object_get(claims, "sub")))))
        out->reason = "out of memory";
    else
        rc = 0;
    json_decref(claims);
    return rc;
}

static int demo_connect(const struct connect_info *info, struct connect_result *out)
{
    const char *token = info->auth_token ? info->auth_token : query_get(info->params, "token");
    if (!token || !*token) {
        out->reason = "no token";
        return -1;
    }
    if (info->opt->jwt_secret) {
        if (jwt_connect(info->opt, token, out) != 0)
            return -1; /* the core frees whatever was set */
    } else if (strcmp(token, "bad") == 0) {
        out->reason = "token \"bad\"";
        return -1;
    } else if (!(out->user_id = strdup(token))) {
        return -1;
    }
    size_t len = strlen(out->user_id);
    if (!(out->socket_id = malloc(sizeof("users_socket:") + len)))
        return -1;
    memcpy(out->socket_id, "users_socket:", sizeof("users_socket:") - 1);
    memcpy(out->socket_id + sizeof("users_socket:") - 1, out->user_id, len + 1);
    return 0;
}

static const struct channel_handler *const demo_channels[] = {
    &demo_room_handler,
    &demo_telemetry_handler,
    NULL,
};

const struct socket_handler demo_app = {
    .connect = demo_connect,
    .channels = demo_channels,
};
