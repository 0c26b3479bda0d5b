/*
 * api.c: POST /api/broadcast (see api.h).
 */
#include "api.h"

#include "phx_json.h"
#include "phx_topic.h"
#include "pubsub.h"
#include "router.h"
#include "server.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

bool api_authorized(const struct server *s, const char *authorization)
{
    const char *token = s->opt.api_token;
    if (!token)
        return true;
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *given = authorization + 7;
    size_t n = strlen(token);
    /* the length is not secret; the bytes are compared without an early exit */
    return strlen(given) == n && CRYPTO_memcmp(given, token, n) == 0;
}

int api_error(int status, const char *message, struct api_response *out)
{
    json_t *j = json_pack("{ss}", "error", message);
    out->status = status;
    out->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return out->body ? 0 : -1;
}

int api_parse_broadcast(const char *body, size_t len, json_t **rootp, struct broadcast *b,
                        const char **problem)
{
    json_error_t jerr;
    json_t *root = phx_json_load(body, len, 0, &jerr);
    *rootp = NULL;
    if (!root) {
        *problem = "body is not valid JSON";
        return -1;
    }
    json_t *topic = json_object_get(root, "topic");
    json_t *event = json_object_get(root, "event");
    json_t *payload = json_object_get(root, "payload");
    *problem = NULL;
    if (!json_is_object(root))
        *problem = "body must be a JSON object {\"topic\",\"event\",\"payload\"}";
    else if (!json_is_string(topic) || !phx_topic_valid(json_string_value(topic), json_string_length(topic)))
        *problem = "\"topic\" must be a string of 1 to 255 bytes without control characters";
    else if (!json_is_string(event) || json_string_length(event) == 0 || json_string_length(event) > 255 ||
             strlen(json_string_value(event)) != json_string_length(event))
        *problem = "\"event\" must be a non-empty string of at most 255 bytes";
    else if (!json_is_object(payload))
        *problem = "\"payload\" must be a JSON object";
    if (*problem) {
        json_decref(root);
        return -1;
    }
    *b = (struct broadcast){
        .topic = json_string_value(topic),
        .event = json_string_value(event),
        .json = payload,
    };
    *rootp = root;
    return 0;
}

int api_broadcast(struct server *s, const char *body, size_t len, struct api_response *out)
{
    struct broadcast b;
    json_t *root;
    const char *problem;
    if (api_parse_broadcast(body, len, &root, &b, &problem) != 0)
        return api_error(400, problem, out);
    long n = pubsub_broadcast(s, &b);
    router_end_crashed(s);
    json_decref(root);
    if (n < 0)
        return api_error(500, "out of memory", out);
    out->status = 202;
    out->body = strdup("{\"ok\":true}");
    return out->body ? 0 : -1;
}
