/*
 * demo_socket.c: the demo app's socket: who may connect, and its channel routes.
 */
#include "demo.h"

#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int demo_connect(const struct query *params, char **user_id, char **socket_id)
{
    const char *token = query_get(params, "token");
    if (!token || !*token || strcmp(token, "bad") == 0)
        return -1;
    size_t len = strlen(token);
    *user_id = strdup(token);
    *socket_id = malloc(sizeof("users_socket:") + len);
    if (!*user_id || !*socket_id)
        return -1; /* the core frees whichever was allocated */
    memcpy(*socket_id, "users_socket:", sizeof("users_socket:") - 1);
    memcpy(*socket_id + sizeof("users_socket:") - 1, token, len + 1);
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
