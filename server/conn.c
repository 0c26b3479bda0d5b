/*
 * conn.c: one client connection (see conn.h).
 *
 * Invariants: a closing connection queues nothing and routes nothing more; rx is allocated only while a
 * message arrives in pieces; every channel in `channels` is active.
 */
#include "conn.h"

#include "channel.h"
#include "metrics.h"
#include "phx_error.h"
#include "phx_json.h"
#include "pubsub.h"
#include "router.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest close reason kept (the rest is cut): a close frame carries at most 123 bytes of it. */
#define CLOSE_REASON_MAX 63

/* The close reason when there is no memory for a copy. */
static const char no_reason[] = "";

/* Drop the message being assembled, if any. */
static void conn_rx_end(struct conn *c)
{
    if (!c->rx)
        return;
    phx_buf_cleanup(&c->rx->buf);
    free(c->rx);
    c->rx = NULL;
}

struct conn *conn_create(struct server *srv, const struct transport_ops *t, void *handle, enum phx_vsn vsn,
                         char *user_id, char *socket_id)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        goto fail;
    c->srv = srv;
    c->transport = t;
    c->transport_handle = handle;
    c->id = ++srv->next_conn_id;
    c->vsn = vsn;
    c->user_id = user_id;
    c->id_sub.kind = SUB_SOCKET_ID;
    outq_init(&c->q);
    c->close_reason = no_reason;
    c->last_rx_ms = server_now_ms();
    /* The registry keeps the socket id's only copy (registry_sub_topic(&c->id_sub)). */
    if (socket_id && registry_subscribe(srv->registry, socket_id, &c->id_sub) != 0)
        goto fail;
    free(socket_id);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    srv->stats.connections_total++;
    srv->stats.connections[t->kind]++;
    srv->stats.opened[t->kind]++;
    return c;
fail:
    server_user_remove(srv, user_id);
    free(c);
    free(user_id);
    free(socket_id);
    return NULL;
}

void conn_destroy(struct conn **cp)
{
    struct conn *c = *cp;
    if (!c)
        return;
    *cp = NULL;
    /* Going away: nothing more is queued for it, e.g. its own channels' presence leaves. */
    c->closing = true;
    if (c->write_listed)
        write_list_forget(&c->srv->writes, c);
    while (c->channels) {
        struct channel *ch = c->channels;
        channel_destroy(&ch, CH_EXIT_CLOSED);
    }
    registry_unsubscribe(c->srv->registry, &c->id_sub);
    server_user_remove(c->srv, c->user_id);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->srv->nconns--;
    struct server_stats *st = &c->srv->stats;
    st->connections[c->transport->kind]--;
    /* the code the peer saw: ours, else its own, else none (RFC 6455's 1006, abnormal closure) */
    uint16_t code = c->close_code ? c->close_code : c->peer_close_code;
    metrics_count_disconnect(st, code ? code : CLOSE_ABNORMAL);
    st->queue_bytes -= c->q.bytes;
    outq_cleanup(&c->q);
    conn_rx_end(c);
    if (c->close_reason != no_reason)
        free((char *)c->close_reason);
    free(c->user_id);
    json_decref(c->assigns);
    free(c);
}

void conn_close(struct conn *c, uint16_t code, const char *reason)
{
    if (c->closing)
        return;
    c->closing = true;
    c->close_code = code;
    size_t n = strlen(reason);
    if (n > CLOSE_REASON_MAX)
        n = CLOSE_REASON_MAX;
    char *copy = malloc(n + 1);
    if (copy) {
        memcpy(copy, reason, n);
        copy[n] = '\0';
    }
    c->close_reason = copy ? copy : no_reason;
    c->srv->stats.queue_bytes -= c->q.bytes;
    outq_cleanup(&c->q);
    conn_rx_end(c);
    c->transport->close(c);
}

