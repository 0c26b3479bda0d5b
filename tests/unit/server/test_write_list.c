/* Tests server/write_list.c: connections listed once each and taken in order, a connection
 * destroyed while listed forgotten (conn_destroy), listing again after being taken, growth. */
#include "harness.h"
#include "write_list.h"

Test(write_list, listed_once_taken_in_order)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a = mk_conn(s, PHX_V2, "a"), *b = mk_conn(s, PHX_V2, "b");
    cr_assert_eq(write_list_add(&s->writes, a), 0);
    cr_assert_eq(write_list_add(&s->writes, b), 0);
    cr_assert_eq(write_list_add(&s->writes, a), 0); /* already listed: not twice */
    cr_assert(a->write_listed && b->write_listed);
    cr_assert_eq(write_list_next(&s->writes), a);
    cr_assert_not(a->write_listed, "taken: listed again by its next frame");
    cr_assert_eq(write_list_add(&s->writes, a), 0); /* while b is still waiting */
    cr_assert_eq(write_list_next(&s->writes), b);
    cr_assert_eq(write_list_next(&s->writes), a);
    cr_assert_null(write_list_next(&s->writes));
    cr_assert_eq(s->writes.n, 0, "an emptied list starts again at its front");
    end_conn(&a);
    end_conn(&b);
    end_server(&s);
}

Test(write_list, destroyed_while_listed_is_forgotten)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a = mk_conn(s, PHX_V2, "a"), *b = mk_conn(s, PHX_V2, "b"), *c = mk_conn(s, PHX_V2, "c");
    write_list_add(&s->writes, a);
    write_list_add(&s->writes, b);
    write_list_add(&s->writes, c);
    end_conn(&b); /* conn_destroy forgets it; ASan would catch a later use */
    cr_assert_eq(write_list_next(&s->writes), a);
    cr_assert_eq(write_list_next(&s->writes), c);
    cr_assert_null(write_list_next(&s->writes));
    end_conn(&a);
    end_conn(&c);
    end_server(&s);
}

Test(write_list, grows_past_its_first_array)
{
    struct server *s = mk_server(NULL, NULL);
    enum { N = 300 };
    struct conn *c[N];
    char name[16];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "u%d", i);
        c[i] = mk_conn(s, PHX_V2, name);
        cr_assert_eq(write_list_add(&s->writes, c[i]), 0);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(write_list_next(&s->writes), c[i]);
    cr_assert_null(write_list_next(&s->writes));
    for (int i = 0; i < N; i++)
        end_conn(&c[i]);
    end_server(&s);
}
