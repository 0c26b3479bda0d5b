/*
 * topic_policy.c: the `topics` setting (see topic_policy.h).
 */
#include "topic_policy.h"

#include "options.h"
#include "phx_topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const slow_names[] = {"close", "drop_oldest", "conflate"};

const char *slow_policy_name(enum slow_policy p)
{
    return (unsigned)p < 3 ? slow_names[p] : "?";
}

/* One entry into pol (strings owned by pol); 0, or -1 with err. */
static int parse_one(const json_t *e, size_t i, struct topic_policy *pol, char *err, size_t errlen)
{
    memset(pol, 0, sizeof(*pol));
    const json_t *pattern = json_object_get(e, "pattern"), *history = json_object_get(e, "history");
    const json_t *conflate = json_object_get(e, "conflate"), *slow = json_object_get(e, "slow_consumer");
    if (!json_is_object(e)) {
        snprintf(err, errlen, "topics[%zu]: not an object", i);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)e, key, v)
    {
        if (strcmp(key, "pattern") && strcmp(key, "history") && strcmp(key, "conflate") &&
            strcmp(key, "slow_consumer")) {
            snprintf(err, errlen,
                     "topics[%zu]: unknown key \"%s\" (pattern, history, conflate, slow_consumer)", i, key);
            return -1;
        }
    }
    if (!json_is_string(pattern) ||
        !phx_topic_valid(json_string_value(pattern), json_string_length(pattern))) {
        snprintf(err, errlen, "topics[%zu]: \"pattern\" must be a topic pattern like \"telemetry:*\"", i);
        return -1;
    }
    if (history) {
        const json_t *size = json_object_get(history, "size"), *ttl = json_object_get(history, "ttl");
        if (!json_is_object(history) || !json_is_integer(size) || json_integer_value(size) < 1 ||
            json_integer_value(size) > 10000000) {
            snprintf(err, errlen,
                     "topics[%zu]: \"history\" must be {\"size\": 1..10000000, \"ttl\": duration}", i);
            return -1;
        }
        pol->history_size = (size_t)json_integer_value(size);
        if (ttl) {
            if (json_is_integer(ttl) && json_integer_value(ttl) >= 0)
                pol->history_ttl_ms = (uint64_t)json_integer_value(ttl) * 1000u;
            else if (!json_is_string(ttl) ||
                     parse_duration_ms(json_string_value(ttl), &pol->history_ttl_ms) != 0) {
                snprintf(err, errlen, "topics[%zu]: history \"ttl\" must be a duration like \"10m\"", i);
                return -1;
            }
        }
    }
    if (conflate && (!json_is_string(conflate) || !json_string_length(conflate))) {
        snprintf(err, errlen, "topics[%zu]: \"conflate\" must name a payload key, like \"id\"", i);
        return -1;
    }
    pol->slow = SLOW_CLOSE;
    if (slow) {
        int found = -1;
        for (int k = 0; k < 3 && json_is_string(slow); k++)
            if (!strcmp(json_string_value(slow), slow_names[k]))
                found = k;
        if (found < 0) {
            snprintf(err, errlen, "topics[%zu]: \"slow_consumer\" must be close, drop_oldest or conflate", i);
            return -1;
        }
        pol->slow = (enum slow_policy)found;
    }
    if (pol->slow == SLOW_CONFLATE && !conflate) {
        snprintf(err, errlen, "topics[%zu]: slow_consumer \"conflate\" needs \"conflate\": \"<key field>\"",
                 i);
        return -1;
    }
    pol->pattern = strdup(json_string_value(pattern));
    pol->conflate_key = conflate ? strdup(json_string_value(conflate)) : NULL;
    if (!pol->pattern || (conflate && !pol->conflate_key)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void policy_free(struct topic_policy *p)
{
    free(p->pattern);
    free(p->conflate_key);
}

static int parse_all(const json_t *v, struct topic_policies *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_array(v)) {
        snprintf(err, errlen, "topics: must be an array of {\"pattern\", ...} objects");
        return -1;
    }
    out->items = calloc(json_array_size(v) + 1, sizeof(*out->items));
    if (!out->items) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (parse_one(json_array_get(v, i), i, &out->items[i], err, errlen) != 0) {
            policy_free(&out->items[i]);
            topic_policies_cleanup(out);
            return -1;
        }
        out->n++;
    }
    return 0;
}

int topic_policies_check(const json_t *v, char *err, size_t errlen)
{
    struct topic_policies tmp;
    if (parse_all(v, &tmp, err, errlen) != 0)
        return -1;
    topic_policies_cleanup(&tmp);
    return 0;
}

int topic_policies_parse(const json_t *v, struct topic_policies *out)
{
    char err[200];
    if (!v) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    return parse_all(v, out, err, sizeof(err));
}

void topic_policies_cleanup(struct topic_policies *p)
{
    for (size_t i = 0; i < p->n; i++)
        policy_free(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

const struct topic_policy *topic_policy_find(const struct topic_policies *p, const char *topic)
{
    for (size_t i = 0; i < p->n; i++)
        if (phx_topic_match(p->items[i].pattern, topic))
            return &p->items[i];
    return NULL;
}
