/* test_phx_error.c: tests protocol/phx_error.c, one distinct message per code. */
#include "phx_error.h"

#include <criterion/criterion.h>
#include <string.h>

Test(phx_error, every_code_has_its_own_text)
{
    const char *seen[8];

    for (int e = 0; e >= PHX_E_INVAL; e--) {
        const char *s = phx_strerror(e);
        cr_assert_not_null(s);
        cr_assert_neq(strcmp(s, "unknown error"), 0, "code %d", e);
        for (int j = 0; j < -e; j++)
            cr_assert_neq(strcmp(s, seen[j]), 0, "codes %d and %d share a text", e, -j);
        seen[-e] = s;
    }
    cr_assert_str_eq(phx_strerror(PHX_E_JSON), "frame is not valid JSON");
}

Test(phx_error, unknown_codes)
{
    cr_assert_str_eq(phx_strerror(1), "unknown error");
    cr_assert_str_eq(phx_strerror(PHX_E_INVAL - 1), "unknown error");
    cr_assert_str_eq(phx_strerror(-1000), "unknown error");
}
