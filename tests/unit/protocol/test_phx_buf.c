/* test_phx_buf.c: tests protocol/phx_buf.c (growth, headroom, reset, cleanup). */
#include "phx_buf.h"
#include "phx_error.h"
#include "phx_test.h"

#include <stdint.h>

Test(phx_buf, init_is_empty_and_unallocated)
{
    struct phx_buf b;

    phx_buf_init(&b, 16);
    cr_assert_null(b.mem);
    cr_assert_eq(b.headroom, 16);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    cr_assert_null(phx_buf_data(&b));
    phx_buf_cleanup(&b);
}

Test(phx_buf, append_copies_bytes)
{
    struct phx_buf b;
    char src[] = "[1]";

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_buf_append(&b, src, 3), 0);
    src[1] = '2'; /* the buffer holds a copy */
    assert_buf_str(&b, "[1]");
    cr_assert_eq(phx_buf_append_byte(&b, 'x'), 0);
    assert_buf_str(&b, "[1]x");
    phx_buf_cleanup(&b);
}

Test(phx_buf, append_nothing_allocates_nothing)
{
    struct phx_buf b;

    phx_buf_init(&b, 8);
    cr_assert_eq(phx_buf_append(&b, "", 0), 0);
    cr_assert_eq(phx_buf_append(&b, NULL, 0), 0);
    cr_assert_null(b.mem);
    cr_assert_eq(b.len, 0);
    phx_buf_cleanup(&b);
}

Test(phx_buf, append_null_bytes_is_an_error)
{
    struct phx_buf b;

    phx_buf_init(&b, 0);
    cr_assert_eq(phx_buf_append(&b, "ab", 2), 0);
    cr_assert_eq(phx_buf_append(&b, NULL, 3), PHX_E_INVAL);
    assert_buf_str(&b, "ab");
    phx_buf_cleanup(&b);
}

Test(phx_buf, data_sits_after_headroom)
{
    struct phx_buf b;

    phx_buf_init(&b, 16);
    cr_assert_eq(phx_buf_append(&b, "abc", 3), 0);
    cr_assert_not_null(b.mem);
    cr_assert_eq(phx_buf_data(&b), b.mem + 16);
    cr_assert_geq(b.cap, 3);
    phx_buf_cleanup(&b);
}

Test(phx_buf, growth_keeps_data_and_headroom)
{
    struct phx_buf b;
    size_t total = 0;

    phx_buf_init(&b, 16);
    cr_assert_eq(phx_buf_append_byte(&b, 0), 0);
    total = 1;
    /* what a transport writes into the headroom must survive every reallocation */
    memset(b.mem, 0xab, 16);
    for (int i = 1; i < 100000; i++) {
        cr_assert_eq(phx_buf_append_byte(&b, (unsigned char)(i * 7)), 0);
        total++;
        cr_assert_leq(b.len, b.cap);
    }
    cr_assert_eq(b.len, total);
    cr_assert_geq(b.cap, total);
    for (size_t i = 0; i < 16; i++)
        cr_assert_eq((unsigned char)b.mem[i], 0xab, "headroom byte %zu changed", i);
    for (size_t i = 0; i < total; i++)
        cr_assert_eq((unsigned char)phx_buf_data(&b)[i], (unsigned char)(i * 7), "byte %zu", i);
    phx_buf_cleanup(&b);
}

Test(phx_buf, one_large_append)
{
    struct phx_buf b;
    size_t n = 3u << 20;
    char *big = malloc(n);

    cr_assert_not_null(big);
    memset(big, 'z', n);
    phx_buf_init(&b, 4);
    cr_assert_eq(phx_buf_append(&b, "a", 1), 0);
    cr_assert_eq(phx_buf_append(&b, big, n), 0);
    cr_assert_eq(b.len, n + 1);
    cr_assert_eq(phx_buf_data(&b)[0], 'a');
    cr_assert_eq(memcmp(phx_buf_data(&b) + 1, big, n), 0);
    free(big);
    phx_buf_cleanup(&b);
}

Test(phx_buf, absurd_size_is_nomem_and_changes_nothing)
{
    struct phx_buf b;

    phx_buf_init(&b, 8);
    cr_assert_eq(phx_buf_append(&b, "abc", 3), 0);
    /* bytes is never read: the size overflows and is refused before any allocation */
    cr_assert_eq(phx_buf_append(&b, "x", SIZE_MAX - 1), PHX_E_NOMEM);
    cr_assert_eq(phx_buf_append(&b, "x", SIZE_MAX), PHX_E_NOMEM);
    assert_buf_str(&b, "abc");
    phx_buf_cleanup(&b);
}

Test(phx_buf, absurd_headroom_is_nomem)
{
    struct phx_buf b;

    phx_buf_init(&b, SIZE_MAX - 10);
    cr_assert_eq(phx_buf_append(&b, "abc", 3), PHX_E_NOMEM);
    cr_assert_null(b.mem);
    cr_assert_eq(b.len, 0);
    phx_buf_cleanup(&b);
}

Test(phx_buf, reset_keeps_memory)
{
    struct phx_buf b;
    char *mem;
    size_t cap;

    phx_buf_init(&b, 16);
    cr_assert_eq(phx_buf_append(&b, "hello", 5), 0);
    mem = b.mem;
    cap = b.cap;
    phx_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.mem, mem);
    cr_assert_eq(b.cap, cap);
    cr_assert_eq(b.headroom, 16);
    cr_assert_eq(phx_buf_append(&b, "hi", 2), 0);
    cr_assert_eq(b.mem, mem, "no reallocation after reset");
    assert_buf_str(&b, "hi");
    phx_buf_cleanup(&b);
}

Test(phx_buf, cleanup_twice_and_reinit)
{
    struct phx_buf b;

    phx_buf_init(&b, 4);
    cr_assert_eq(phx_buf_append(&b, "abc", 3), 0);
    phx_buf_cleanup(&b);
    cr_assert_null(b.mem);
    cr_assert_eq(b.len, 0);
    phx_buf_cleanup(&b);
    phx_buf_init(&b, 0);
    cr_assert_eq(phx_buf_append(&b, "d", 1), 0);
    assert_buf_str(&b, "d");
    phx_buf_cleanup(&b);
}
