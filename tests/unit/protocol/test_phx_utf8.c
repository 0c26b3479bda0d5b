/* test_phx_utf8.c: tests protocol/phx_utf8.c, the codec's private UTF-8 checker. */
#include "phx_internal.h"

#include <criterion/criterion.h>

#define U(s) (const unsigned char *)(s), sizeof(s) - 1

Test(phx_utf8, well_formed)
{
    cr_expect_eq(phx_utf8_valid(U("")), 1);
    cr_expect_eq(phx_utf8_valid(U("plain ascii")), 1);
    cr_expect_eq(phx_utf8_valid(U("nul\0inside")), 1);
    cr_expect_eq(phx_utf8_valid(U("\xc2\x80")), 1);         /* U+0080 */
    cr_expect_eq(phx_utf8_valid(U("\xdf\xbf")), 1);         /* U+07FF */
    cr_expect_eq(phx_utf8_valid(U("\xe0\xa0\x80")), 1);     /* U+0800 */
    cr_expect_eq(phx_utf8_valid(U("\xed\x9f\xbf")), 1);     /* U+D7FF */
    cr_expect_eq(phx_utf8_valid(U("\xee\x80\x80")), 1);     /* U+E000 */
    cr_expect_eq(phx_utf8_valid(U("\xef\xbf\xbf")), 1);     /* U+FFFF */
    cr_expect_eq(phx_utf8_valid(U("\xf0\x90\x80\x80")), 1); /* U+10000 */
    cr_expect_eq(phx_utf8_valid(U("\xf4\x8f\xbf\xbf")), 1); /* U+10FFFF */
}

Test(phx_utf8, ill_formed)
{
    cr_expect_eq(phx_utf8_valid(U("\x80")), 0);             /* lone continuation */
    cr_expect_eq(phx_utf8_valid(U("\xc0\x80")), 0);         /* overlong NUL */
    cr_expect_eq(phx_utf8_valid(U("\xc1\xbf")), 0);         /* overlong */
    cr_expect_eq(phx_utf8_valid(U("\xe0\x9f\xbf")), 0);     /* overlong 3-byte */
    cr_expect_eq(phx_utf8_valid(U("\xf0\x8f\xbf\xbf")), 0); /* overlong 4-byte */
    cr_expect_eq(phx_utf8_valid(U("\xed\xa0\x80")), 0);     /* surrogate U+D800 */
    cr_expect_eq(phx_utf8_valid(U("\xed\xbf\xbf")), 0);     /* surrogate U+DFFF */
    cr_expect_eq(phx_utf8_valid(U("\xf4\x90\x80\x80")), 0); /* U+110000 */
    cr_expect_eq(phx_utf8_valid(U("\xf5\x80\x80\x80")), 0);
    cr_expect_eq(phx_utf8_valid(U("\xff")), 0);
    cr_expect_eq(phx_utf8_valid(U("\xc3")), 0); /* truncated at the end */
    cr_expect_eq(phx_utf8_valid(U("\xe2\x82")), 0);
    cr_expect_eq(phx_utf8_valid(U("\xf0\x9f\x98")), 0);
    cr_expect_eq(phx_utf8_valid(U("\xc3(")), 0); /* bad continuation */
}
