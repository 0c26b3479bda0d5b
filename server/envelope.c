/*
 * envelope.c: the node-to-node message format (see envelope.h).
 */
#include "envelope.h"

#include "phx_topic.h"

#include <string.h>

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int envelope_encode(const struct envelope *e, struct phx_buf *out)
{
    size_t tl = strlen(e->topic), el = strlen(e->event);
    if (tl > 255 || el > 255)
        return ENV_E_FIELD;
    unsigned char h[ENVELOPE_HEADER] = {'C', ENVELOPE_VERSION, (unsigned char)e->kind, e->flags};
    put_u64(h + 4, e->origin);
    put_u64(h + 12, e->seq);
    h[20] = (unsigned char)tl;
    h[21] = (unsigned char)el;
    size_t before = out->len;
    if (phx_buf_append(out, h, sizeof(h)) != 0 || phx_buf_append(out, e->topic, tl) != 0 ||
        phx_buf_append(out, e->event, el) != 0 ||
        (e->body_len && phx_buf_append(out, e->body, e->body_len) != 0)) {
        out->len = before;
        return ENV_E_NOMEM;
    }
    return 0;
}

/* A field copied out of the frame: valid UTF-8 is not checked here (the JSON encoder does when it is
 * used), but NUL and control characters are refused. */
static int copy_field(char dst[256], const unsigned char *src, size_t n, bool may_be_empty)
{
    if (!n && !may_be_empty)
        return ENV_E_FIELD;
    if (n && !phx_topic_valid((const char *)src, n))
        return ENV_E_FIELD;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int envelope_decode(const unsigned char *b, size_t len, struct envelope *e)
{
    memset(e, 0, sizeof(*e));
    if (len < ENVELOPE_HEADER)
        return len && b[0] != 'C' ? ENV_E_MAGIC : ENV_E_SHORT;
    if (b[0] != 'C')
        return ENV_E_MAGIC;
    if (b[1] != ENVELOPE_VERSION)
        return ENV_E_VERSION;
    switch (b[2]) {
    case ENV_BROADCAST:
    case ENV_PRESENCE:
    case ENV_HEARTBEAT:
    case ENV_STATE_REQUEST:
    case ENV_STATE:
        break;
    default:
        return ENV_E_KIND;
    }
    size_t tl = b[20], el = b[21];
    if (len < ENVELOPE_HEADER + tl + el)
        return ENV_E_SHORT;
    bool needs_topic = b[2] == ENV_BROADCAST || b[2] == ENV_PRESENCE || b[2] == ENV_STATE_REQUEST;
    int rc = copy_field(e->topic, b + ENVELOPE_HEADER, tl, !needs_topic);
    if (rc == 0)
        rc = copy_field(e->event, b + ENVELOPE_HEADER + tl, el, b[2] != ENV_BROADCAST);
    if (rc != 0)
        return rc;
    e->kind = (enum envelope_kind)b[2];
    e->flags = b[3];
    e->origin = get_u64(b + 4);
    e->seq = get_u64(b + 12);
    e->body = b + ENVELOPE_HEADER + tl + el;
    e->body_len = len - ENVELOPE_HEADER - tl - el;
    return 0;
}

const char *envelope_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case ENV_E_SHORT:
        return "envelope truncated";
    case ENV_E_MAGIC:
        return "not a cinder envelope";
    case ENV_E_VERSION:
        return "unsupported envelope version";
    case ENV_E_KIND:
        return "unknown envelope kind";
    case ENV_E_FIELD:
        return "invalid topic or event in envelope";
    case ENV_E_NOMEM:
        return "out of memory";
    default:
        return "unknown envelope error";
    }
}