int conn_on_message(struct conn *c, const void *data, size_t len, bool binary)
{
    if (c->closing)
        return -1;
    struct phx_msg m;
    int rc;
    if (binary) {
        rc = c->vsn == PHX_V2 ? phx_decode_binary(data, len, &m) : PHX_E_BINARY;
    } else {
        rc = phx_decode_text(c->vsn, data, len, &m);
    }
    c->srv->stats.messages_in++;
    c->srv->stats.frames_in[c->transport->kind]++;
    c->srv->stats.bytes_in[c->transport->kind] += len;
    if (rc != 0) {
        char reason[64];
        snprintf(reason, sizeof(reason), "malformed frame: %s", phx_strerror(rc));
        c->srv->stats.bad_frames++;
        conn_close(c, rc == PHX_E_NOMEM ? CLOSE_INTERNAL : CLOSE_INVALID_DATA, reason);
        return -1;
    }
    rc = router_dispatch(c, &m);
    phx_msg_cleanup(&m);
    router_end_crashed(c->srv);
    if (rc < 0)
        conn_close(c, CLOSE_INTERNAL, "out of memory");
    return c->closing ? -1 : 0;
}

/* The most of an oversized message read (and dropped) before its connection is closed anyway. */
#define RX_DISCARD_MAX (64u * 1024u * 1024u)

/* Start keeping state for a message that arrives in pieces. NULL (and the connection closing) when out
 * of memory. */
static struct conn_rx *conn_rx_begin(struct conn *c, bool binary)
{
    struct conn_rx *rx = calloc(1, sizeof(*rx));
    if (!rx) {
        conn_close(c, CLOSE_INTERNAL, "out of memory");
        return NULL;
    }
    phx_buf_init(&rx->buf, 0);
    rx->binary = binary;
    c->rx = rx;
    return rx;
}

int conn_on_data(struct conn *c, const void *in, size_t len, bool first, bool final, bool binary,
                 size_t remaining)
{
    if (c->closing)
        return -1;
    c->last_rx_ms = server_now_ms();
    size_t limit = c->srv->opt.max_frame_size;
    if (first)
        conn_rx_end(c); /* lws starts a message only after the last one ended: nothing is lost */
    struct conn_rx *rx = c->rx;
    /* Refuse before allocating: what arrived plus what is announced must fit. An oversized message
     * is read to its end without being kept, then the connection closes with 1009: closing while the
     * client is still sending would reach it as a reset (1006) rather than as 1009. Reading on is
     * bounded: past RX_DISCARD_MAX the connection is cut at once. */
    if ((rx && rx->overflow) || (rx ? rx->buf.len : 0) + len + remaining > limit) {
        if (!rx && !(rx = conn_rx_begin(c, binary)))
            return -1;
        if (!rx->overflow) {
            rx->overflow = true;
            phx_buf_cleanup(&rx->buf);
        }
        rx->discarded += len;
        if (final || rx->discarded > RX_DISCARD_MAX) {
            conn_close(c, CLOSE_TOO_BIG, "message over max_frame_size");
            return -1;
        }
        return 0;
    }
    /* The common case: a whole message in one piece needs no copy and no memory. */
    if (first && final)
        return conn_on_message(c, in, len, binary);
    if (!rx && !(rx = conn_rx_begin(c, binary)))
        return -1;
    if (phx_buf_append(&rx->buf, in, len) != 0) {
        conn_close(c, CLOSE_INTERNAL, "out of memory");
        return -1;
    }
    if (!final)
        return 0;
    /* Taken off the connection first: routing the message may close it. */
    c->rx = NULL;
    int rc = conn_on_message(c, phx_buf_data(&rx->buf), rx->buf.len, rx->binary);
    /* Return the assembly memory: idle connections hold none. */
    phx_buf_cleanup(&rx->buf);
    free(rx);
    return rc;
}

int conn_push(struct conn *c, struct frame *f)
{
    return conn_push_policy(c, f, SLOW_CLOSE);
}

/* A subscriber with this many frames queued, or a queue half full, is behind: conflation applies to it.
 * Less is a burst that a reader keeping up drains at its next write. */
#define CONFLATE_BEHIND 32

