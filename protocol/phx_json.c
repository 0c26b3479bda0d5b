/*
 * phx_json.c: text frames, V1 (objects) and V2 (arrays), both directions.
 *
 * Decoding keeps the parsed document in m->_root and points the message's fields into it; the usual V2
 * shape skips the envelope's parse (decode_v2_plain). Encoding writes the frame straight into the
 * caller's phx_buf: each JSON value through put_json (Jansson's compact dump, redone without its
 * per-call allocations), each string (values, keys, C strings) through put_string, the only JSON
 * string escaper in the codec, so V1, V2 and replies cannot drift apart. Output is compact:
 * ["1","2","room:a","phx_reply",{"status":"ok","response":{}}].
 *
 * Decoding accepts "\u0000" inside JSON strings (JSON_ALLOW_NUL, as Phoenix/Jason does) so payloads
 * and refs round-trip, but refuses it in topic and event (PHX_E_TYPE): those are used as C strings.
 */
#include "phx_json.h"

#include "phx_error.h"
#include "phx_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- decoding ---- */

/* Point *s and *n at a string field, which must be a JSON string without NUL bytes. */
static int take_string(const json_t *v, const char **s, size_t *n)
{
    if (!json_is_string(v))
        return PHX_E_TYPE;
    *s = json_string_value(v);
    *n = json_string_length(v);
    if (memchr(*s, '\0', *n))
        return PHX_E_TYPE;
    return 0;
}

/* A ref as stored in phx_msg: JSON null becomes NULL. */
static json_t *take_ref(json_t *v)
{
    return json_is_null(v) ? NULL : v;
}

json_t *phx_json_load(const char *data, size_t len, size_t flags, json_error_t *err)
{
    json_t *j = json_loadb(data, len, flags, err);
    /* Integers past 64 bits are valid JSON (JavaScript's 1e19 is written 10000000000000000000): read
     * the text again with every integer as a double rather than refuse it. Only then, so ordinary
     * integers stay integers. */
    if (!j && json_error_code(err) == json_error_numeric_overflow)
        j = json_loadb(data, len, flags | JSON_DECODE_INT_AS_REAL, err);
    return j;
}

/* A plain string at p (p[0] == '"'): printable ASCII without '"' or '\\', so its JSON value is its bytes.
 * Returns the byte after the closing quote, or NULL when the string is anything else. */
