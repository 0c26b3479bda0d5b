/*
 * generic.c: the configured channels of the `channels` setting (see generic.h): the schema check, the
 * reference-counted sets, and the one handler whose hooks read their entry's rules through
 * channel_handler_data.
 *
 * A set is one allocation of entries, each embedding the channel_handler that server_route hands to the
 * core (.pattern and .data point into the entry). A successful join takes a reference on the set and
 * terminate gives it back, which keeps the entry alive exactly as long as channels use it.
 */
#include "generic.h"

#include "phx_topic.h"
#include "presence.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SUBSCRIBERS_LIMIT 10000000

enum join_rule { JOIN_ANY, JOIN_DENY, JOIN_CLAIM };

struct generic_entry {
    struct channel_handler handler; /* .pattern = pattern, .data = this entry */
    struct generic_channels *set;   /* the set this entry belongs to */
    char *pattern;                  /* owned */
    enum join_rule join;
    bool client_publish;
    bool presence;
    size_t max_subscribers; /* 0: no limit */
};

struct generic_channels {
    unsigned refs;
    size_t n;
    struct generic_entry entries[];
};

/* ---- the schema ---- */

static const char *const keys[] = {"pattern", "join", "client_publish", "presence", "max_subscribers"};

/* Whether every topic pattern b matches is also matched by a (so an entry b after a never matches). */
static bool shadows(const char *a, const char *b)
{
    size_t la = strlen(a);
    if (la && a[la - 1] == '*')
        return strncmp(a, b, la - 1) == 0;
    return strcmp(a, b) == 0;
}

/* Read entry i of config into *e (pattern borrowed from the JSON). 0, or -1 with err. */
static int read_entry(const json_t *config, size_t i, struct generic_entry *e, char *err, size_t errlen)
{
    const json_t *o = json_array_get(config, i);
    memset(e, 0, sizeof(*e));
    if (!json_is_object(o)) {
        snprintf(err, errlen, "channels[%zu]: an object expected ({\"pattern\": \"chat:*\", ...})", i);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            known = known || strcmp(key, keys[k]) == 0;
        if (!known) {
            snprintf(err, errlen,
                     "channels[%zu]: unknown key \"%s\" (pattern, join, client_publish, presence, "
                     "max_subscribers)",
                     i, key);
            return -1;
        }
    }
    const char *pattern = json_string_value(json_object_get(o, "pattern"));
    size_t plen = pattern ? strlen(pattern) : 0;
    const char *star = pattern ? strchr(pattern, '*') : NULL;
    if (!pattern || !phx_topic_valid(pattern, plen) || (star && star != pattern + plen - 1)) {
        snprintf(err, errlen,
                 "channels[%zu].pattern: a topic or a prefix ending in '*' (\"chat:*\") expected, 1 to %d "
                 "bytes",
                 i, PHX_TOPIC_MAX);
        return -1;
    }
    e->pattern = (char *)pattern;
    json_t *join = json_object_get(o, "join");
    const char *js = json_string_value(join);
    if (!join || (js && !strcmp(js, "any")))
        e->join = JOIN_ANY;
    else if (js && !strcmp(js, "deny"))
        e->join = JOIN_DENY;
    else if (js && !strcmp(js, "claim"))
        e->join = JOIN_CLAIM;
    else {
        snprintf(err, errlen, "channels[%zu].join: \"any\", \"deny\" or \"claim\" expected", i);
        return -1;
    }
    static const char *const flags[] = {"client_publish", "presence"};
    bool *dst[] = {&e->client_publish, &e->presence};
    for (size_t k = 0; k < 2; k++) {
        json_t *b = json_object_get(o, flags[k]);
        if (b && !json_is_boolean(b)) {
            snprintf(err, errlen, "channels[%zu].%s: true or false expected", i, flags[k]);
            return -1;
        }
        *dst[k] = json_is_true(b);
    }
    json_t *max = json_object_get(o, "max_subscribers");
    if (max && (!json_is_integer(max) || json_integer_value(max) < 0 ||
                json_integer_value(max) > MAX_SUBSCRIBERS_LIMIT)) {
        snprintf(err, errlen,
                 "channels[%zu].max_subscribers: a whole number from 0 (no limit) to %d expected", i,
                 MAX_SUBSCRIBERS_LIMIT);
        return -1;
    }
    e->max_subscribers = max ? (size_t)json_integer_value(max) : 0;
    for (size_t j = 0; j < i; j++) {
        const char *earlier = json_string_value(json_object_get(json_array_get(config, j), "pattern"));
        if (earlier && shadows(earlier, pattern)) {
            snprintf(err, errlen, "channels[%zu]: \"%s\" can never match: channels[%zu] (\"%s\") comes first",
                     i, pattern, j, earlier);
            return -1;
        }
    }
    return 0;
}

