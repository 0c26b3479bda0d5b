/*
 * options.c: the settings schema and its four sources (see options.h).
 *
 * Every setting is one row of `fields`: key, type, where it lives in struct options, default (as
 * text, parsed like any other value), bounds, whether a reload may change it, and its help line.
 * Adding a setting is adding a row (and the struct member); file, environment, flags, genconfig and
 * --help follow.
 */
#include "options.h"

#include "handlers/generic.h"
#include "jwt.h"
#include "topic_policy.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#ifndef CINDER_VERSION
#define CINDER_VERSION "0.0.0"
#endif

enum kind {
    K_INT,      /* int, [min, max] */
    K_UINT,     /* unsigned, [min, max] */
    K_SIZE,     /* size_t bytes, [min, max] */
    K_DURATION, /* uint64_t milliseconds, [min, max] */
    K_BOOL,
    K_STRING, /* char *, NULL when unset */
    K_DIR,    /* char *, an existing directory when set explicitly */
    K_REDIS,  /* char *, redis://... */
    K_LOGLEVEL,
    K_LOGFORMAT,
    K_JSON, /* json_t *, owned; checked by the field's `check`; config file only (JSON has no flag form) */
};

struct field {
    const char *key;
    enum kind kind;
    size_t off;
    const char *def; /* NULL: unset (strings) */
    unsigned long long min, max;
    bool reload; /* SIGHUP may change it */
    const char *help;
    /* K_JSON: 0, or -1 with err saying why (v borrowed) */
    int (*check)(const json_t *v, char *err, size_t errlen);
};

#define F(k, kind, def, min, max, reload, help)                                                              \
    {                                                                                                        \
#k, kind, offsetof(struct options, k), def, min, max, reload, help, NULL                             \
    }
/* A setting whose struct member has another name (durations are stored as milliseconds: `_ms`). */
#define FM(k, m, kind, def, min, max, reload, help)                                                          \
    {                                                                                                        \
        k, kind, offsetof(struct options, m), def, min, max, reload, help, NULL                              \
    }
/* A setting holding JSON (K_JSON), read from the config file only; def is its JSON text. */
#define FJ(k, def, reload, check, help)                                                                      \
    {                                                                                                        \
#k, K_JSON, offsetof(struct options, k), def, 0, 0, reload, help, check                              \
    }
#define MIB (1024ull * 1024ull)

