/*
 * write_list.c: the connections to write at the end of the loop turn (see write_list.h).
 */
#include "write_list.h"

#include "conn.h"

#include <stdlib.h>

void write_list_init(struct write_list *l)
{
    l->v = NULL;
    l->head = l->n = l->cap = 0;
}

void write_list_cleanup(struct write_list *l)
{
    free(l->v);
    write_list_init(l);
}

int write_list_add(struct write_list *l, struct conn *c)
{
    if (c->write_listed)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct conn **v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = c;
    c->write_listed = true;
    return 0;
}

/* Linear, and only for a connection destroyed while listed: one that got a frame in the same turn it
 * closed. The list holds at most the connections that got frames this turn. */
void write_list_forget(struct write_list *l, struct conn *c)
{
    for (size_t i = l->head; i < l->n; i++) {
        if (l->v[i] == c) {
            l->v[i] = NULL;
            break;
        }
    }
    c->write_listed = false;
}

struct conn *write_list_next(struct write_list *l)
{
    while (l->head < l->n) {
        struct conn *c = l->v[l->head++];
        if (c) {
            c->write_listed = false;
            return c;
        }
    }
    l->head = l->n = 0;
    return NULL;
}
