/*
 * phx_test.h: assertions shared by the protocol unit tests: exact bytes of a phx_buf, shown as text or
 * hex when they differ.
 */
#ifndef PHX_TEST_H
#define PHX_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "phx_buf.h"

/* Hex of up to 200 bytes, for failure messages. */
static inline const char *phx_test_hex(const void *p, size_t n)
{
    static char out[3 * 200 + 4];
    const unsigned char *b = p;
    size_t i, o = 0;

    for (i = 0; i < n && i < 200; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%02x ", b ? b[i] : 0);
    snprintf(out + o, sizeof out - o, "%s", i < n ? "..." : "");
    return out;
}

/* The buffer holds exactly the text s. */
#define assert_buf_str(b, s)                                                                                 \
    do {                                                                                                     \
        const char *exp_ = (s);                                                                              \
        size_t exp_len_ = strlen(exp_);                                                                      \
        cr_assert_eq((b)->len, exp_len_, "length %zu, want %zu\n got: %.*s\nwant: %s", (b)->len, exp_len_,   \
                     (int)(b)->len, phx_buf_data(b) ? phx_buf_data(b) : "", exp_);                           \
        cr_assert(exp_len_ == 0 || memcmp(phx_buf_data(b), exp_, exp_len_) == 0, "\n got: %.*s\nwant: %s",   \
                  (int)(b)->len, phx_buf_data(b), exp_);                                                     \
    } while (0)

/* The buffer holds exactly the bytes exp[0..n). */
#define assert_buf_bytes(b, exp, n)                                                                          \
    do {                                                                                                     \
        size_t n_ = (n);                                                                                     \
        cr_assert_eq((b)->len, n_, "length %zu, want %zu; got %s", (b)->len, n_,                             \
                     phx_test_hex(phx_buf_data(b), (b)->len));                                               \
        cr_assert(n_ == 0 || memcmp(phx_buf_data(b), (exp), n_) == 0, "got %s",                              \
                  phx_test_hex(phx_buf_data(b), (b)->len));                                                  \
    } while (0)

#endif