static const struct field fields[] = {
    F(port, K_INT, "4000", 1, 65535, false, "TCP port"),
    F(bind, K_STRING, NULL, 0, 0, false, "listen address (default: every interface)"),
    F(tls_cert, K_STRING, NULL, 0, 0, false,
      "PEM certificate chain: serve wss:// and https:// (needs tls_key)"),
    F(tls_key, K_STRING, NULL, 0, 0, false, "PEM private key of tls_cert"),
    F(shards, K_UINT, "0", 0, 64, false, "event-loop threads serving clients (0: one per core; 1 with TLS)"),
    F(max_frame_size, K_SIZE, "1MiB", 16, 1024 * MIB, true,
      "largest inbound message; bigger closes with 1009"),
    F(max_queue_size, K_SIZE, "1MiB", 1024, 1024 * MIB, true,
      "write queue per connection; past it the connection closes with 1008"),
    F(max_body_size, K_SIZE, "1MiB", 16, 1024 * MIB, true, "largest HTTP API or long-poll POST body (413)"),
    FM("idle_timeout", idle_timeout_ms, K_DURATION, "60s", 10, 86400000, true,
       "close connections that sent nothing this long"),
    F(max_channels, K_UINT, "100", 1, 100000, true, "channels per socket"),
    F(max_connections, K_UINT, "100000", 1, 10000000, true, "connections per node; past it, 503"),
    F(max_connections_per_user, K_UINT, "0", 0, 1000000, true, "connections per user id; 0: unlimited"),
    F(connection_rate, K_UINT, "1000", 0, 10000000, true,
      "new connections per second per node (503 + Retry-After past it); 0: unlimited"),
    F(allowed_origins, K_STRING, NULL, 0, 0, true,
      "comma-separated Origin allow-list with '*' wildcards (https://*.example.com); unset: any"),
    FM("longpoll_window", longpoll_window_ms, K_DURATION, "10s", 10, 600000, true,
       "how long a long-poll GET waits; a session not polled for 1.5 windows ends"),
    F(log_level, K_LOGLEVEL, "info", 0, 0, true, "debug, info, warn or error"),
    F(log_format, K_LOGFORMAT, "auto", 0, 0, true,
      "text, json, or auto (json when stderr is not a terminal)"),
    FM("drain_timeout", drain_timeout_ms, K_DURATION, "30s", 0, 3600000, true,
       "SIGTERM closes every socket (1012) within this"),
    F(compress, K_BOOL, "false", 0, 0, false, "offer permessage-deflate"),
    F(compress_mem_level, K_INT, "8", 1, 9, false, "zlib memLevel of each connection's deflater"),
    F(compress_level, K_INT, "1", 1, 9, false, "zlib compression level"),
    F(static_dir, K_DIR, OPTIONS_DEFAULT_STATIC_DIR, 0, 0, true,
      "serve the files under this directory at / (the default only when it exists; '' for none)"),
    FM("redis", redis_url, K_REDIS, NULL, 0, 0, false, "join a cluster through Redis: redis://host:port/db"),
    FM("cluster_heartbeat", cluster_heartbeat_ms, K_DURATION, "1s", 10, 600000, false,
       "heartbeat to the other nodes"),
    FM("cluster_expiry", cluster_expiry_ms, K_DURATION, "5s", 20, 3600000, false,
       "a node silent this long is gone; its presence leaves"),
    F(api_token, K_STRING, NULL, 0, 0, true,
      "POST /api/broadcast needs 'Authorization: Bearer <api_token>' (unset: open to whoever reaches the "
      "port)"),
    F(jwt_secret, K_STRING, NULL, 0, 0, true,
      "HS256 secret (32+ bytes): connect tokens must be JWTs signed with it, sub = user id; unset: the demo "
      "rule (token = user id)"),
    FM("jwt_leeway", jwt_leeway_ms, K_DURATION, "0s", 0, 300000, true,
       "clock skew allowed on a token's exp and nbf"),
    FJ(channels, "[]", true, generic_channels_check,
       "generic channels: [{\"pattern\": \"chat:*\", \"join\": \"any\", ...}] (README, Generic channels)"),
    FJ(topics, "[]", true, topic_policies_check,
       "topic policies: [{\"pattern\": \"telemetry:*\", \"history\": {\"size\": 1000, \"ttl\": \"10m\"}, "
       "\"conflate\": \"id\", \"slow_consumer\": \"conflate\"}] (README, Recovery and slow consumers)"),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

#undef F
#undef FM
#undef FJ

/* ---- value parsing ---- */

static int parse_number(const char *s, unsigned long long *num, const char **unit)
{
    if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    *num = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    *unit = end;
    return 0;
}

int parse_size(const char *s, size_t *out)
{
    unsigned long long n, mul;
    const char *unit;
    if (parse_number(s, &n, &unit) != 0)
        return -1;
    if (!*unit || !strcmp(unit, "B"))
        mul = 1;
    else if (!strcasecmp(unit, "k") || !strcmp(unit, "KiB"))
        mul = 1024;
    else if (!strcasecmp(unit, "m") || !strcmp(unit, "MiB"))
        mul = MIB;
    else if (!strcasecmp(unit, "g") || !strcmp(unit, "GiB"))
        mul = 1024 * MIB;
    else
        return -1;
    if (n > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(n * mul);
    return 0;
}

int parse_duration_ms(const char *s, uint64_t *out)
{
    unsigned long long n, mul;
    const char *unit;
    if (parse_number(s, &n, &unit) != 0)
        return -1;
    if (!*unit || !strcmp(unit, "s"))
        mul = 1000;
    else if (!strcmp(unit, "ms"))
        mul = 1;
    else if (!strcmp(unit, "m"))
        mul = 60 * 1000;
    else if (!strcmp(unit, "h"))
        mul = 3600 * 1000;
    else
        return -1;
    if (n > UINT64_MAX / mul)
        return -1;
    *out = n * mul;
    return 0;
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const format_names[] = {"auto", "text", "json"};

static void *member(struct options *o, const struct field *f)
{
    return (char *)o + f->off;
}

static const void *cmember(const struct options *o, const struct field *f)
{
    return (const char *)o + f->off;
}

static int set_string(struct options *o, const struct field *f, const char *text)
{
    char **p = member(o, f);
    char *copy = text && *text ? strdup(text) : NULL;
    if (text && *text && !copy)
        return -1;
    free(*p);
    *p = copy;
    return 0;
}

/* Set a K_JSON field to a deep copy of v (borrowed) once its check passes. 0, or -1 with err. */
static int set_json_value(struct options *o, const struct field *f, const json_t *v, char *err, size_t errlen)
{
    if (f->check && f->check(v, err, errlen) != 0)
        return -1;
    json_t *copy = json_deep_copy(v);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_t **p = member(o, f);
    json_decref(*p);
    *p = copy;
    return 0;
}

/* Set f from its text form. 0, or -1 with err saying why (without the setting's name). */
static int set_text(struct options *o, const struct field *f, const char *text, char *err, size_t errlen)
{
    unsigned long long n;
    size_t size;
    uint64_t ms;
    const char *unit;
    struct stat st;
    /* Every setting must be writable as JSON (genconfig, and the comparison a reload makes): a string
     * that is not UTF-8 (possible in a flag or the environment) is refused, as a config file would be. */
    if (f->kind == K_STRING || f->kind == K_DIR || f->kind == K_REDIS) {
        json_t *as_json = json_string(text);
        json_decref(as_json);
        if (!as_json) {
            snprintf(err, errlen, "not valid UTF-8");
            return -1;
        }
    }
    switch (f->kind) {
    case K_INT:
    case K_UINT:
        if (parse_number(text, &n, &unit) != 0 || *unit || n < f->min || n > f->max)
            goto range;
        if (f->kind == K_INT)
            *(int *)member(o, f) = (int)n;
        else
            *(unsigned *)member(o, f) = (unsigned)n;
        return 0;
    case K_SIZE:
        if (parse_size(text, &size) != 0 || size < f->min || size > f->max)
            goto range;
        *(size_t *)member(o, f) = size;
        return 0;
    case K_DURATION:
        if (parse_duration_ms(text, &ms) != 0 || ms < f->min || ms > f->max)
            goto range;
        *(uint64_t *)member(o, f) = ms;
        return 0;
    case K_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes") || !strcmp(text, "on"))
            *(bool *)member(o, f) = true;
        else if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no") || !strcmp(text, "off"))
            *(bool *)member(o, f) = false;
        else {
            snprintf(err, errlen, "'%s' is not a boolean (true or false)", text);
            return -1;
        }
        return 0;
    case K_DIR:
        /* The default directory means what the default means (served when it exists), wherever it is
         * given: a generated config stays valid outside the repository. */
        if (f->def && !strcmp(text, f->def))
            return set_string(o, f, text);
        if (*text && (stat(text, &st) != 0 || !S_ISDIR(st.st_mode))) {
            snprintf(err, errlen, "%s: not a directory", text);
            return -1;
        }
        if (f->off == offsetof(struct options, static_dir))
            o->static_dir_explicit = true;
        return set_string(o, f, text);
    case K_REDIS:
        if (*text && (strncmp(text, "redis://", 8) != 0 || !text[8])) {
            snprintf(err, errlen, "'%s' is not a redis:// URL (redis://host:port/db)", text);
            return -1;
        }
        return set_string(o, f, text);
    case K_STRING:
        return set_string(o, f, text);
    case K_LOGLEVEL:
        for (int i = 0; i < 4; i++)
            if (!strcmp(text, level_names[i]))
                return *(enum log_level *)member(o, f) = (enum log_level)i, 0;
        snprintf(err, errlen, "'%s' is not one of debug, info, warn, error", text);
        return -1;
    case K_LOGFORMAT:
        for (int i = 0; i < 3; i++)
            if (!strcmp(text, format_names[i]))
                return *(enum log_format *)member(o, f) = (enum log_format)i, 0;
        snprintf(err, errlen, "'%s' is not one of auto, text, json", text);
        return -1;
    case K_JSON: {
        /* Only defaults come here as text; the environment and flags do not set JSON settings. */
        json_t *v = json_loads(text, 0, NULL);
        int rc = v ? set_json_value(o, f, v, err, errlen) : -1;
        if (!v)
            snprintf(err, errlen, "not JSON");
        json_decref(v);
        return rc;
    }
    }
    return -1;
range:
    if (f->kind == K_SIZE)
        snprintf(err, errlen, "'%s' is not a size from %llu to %llu bytes (e.g. 64KiB, 1MiB)", text, f->min,
                 f->max);
    else if (f->kind == K_DURATION)
        snprintf(err, errlen, "'%s' is not a duration from %llums to %llums (e.g. 500ms, 25s, 2m)", text,
                 f->min, f->max);
    else
        snprintf(err, errlen, "'%s' is not a whole number from %llu to %llu", text, f->min, f->max);
    return -1;
}

/* Set f from a JSON value: strings as text; numbers as bytes / seconds / the number; booleans; null
 * unsets a string. */
static int set_json(struct options *o, const struct field *f, json_t *v, char *err, size_t errlen)
{
    char text[64];
    if (f->kind == K_JSON)
        return set_json_value(o, f, v, err, errlen);
    if (json_is_string(v))
        return set_text(o, f, json_string_value(v), err, errlen);
    if (json_is_null(v) && (f->kind == K_STRING || f->kind == K_DIR || f->kind == K_REDIS))
        return set_text(o, f, "", err, errlen);
    if (json_is_boolean(v) && f->kind == K_BOOL)
        return set_text(o, f, json_is_true(v) ? "true" : "false", err, errlen);
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        (f->kind == K_INT || f->kind == K_UINT || f->kind == K_SIZE || f->kind == K_DURATION)) {
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
        return set_text(o, f, text, err, errlen);
    }
    if (json_is_real(v) && f->kind == K_DURATION && json_real_value(v) >= 0) {
        snprintf(text, sizeof(text), "%.0fms", json_real_value(v) * 1000.0);
        return set_text(o, f, text, err, errlen);
    }
    snprintf(err, errlen, "wrong type (%s expected)",
             f->kind == K_BOOL                       ? "true or false"
             : f->kind == K_SIZE                     ? "a size like \"1MiB\" or a number of bytes"
             : f->kind == K_DURATION                 ? "a duration like \"25s\" or a number of seconds"
             : f->kind == K_INT || f->kind == K_UINT ? "a whole number"
                                                     : "a string");
    return -1;
}

static int set_string_path(struct options *o, const char *path)
{
    char *copy = path ? strdup(path) : NULL;
    if (path && !copy)
        return -1;
    free(o->config_path);
    o->config_path = copy;
    return 0;
}

/* ---- lifetime ---- */

static bool is_string(const struct field *f)
{
    return f->kind == K_STRING || f->kind == K_DIR || f->kind == K_REDIS;
}

void options_defaults(struct options *o)
{
    memset(o, 0, sizeof(*o));
    char err[160];
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].def && set_text(o, &fields[i], fields[i].def, err, sizeof(err)) != 0 &&
            is_string(&fields[i]))
            set_string(o, &fields[i], fields[i].def); /* a default directory that does not exist here */
    }
    o->static_dir_explicit = false;
}