int generic_channels_check(const json_t *config, char *err, size_t errlen)
{
    if (!json_is_array(config)) {
        snprintf(err, errlen, "an array of channels expected ([{\"pattern\": \"chat:*\", ...}])");
        return -1;
    }
    struct generic_entry e;
    for (size_t i = 0; i < json_array_size(config); i++)
        if (read_entry(config, i, &e, err, errlen) != 0)
            return -1;
    return 0;
}

/* ---- the handler ---- */

static int refuse(struct ch_reply *reply, const char *why)
{
    reply->response = json_pack("{ss}", "reason", why);
    return CH_REFUSE;
}

static int error_reply(struct ch_reply *reply, const char *why)
{
    reply->status = "error";
    reply->response = json_pack("{ss}", "reason", why);
    return CH_REPLY;
}

/* Whether the socket's "channels" assign (an array of topic patterns) lets it join topic. */
static bool claim_allows(json_t *assigns, const char *topic)
{
    json_t *patterns = json_object_get(assigns, "channels");
    size_t i;
    json_t *p;
    json_array_foreach(patterns, i, p)
    {
        const char *s = json_string_value(p);
        if (s && phx_topic_match(s, topic))
            return true;
    }
    return false;
}

static int generic_join(struct channel *ch, const struct ch_payload *params, struct ch_reply *reply)
{
    const struct generic_entry *e = channel_handler_data(ch);
    if (e->join == JOIN_DENY ||
        (e->join == JOIN_CLAIM && !claim_allows(channel_assigns(ch), channel_topic(ch))))
        return refuse(reply, "unauthorized");
    if (e->max_subscribers && !channel_take_seat(ch, e->max_subscribers))
        return refuse(reply, "channel full");
    if (e->presence && channel_send_info(ch, "after_join", NULL) != 0) {
        if (e->max_subscribers)
            channel_release_seat(ch);
        return CH_CRASH;
    }
    e->set->refs++; /* given back in terminate */
    return CH_OK;
}

static int generic_in(struct channel *ch, const char *event, const struct ch_payload *payload,
                      struct ch_reply *reply)
{
    const struct generic_entry *e = channel_handler_data(ch);
    if (!e->client_publish)
        return error_reply(reply, "publish not allowed");
    if (strncmp(event, "phx_", 4) == 0 || strncmp(event, "presence_", 9) == 0)
        return error_reply(reply, "reserved event");
    return channel_broadcast(ch, event, payload) == 0 ? CH_REPLY : error_reply(reply, "broadcast failed");
}

static void generic_terminate(struct channel *ch, enum ch_exit reason)
{
    const struct generic_entry *e = channel_handler_data(ch);
    struct generic_channels *set = e->set;
    if (e->max_subscribers)
        channel_release_seat(ch); /* the seat its join took (node-wide: shards share the count) */
    generic_channels_unref(&set); /* may free e: nothing of it is read after this */
}

/* ---- sets ---- */

struct generic_channels *generic_channels_create(const json_t *config, char *err, size_t errlen)
{
    if (config && generic_channels_check(config, err, errlen) != 0)
        return NULL;
    size_t n = json_array_size(config);
    struct generic_channels *set = calloc(1, sizeof(*set) + n * sizeof(set->entries[0]));
    if (!set)
        goto oom;
    set->refs = 1;
    for (size_t i = 0; i < n; i++) {
        struct generic_entry *e = &set->entries[i];
        read_entry(config, i, e, err, errlen); /* checked above */
        if (!(e->pattern = strdup(e->pattern)))
            goto oom;
        set->n = i + 1;
        e->set = set;
        e->handler = (struct channel_handler){
            .pattern = e->pattern,
            .data = e,
            .join = generic_join,
            .handle_in = generic_in,
            .handle_info = presence_on_after_join,
            .terminate = generic_terminate,
        };
    }
    return set;
oom:
    generic_channels_unref(&set);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

void generic_channels_unref(struct generic_channels **setp)
{
    struct generic_channels *set = *setp;
    if (!set)
        return;
    *setp = NULL;
    if (--set->refs)
        return;
    for (size_t i = 0; i < set->n; i++)
        free(set->entries[i].pattern);
    free(set);
}

size_t generic_channels_count(const struct generic_channels *set)
{
    return set ? set->n : 0;
}

const struct channel_handler *generic_channels_route(const struct generic_channels *set, const char *topic)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (phx_topic_match(set->entries[i].pattern, topic))
            return &set->entries[i].handler;
    return NULL;
}
