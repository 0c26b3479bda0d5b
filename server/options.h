/*
 * options.h: the server's settings, their defaults, and the command line that sets them.
 *
 * One schema with defaults in one place (options_defaults). Sizes accept a plain byte count or a
 * suffix k/K/KiB, m/M/MiB; durations a number with ms, s or m (a plain number is seconds).
 */
#ifndef CINDER_OPTIONS_H
#define CINDER_OPTIONS_H

#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct options {
    int port;                    /* 4000 */
    const char *bind;            /* NULL: every interface; borrowed from argv */
    size_t max_frame_size;       /* 1 MiB: a bigger inbound message closes with 1009 */
    size_t max_queue_size;       /* 1 MiB: a write queue past it closes its connection with 1008 */
    size_t max_body_size;        /* 1 MiB: HTTP API request bodies, 413 past it */
    uint64_t idle_timeout_ms;    /* 60 s without a frame from the client closes it */
    uint64_t longpoll_window_ms; /* 10 s: a long-poll GET waits this long; no poll for 1.5x ends a session */
    unsigned max_channels;       /* 100 channels per socket */
    enum log_level log_level;    /* info */
    bool compress;               /* permessage-deflate offered to clients: off */
    int compress_mem_level;      /* 1..9: zlib memLevel of the server's deflater, 8 */
    int compress_level;          /* 1..9: zlib compression level, 1 */
    const char *static_dir;      /* files served at / (static_files.h): OPTIONS_DEFAULT_STATIC_DIR, used when
                                    it exists; NULL: none. Borrowed (argv or static) */
    const char *redis_url;       /* redis://host:port/db joins a cluster (bridge.h); NULL: single node.
                                    Borrowed (argv or the environment's CINDER_REDIS) */
    uint64_t cluster_heartbeat_ms; /* 1 s: heartbeat to the other nodes */
    uint64_t cluster_expiry_ms;    /* 5 s: a node silent this long is gone (its presence leaves) */
};

/* The default --static-dir, relative to the working directory: the dashboard, when run from the repo. */
#define OPTIONS_DEFAULT_STATIC_DIR "client-js/dashboard"

void options_defaults(struct options *o);

enum options_result {
    OPTIONS_RUN = 0,   /* parsed: serve */
    OPTIONS_EXIT = 1,  /* --help or --version was printed to out: exit 0 */
    OPTIONS_ERROR = -1 /* err holds a message: exit 2 */
};
/* Parse argv over the current values of o. An explicit --static-dir must name a directory
 * (--static-dir '' turns static files off). */
enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, char *err,
                                  size_t errlen);

/* "1048576", "64k", "1MiB" -> bytes. 0 or -1. */
int parse_size(const char *s, size_t *out);
/* "60", "60s", "500ms", "2m" -> milliseconds. 0 or -1. */
int parse_duration_ms(const char *s, uint64_t *out);

#endif