void options_cleanup(struct options *o)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        if (is_string(&fields[i]))
            free(*(char **)member(o, &fields[i]));
        else if (fields[i].kind == K_JSON)
            json_decref(*(json_t **)member(o, &fields[i]));
    }
    free(o->config_path);
    memset(o, 0, sizeof(*o));
}

int options_copy(struct options *dst, const struct options *src)
{
    *dst = *src;
    bool ok = true;
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].kind == K_JSON) {
            json_t **j = member(dst, &fields[i]);
            if (*j && !(*j = json_deep_copy(*j)))
                ok = false;
            continue;
        }
        if (!is_string(&fields[i]))
            continue;
        char **p = member(dst, &fields[i]);
        if (*p && !(*p = strdup(*p)))
            ok = false;
    }
    if (dst->config_path && !(dst->config_path = strdup(dst->config_path)))
        ok = false;
    if (!ok) {
        options_cleanup(dst);
        return -1;
    }
    return 0;
}

static const struct field *field_by_key(const char *key)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (!strcmp(fields[i].key, key))
            return &fields[i];
    return NULL;
}

/* ---- sources ---- */

int options_load_file(struct options *o, const char *path, options_warn_fn warn, void *warn_arg, char *err,
                      size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line > 0)
            snprintf(err, errlen, "%s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
        else
            snprintf(err, errlen, "%s: %s", path, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: the config must be a JSON object of settings", path);
        json_decref(root);
        return -1;
    }
    struct options next;
    if (options_copy(&next, o) != 0) {
        snprintf(err, errlen, "out of memory");
        json_decref(root);
        return -1;
    }
    const char *key;
    json_t *v;
    char why[200];
    int rc = 0;
    json_object_foreach(root, key, v)
    {
        const struct field *f = field_by_key(key);
        if (!f) {
            if (warn) {
                char msg[300];
                snprintf(msg, sizeof(msg), "%s: unknown setting \"%s\" ignored", path, key);
                warn(warn_arg, msg);
            }
            continue;
        }
        if (set_json(&next, f, v, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: \"%s\": %s", path, key, why);
            rc = -1;
            break;
        }
    }
    json_decref(root);
    if (rc == 0 && set_string_path(&next, path) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc != 0) {
        options_cleanup(&next);
        return -1;
    }
    options_cleanup(o);
    *o = next;
    return 0;
}

