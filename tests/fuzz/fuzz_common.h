/*
 * fuzz_common.h: what the libFuzzer targets share: a failed-property abort, a server of the demo app
 * with connections on a mock transport (as tests/unit/server/harness.h, without Criterion), and a
 * drain that checks every frame the server queued is a well-formed Phoenix frame.
 *
 * Every target builds its server and connections per input and tears them down before returning, so
 * libFuzzer's per-input leak check (LeakSanitizer) sees anything the core forgot to free. A property
 * that does not hold aborts: libFuzzer records the input as a crash.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "channel.h"
#include "conn.h"
#include "fuzz_check.h"
#include "handlers/demo.h"
#include "options.h"
#include "phx_binary.h"
#include "phx_error.h"
#include "phx_json.h"
#include "registry.h"
#include "server.h"
#include "tracker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the mock transport: counts wakes and closes, frees nothing (the target destroys conns) ---- */

struct fuzz_transport {
    int wakes;
    int closes;
};

static inline void fuzz_wake(struct conn *c)
{
    ((struct fuzz_transport *)c->transport_handle)->wakes++;
}

static inline void fuzz_close(struct conn *c)
{
    ((struct fuzz_transport *)c->transport_handle)->closes++;
}

static const struct transport_ops fuzz_ops = {.name = "fuzz", .wake = fuzz_wake, .close = fuzz_close};

/* Settings small enough that a fuzzer reaches every limit: frame size, queue size, channels. */
static inline void fuzz_small_limits(struct options *o)
{
    o->max_frame_size = 256;
    o->max_queue_size = 2048;
    o->max_channels = 4;
}

/* Configured channels beside the demo app's routes (handlers/generic.h), so client frames reach the
 * generic handler too: open with presence, claim-only (bob's socket carries the claim), denied, and one
 * that takes a single subscriber. */
static const char fuzz_channels[] = "["
                                    "{\"pattern\":\"chat:*\",\"client_publish\":true,\"presence\":true},"
                                    "{\"pattern\":\"private:*\",\"join\":\"claim\",\"client_publish\":true,"
                                    "\"max_subscribers\":2},"
                                    "{\"pattern\":\"admin:*\",\"join\":\"deny\"},"
                                    "{\"pattern\":\"full:*\",\"max_subscribers\":1}"
                                    "]";

static inline struct server *fuzz_server(int small_limits)
{
    struct options o;
    options_defaults(&o);
    if (small_limits)
        fuzz_small_limits(&o);
    json_decref(o.channels);
    o.channels = json_loads(fuzz_channels, 0, NULL);
    FUZZ_CHECK(o.channels != NULL, "fuzz_channels");
    struct server *s = server_create(&o, &demo_app); /* copies o */
    options_cleanup(&o);
    FUZZ_CHECK(s != NULL, "server_create");
    return s;
}

/* A connection of user `user` (socket id users_socket:<user>), as the demo app's connect makes it. */
static inline struct conn *fuzz_conn(struct server *s, enum phx_vsn vsn, const char *user)
{
    struct fuzz_transport *t = calloc(1, sizeof(*t));
    size_t n = strlen(user);
    char *uid = malloc(n + 1), *sid = malloc(n + sizeof("users_socket:"));
    FUZZ_CHECK(t && uid && sid, "out of memory");
    memcpy(uid, user, n + 1);
    memcpy(sid, "users_socket:", sizeof("users_socket:") - 1);
    memcpy(sid + sizeof("users_socket:") - 1, user, n + 1);
    struct conn *c = conn_create(s, &fuzz_ops, t, vsn, uid, sid);
    FUZZ_CHECK(c != NULL, "conn_create");
    /* bob's token carried a "channels" claim (demo_socket.c): he may join private:b* */
    if (strcmp(user, "bob") == 0)
        c->assigns = json_pack("{s[s]}", "channels", "private:b*");
    return c;
}

