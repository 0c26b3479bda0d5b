/*
 * query.c: decoded query pairs (see query.h).
 */
#include "query.h"

#include <stdlib.h>
#include <string.h>

void query_init(struct query *q)
{
    q->n = 0;
}

int query_add(struct query *q, const char *fragment)
{
    if (q->n >= QUERY_MAX_PAIRS)
        return -1;
    size_t len = strlen(fragment);
    char *key = malloc(len + 2);
    if (!key)
        return -1;
    memcpy(key, fragment, len + 1);
    char *eq = strchr(key, '=');
    char *value;
    if (eq) {
        *eq = '\0';
        value = eq + 1;
    } else {
        value = key + len + 1;
        *value = '\0';
    }
    q->pairs[q->n].key = key;
    q->pairs[q->n].value = value;
    q->n++;
    return 0;
}

const char *query_get(const struct query *q, const char *key)
{
    for (size_t i = q->n; i-- > 0;)
        if (strcmp(q->pairs[i].key, key) == 0)
            return q->pairs[i].value;
    return NULL;
}

void query_cleanup(struct query *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->pairs[i].key);
    q->n = 0;
}