int options_load_env(struct options *o, char *err, size_t errlen)
{
    struct options next;
    if (options_copy(&next, o) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char name[64], why[200];
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].kind == K_JSON)
            continue; /* config file only */
        snprintf(name, sizeof(name), "CINDER_%s", fields[i].key);
        for (char *c = name; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        const char *v = getenv(name);
        if (!v)
            continue;
        if (set_text(&next, &fields[i], v, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: %s", name, why);
            options_cleanup(&next);
            return -1;
        }
    }
    options_cleanup(o);
    *o = next;
    return 0;
}

int options_validate(const struct options *o, char *err, size_t errlen)
{
    if (o->cluster_expiry_ms <= o->cluster_heartbeat_ms) {
        snprintf(err, errlen, "cluster_expiry must be longer than cluster_heartbeat");
        return -1;
    }
    if (!o->tls_cert != !o->tls_key) {
        snprintf(err, errlen, "tls_cert and tls_key go together");
        return -1;
    }
    if (o->tls_cert && o->shards > 1) {
        /* The acceptor places long-poll requests by their path, which TLS hides from it (acceptor.h). */
        snprintf(err, errlen,
                 "shards > 1 needs plain HTTP: terminate TLS in front of cinder, or set shards to 1");
        return -1;
    }
    if (o->jwt_secret && strlen(o->jwt_secret) < JWT_MIN_SECRET_LEN) {
        /* RFC 7518 3.2: an HS256 key at least as long as the hash */
        snprintf(err, errlen, "jwt_secret must be at least %d bytes (it is %zu)", JWT_MIN_SECRET_LEN,
                 strlen(o->jwt_secret));
        return -1;
    }
    return 0;
}

