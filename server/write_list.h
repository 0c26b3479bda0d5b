/*
 * write_list.h: the connections whose write queue got frames during this turn of the event loop.
 *
 * A transport that writes at the end of the turn (ws.c) lists a connection when its queue goes from
 * empty to non-empty, and takes them back in order once the turn's events are handled: one broadcast
 * to N subscribers then costs N writes, without N requests for POLLOUT and another turn of the loop
 * to learn what is already known (a socket whose queue was empty can take a small frame).
 *
 *     write_list_add(&s->writes, c);          // c->write_listed is now true
 *     while ((c = write_list_next(&s->writes)))
 *         write_what_is_queued(c);
 *
 * A listed connection destroyed before it is taken is forgotten (conn_destroy). One list per event
 * loop; not thread-safe.
 */
#ifndef CINDER_WRITE_LIST_H
#define CINDER_WRITE_LIST_H

#include <stddef.h>

struct conn;

struct write_list {
    struct conn **v; /* owned array of borrowed connections; forgotten ones are NULL */
    size_t head;     /* the next to take */
    size_t n, cap;
};

void write_list_init(struct write_list *l);
void write_list_cleanup(struct write_list *l);
/* List c (and set c->write_listed) unless it is listed already. 0, or -1 when out of memory (then c
 * is not listed). */
int write_list_add(struct write_list *l, struct conn *c);
/* c is going away: clear its slot. */
void write_list_forget(struct write_list *l, struct conn *c);
/* The first listed connection, unlisted (write_listed cleared: frames queued from now on list it
 * again), or NULL when none is left. */
struct conn *write_list_next(struct write_list *l);

#endif
