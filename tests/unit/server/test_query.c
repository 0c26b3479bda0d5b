/* Tests server/query.c. */
#include "query.h"

#include <criterion/criterion.h>

Test(query, pairs_last_wins_and_bare_keys)
{
    struct query q;
    query_init(&q);
    cr_assert_eq(query_add(&q, "token=alice"), 0);
    cr_assert_eq(query_add(&q, "vsn=2.0.0"), 0);
    cr_assert_eq(query_add(&q, "flag"), 0);
    cr_assert_eq(query_add(&q, "token=bob=x"), 0);
    cr_assert_str_eq(query_get(&q, "token"), "bob=x");
    cr_assert_str_eq(query_get(&q, "vsn"), "2.0.0");
    cr_assert_str_eq(query_get(&q, "flag"), "");
    cr_assert_null(query_get(&q, "nope"));
    query_cleanup(&q);
    cr_assert_eq(q.n, 0);
}

Test(query, bounded)
{
    struct query q;
    query_init(&q);
    for (int i = 0; i < QUERY_MAX_PAIRS; i++)
        cr_assert_eq(query_add(&q, "a=b"), 0);
    cr_assert_eq(query_add(&q, "a=b"), -1);
    query_cleanup(&q);
}