/* ---- command line ---- */

enum { OPT_HELP = 'h', OPT_VERSION = 'V', OPT_CONFIG = 'c', OPT_FIELD0 = 1000 };

static void print_usage(FILE *out)
{
    fputs("usage: cinder [serve] [-c FILE] [--setting VALUE ...]\n"
          "       cinder checkconfig -c FILE | genconfig | version | gentoken --user U [--ttl 1h]\n"
          "\n"
          "A Phoenix Channels server: ws://ADDR:PORT/socket/websocket, http://ADDR:PORT/socket/longpoll,\n"
          "POST /api/broadcast, static files at /. Every setting can come from the config file (key),\n"
          "the environment (CINDER_KEY) or a flag (--key-with-dashes); flags win, then the\n"
          "environment, then the file.\n\n"
          "  -c, --config FILE        read settings from this JSON file (default: $CINDER_CONFIG)\n"
          "  -h, --help               this text\n"
          "  -V, --version            print the version\n",
          out);
    for (size_t i = 0; i < NFIELDS; i++) {
        char flag[64];
        if (fields[i].kind == K_JSON) {
            snprintf(flag, sizeof(flag), "%s (file only)", fields[i].key);
            fprintf(out, "  %-28s %s\n", flag, fields[i].help);
            continue;
        }
        snprintf(flag, sizeof(flag), "--%s", fields[i].key);
        for (char *c = flag + 2; *c; c++)
            if (*c == '_')
                *c = '-';
        fprintf(out, "  %-28s %s%s%s%s\n", flag, fields[i].help, fields[i].def ? " (default " : "",
                fields[i].def ? (*fields[i].def ? fields[i].def : "''") : "", fields[i].def ? ")" : "");
    }
    fputs("\nSIZE: bytes, or with k/KiB, m/MiB (\"1MiB\"). DURATION: seconds, or with ms, s, m (\"25s\").\n"
          "Settings marked (file only) hold JSON: set them in the config file; no flag or CINDER_* sets "
          "them.\n",
          out);
}

