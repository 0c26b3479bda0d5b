/* test_phx_msg.c: tests protocol/phx_msg.c (phx_msg_cleanup, phx_ref_equal). */
#include "phx_msg.h"

#include <criterion/criterion.h>
#include <string.h>

Test(phx_msg, cleanup_of_zeroed_and_twice)
{
    struct phx_msg m;

    memset(&m, 0, sizeof m);
    phx_msg_cleanup(&m);
    phx_msg_cleanup(&m);
    phx_msg_cleanup(NULL);
    cr_assert_null(m._root);
}

Test(phx_msg, cleanup_releases_and_zeroes)
{
    struct phx_msg m;

    memset(&m, 0, sizeof m);
    m._root = json_pack("[s]", "x");
    m._refs[0] = json_string("1");
    m._refs[1] = json_string("2");
    m._owned = malloc(8);
    m.topic = "t";
    cr_assert(m._root && m._refs[0] && m._refs[1] && m._owned);
    phx_msg_cleanup(&m); /* a leak here fails under ASan/valgrind */
    cr_assert_null(m._root);
    cr_assert_null(m._owned);
    cr_assert_null(m._refs[0]);
    cr_assert_null(m.topic);
}

Test(phx_msg, ref_equal)
{
    json_t *null = json_null(), *s1 = json_string("1"), *s1b = json_string("1"), *s2 = json_string("2"),
           *i1 = json_integer(1), *o1 = json_pack("{s:i}", "a", 1), *o2 = json_pack("{s:i}", "a", 1);

    cr_assert_eq(phx_ref_equal(NULL, NULL), 1);
    cr_assert_eq(phx_ref_equal(NULL, null), 1);
    cr_assert_eq(phx_ref_equal(null, NULL), 1);
    cr_assert_eq(phx_ref_equal(s1, s1b), 1);
    cr_assert_eq(phx_ref_equal(o1, o2), 1);
    cr_assert_eq(phx_ref_equal(s1, s2), 0);
    cr_assert_eq(phx_ref_equal(s1, i1), 0, "\"1\" and 1 are different refs");
    cr_assert_eq(phx_ref_equal(s1, NULL), 0);
    cr_assert_eq(phx_ref_equal(NULL, s1), 0);
    cr_assert_eq(phx_ref_equal(null, s1), 0);
    json_decref(s1);
    json_decref(s1b);
    json_decref(s2);
    json_decref(i1);
    json_decref(o1);
    json_decref(o2);
}
