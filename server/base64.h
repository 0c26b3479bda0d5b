/*
 * base64.h: strict base64 (RFC 4648) in both alphabets, for the long-poll transport: session tokens
 * are base64url without padding, binary frames in an ndjson POST are standard base64 with padding
 * (phoenix.js uses btoa).
 *
 * The decoder is strict where lenient decoders are not: no whitespace, no characters of the other
 * alphabet, padding only where the variant has it and only at the end, and the unused low bits of the
 * last character must be zero (so every byte string has exactly one accepted encoding).
 *
 *     char out[BASE64_ENCODED_LEN(3, false) + 1];
 *     base64_encode("\x01\x02\x03", 3, BASE64_URL, out);          // "AQID"
 *     unsigned char bin[BASE64_DECODED_MAX(4)];
 *     size_t n;
 *     base64_decode("AQID", 4, BASE64_STD, bin, &n);              // 0, n == 3
 */
#ifndef CINDER_BASE64_H
#define CINDER_BASE64_H

#include <stdbool.h>
#include <stddef.h>

enum base64_alphabet {
    BASE64_STD, /* A-Z a-z 0-9 + /, padded with '=' to a multiple of 4 */
    BASE64_URL, /* A-Z a-z 0-9 - _, no padding */
};

/* Characters the encoding of n bytes takes (without the NUL). */
#define BASE64_ENCODED_LEN(n, padded) ((padded) ? ((n) + 2) / 3 * 4 : ((n)*4 + 2) / 3)
/* Bytes that decoding len characters can produce at most. */
#define BASE64_DECODED_MAX(len) (((len) + 3) / 4 * 3)

/* Encode n bytes of in (borrowed) into out, which must hold BASE64_ENCODED_LEN(n, a == BASE64_STD) + 1
 * bytes; NUL-terminated. Returns the length written (without the NUL). */
size_t base64_encode(const void *in, size_t n, enum base64_alphabet a, char *out);

/* Decode len characters of in (borrowed, need not be NUL-terminated) into out, which must hold
 * BASE64_DECODED_MAX(len) bytes. 0 with *outlen set, or -1 when in is not a canonical encoding in
 * alphabet a (out is then unspecified). The empty string decodes to zero bytes. */
int base64_decode(const char *in, size_t len, enum base64_alphabet a, unsigned char *out, size_t *outlen);

#endif