const char *options_config_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            return argv[i + 1];
        if (!strncmp(argv[i], "--config=", 9))
            return argv[i] + 9;
    }
    const char *env = getenv("CINDER_CONFIG");
    return env && *env ? env : NULL;
}

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, char *err,
                                  size_t errlen)
{
    struct option longopts[NFIELDS + 4];
    char names[NFIELDS][64];
    size_t n = 0;
    for (size_t i = 0; i < NFIELDS; i++) {
        snprintf(names[i], sizeof(names[i]), "%s", fields[i].key);
        for (char *c = names[i]; *c; c++)
            if (*c == '_')
                *c = '-';
        if (fields[i].kind == K_JSON)
            continue; /* config file only */
        longopts[n++] =
            (struct option){names[i], fields[i].kind == K_BOOL ? optional_argument : required_argument, NULL,
                            OPT_FIELD0 + (int)i};
    }
    longopts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longopts[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    longopts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    longopts[n] = (struct option){NULL, 0, NULL, 0};

    /* 0, not 1: glibc then forgets everything of the previous parse, including a half-read group of
     * short options ("-Vc") that would otherwise be continued from the previous argv. */
    optind = 0;
    opterr = 0;
    int opt, idx = 0;
    char why[200];
    while ((opt = getopt_long(argc, argv, ":hVc:", longopts, &idx)) != -1) {
        if (opt == OPT_HELP) {
            print_usage(out);
            return OPTIONS_EXIT;
        }
        if (opt == OPT_VERSION) {
            fprintf(out, "cinder %s\n", CINDER_VERSION);
            return OPTIONS_EXIT;
        }
        if (opt == OPT_CONFIG) {
            if (set_string_path(o, optarg) != 0)
                goto oom;
            continue;
        }
        if (opt >= OPT_FIELD0 && opt < OPT_FIELD0 + (int)NFIELDS) {
            const struct field *f = &fields[opt - OPT_FIELD0];
            const char *value = optarg ? optarg : "true"; /* a bare boolean flag */
            if (set_text(o, f, value, why, sizeof(why)) != 0) {
                snprintf(err, errlen, "--%s: %s", names[opt - OPT_FIELD0], why);
                return OPTIONS_ERROR;
            }
            continue;
        }
        if (opt == ':')
            snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
        else
            snprintf(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
        return OPTIONS_ERROR;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return OPTIONS_ERROR;
    }
    return OPTIONS_RUN;
oom:
    snprintf(err, errlen, "out of memory");
    return OPTIONS_ERROR;
}

/* ---- output ---- */

static json_t *value_json(const struct options *o, const struct field *f)
{
    char text[64];
    const void *p = cmember(o, f);
    switch (f->kind) {
    case K_INT:
        return json_integer(*(const int *)p);
    case K_UINT:
        return json_integer(*(const unsigned *)p);
    case K_SIZE: {
        size_t v = *(const size_t *)p;
        if (v && v % MIB == 0)
            snprintf(text, sizeof(text), "%lluMiB", (unsigned long long)(v / MIB));
        else if (v && v % 1024 == 0)
            snprintf(text, sizeof(text), "%lluKiB", (unsigned long long)(v / 1024));
        else
            return json_integer((json_int_t)v);
        return json_string(text);
    }
    case K_DURATION: {
        uint64_t v = *(const uint64_t *)p;
        if (v % 1000 == 0)
            snprintf(text, sizeof(text), "%llus", (unsigned long long)(v / 1000));
        else
            snprintf(text, sizeof(text), "%llums", (unsigned long long)v);
        return json_string(text);
    }
    case K_BOOL:
        return json_boolean(*(const bool *)p);
    case K_STRING:
    case K_DIR:
    case K_REDIS:
        return *(char *const *)p ? json_string(*(char *const *)p) : json_null();
    case K_LOGLEVEL:
        return json_string(level_names[*(const enum log_level *)p]);
    case K_LOGFORMAT:
        return json_string(format_names[*(const enum log_format *)p]);
    case K_JSON:
        return *(json_t *const *)p ? json_deep_copy(*(json_t *const *)p) : json_null();
    }
    return json_null();
}

json_t *options_to_json(const struct options *o)
{
    json_t *out = json_object();
    for (size_t i = 0; out && i < NFIELDS; i++)
        json_object_set_new(out, fields[i].key, value_json(o, &fields[i]));
    return out;
}

bool options_need_restart(const struct options *a, const struct options *b, const char **which)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].reload)
            continue;
        json_t *x = value_json(a, &fields[i]), *y = value_json(b, &fields[i]);
        bool same = json_equal(x, y);
        json_decref(x);
        json_decref(y);
        if (!same) {
            *which = fields[i].key;
            return true;
        }
    }
    return false;
}