static const char *scan_plain(const char *p, const char *end, size_t *n)
{
    const char *q = ++p;

    while (q < end && *q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
        q++;
    if (q >= end || *q != '"')
        return NULL;
    *n = (size_t)(q - p);
    return q + 1;
}

/* The shape every phoenix.js message has, [jr, ref, "topic", "event", payload] without whitespace
 * between the fields, each of the first four a plain string (scan_plain) or null, decoded without a
 * parse of the envelope: refs as new strings (_refs), topic and event copied into _owned, the payload
 * parsed alone (_root; "{}" made directly). The result is what the full parse gives, since such a
 * text is a valid five-element array exactly when its payload alone is a valid JSON text. Returns
 * false, with out untouched, for anything else (including out of memory): the caller parses the whole
 * text then. */
static bool decode_v2_plain(const char *data, size_t len, struct phx_msg *out)
{
    const char *p = data, *end = data + len, *s[4];
    size_t n[4];
    bool null[4];

    if (len < 2 || *p++ != '[' || end[-1] != ']')
        return false;
    end--; /* the closing ']' */
    for (int i = 0; i < 4; i++) {
        null[i] = end - p >= 4 && memcmp(p, "null", 4) == 0;
        s[i] = p + 1;
        if (null[i] && i < 2)
            p += 4;
        else if (*p != '"' || !(p = scan_plain(p, end, &n[i])))
            return false;
        if (p >= end || *p++ != ',')
            return false;
    }
    size_t plen = (size_t)(end - p);
    json_error_t jerr;
    json_t *payload = plen == 2 && p[0] == '{' && p[1] == '}'
                          ? json_object()
                          : phx_json_load(p, plen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    char *owned = payload ? malloc(n[2] + n[3] + 2) : NULL;
    json_t *refs[2] = {NULL, NULL};
    for (int i = 0; i < 2 && owned; i++)
        if (!null[i] && !(refs[i] = json_stringn_nocheck(s[i], n[i])))
            goto fail;
    if (!owned)
        goto fail;
    memcpy(owned, s[2], n[2]);
    owned[n[2]] = '\0';
    memcpy(owned + n[2] + 1, s[3], n[3]);
    owned[n[2] + 1 + n[3]] = '\0';
    out->join_ref = out->_refs[0] = refs[0];
    out->ref = out->_refs[1] = refs[1];
    out->topic = owned;
    out->topic_len = n[2];
    out->event = owned + n[2] + 1;
    out->event_len = n[3];
    out->json = out->_root = payload;
    out->_owned = owned;
    return true;

fail:
    json_decref(refs[0]);
    json_decref(refs[1]);
    free(owned);
    json_decref(payload);
    return false;
}

int phx_decode_text(enum phx_vsn vsn, const char *data, size_t len, struct phx_msg *out)
{
    json_t *root, *join_ref, *ref, *topic, *event, *payload;
    json_error_t jerr;
    int rc;

    if (!out)
        return PHX_E_INVAL;
    memset(out, 0, sizeof *out);
    if (vsn != PHX_V1 && vsn != PHX_V2)
        return PHX_E_INVAL;
    if (!data)
        return PHX_E_JSON;
    if (vsn == PHX_V2 && decode_v2_plain(data, len, out))
        return 0;
    root = phx_json_load(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return json_error_code(&jerr) == json_error_out_of_memory ? PHX_E_NOMEM : PHX_E_JSON;

    rc = PHX_E_SHAPE;
    if (vsn == PHX_V2) {
        /* [join_ref, ref, topic, event, payload | _ignored] */
        if (!json_is_array(root) || json_array_size(root) < 5)
            goto fail;
        join_ref = json_array_get(root, 0);
        ref = json_array_get(root, 1);
        topic = json_array_get(root, 2);
        event = json_array_get(root, 3);
        payload = json_array_get(root, 4);
    } else {
        /* {"topic", "event", "payload", "ref"} required, "join_ref" optional; other keys ignored */
        if (!json_is_object(root))
            goto fail;
        join_ref = json_object_get(root, "join_ref");
        ref = json_object_get(root, "ref");
        topic = json_object_get(root, "topic");
        event = json_object_get(root, "event");
        payload = json_object_get(root, "payload");
        if (!ref || !topic || !event || !payload)
            goto fail;
    }
    if ((rc = take_string(topic, &out->topic, &out->topic_len)) != 0 ||
        (rc = take_string(event, &out->event, &out->event_len)) != 0)
        goto fail;
    out->join_ref = join_ref ? take_ref(join_ref) : NULL;
    out->ref = take_ref(ref);
    /* A JSON null payload stays a json_t: json == NULL would mean "binary message". */
    out->json = payload;
    out->_root = root;
    return 0;

fail:
    json_decref(root);
    memset(out, 0, sizeof *out);
    return rc;
}

/* ---- encoding ---- */

/* A frame under construction. The first failure sticks and turns later writes into no-ops, so a frame
 * is written as a straight sequence of calls and checked once at the end. */
struct writer {
    struct phx_buf *buf;
    size_t mark; /* buf->len before the frame: restored on error */
    int err;
};

static void put_raw(struct writer *w, const char *s, size_t n)
{
    struct phx_buf *b = w->buf;

    if (w->err || n == 0)
        return;
    /* the common case, room left in the scratch buffer, without a call */
    if (b->mem && n <= b->cap - b->len) {
        memcpy(b->mem + b->headroom + b->len, s, n);
        b->len += n;
        return;
    }
    w->err = phx_buf_append(b, s, n);
}

static void put_lit(struct writer *w, const char *s)
{
    put_raw(w, s, strlen(s));
}

/* Whether byte c is not printable ASCII or needs an escape: control characters, '"', '\\', and every
 * byte of a multi-byte UTF-8 sequence (validated, then written verbatim). */
static inline bool needs_care(unsigned char c)
{
    return (unsigned char)(c - 0x20) >= 0x60 || c == '"' || c == '\\';
}

/* s[0..n) as a JSON string, escaped exactly as Jansson escapes (so dumped and written strings look
 * alike): \" \\ \b \f \n \r \t, other control characters as \u00XX, everything else verbatim. */
static void put_string(struct writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0, plain = 0;

    if (w->err)
        return;
    /* Most strings (refs, topics, events, keys) are printable ASCII: valid UTF-8 that needs no escape,
     * written in one piece after one scan. */
    while (s && plain < n && !needs_care((unsigned char)s[plain]))
        plain++;
    if (s && plain == n) {
        struct phx_buf *b = w->buf;
        if ((w->err = phx_buf_reserve(b, n + 2)) != 0)
            return;
        char *out = b->mem + b->headroom + b->len;
        out[0] = '"';
        memcpy(out + 1, s, n);
        out[n + 1] = '"';
        b->len += n + 2;
        return;
    }
    if (!s || !phx_utf8_valid((const unsigned char *)s + plain, n - plain)) {
        w->err = PHX_E_INVAL;
        return;
    }
    put_raw(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t esc_len = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put_raw(w, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            esc_len = 6;
        }
        put_raw(w, esc, esc_len);
    }
    put_raw(w, s + run, n - run);
    put_raw(w, "\"", 1);
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    struct writer *w = data;

    put_raw(w, buffer, size);
    return w->err ? -1 : 0;
}

/* Decimal digits of an integer, as Jansson's "%" JSON_INTEGER_FORMAT prints it. */
static void put_int(struct writer *w, json_int_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    /* unsigned arithmetic, so the most negative value has a magnitude too */
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    put_raw(w, p, (size_t)(tmp + sizeof tmp - p));
}

/* A real as Jansson's jsonp_dtostr writes it at its default precision: "%.17g", ".0" appended when that
 * looks like an integer, and the exponent without '+' or leading zeros. The server never calls
 * setlocale, so the decimal point is '.'. */
static void put_real(struct writer *w, double v)
{
    char buf[100];
    int n = snprintf(buf, sizeof buf, "%.17g", v);
    size_t len;
    char *e;

    if (n < 0 || (size_t)n + 3 >= sizeof buf) {
        if (!w->err)
            w->err = PHX_E_INVAL;
        return;
    }
    len = (size_t)n;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    if ((e = strchr(buf, 'e'))) {
        char *start = e + 1, *end = e + 2;

        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - buf));
            len -= (size_t)(end - start);
        }
    }
    put_raw(w, buf, len);
}

