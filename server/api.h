/*
 * api.h: the backend HTTP API, transport-free: request body in, status and JSON body out.
 *
 * POST /api/broadcast {"topic": "room:1", "event": "shout", "payload": {...}} broadcasts to every
 * subscriber of the topic (Phoenix's Endpoint.broadcast). 202 {"ok":true} on success; 400
 * {"error":"..."} when the body is not such an object.
 */
#ifndef CINDER_API_H
#define CINDER_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct server;

struct api_response {
    int status; /* HTTP status */
    char *body; /* owned JSON text, NUL-terminated; free() it */
};

struct broadcast;

/* Parse {"topic","event","payload"} (body borrowed). 0 with *root (new reference, release it after
 * using *b, whose strings and payload point into it), or -1 with *problem (static text). */
int api_parse_broadcast(const char *body, size_t len, json_t **root, struct broadcast *b,
                        const char **problem);

/* body borrowed (need not be NUL-terminated). Always fills *out; -1 only when out of memory. */
int api_broadcast(struct server *s, const char *body, size_t len, struct api_response *out);
/* Whether a request with this Authorization header value (NULL: none) may use the API: yes when no
 * api_token is set, else only "Bearer <api_token>" (compared in constant time). */
bool api_authorized(const struct server *s, const char *authorization);

/* A JSON error body {"error": message} with status. */
int api_error(int status, const char *message, struct api_response *out);

#endif
