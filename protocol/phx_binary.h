/*
 * phx_binary.h: V2 binary frames (PROTOCOL.md section 4). All length fields are one byte.
 *
 * Client -> server, the only kind a server decodes, kind 0 "push" with a 5-byte header:
 *   00 | len(join_ref) | len(ref) | len(topic) | len(event) | join_ref ref topic event payload...
 *   A zero-length join_ref or ref decodes as JSON null, otherwise as a JSON string.
 *
 * Server -> client encodings:
 *   PHX_BIN_PUSH      00 | len(join_ref) | len(topic) | len(event) | join_ref topic event payload
 *   PHX_BIN_REPLY     01 | len(join_ref) | len(ref) | len(topic) | len(status) | ... payload
 *                     (the status, e.g. "ok", travels in m->event)
 *   PHX_BIN_BROADCAST 02 | len(topic) | len(event) | topic event payload
 * join_ref/ref must be JSON strings or null (null is written as length 0); anything else PHX_E_TYPE.
 * Any string field over 255 bytes: PHX_E_TOOLONG. The payload is m->bin/m->bin_len.
 *
 * Example: client push of event "binary", bytes 01 02 03 on "room:a", jr "1", ref "2":
 *   00 01 01 06 06 31 32 72 6f 6f 6d 3a 61 62 69 6e 61 72 79 01 02 03
 */
#ifndef PHX_BINARY_H
#define PHX_BINARY_H

#include "phx_buf.h"
#include "phx_msg.h"

#define PHX_BIN_FIELD_MAX 255

enum phx_bin_kind {
    PHX_BIN_PUSH = 0,
    PHX_BIN_REPLY = 1,
    PHX_BIN_BROADCAST = 2,
};

/* out: zeroed by the callee, then owns copies of every field (the input may be freed after return);
 * release with phx_msg_cleanup. */
int phx_decode_binary(const unsigned char *data, size_t len, struct phx_msg *out);

/* m: borrowed. out: appended to (nothing on error). */
int phx_encode_binary(enum phx_bin_kind kind, const struct phx_msg *m, struct phx_buf *out);

#endif