/* Past this depth a value goes through Jansson, which refuses cycles (a cyclic value would otherwise
 * recurse for ever here). The parser nests at most JSON_PARSER_MAX_DEPTH deep, so decoded payloads
 * rarely get there. */
#define PUT_JSON_MAX_DEPTH 256

/* v, compact, byte for byte what json_dump_callback(v, ..., JSON_COMPACT | JSON_ENCODE_ANY) writes,
 * without its per-call table of parents (a malloc'd hashtable and a "%p" key per container, most of
 * the cost of a small frame). Objects in Jansson's iteration (insertion) order. */
static void put_json(struct writer *w, const json_t *v, int depth)
{
    if (w->err)
        return;
    if (depth > PUT_JSON_MAX_DEPTH) {
        if (json_dump_callback(v, dump_cb, w, JSON_COMPACT | JSON_ENCODE_ANY) != 0 && !w->err)
            w->err = PHX_E_INVAL;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        put_raw(w, "null", 4);
        break;
    case JSON_TRUE:
        put_raw(w, "true", 4);
        break;
    case JSON_FALSE:
        put_raw(w, "false", 5);
        break;
    case JSON_INTEGER:
        put_int(w, json_integer_value(v));
        break;
    case JSON_REAL:
        put_real(w, json_real_value(v));
        break;
    case JSON_STRING:
        put_string(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);

        put_raw(w, "[", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                put_raw(w, ",", 1);
            put_json(w, json_array_get(v, i), depth + 1);
        }
        put_raw(w, "]", 1);
        break;
    }
    case JSON_OBJECT: {
        json_t *o = (json_t *)v; /* Jansson's iterators take a non-const object; nothing is changed */

        bool first = true;

        put_raw(w, "{", 1);
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), first = false) {
            if (!first)
                put_raw(w, ",", 1);
            put_string(w, json_object_iter_key(it), json_object_iter_key_len(it));
            put_raw(w, ":", 1);
            put_json(w, json_object_iter_value(it), depth + 1);
        }
        put_raw(w, "}", 1);
        break;
    }
    default:
        w->err = PHX_E_INVAL;
    }
}

