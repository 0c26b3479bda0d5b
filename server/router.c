/*
 * router.c: Phoenix's socket dispatch (Phoenix.Socket.__in__ and Channel.Server, 1.8.12+ rules).
 *
 *   heartbeat on "phoenix"        -> ok reply, join_ref null, always
 *   phx_join                      -> new instance (or replace the joined one: duplicate join)
 *   anything on an unjoined topic -> "unmatched topic" error, join_ref null (phx_leave: ok reply)
 *   non-null stale join_ref       -> dropped
 *   phx_leave                     -> ok reply, then phx_close
 *   other events                  -> handle_in, whose result becomes frames in finish_hook()
 *
 * Send failures are not routing failures: a connection that cannot take a frame is already closing.
 * Only out-of-memory while creating a channel is returned.
 */
#include "router.h"

#include "channel.h"
#include "conn.h"
#include "phx_topic.h"
#include "recovery.h"
#include "server.h"

#include <stdio.h>
#include <string.h>

static bool is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static struct ch_payload payload_of(const struct phx_msg *m)
{
    return (struct ch_payload){.json = m->json, .bin = m->bin, .bin_len = m->bin_len};
}

static void reply_reason(struct conn *c, json_t *join_ref, json_t *ref, const char *topic, const char *reason)
{
    json_t *r = json_pack("{ss}", "reason", reason);
    conn_send_reply(c, join_ref, ref, topic, "error", r, NULL, 0);
    json_decref(r);
}

/* [jr, jr, topic, event, payload]: phx_close and phx_error carry ref == join_ref. */
static void send_lifecycle(struct conn *c, json_t *join_ref, const char *topic, const char *event,
                           json_t *payload)
{
    struct phx_msg m = {
        .join_ref = join_ref,
        .ref = join_ref,
        .topic = topic,
        .topic_len = strlen(topic),
        .event = event,
        .event_len = strlen(event),
        .json = payload,
    };
    conn_send(c, &m, PHX_BIN_PUSH);
}

/* End ch for reason and tell the client with phx_close (graceful) or phx_error (crash). */
static void end_channel(struct conn *c, struct channel *ch, enum ch_exit reason)
{
    json_t *jr = channel_join_ref(ch);
    /* Joined topics passed phx_topic_valid, so they fit. */
    char topic_copy[PHX_TOPIC_MAX + 1];
    snprintf(topic_copy, sizeof(topic_copy), "%s", ch->topic);
    channel_destroy(&ch, reason);
    if (reason == CH_EXIT_CRASHED) {
        json_t *p = json_pack("{ss}", "reason", "channel_crash");
        send_lifecycle(c, jr, topic_copy, "phx_error", p);
        json_decref(p);
    } else {
        json_t *p = json_object();
        send_lifecycle(c, jr, topic_copy, "phx_close", p);
        json_decref(p);
    }
    json_decref(jr);
}

static void run_infos(struct conn *c, struct channel *ch);

/* Turn a hook's result into frames. ref is the client's ref (NULL for handle_info). Consumes
 * reply->response. Returns false when the channel is gone. */
static bool finish_hook(struct conn *c, struct channel *ch, json_t *ref, int rc, struct ch_reply *reply)
{
    bool alive = true;
    switch (rc) {
    case CH_OK:
        break;
    case CH_REPLY:
    case CH_STOP:
        if (ref && (rc == CH_REPLY || reply->status)) {
            json_t *jr = channel_join_ref(ch);
            conn_send_reply(c, jr, ref, ch->topic, reply->status ? reply->status : "ok", reply->response,
                            reply->bin, reply->bin_len);
            json_decref(jr);
        }
        if (rc == CH_STOP) {
            end_channel(c, ch, CH_EXIT_STOPPED);
            alive = false;
        }
        break;
    default:
        end_channel(c, ch, CH_EXIT_CRASHED);
        alive = false;
        break;
    }
    json_decref(reply->response);
    reply->response = NULL;
    return alive;
}

/* Deliver the channel's pending handle_info messages, in order, until none is left or it ends. */
static void run_infos(struct conn *c, struct channel *ch)
{
    struct channel_info *i;
    while ((i = channel_next_info(ch))) {
        int rc = ch->handler->handle_info
                     ? ch->handler->handle_info(ch, channel_info_msg(i), channel_info_data(i))
                     : CH_OK;
        channel_info_free(&i);
        struct ch_reply none = {0};
        if (!finish_hook(c, ch, NULL, rc == CH_REPLY ? CH_OK : rc, &none))
            return;
    }
}

