/*
 * options.c: defaults and the command line (see options.h).
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#ifndef CINDER_VERSION
#define CINDER_VERSION "0.0.0"
#endif

void options_defaults(struct options *o)
{
    o->port = 4000;
    o->bind = NULL;
    o->max_frame_size = 1024 * 1024;
    o->max_queue_size = 1024 * 1024;
    o->max_body_size = 1024 * 1024;
    o->idle_timeout_ms = 60 * 1000;
    o->longpoll_window_ms = 10 * 1000;
    o->max_channels = 100;
    o->log_level = LOG_INFO;
    o->compress = false;
    o->compress_mem_level = 8;
    o->compress_level = 1;
    o->static_dir = OPTIONS_DEFAULT_STATIC_DIR;
    o->redis_url = getenv("CINDER_REDIS") && *getenv("CINDER_REDIS") ? getenv("CINDER_REDIS") : NULL;
    o->cluster_heartbeat_ms = 1000;
    o->cluster_expiry_ms = 5000;
}

/* Split "64KiB" into 64 and "KiB". 0 or -1. */
static int parse_number(const char *s, unsigned long long *num, const char **unit)
{
    if (!s || !*s || *s == '-' || *s == '+')
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
    unsigned long long n;
    const char *unit;
    if (parse_number(s, &n, &unit) != 0)
        return -1;
    unsigned long long mul;
    if (!*unit || !strcmp(unit, "B"))
        mul = 1;
    else if (!strcasecmp(unit, "k") || !strcmp(unit, "KiB"))
        mul = 1024;
    else if (!strcasecmp(unit, "m") || !strcmp(unit, "MiB"))
        mul = 1024 * 1024;
    else
        return -1;
    if (n > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(n * mul);
    return 0;
}

int parse_duration_ms(const char *s, uint64_t *out)
{
    unsigned long long n;
    const char *unit;
    if (parse_number(s, &n, &unit) != 0)
        return -1;
    unsigned long long mul;
    if (!*unit || !strcmp(unit, "s"))
        mul = 1000;
    else if (!strcmp(unit, "ms"))
        mul = 1;
    else if (!strcmp(unit, "m"))
        mul = 60 * 1000;
    else
        return -1;
    if (n > UINT64_MAX / mul)
        return -1;
    *out = n * mul;
    return 0;
}

static const char usage[] =
    "usage: cinder [options]\n"
    "\n"
    "A Phoenix Channels server. Serves the demo app (room:*, telemetry:*) on\n"
    "ws://ADDR:PORT/socket/websocket, http://ADDR:PORT/socket/longpoll and\n"
    "POST /api/broadcast.\n"
    "\n"
    "  --port N                 TCP port (default 4000)\n"
    "  --bind ADDR              listen address (default: all interfaces)\n"
    "  --max-frame-size SIZE    largest inbound message, bigger closes with 1009 (default 1MiB)\n"
    "  --max-queue-size SIZE    write queue limit per connection, past it the\n"
    "                           connection closes with 1008 (default 1MiB)\n"
    "  --max-body-size SIZE     largest HTTP API request body, 413 past it (default 1MiB)\n"
    "  --idle-timeout DURATION  close connections silent this long (default 60s)\n"
    "  --longpoll-window DURATION\n"
    "                           how long a long-poll GET waits for messages; a session\n"
    "                           not polled for 1.5 windows ends (default 10s)\n"
    "  --max-channels N         channels per socket (default 100)\n"
    "  --log-level LEVEL        debug, info, warn or error (default info)\n"
    "  --compress               offer permessage-deflate (default off)\n"
    "  --compress-mem-level N   server deflate memLevel, 1..9 (default 8)\n"
    "  --compress-level N       deflate level, 1..9 (default 1)\n"
    "  --static-dir DIR         serve the files under DIR at / (default: " OPTIONS_DEFAULT_STATIC_DIR "\n"
    "                           when it exists in the working directory; '' for none)\n"
    "  --redis URL              join a cluster through Redis, redis://host:port/db\n"
    "                           (default: $CINDER_REDIS; none: a single node)\n"
    "  --cluster-heartbeat DURATION\n"
    "                           heartbeat to the other nodes (default 1s)\n"
    "  --cluster-expiry DURATION\n"
    "                           a node silent this long is gone, its presence leaves (default 5s)\n"
    "  -h, --help               this text\n"
    "  -V, --version            print the version\n"
    "\n"
    "SIZE: bytes, or with k/KiB, m/MiB. DURATION: seconds, or with ms, s, m.\n";

enum {
    OPT_PORT = 256,
    OPT_BIND,
    OPT_FRAME,
    OPT_QUEUE,
    OPT_BODY,
    OPT_IDLE,
    OPT_LP_WINDOW,
    OPT_CHANNELS,
    OPT_LOG,
    OPT_COMPRESS,
    OPT_MEMLEVEL,
    OPT_LEVEL,
    OPT_STATIC_DIR,
    OPT_REDIS,
    OPT_HEARTBEAT,
    OPT_EXPIRY,
};

/* A decimal integer in [lo, hi]. 0 or -1. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < lo || n > hi)
        return -1;
    *out = (int)n;
    return 0;
}

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, char *err,
                                  size_t errlen)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, OPT_PORT},
        {"bind", required_argument, NULL, OPT_BIND},
        {"max-frame-size", required_argument, NULL, OPT_FRAME},
        {"max-queue-size", required_argument, NULL, OPT_QUEUE},
        {"max-body-size", required_argument, NULL, OPT_BODY},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"longpoll-window", required_argument, NULL, OPT_LP_WINDOW},
        {"max-channels", required_argument, NULL, OPT_CHANNELS},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"compress", no_argument, NULL, OPT_COMPRESS},
        {"compress-mem-level", required_argument, NULL, OPT_MEMLEVEL},
        {"compress-level", required_argument, NULL, OPT_LEVEL},
        {"static-dir", required_argument, NULL, OPT_STATIC_DIR},
        {"redis", required_argument, NULL, OPT_REDIS},
        {"cluster-heartbeat", required_argument, NULL, OPT_HEARTBEAT},
        {"cluster-expiry", required_argument, NULL, OPT_EXPIRY},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int opt, idx = 0;
    while ((opt = getopt_long(argc, argv, ":hV", longopts, &idx)) != -1) {
        size_t size;
        uint64_t ms;
        char *end;
        long n;
        switch (opt) {
        case 'h':
            fputs(usage, out);
            return OPTIONS_EXIT;
        case 'V':
            fprintf(out, "cinder %s\n", CINDER_VERSION);
            return OPTIONS_EXIT;
        case OPT_PORT:
            n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 65535)
                goto bad_value;
            o->port = (int)n;
            break;
        case OPT_BIND:
            o->bind = optarg;
            break;
        case OPT_FRAME:
        case OPT_QUEUE:
        case OPT_BODY:
            if (parse_size(optarg, &size) != 0 || size == 0)
                goto bad_value;
            if (opt == OPT_FRAME)
                o->max_frame_size = size;
            else if (opt == OPT_QUEUE)
                o->max_queue_size = size;
            else
                o->max_body_size = size;
            break;
        case OPT_IDLE:
            if (parse_duration_ms(optarg, &ms) != 0 || ms == 0)
                goto bad_value;
            o->idle_timeout_ms = ms;
            break;
        case OPT_LP_WINDOW:
            /* Bounded so that 1.5 windows in microseconds fits lws's timer and seconds fit an int. */
            if (parse_duration_ms(optarg, &ms) != 0 || ms == 0 || ms > 24 * 3600 * 1000)
                goto bad_value;
            o->longpoll_window_ms = ms;
            break;
        case OPT_CHANNELS:
            n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 100000)
                goto bad_value;
            o->max_channels = (unsigned)n;
            break;
        case OPT_COMPRESS:
            o->compress = true;
            break;
        case OPT_MEMLEVEL:
            if (parse_int(optarg, 1, 9, &o->compress_mem_level) != 0)
                goto bad_value;
            break;
        case OPT_LEVEL:
            if (parse_int(optarg, 1, 9, &o->compress_level) != 0)
                goto bad_value;
            break;
        case OPT_STATIC_DIR: {
            struct stat st;
            if (*optarg && (stat(optarg, &st) != 0 || !S_ISDIR(st.st_mode))) {
                snprintf(err, errlen, "--static-dir %s: not a directory", optarg);
                return OPTIONS_ERROR;
            }
            o->static_dir = *optarg ? optarg : NULL;
            break;
        }
        case OPT_REDIS:
            if (strncmp(optarg, "redis://", 8) != 0 || !optarg[8])
                goto bad_value;
            o->redis_url = optarg;
            break;
        case OPT_HEARTBEAT:
        case OPT_EXPIRY:
            if (parse_duration_ms(optarg, &ms) != 0 || ms == 0)
                goto bad_value;
            if (opt == OPT_HEARTBEAT)
                o->cluster_heartbeat_ms = ms;
            else
                o->cluster_expiry_ms = ms;
            break;
        case OPT_LOG:
            if (log_level_parse(optarg, &o->log_level) != 0)
                goto bad_value;
            break;
        case ':':
            snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
            return OPTIONS_ERROR;
        default:
            snprintf(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
            return OPTIONS_ERROR;
        }
        continue;
    bad_value:
        snprintf(err, errlen, "invalid value '%s' for --%s", optarg, longopts[idx].name);
        return OPTIONS_ERROR;
    }
    if (o->cluster_expiry_ms <= o->cluster_heartbeat_ms) {
        snprintf(err, errlen, "--cluster-expiry must be longer than --cluster-heartbeat");
        return OPTIONS_ERROR;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return OPTIONS_ERROR;
    }
    return OPTIONS_RUN;
}