/* Any JSON value, compact; NULL is JSON null. */
static void put_value(struct writer *w, const json_t *v)
{
    if (!v)
        put_lit(w, "null");
    else
        put_json(w, v, 0);
}

int phx_json_dump(const json_t *v, struct phx_buf *out)
{
    struct writer w = {.buf = out, .mark = out ? out->len : 0, .err = 0};

    if (!v || !out)
        return PHX_E_INVAL;
    put_json(&w, v, 0);
    if (w.err)
        out->len = w.mark;
    return w.err;
}

/* The payload of a frame: a JSON value, or the reply object {"status":S,"response":R}. */
struct payload {
    const json_t *json;
    const char *status; /* non-NULL for a reply */
    const json_t *response;
};

static void put_payload(struct writer *w, const struct payload *p)
{
    if (!p->status) {
        put_value(w, p->json);
        return;
    }
    put_lit(w, "{\"status\":");
    put_string(w, p->status, strlen(p->status));
    put_lit(w, ",\"response\":");
    if (p->response)
        put_value(w, p->response);
    else
        put_lit(w, "{}");
    put_lit(w, "}");
}

static int put_frame(enum phx_vsn vsn, const json_t *join_ref, const json_t *ref, const char *topic,
                     size_t topic_len, const char *event, size_t event_len, const struct payload *p,
                     struct phx_buf *out)
{
    struct writer w = {.buf = out, .mark = out ? out->len : 0, .err = 0};

    if (!out || !topic || !event)
        return PHX_E_INVAL;
    if (vsn == PHX_V2) {
        put_lit(&w, "[");
        put_value(&w, join_ref);
        put_lit(&w, ",");
        put_value(&w, ref);
        put_lit(&w, ",");
        put_string(&w, topic, topic_len);
        put_lit(&w, ",");
        put_string(&w, event, event_len);
        put_lit(&w, ",");
        put_payload(&w, p);
        put_lit(&w, "]");
    } else if (vsn == PHX_V1) {
        /* V1 never carries join_ref on the way out. */
        put_lit(&w, "{\"topic\":");
        put_string(&w, topic, topic_len);
        put_lit(&w, ",\"event\":");
        put_string(&w, event, event_len);
        put_lit(&w, ",\"payload\":");
        put_payload(&w, p);
        put_lit(&w, ",\"ref\":");
        put_value(&w, ref);
        put_lit(&w, "}");
    } else {
        w.err = PHX_E_INVAL;
    }
    if (w.err)
        out->len = w.mark;
    return w.err;
}

int phx_encode_text(enum phx_vsn vsn, const struct phx_msg *m, struct phx_buf *out)
{
    struct payload p = {0};

    if (!m || !m->json)
        return PHX_E_INVAL; /* a binary message has no text form */
    p.json = m->json;
    return put_frame(vsn, m->join_ref, m->ref, m->topic, phx_field_len(m->topic, m->topic_len), m->event,
                     phx_field_len(m->event, m->event_len), &p, out);
}

int phx_encode_reply(enum phx_vsn vsn, const json_t *join_ref, const json_t *ref, const char *topic,
                     const char *status, const json_t *response, struct phx_buf *out)
{
    struct payload p = {.status = status, .response = response};

    if (!status)
        return PHX_E_INVAL;
    return put_frame(vsn, join_ref, ref, topic, topic ? strlen(topic) : 0, "phx_reply", 9, &p, out);
}
