/* test_phx_vsn.c: tests protocol/phx_vsn.c, the vsn query parameter table. */
#include "phx_vsn.h"

#include <criterion/criterion.h>

static const struct {
    const char *vsn;
    enum phx_vsn want;
} cases[] = {
    {NULL, PHX_V1},
    {"1.0.0", PHX_V1},
    {"1.0.1", PHX_V1},
    {"1.0.99", PHX_V1},
    {"2.0.0", PHX_V2},
    {"2.0.7", PHX_V2},
    {"2.0.10", PHX_V2},
    {"2.0.123456789012345678901234567890", PHX_V2},
    {"", PHX_VSN_INVALID},
    {"2", PHX_VSN_INVALID},
    {"2.0", PHX_VSN_INVALID},
    {"2.0.", PHX_VSN_INVALID},
    {"2..0", PHX_VSN_INVALID},
    {".2.0.0", PHX_VSN_INVALID},
    {"2.0.0.", PHX_VSN_INVALID},
    {"2.0.0.0", PHX_VSN_INVALID},
    {"2.1.0", PHX_VSN_INVALID},
    {"1.1.0", PHX_VSN_INVALID},
    {"3.0.0", PHX_VSN_INVALID},
    {"0.0.0", PHX_VSN_INVALID},
    {"10.0.0", PHX_VSN_INVALID},
    {"02.0.0", PHX_VSN_INVALID},
    {"2.00.0", PHX_VSN_INVALID},
    {"2.0.00", PHX_VSN_INVALID},
    {"2.0.01", PHX_VSN_INVALID},
    {"2.0.0-rc.1", PHX_VSN_INVALID},
    {"2.0.0+build", PHX_VSN_INVALID},
    {"2.0.0 ", PHX_VSN_INVALID},
    {" 2.0.0", PHX_VSN_INVALID},
    {"v2.0.0", PHX_VSN_INVALID},
    {"2.0.x", PHX_VSN_INVALID},
    {"-2.0.0", PHX_VSN_INVALID},
    {"abc", PHX_VSN_INVALID},
};

Test(phx_vsn, table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(phx_vsn_parse(cases[i].vsn), cases[i].want, "vsn \"%s\": got %d, want %d",
                     cases[i].vsn ? cases[i].vsn : "(null)", phx_vsn_parse(cases[i].vsn), cases[i].want);
}

Test(phx_vsn, invalid_is_zero)
{
    /* callers may treat the result as a boolean */
    cr_assert_eq(PHX_VSN_INVALID, 0);
}