static int route_join(struct conn *c, struct channel *existing, const struct phx_msg *m)
{
    const struct channel_handler *h =
        phx_topic_valid(m->topic, m->topic_len) ? server_route(c->srv, m->topic) : NULL;
    if (!h) {
        reply_reason(c, NULL, m->ref, m->topic, "unmatched topic");
        return 0;
    }
    if (!existing && c->nchannels >= c->srv->opt.max_channels) {
        reply_reason(c, m->join_ref, m->ref, m->topic, "too many channels joined");
        return 0;
    }
    /* Phoenix stops the old instance before the new one joins; the client hears of it after the new
     * join reply (its phx_close carries the old join_ref). */
    json_t *old_ref = NULL;
    bool replaced = existing != NULL;
    if (existing) {
        old_ref = channel_join_ref(existing);
        channel_destroy(&existing, CH_EXIT_DUPLICATE);
    }
    struct channel *ch = channel_create(c, h, m->topic, m->join_ref);
    if (!ch) {
        json_decref(old_ref);
        return -1;
    }
    struct ch_reply reply = {0};
    struct ch_payload params = payload_of(m);
    int rc = h->join ? h->join(ch, &params, &reply) : CH_OK;
    ch->joined = rc == CH_OK;
    if (rc == CH_OK && channel_activate(ch) != 0)
        rc = CH_CRASH;
    struct recovery rec = {0};
    if (rc == CH_OK) {
        /* a history topic: where it stands, and what this client missed, right after the reply */
        recovery_prepare(c->srv, m->topic, m->json, &reply.response, &rec);
        conn_send_reply(c, m->join_ref, m->ref, m->topic, "ok", reply.response, NULL, 0);
        recovery_replay(c, m->topic, &rec);
    } else {
        if (rc == CH_REFUSE)
            conn_send_reply(c, m->join_ref, m->ref, m->topic, reply.status ? reply.status : "error",
                            reply.response, NULL, 0);
        else
            reply_reason(c, m->join_ref, m->ref, m->topic, "join crashed");
        channel_destroy(&ch, CH_EXIT_CRASHED);
    }
    json_decref(reply.response);
    if (replaced) {
        json_t *p = json_object();
        send_lifecycle(c, old_ref, m->topic, "phx_close", p);
        json_decref(p);
        json_decref(old_ref);
    }
    if (ch)
        run_infos(c, ch);
    return 0;
}

static void route_leave(struct conn *c, struct channel *ch, const struct phx_msg *m)
{
    json_t *jr = channel_join_ref(ch);
    channel_destroy(&ch, CH_EXIT_LEFT);
    conn_send_reply(c, jr, m->ref, m->topic, "ok", NULL, NULL, 0);
    json_t *p = json_object();
    send_lifecycle(c, jr, m->topic, "phx_close", p);
    json_decref(p);
    json_decref(jr);
}

static void route_in(struct conn *c, struct channel *ch, const struct phx_msg *m)
{
    struct ch_reply reply = {0};
    int rc;
    if (ch->handler->handle_in) {
        struct ch_payload payload = payload_of(m);
        rc = ch->handler->handle_in(ch, m->event, &payload, &reply);
    } else {
        reply.status = "error";
        reply.response = json_pack("{ss}", "reason", "unknown event");
        rc = CH_REPLY;
    }
    if (finish_hook(c, ch, m->ref, rc, &reply))
        run_infos(c, ch);
}

void router_end_crashed(struct server *s)
{
    while (s->crashed) {
        struct channel *ch = s->crashed;
        s->crashed = ch->crash_next;
        ch->crash_pending = false;
        end_channel(ch->conn, ch, CH_EXIT_CRASHED);
    }
}

int router_dispatch(struct conn *c, const struct phx_msg *m)
{
    if (is(m->topic, "phoenix") && is(m->event, "heartbeat")) {
        conn_send_reply(c, NULL, m->ref, "phoenix", "ok", NULL, NULL, 0);
        return 0;
    }
    struct channel *ch = conn_find_channel(c, m->topic);
    if (is(m->event, "phx_join"))
        return route_join(c, ch, m);
    if (!ch) {
        if (is(m->event, "phx_leave"))
            conn_send_reply(c, m->join_ref, m->ref, m->topic, "ok", NULL, NULL, 0);
        else
            reply_reason(c, NULL, m->ref, m->topic, "unmatched topic");
        return 0;
    }
    if (m->join_ref && !channel_join_ref_is(ch, m->join_ref))
        return 0; /* stale join_ref: an old instance's message, dropped as Phoenix >= 1.8.3 does */
    if (is(m->event, "phx_leave"))
        route_leave(c, ch, m);
    else
        route_in(c, ch, m);
    return 0;
}
