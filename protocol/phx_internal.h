/*
 * phx_internal.h: helpers shared by the codec's .c files. Not part of the API; do not include it from
 * outside protocol/.
 */
#ifndef PHX_INTERNAL_H
#define PHX_INTERNAL_H

#include <stddef.h>
#include <string.h>

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF), else 0. NUL bytes are
 * well-formed. Same rules as Jansson, so what it accepts we can re-encode. */
int phx_utf8_valid(const unsigned char *s, size_t n);

/* The length of a message's topic/event for an encoder: callers that fill a phx_msg by hand may leave
 * topic_len/event_len at 0 and let the NUL terminator decide. */
static inline size_t phx_field_len(const char *s, size_t n)
{
    return (n == 0 && s) ? strlen(s) : n;
}

#endif
