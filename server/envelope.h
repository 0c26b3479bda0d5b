/*
 * envelope.h: what one Cinder node tells the others (through Redis, or between shards), on the wire.
 *
 *   offset 0   'C'                 magic
 *          1   version (1)
 *          2   kind                'B' broadcast, 'P' presence diff, 'H' heartbeat, 'R' state request,
 *                                  'S' full presence state
 *          3   flags               bit 0: broadcast_from, bit 1: binary payload, bit 2: sequenced
 *                                  (a history topic's broadcast: the body starts with the topic's
 *                                  8-byte big-endian epoch, and the sequence number is the topic's)
 *          4   origin node id      8 bytes, big-endian
 *         12   sequence number     8 bytes, big-endian (presence kinds; 0 otherwise)
 *         20   len(topic)          1 byte
 *         21   len(event)          1 byte
 *         22   topic, event, body  the body runs to the end: a JSON payload or raw bytes ('B'), a
 *                                  presence diff ('P'), the state ('S'), nothing ('H', 'R': for 'R' the
 *                                  topic field holds the hex id of the node asked)
 *
 * Encoded once per message, decoded once per receiving node. Decoding never trusts the bytes: any
 * inconsistency is an error code, never a crash.
 */
#ifndef CINDER_ENVELOPE_H
#define CINDER_ENVELOPE_H

#include "phx_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_VERSION 1
#define ENVELOPE_HEADER 22

enum envelope_kind {
    ENV_BROADCAST = 'B',
    ENV_PRESENCE = 'P',
    ENV_HEARTBEAT = 'H',
    ENV_STATE_REQUEST = 'R',
    ENV_STATE = 'S',
};

enum { ENV_FLAG_FROM = 1, ENV_FLAG_BINARY = 2, ENV_FLAG_SEQUENCED = 4 };

enum envelope_err {
    ENV_E_SHORT = -1,   /* shorter than its header or its declared fields */
    ENV_E_MAGIC = -2,   /* not an envelope */
    ENV_E_VERSION = -3, /* a version this node does not speak */
    ENV_E_KIND = -4,    /* unknown kind */
    ENV_E_FIELD = -5,   /* topic or event invalid (empty topic, control characters, NUL) */
    ENV_E_NOMEM = -6,
};

struct envelope {
    enum envelope_kind kind;
    uint8_t flags;
    uint64_t origin;
    uint64_t seq;
    char topic[256]; /* NUL-terminated copies */
    char event[256];
    const unsigned char *body; /* borrowed from the decoded bytes */
    size_t body_len;
};

/* Append the encoding of e (e->body borrowed) to out. 0, ENV_E_FIELD (topic/event over 255 bytes),
 * or ENV_E_NOMEM; nothing is appended on error. */
int envelope_encode(const struct envelope *e, struct phx_buf *out);
/* Decode bytes into *e (body points into bytes). 0 or a negative envelope_err. */
int envelope_decode(const unsigned char *bytes, size_t len, struct envelope *e);
const char *envelope_strerror(int err);

#endif
