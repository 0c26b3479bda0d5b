/*
 * phx_scan.c: the V2 frame header scanner (see phx_scan.h).
 */
#include "phx_scan.h"

#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A string or null at p, then a comma. Returns the position after the comma, or NULL. */
static const char *head_field(const char *p, const char *end, struct phx_str *out)
{
    p = skip_ws(p, end);
    if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
        out->p = NULL;
        out->len = 0;
        p += 4;
    } else if (p < end && *p == '"') {
        const char *s = ++p;
        while (p < end && *p != '"')
            p += *p == '\\' ? 2 : 1;
        if (p >= end)
            return NULL;
        out->p = s;
        out->len = (size_t)(p - s);
        p++;
    } else {
        return NULL;
    }
    p = skip_ws(p, end);
    return p < end && *p == ',' ? p + 1 : NULL;
}

int phx_scan(const char *text, size_t len, struct phx_frame *f)
{
    const char *p = text, *end = text + len;
    p = skip_ws(p, end);
    if (p >= end || *p != '[')
        return -1;
    p++;
    struct phx_str *heads[4] = {&f->join_ref, &f->ref, &f->topic, &f->event};
    for (int i = 0; i < 4; i++)
        if (!(p = head_field(p, end, heads[i])))
            return -1;
    while (end > p && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t'))
        end--;
    if (end <= p || end[-1] != ']')
        return -1;
    end--;
    p = skip_ws(p, end);
    if (p >= end)
        return -1;
    f->payload = p;
    f->payload_len = (size_t)(end - p);
    return 0;
}

bool phx_str_is(const struct phx_str *s, const char *lit)
{
    size_t n = strlen(lit);
    return s->p && s->len == n && memcmp(s->p, lit, n) == 0;
}

bool phx_str_starts(const struct phx_str *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s->p && s->len >= n && memcmp(s->p, prefix, n) == 0;
}

int phx_payload_u64(const char *payload, size_t len, const char *key, uint64_t *out)
{
    char pat[64];
    size_t k = strlen(key);
    if (k + 3 > sizeof(pat))
        return -1;
    pat[0] = '"';
    memcpy(pat + 1, key, k);
    pat[k + 1] = '"';
    pat[k + 2] = ':';
    const char *at = memmem(payload, len, pat, k + 3);
    if (!at)
        return -1;
    const char *p = at + k + 3, *end = payload + len;
    p = skip_ws(p, end);
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    uint64_t v = 0;
    for (int digits = 0; p < end && *p >= '0' && *p <= '9' && digits < 20; p++, digits++)
        v = v * 10 + (uint64_t)(*p - '0');
    *out = v;
    return 0;
}

bool phx_reply_ok(const char *payload, size_t len)
{
    return memmem(payload, len, "\"status\":\"ok\"", 13) != NULL;
}
