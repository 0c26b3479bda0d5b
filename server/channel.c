/*
 * channel.c: channel instances and the API handlers call (handler.h).
 *
 * One allocation per instance: the struct, then the handler's zeroed state (16-byte aligned), then the
 * topic string. Invariants: active <=> subscribed and linked into conn's list; terminate runs only for
 * an active instance and only once (terminated).
 */
#include "channel.h"

#include "conn.h"
#include "presence.h"
#include "pubsub.h"
#include "server.h"

#include <stdlib.h>
#include <string.h>

struct channel_info {
    struct channel_info *next;
    json_t *data; /* owned, may be NULL */
    char msg[];
};

#define ALIGN16(n) (((n) + 15u) & ~(size_t)15u)

struct channel *channel_create(struct conn *c, const struct channel_handler *h, const char *topic,
                               json_t *join_ref)
{
    size_t head = ALIGN16(sizeof(struct channel));
    size_t state = ALIGN16(h->state_size);
    size_t tlen = strlen(topic);
    char *mem = calloc(1, head + state + tlen + 1);
    if (!mem)
        return NULL;
    struct channel *ch = (struct channel *)mem;
    ch->conn = c;
    ch->handler = h;
    ch->join_ref = join_ref ? json_incref(join_ref) : NULL;
    ch->sub.kind = SUB_CHANNEL;
    ch->infos_tail = &ch->infos;
    ch->state = h->state_size ? mem + head : NULL;
    memcpy(mem + head + state, topic, tlen + 1);
    ch->topic = mem + head + state;
    return ch;
}

int channel_activate(struct channel *ch)
{
    struct conn *c = ch->conn;
    if (registry_subscribe(c->srv->registry, ch->topic, &ch->sub) != 0)
        return -1;
    ch->next = c->channels;
    c->channels = ch;
    c->nchannels++;
    c->srv->stats.channels++;
    ch->active = true;
    return 0;
}

void channel_destroy(struct channel **chp, enum ch_exit reason)
{
    struct channel *ch = *chp;
    if (!ch)
        return;
    *chp = NULL;
    if ((ch->active || ch->joined) && !ch->terminated && ch->handler->terminate) {
        ch->terminated = true;
        ch->handler->terminate(ch, reason);
    }
    /* ch->handler is not read past this point: terminate may have released it (handler.h). */
    if (ch->active) {
        /* Unsubscribed first: the leave diff is for the others. */
        registry_unsubscribe(ch->conn->srv->registry, &ch->sub);
        presence_channel_ended(ch);
        conn_unlink_channel(ch->conn, ch);
        ch->conn->srv->stats.channels--;
        ch->active = false;
    }
    if (ch->crash_pending) {
        for (struct channel **it = &ch->conn->srv->crashed; *it; it = &(*it)->crash_next) {
            if (*it == ch) {
                *it = ch->crash_next;
                break;
            }
        }
    }
    struct channel_info *i;
    while ((i = channel_next_info(ch)))
        channel_info_free(&i);
    json_decref(ch->join_ref);
    free(ch);
}

struct channel_info *channel_next_info(struct channel *ch)
{
    struct channel_info *i = ch->infos;
    if (!i)
        return NULL;
    ch->infos = i->next;
    if (!ch->infos)
        ch->infos_tail = &ch->infos;
    i->next = NULL;
    return i;
}

const char *channel_info_msg(const struct channel_info *i)
{
    return i->msg;
}

json_t *channel_info_data(const struct channel_info *i)
{
    return i->data;
}

void channel_info_free(struct channel_info **ip)
{
    struct channel_info *i = *ip;
    if (!i)
        return;
    json_decref(i->data);
    free(i);
    *ip = NULL;
}

void channel_mark_crashed(struct channel *ch)
{
    if (ch->crash_pending)
        return;
    ch->crash_pending = true;
    ch->crash_next = ch->conn->srv->crashed;
    ch->conn->srv->crashed = ch;
}

bool channel_intercepts(const struct channel *ch, const char *event)
{
    const char *const *it = ch->handler->intercepts;
    if (!it || !ch->handler->handle_out)
        return false;
    for (; *it; it++)
        if (strcmp(*it, event) == 0)
            return true;
    return false;
}

/* ---- handler API ---- */

void *channel_state(struct channel *ch)
{
    return ch->state;
}

const char *channel_topic(const struct channel *ch)
{
    return ch->topic;
}

const char *channel_user_id(const struct channel *ch)
{
    return ch->conn->user_id;
}

const void *channel_handler_data(const struct channel *ch)
{
    return ch->handler->data;
}

json_t *channel_assigns(const struct channel *ch)
{
    return ch->conn->assigns;
}

size_t channel_topic_subscribers(const struct channel *ch)
{
    return registry_topic_subscribers(registry_find(ch->conn->srv->registry, ch->topic));
}

int channel_push(struct channel *ch, const char *event, const struct ch_payload *payload)
{
    struct phx_msg m = {
        .join_ref = ch->join_ref,
        .topic = ch->topic,
        .topic_len = strlen(ch->topic),
        .event = event,
        .event_len = strlen(event),
        .json = payload->json,
        .bin = payload->bin,
        .bin_len = payload->bin_len,
    };
    return conn_send(ch->conn, &m, PHX_BIN_PUSH);
}

static int channel_publish(struct channel *ch, const char *event, const struct ch_payload *payload,
                           const struct channel *from)
{
    struct broadcast b = {
        .topic = ch->topic,
        .event = event,
        .json = payload->json,
        .bin = payload->bin,
        .bin_len = payload->bin_len,
        .from = from,
    };
    long n = pubsub_broadcast(ch->conn->srv, &b);
    return n < 0 ? (int)n : 0;
}

int channel_broadcast(struct channel *ch, const char *event, const struct ch_payload *payload)
{
    return channel_publish(ch, event, payload, NULL);
}

int channel_broadcast_from(struct channel *ch, const char *event, const struct ch_payload *payload)
{
    return channel_publish(ch, event, payload, ch);
}

int channel_send_info(struct channel *ch, const char *msg, json_t *data)
{
    size_t len = strlen(msg);
    struct channel_info *i = malloc(sizeof(*i) + len + 1);
    if (!i) {
        json_decref(data);
        return -1;
    }
    i->next = NULL;
    i->data = data;
    memcpy(i->msg, msg, len + 1);
    *ch->infos_tail = i;
    ch->infos_tail = &i->next;
    return 0;
}