/* What the transport does from its close callback. NULL-safe. */
static inline void fuzz_end_conn(struct conn **c)
{
    if (!*c)
        return;
    free((*c)->transport_handle);
    conn_destroy(c);
}

/* Free the server after checking that the connections left nothing behind. */
static inline void fuzz_end_server(struct server **s)
{
    FUZZ_CHECK((*s)->nconns == 0, "%zu connections left", (*s)->nconns);
    FUZZ_CHECK(registry_topic_count((*s)->registry) == 0, "registry topics left");
    FUZZ_CHECK(registry_sub_count((*s)->registry) == 0, "registry subscriptions left");
    FUZZ_CHECK(tracker_entry_count((*s)->tracker) == 0, "presence entries left");
    FUZZ_CHECK((*s)->crashed == NULL, "crashed channels left unended");
    server_destroy(s);
}

/* A server -> client binary frame: kind 0 push (4-byte header), 1 reply (5), 2 broadcast (3), and the
 * declared lengths fit in the frame. */
static inline int fuzz_server_binary_ok(const unsigned char *p, size_t len)
{
    static const size_t header[3] = {4, 5, 3};
    if (len < 1 || p[0] > PHX_BIN_BROADCAST || len < header[p[0]])
        return 0;
    size_t fields = 0;
    for (size_t i = 1; i < header[p[0]]; i++)
        fields += p[i];
    return fields <= len - header[p[0]];
}

/* Pop every queued frame of c as its transport would write it, checking each: a text frame decodes as
 * a Phoenix message of c's serializer, a binary one has a consistent server header. The queue's byte
 * count must match its frames. How many frames. */
static inline size_t fuzz_drain(struct conn *c)
{
    size_t n = 0, bytes = 0, queued = c->q.bytes;
    struct frame *f;
    while ((f = outq_peek(&c->q))) {
        bytes += f->len;
        if (f->binary) {
            FUZZ_CHECK(c->vsn == PHX_V2, "binary frame queued for a V1 connection");
            FUZZ_CHECK(fuzz_server_binary_ok(frame_data(f), f->len), "bad server binary frame");
        } else {
            struct phx_msg m;
            int rc = phx_decode_text(c->vsn, (const char *)frame_data(f), f->len, &m);
            FUZZ_CHECK(rc == 0, "server frame does not decode (%s): %.*s", phx_strerror(rc), (int)f->len,
                       (const char *)frame_data(f));
            phx_msg_cleanup(&m);
        }
        n++;
        outq_pop(&c->q);
    }
    /* The transport wrote everything: the next frame queued must wake it again. */
    ((struct fuzz_transport *)c->transport_handle)->wakes = 0;
    FUZZ_CHECK(bytes == queued && c->q.bytes == 0, "queue counted %zu bytes, its frames hold %zu", queued,
               bytes);
    return n;
}

/* Invariants of a connection between messages (fuzz_drain resets the wake count). */
static inline void fuzz_check_conn(const struct conn *c)
{
    const struct options *o = &c->srv->opt;
    FUZZ_CHECK(c->nchannels <= o->max_channels, "%u channels", c->nchannels);
    FUZZ_CHECK(c->q.bytes <= o->max_queue_size || c->q.count == 1, "queue at %zu bytes in %u frames",
               c->q.bytes, c->q.count);
    FUZZ_CHECK(!c->closing || c->q.count == 0, "a closing connection holds frames");
    /* Queue, then ask: exactly one wake since the queue last went from empty to non-empty. */
    int wakes = ((const struct fuzz_transport *)c->transport_handle)->wakes;
    FUZZ_CHECK(c->q.count == 0 ? wakes == 0 || c->closing : wakes == 1, "%d wakes for %u queued frames",
               wakes, c->q.count);
    unsigned n = 0;
    for (const struct channel *ch = c->channels; ch; ch = ch->next)
        n++;
    FUZZ_CHECK(n == c->nchannels, "channel list has %u, count %u", n, c->nchannels);
}

#endif
