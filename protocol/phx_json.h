/*
 * phx_json.h: text frames, V1 (JSON objects) and V2 (JSON arrays).
 *
 * Decoding (server side, frames a client sent):
 *   V2: a JSON array of at least 5 elements [join_ref, ref, topic, event, payload]; extra trailing
 *       elements are ignored. topic and event must be strings; join_ref, ref and payload may be any
 *       JSON value.
 *   V1: a JSON object with keys topic, event, payload, ref (all required) and optional join_ref.
 *   Anything else returns PHX_E_JSON / PHX_E_SHAPE / PHX_E_TYPE and leaves *out zeroed.
 *
 * Encoding appends one compact frame to out (nothing is appended on error):
 *   V2: [join_ref,ref,"topic","event",payload]
 *   V1: {"topic":..,"event":..,"payload":..,"ref":..}  (never a join_ref key)
 * A binary message (json == NULL) cannot be a text frame: PHX_E_INVAL.
 */
#ifndef PHX_JSON_H
#define PHX_JSON_H

#include "phx_buf.h"
#include "phx_msg.h"
#include "phx_vsn.h"

/* json_loadb, except that a text with an integer too big for 64 bits is read again with integers as
 * doubles instead of being refused (Phoenix accepts such numbers). New reference, or NULL with err. */
json_t *phx_json_load(const char *data, size_t len, size_t flags, json_error_t *err);

/* json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)'s exact bytes appended to out (no NUL), without its
 * per-call allocations: for JSON carried between servers (cluster envelopes). v borrowed. 0, or
 * PHX_E_INVAL (v NULL, a cycle, a string that is not UTF-8) / PHX_E_NOMEM with nothing appended. */
int phx_json_dump(const json_t *v, struct phx_buf *out);

/* out: zeroed by the callee, then owns its storage (see phx_msg.h); release with phx_msg_cleanup. */
int phx_decode_text(enum phx_vsn vsn, const char *data, size_t len, struct phx_msg *out);

/* m: borrowed. out: appended to. */
int phx_encode_text(enum phx_vsn vsn, const struct phx_msg *m, struct phx_buf *out);

/* A reply {"status":status,"response":response} as payload of event "phx_reply"; response NULL means
 * {}. All arguments borrowed. */
int phx_encode_reply(enum phx_vsn vsn, const json_t *join_ref, const json_t *ref, const char *topic,
                     const char *status, const json_t *response, struct phx_buf *out);

#endif
