/*
 * query.h: the connect parameters of a socket: URL query pairs, already percent-decoded.
 *
 * Handed to the app's connect callback as Phoenix hands params to connect/3. A key given twice keeps
 * both pairs; query_get answers the last one, as Phoenix's query parser does.
 *
 *     struct query q;
 *     query_init(&q);
 *     query_add(&q, "token=alice");     // one "key=value" fragment; "flag" alone is key "flag", value ""
 *     query_get(&q, "token");           // "alice"
 *     query_cleanup(&q);
 */
#ifndef CINDER_QUERY_H
#define CINDER_QUERY_H

#include <stddef.h>

#define QUERY_MAX_PAIRS 32

struct query_pair {
    char *key; /* owned, NUL-terminated; the value follows in the same allocation */
    char *value;
};

struct query {
    size_t n;
    struct query_pair pairs[QUERY_MAX_PAIRS];
};

void query_init(struct query *q);
/* Add one decoded "key=value" fragment (copied). 0, or -1 when out of memory or over QUERY_MAX_PAIRS. */
int query_add(struct query *q, const char *fragment);
/* Value of the last pair named key (borrowed), or NULL. */
const char *query_get(const struct query *q, const char *key);
void query_cleanup(struct query *q);

#endif
