/*
 * phx_utf8.c: UTF-8 validation for the codec. Topics, JSON strings we write and binary refs must be
 * well-formed UTF-8; Jansson's own checker is not exported, so this one applies the same rules.
 */
#include "phx_internal.h"

#include <stdint.h>

int phx_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0; /* continuation byte, 0xc0/0xc1 (always overlong) or > 0xf4 */
        }
        if (n - i <= extra)
            return 0;
        for (size_t j = 1; j <= extra; j++) {
            unsigned char b = s[i + j];
            if ((b & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (b & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += extra + 1;
    }
    return 1;
}
