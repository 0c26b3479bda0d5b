/*
 * phx_msg.c: releasing decoded messages and comparing refs.
 *
 * A decoder stores at most: the parsed JSON document (_root, text frames), one block holding copies of
 * the strings and payload (_owned, binary frames) and the two refs it created (_refs, binary frames).
 * Every other pointer in the message points into one of those.
 */
#include "phx_msg.h"

#include <stdlib.h>
#include <string.h>

void phx_msg_cleanup(struct phx_msg *m)
{
    if (!m)
        return;
    json_decref(m->_root);
    json_decref(m->_refs[0]);
    json_decref(m->_refs[1]);
    free(m->_owned);
    memset(m, 0, sizeof *m);
}

int phx_ref_equal(const json_t *a, const json_t *b)
{
    int a_null = !a || json_is_null(a), b_null = !b || json_is_null(b);

    if (a_null || b_null)
        return a_null && b_null;
    return json_equal(a, b);
}
