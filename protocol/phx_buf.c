/*
 * phx_buf.c: the growable output buffer every encoder appends to.
 *
 * Invariants: mem is NULL or holds headroom + cap bytes; len <= cap. The headroom bytes are never
 * written here, so a transport may fill them after encoding (LWS_PRE). A failed append changes nothing.
 */
#include "phx_buf.h"

#include "phx_error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PHX_BUF_MIN_CAP 256

void phx_buf_init(struct phx_buf *b, size_t headroom)
{
    b->mem = NULL;
    b->headroom = headroom;
    b->len = 0;
    b->cap = 0;
}

void phx_buf_reset(struct phx_buf *b)
{
    b->len = 0;
}

void phx_buf_cleanup(struct phx_buf *b)
{
    free(b->mem);
    b->mem = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Make room for n more bytes of data; doubles so that a frame built piece by piece stays linear. */
static int buf_grow(struct phx_buf *b, size_t n)
{
    size_t need, cap;
    char *mem;

    if (n > SIZE_MAX - b->len)
        return PHX_E_NOMEM;
    need = b->len + n;
    if (need <= b->cap && b->mem)
        return 0;
    cap = b->cap < PHX_BUF_MIN_CAP ? PHX_BUF_MIN_CAP : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX - b->headroom)
        return PHX_E_NOMEM;
    mem = realloc(b->mem, b->headroom + cap);
    if (!mem)
        return PHX_E_NOMEM;
    b->mem = mem;
    b->cap = cap;
    return 0;
}

int phx_buf_reserve(struct phx_buf *b, size_t n)
{
    return buf_grow(b, n);
}

int phx_buf_append(struct phx_buf *b, const void *bytes, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    if (!bytes)
        return PHX_E_INVAL;
    rc = buf_grow(b, n);
    if (rc)
        return rc;
    memcpy(b->mem + b->headroom + b->len, bytes, n);
    b->len += n;
    return 0;
}

int phx_buf_append_byte(struct phx_buf *b, unsigned char byte)
{
    return phx_buf_append(b, &byte, 1);
}
