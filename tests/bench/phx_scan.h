/*
 * phx_scan.h: reads the header of a V2 JSON frame from the server without building a JSON tree, so a
 * load generator can take 200k deliveries a second on part of a core.
 *
 * A frame is [join_ref, ref, topic, event, payload]; the first four are strings or null. Strings are
 * returned raw (between the quotes, escapes left as they are): refs, topics and events in the
 * benchmarks never need unescaping.
 *
 *   struct phx_frame f;
 *   if (phx_scan(text, len, &f) == 0 && phx_str_is(&f.event, "phx_reply")) ...
 */
#ifndef CINDER_BENCH_PHX_SCAN_H
#define CINDER_BENCH_PHX_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct phx_str {
    const char *p; /* NULL for a JSON null */
    size_t len;
};

struct phx_frame {
    struct phx_str join_ref, ref, topic, event;
    const char *payload; /* the fifth element's text, borrowed from the frame */
    size_t payload_len;
};

/* 0, or -1 when text[0..len) is not a five-element array with string-or-null heads. */
int phx_scan(const char *text, size_t len, struct phx_frame *f);

/* Whether s is the string lit (false for null). */
bool phx_str_is(const struct phx_str *s, const char *lit);

/* Whether s starts with prefix (false for null). */
bool phx_str_starts(const struct phx_str *s, const char *prefix);

/* The unsigned integer after "key": in the payload (the first occurrence). 0 or -1 when absent. */
int phx_payload_u64(const char *payload, size_t len, const char *key, uint64_t *out);

/* Whether a phx_reply payload has "status":"ok". */
bool phx_reply_ok(const char *payload, size_t len);

#endif