int conn_push_policy(struct conn *c, struct frame *f, enum slow_policy policy)
{
    if (c->closing)
        return -1;
    struct server_stats *st = &c->srv->stats;
    long delta;
    bool behind = c->q.count >= CONFLATE_BEHIND || c->q.bytes >= c->srv->opt.max_queue_size / 2;
    if (f->ckey && behind && outq_replace(&c->q, f, &delta)) {
        st->queue_bytes = (size_t)((long)st->queue_bytes + delta);
        st->slow_conflated++;
        return 0;
    }
    size_t limit = c->srv->opt.max_queue_size, dropped;
    while (policy != SLOW_CLOSE && c->q.bytes > 0 && c->q.bytes + f->len > limit &&
           outq_drop_oldest_broadcast(&c->q, &dropped)) {
        st->queue_bytes -= dropped;
        st->slow_dropped[policy]++;
    }
    if (c->q.bytes > 0 && c->q.bytes + f->len > limit) {
        st->slow_consumer_closes++;
        conn_close(c, CLOSE_POLICY, "slow consumer: write queue over max_queue_size");
        return -1;
    }
    bool was_empty = outq_empty(&c->q);
    if (outq_push(&c->q, f) != 0) {
        conn_close(c, CLOSE_INTERNAL, "out of memory");
        return -1;
    }
    c->srv->stats.queue_bytes += f->len;
    if (was_empty)
        c->transport->wake(c);
    return 0;
}

void conn_pop(struct conn *c, bool written)
{
    struct frame *f = outq_peek(&c->q);
    if (!f)
        return;
    struct server_stats *st = &c->srv->stats;
    if (written) {
        enum transport_kind k = c->transport->kind;
        st->frames_out[k]++;
        st->bytes_out[k] += f->len;
        if (f->broadcast)
            metrics_observe_latency(st, k, server_now_us() - f->created_us);
    }
    st->queue_bytes -= f->len;
    outq_pop(&c->q); /* a drained queue returns its ring: an idle connection holds no queue memory */
}

void conn_on_peer_close(struct conn *c, uint16_t code)
{
    c->peer_close_code = code ? code : CLOSE_NO_STATUS;
}

/* Turn what the encoder wrote into c->srv->scratch into a frame on c's queue. */
static int conn_push_scratch(struct conn *c, bool binary)
{
    struct phx_buf *b = &c->srv->scratch;
    struct frame *f = frame_create(phx_buf_data(b), b->len, binary);
    phx_buf_reset(b);
    if (!f)
        return PHX_E_NOMEM;
    int rc = conn_push(c, f);
    frame_unref(&f);
    return rc;
}

int conn_send(struct conn *c, const struct phx_msg *m, enum phx_bin_kind bin_kind)
{
    if (c->closing)
        return -1;
    struct phx_buf *b = &c->srv->scratch;
    phx_buf_reset(b);
    bool binary = m->json == NULL;
    int rc;
    if (binary)
        rc = c->vsn == PHX_V2 ? phx_encode_binary(bin_kind, m, b) : PHX_E_INVAL;
    else
        rc = phx_encode_text(c->vsn, m, b);
    if (rc != 0) {
        phx_buf_reset(b);
        return rc;
    }
    return conn_push_scratch(c, binary);
}

int conn_send_reply(struct conn *c, json_t *join_ref, json_t *ref, const char *topic, const char *status,
                    json_t *response, const unsigned char *bin, size_t bin_len)
{
    if (c->closing)
        return -1;
    if (!response && bin) {
        struct phx_msg m = {
            .join_ref = join_ref,
            .ref = ref,
            .topic = topic,
            .topic_len = strlen(topic),
            .event = status,
            .event_len = strlen(status),
            .bin = bin,
            .bin_len = bin_len,
        };
        return conn_send(c, &m, PHX_BIN_REPLY);
    }
    struct phx_buf *b = &c->srv->scratch;
    phx_buf_reset(b);
    int rc = phx_encode_reply(c->vsn, join_ref, ref, topic, status, response, b);
    if (rc != 0) {
        phx_buf_reset(b);
        return rc;
    }
    return conn_push_scratch(c, false);
}

struct channel *conn_find_channel(const struct conn *c, const char *topic)
{
    for (struct channel *ch = c->channels; ch; ch = ch->next)
        if (strcmp(ch->topic, topic) == 0)
            return ch;
    return NULL;
}

void conn_unlink_channel(struct conn *c, struct channel *ch)
{
    for (struct channel **it = &c->channels; *it; it = &(*it)->next) {
        if (*it == ch) {
            *it = ch->next;
            ch->next = NULL;
            c->nchannels--;
            return;
        }
    }
}
