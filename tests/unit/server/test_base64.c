/* Tests server/base64.c: RFC 4648 vectors in both alphabets, and what the strict decoder refuses. */
#include "base64.h"

#include <criterion/criterion.h>
#include <string.h>

static void roundtrip(const char *bin, size_t n, enum base64_alphabet a, const char *text)
{
    char out[64];
    cr_assert_eq(base64_encode(bin, n, a, out), strlen(text));
    cr_assert_str_eq(out, text);
    unsigned char back[64];
    size_t m = 99;
    cr_assert_eq(base64_decode(text, strlen(text), a, back, &m), 0, "%s", text);
    cr_assert_eq(m, n);
    cr_assert_eq(memcmp(back, bin, n), 0);
}

Test(base64, rfc4648_vectors_std_padded)
{
    roundtrip("", 0, BASE64_STD, "");
    roundtrip("f", 1, BASE64_STD, "Zg==");
    roundtrip("fo", 2, BASE64_STD, "Zm8=");
    roundtrip("foo", 3, BASE64_STD, "Zm9v");
    roundtrip("foob", 4, BASE64_STD, "Zm9vYg==");
    roundtrip("fooba", 5, BASE64_STD, "Zm9vYmE=");
    roundtrip("foobar", 6, BASE64_STD, "Zm9vYmFy");
    roundtrip("\xfb\xff\xfe", 3, BASE64_STD, "+//+");
}

Test(base64, url_alphabet_unpadded)
{
    roundtrip("f", 1, BASE64_URL, "Zg");
    roundtrip("fo", 2, BASE64_URL, "Zm8");
    roundtrip("foo", 3, BASE64_URL, "Zm9v");
    roundtrip("\xfb\xff\xfe", 3, BASE64_URL, "-__-");
    cr_assert_eq(BASE64_ENCODED_LEN(17, false), 23);
    cr_assert_eq(BASE64_ENCODED_LEN(32, false), 43);
    cr_assert_eq(BASE64_ENCODED_LEN(4, true), 8);
}

Test(base64, a_binary_phoenix_frame)
{
    /* btoa() of the client push in PROTOCOL.md section 4. */
    static const unsigned char frame[] = {0x00, 0x01, 0x01, 0x06, 0x06, '1', '2', 'r', 'o', 'o', 'm',
                                          ':',  'a',  'b',  'i',  'n',  'a', 'r', 'y', 1,   2,   3};
    char text[64];
    base64_encode(frame, sizeof(frame), BASE64_STD, text);
    cr_assert_str_eq(text, "AAEBBgYxMnJvb206YWJpbmFyeQECAw==");
}

Test(base64, strict_decoder_refuses)
{
    static const struct {
        const char *text;
        enum base64_alphabet a;
    } bad[] = {
        {"Zg", BASE64_STD},       /* padding missing */
        {"Zg=", BASE64_STD},      /* length not a multiple of 4 */
        {"Zg==", BASE64_URL},     /* padding in base64url */
        {"Z===", BASE64_STD},     /* three pad characters */
        {"Z=g=", BASE64_STD},     /* padding inside */
        {"====", BASE64_STD},     /* padding only */
        {"Zh==", BASE64_STD},     /* non-zero unused bits: not canonical */
        {"Zm9=", BASE64_STD},     /* same, two bytes */
        {"Zm9v\n", BASE64_STD},   /* whitespace */
        {" Zm9v", BASE64_STD},    /* whitespace */
        {"+//+", BASE64_URL},     /* the other alphabet */
        {"-__-", BASE64_STD},     /* the other alphabet */
        {"Z", BASE64_URL},        /* a lone character is no byte */
        {"Zm9vY", BASE64_URL},    /* same after a group */
        {"Zm9v\0Zm9", BASE64_STD} /* NUL inside */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char out[16];
        size_t n;
        size_t len = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 8 : strlen(bad[i].text);
        cr_assert_eq(base64_decode(bad[i].text, len, bad[i].a, out, &n), -1, "accepted %zu: '%s'", i,
                     bad[i].text);
    }
}

Test(base64, every_byte_value_roundtrips)
{
    unsigned char all[256], back[BASE64_DECODED_MAX(BASE64_ENCODED_LEN(256, true))];
    char text[BASE64_ENCODED_LEN(256, true) + 1];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (int a = BASE64_STD; a <= BASE64_URL; a++) {
        for (size_t n = 0; n <= 256; n += 37) {
            size_t len = base64_encode(all + 256 - n, n, a, text);
            cr_assert_eq(len, BASE64_ENCODED_LEN(n, a == BASE64_STD));
            size_t m;
            cr_assert_eq(base64_decode(text, len, a, back, &m), 0);
            cr_assert_eq(m, n);
            cr_assert_eq(memcmp(back, all + 256 - n, n), 0);
        }
    }
}
