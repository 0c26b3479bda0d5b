/*
 * phx_buf.h: a growable byte buffer with reserved headroom.
 *
 * Encoders append after `headroom` bytes that stay unused at the front, so a transport can prepend its
 * own header in place (libwebsockets needs LWS_PRE bytes before what it writes). The buffer owns its
 * memory; reset keeps the capacity so one scratch buffer can serve many encodes without malloc.
 *
 *     struct phx_buf b;
 *     phx_buf_init(&b, 16);
 *     phx_buf_append(&b, "[1]", 3);      // phx_buf_data(&b) == "[1]", b.len == 3
 *     phx_buf_cleanup(&b);
 */
#ifndef PHX_BUF_H
#define PHX_BUF_H

#include <stddef.h>

struct phx_buf {
    char *mem;       /* owned; headroom + cap bytes, NULL until the first append */
    size_t headroom; /* bytes reserved before the data */
    size_t len;      /* bytes of data */
    size_t cap;      /* bytes of data that fit without growing */
};

void phx_buf_init(struct phx_buf *b, size_t headroom);
/* Forget the data, keep the memory. */
void phx_buf_reset(struct phx_buf *b);
/* Free the memory; the buffer may be initialised again. */
void phx_buf_cleanup(struct phx_buf *b);
/* Append n bytes (copied). Returns 0 or PHX_E_NOMEM (the buffer is unchanged then). */
int phx_buf_append(struct phx_buf *b, const void *bytes, size_t n);
int phx_buf_append_byte(struct phx_buf *b, unsigned char byte);
/* Make room for n more bytes of data without appending them: after 0, b->cap - b->len >= n. Returns 0
 * or PHX_E_NOMEM (the buffer is unchanged then). */
int phx_buf_reserve(struct phx_buf *b, size_t n);
/* Pointer to the data (after the headroom); valid until the next append or cleanup. NULL when empty
 * and never grown. */
static inline char *phx_buf_data(const struct phx_buf *b)
{
    return b->mem ? b->mem + b->headroom : NULL;
}

#endif
