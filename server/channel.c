/*
 * channel.c: channel instances and the API handlers call (handler.h).
 *
 * One allocation per instance: the struct, then the handler's zeroed state (16-byte aligned), then the
 * topic string, then the join_ref's text when it is a short string. Invariants: active <=> subscribed and
 * linked into conn's list; terminate runs only for an active instance and only once (terminated).
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

/* Longer string join_refs (phoenix.js sends a counter: "1", "2", ...) stay Jansson strings. */
#define JOIN_REF_INLINE_MAX 32

/* The join_ref's text when it is kept inline (ch->_join_ref_inline). */
static const char *join_ref_text(const struct channel *ch)
{
    return ch->topic + strlen(ch->topic) + 1;
}

struct channel *channel_create(struct conn *c, const struct channel_handler *h, const char *topic,
                               json_t *join_ref)
{
    size_t head = ALIGN16(sizeof(struct channel));
    size_t state = ALIGN16(h->state_size);
    size_t tlen = strlen(topic);
    /* a string without NULs inside, short enough to be kept as text */
    const char *jr = json_is_string(join_ref) ? json_string_value(join_ref) : NULL;
    size_t jlen = jr ? json_string_length(join_ref) : 0;
    bool inline_ref = jr && jlen <= JOIN_REF_INLINE_MAX && strlen(jr) == jlen;
    char *mem = calloc(1, head + state + tlen + 1 + (inline_ref ? jlen + 1 : 0));
    if (!mem)
        return NULL;
    struct channel *ch = (struct channel *)mem;
    ch->conn = c;
    ch->handler = h;
    ch->sub.kind = SUB_CHANNEL;
    ch->state = h->state_size ? mem + head : NULL;
    memcpy(mem + head + state, topic, tlen + 1);
    ch->topic = mem + head + state;
    if (inline_ref) {
        memcpy(mem + head + state + tlen + 1, jr, jlen + 1);
        ch->_join_ref_inline = true;
    } else if (join_ref && !json_is_null(join_ref)) {
        ch->_join_ref = json_incref(join_ref);
    }
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
    json_decref(ch->_join_ref);
    free(ch);
}

json_t *channel_join_ref(const struct channel *ch)
{
    if (ch->_join_ref_inline)
        return json_string_nocheck(join_ref_text(ch));
    return ch->_join_ref ? json_incref(ch->_join_ref) : NULL;
}

bool channel_join_ref_is(const struct channel *ch, const json_t *ref)
{
    if (!ch->_join_ref_inline)
        return phx_ref_equal(ref, ch->_join_ref);
    const char *text = join_ref_text(ch);
    return json_is_string(ref) && json_string_length(ref) == strlen(text) &&
           memcmp(json_string_value(ref), text, json_string_length(ref)) == 0;
}

struct channel_info *channel_next_info(struct channel *ch)
{
    struct channel_info *i = ch->infos;
    if (!i)
        return NULL;
    ch->infos = i->next;
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

bool channel_take_seat(struct channel *ch, size_t max)
{
    return admission_topic_take(ch->conn->srv->adm, ch->topic, max);
}

void channel_release_seat(struct channel *ch)
{
    admission_topic_release(ch->conn->srv->adm, ch->topic);
}

int channel_push(struct channel *ch, const char *event, const struct ch_payload *payload)
{
    json_t *join_ref = channel_join_ref(ch);
    struct phx_msg m = {
        .join_ref = join_ref,
        .topic = ch->topic,
        .topic_len = strlen(ch->topic),
        .event = event,
        .event_len = strlen(event),
        .json = payload->json,
        .bin = payload->bin,
        .bin_len = payload->bin_len,
    };
    int rc = conn_send(ch->conn, &m, PHX_BIN_PUSH);
    json_decref(join_ref);
    return rc;
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
    struct channel_info **tail = &ch->infos;
    while (*tail)
        tail = &(*tail)->next;
    *tail = i;
    return 0;
}
