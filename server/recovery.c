/*
 * recovery.c: history fields in join replies and the replay of missed messages (see recovery.h).
 */
#include "recovery.h"

#include "conn.h"
#include "history.h"
#include "pubsub.h"
#include "server.h"
#include "topic_policy.h"

#include <stdio.h>
#include <string.h>

void recovery_epoch_hex(uint64_t epoch, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)epoch);
}

uint64_t recovery_epoch_parse(const char *hex)
{
    if (!hex || strlen(hex) != 16)
        return 0;
    uint64_t v = 0;
    for (const char *p = hex; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    return v;
}

static void count(void *arg, const struct history_msg *m)
{
    (void)m;
    ++*(size_t *)arg;
}

void recovery_prepare(struct server *s, const char *topic, const json_t *params, json_t **response,
                      struct recovery *r)
{
    memset(r, 0, sizeof(*r));
    r->pol = topic_policy_find(&s->policies, topic);
    if (!r->pol || !r->pol->history_size || !(r->th = pubsub_topic_history(s, topic)))
        return;
    const json_t *since = json_object_get(params, "since");
    const json_t *seq = json_object_get(since, "seq");
    if (json_is_object(since)) {
        r->asked = true;
        r->since =
            json_is_integer(seq) && json_integer_value(seq) >= 0 ? (uint64_t)json_integer_value(seq) : 0;
        r->epoch = recovery_epoch_parse(json_string_value(json_object_get(since, "epoch")));
        size_t n = 0;
        r->complete =
            r->epoch && json_is_integer(seq) &&
            history_replay(r->th, r->epoch, r->since, server_now_ms(), r->pol->history_ttl_ms, count, &n);
    }
    if (!*response)
        *response = json_object();
    if (!json_is_object(*response))
        return;
    char hex[17];
    recovery_epoch_hex(history_epoch(r->th), hex);
    json_object_set_new(*response, "epoch", json_string(hex));
    json_object_set_new(*response, "seq", json_integer((json_int_t)history_last_seq(r->th)));
    if (r->asked)
        json_object_set_new(*response, "recovered", json_boolean(r->complete));
}

struct replay_ctx {
    struct conn *c;
    const char *topic;
};

/* One missed broadcast, as it was sent: [null, null, topic, event, payload]. */
static void push_missed(void *arg, const struct history_msg *m)
{
    struct replay_ctx *x = arg;
    struct phx_msg msg = {
        .topic = x->topic,
        .topic_len = strlen(x->topic),
        .event = m->event,
        .event_len = strlen(m->event),
        .json = m->payload,
        .bin = m->bin,
        .bin_len = m->bin_len,
    };
    conn_send(x->c, &msg, PHX_BIN_BROADCAST);
}

void recovery_replay(struct conn *c, const char *topic, const struct recovery *r)
{
    if (!r->th || !r->asked || !r->complete)
        return;
    struct replay_ctx x = {c, topic};
    history_replay(r->th, r->epoch, r->since, server_now_ms(), r->pol->history_ttl_ms, push_missed, &x);
}
