/*
 * base64.c: strict base64 and base64url (see base64.h).
 */
#include "base64.h"

#include <stdint.h>

static const char std_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t base64_encode(const void *in, size_t n, enum base64_alphabet a, char *out)
{
    const unsigned char *p = in;
    const char *chars = a == BASE64_URL ? url_chars : std_chars;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = chars[v >> 18 & 63];
        *o++ = chars[v >> 12 & 63];
        *o++ = chars[v >> 6 & 63];
        *o++ = chars[v & 63];
    }
    size_t rest = n - i;
    if (rest) {
        uint32_t v = (uint32_t)p[i] << 16 | (rest == 2 ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = chars[v >> 18 & 63];
        *o++ = chars[v >> 12 & 63];
        if (rest == 2)
            *o++ = chars[v >> 6 & 63];
        if (a == BASE64_STD) {
            if (rest == 1)
                *o++ = '=';
            *o++ = '=';
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* The 6-bit value of c in alphabet a, or -1. */
static int sextet(unsigned char c, enum base64_alphabet a)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (a == BASE64_STD)
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int base64_decode(const char *in, size_t len, enum base64_alphabet a, unsigned char *out, size_t *outlen)
{
    if (a == BASE64_STD) {
        if (len % 4)
            return -1;
        /* Up to two '=' at the very end: they stand for the characters the last group lacks. */
        if (len && in[len - 1] == '=')
            len -= in[len - 2] == '=' ? 2 : 1;
    } else if (len % 4 == 1) {
        return -1;
    }
    size_t o = 0, i = 0;
    for (; i + 4 <= len; i += 4) {
        int s0 = sextet((unsigned char)in[i], a), s1 = sextet((unsigned char)in[i + 1], a);
        int s2 = sextet((unsigned char)in[i + 2], a), s3 = sextet((unsigned char)in[i + 3], a);
        if ((s0 | s1 | s2 | s3) < 0)
            return -1;
        uint32_t v = (uint32_t)s0 << 18 | (uint32_t)s1 << 12 | (uint32_t)s2 << 6 | (uint32_t)s3;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    size_t rest = len - i; /* 0, 2 or 3 (1 was refused above, or is a lone char before "==") */
    if (rest == 1)
        return -1;
    if (rest) {
        int s0 = sextet((unsigned char)in[i], a), s1 = sextet((unsigned char)in[i + 1], a);
        int s2 = rest == 3 ? sextet((unsigned char)in[i + 2], a) : 0;
        if ((s0 | s1 | s2) < 0)
            return -1;
        uint32_t v = (uint32_t)s0 << 18 | (uint32_t)s1 << 12 | (uint32_t)s2 << 6;
        /* Canonical form only: the bits past the last whole byte are zero. */
        if (rest == 2 ? (v & 0xffff) != 0 : (v & 0xff) != 0)
            return -1;
        out[o++] = (unsigned char)(v >> 16);
        if (rest == 3)
            out[o++] = (unsigned char)(v >> 8);
    }
    *outlen = o;
    return 0;
}
