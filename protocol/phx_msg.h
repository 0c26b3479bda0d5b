/*
 * phx_msg.h: one Phoenix message, in either direction: [join_ref, ref, topic, event, payload].
 *
 * join_ref and ref are opaque JSON values echoed verbatim (NULL here means JSON null). The payload is
 * either a JSON value (`json`, normally an object) or raw bytes (`bin`/`bin_len`, V2 binary frames);
 * exactly one of the two is used: a message is binary when json == NULL.
 *
 * Ownership: a message filled by a decoder owns its storage (`_root`, `_owned`); every pointer in it is
 * borrowed from that storage and valid until phx_msg_cleanup(). A message the caller fills for an encoder
 * only borrows: encoders never take or release references. Encoders read topic_len/event_len, or
 * strlen() when they are 0, so a hand-filled message may leave them out.
 */
#ifndef PHX_MSG_H
#define PHX_MSG_H

#include <jansson.h>
#include <stddef.h>

struct phx_msg {
    json_t *join_ref;         /* borrowed; NULL == JSON null */
    json_t *ref;              /* borrowed; NULL == JSON null */
    const char *topic;        /* NUL-terminated */
    size_t topic_len;
    const char *event;        /* NUL-terminated */
    size_t event_len;
    json_t *json;             /* payload when JSON; borrowed */
    const unsigned char *bin; /* payload when binary (json == NULL); borrowed */
    size_t bin_len;
    /* private to the decoder */
    json_t *_root;
    char *_owned;
    json_t *_refs[2];
};

/* Release what a decoder stored in m and zero it. Safe on a zeroed message and twice. */
void phx_msg_cleanup(struct phx_msg *m);

/* Compare two ref values for equality; NULL and JSON null are equal. */
int phx_ref_equal(const json_t *a, const json_t *b);

#endif
