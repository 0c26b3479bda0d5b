/*
 * options.h: the server's settings: one schema (options.c) gives every setting its type, default,
 * limits, help line and whether a reload may change it, and from it come the defaults, the JSON config
 * file, the CINDER_* environment variables, the command-line flags, `cinder genconfig` and --help.
 *
 * Precedence: defaults < config file (-c FILE, or $CINDER_CONFIG) < environment < flags. A setting
 * `max_frame_size` is "max_frame_size" in the file, CINDER_MAX_FRAME_SIZE in the environment and
 * --max-frame-size on the command line. Sizes: bytes, or with k/KiB, m/MiB ("1MiB"); durations:
 * seconds, or with ms, s, m ("25s"); JSON numbers mean bytes and seconds.
 *
 * Ownership: a struct options owns its strings and its channels array; options_cleanup frees them,
 * options_copy duplicates. Nothing in it points into argv or the environment.
 */
#ifndef CINDER_OPTIONS_H
#define CINDER_OPTIONS_H

#include "log.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum log_format { LOG_FORMAT_AUTO = 0, LOG_FORMAT_TEXT = 1, LOG_FORMAT_JSON = 2 };

struct options {
    /* listening */
    int port;       /* 4000 */
    char *bind;     /* NULL: every interface */
    char *tls_cert; /* PEM certificate chain: serve wss:// and https:// (with tls_key) */
    char *tls_key;
    unsigned shards; /* event-loop threads; 0: one per core (1 with TLS) */
    /* limits */
    size_t max_frame_size;             /* 1 MiB: a bigger inbound message closes with 1009 */
    size_t max_queue_size;             /* 1 MiB: a write queue past it closes its connection with 1008 */
    size_t max_body_size;              /* 1 MiB: HTTP API request bodies, 413 past it */
    uint64_t idle_timeout_ms;          /* 60 s without a frame from the client closes it */
    unsigned max_channels;             /* 100 channels per socket */
    unsigned max_connections;          /* 100000 per node: past it, upgrades get 503 */
    unsigned max_connections_per_user; /* 0: unlimited */
    unsigned connection_rate;          /* new connections per second per node (burst the same); 0: off */
    char *allowed_origins;             /* comma-separated Origin allow-list, '*' wildcards; NULL: any */
    /* long-poll */
    uint64_t longpoll_window_ms; /* 10 s: a long-poll GET waits this long; no poll for 1.5x ends a session */
    /* operations */
    enum log_level log_level;   /* info */
    enum log_format log_format; /* auto: JSON lines when stderr is not a terminal */
    uint64_t drain_timeout_ms;  /* 30 s: SIGTERM closes every socket (1012) within this */
    /* compression */
    bool compress;          /* permessage-deflate offered to clients: off */
    int compress_mem_level; /* 1..9: zlib memLevel of the server's deflater, 8 */
    int compress_level;     /* 1..9: zlib compression level, 1 */
    /* files */
    char *static_dir; /* files served at / (static_files.h); the default is used only when it exists;
                         NULL: none */
    /* cluster */
    char *redis_url;               /* redis://host:port/db joins a cluster (bridge.h); NULL: single node */
    uint64_t cluster_heartbeat_ms; /* 1 s: heartbeat to the other nodes */
    uint64_t cluster_expiry_ms;    /* 5 s: a node silent this long is gone (its presence leaves) */
    /* auth */
    char *api_token;  /* POST /api/broadcast needs "Authorization: Bearer <api_token>"; NULL: open */
    char *jwt_secret; /* HS256 key (>= 32 bytes): connect tokens are JWTs (jwt.h); NULL: the app's own rule */
    uint64_t jwt_leeway_ms; /* 0: clock skew allowed on a token's exp and nbf */
    /* generic channels (handlers/generic.h): a JSON array of channel objects, [] by default; valid once
     * loaded (the schema's check ran). Config file only. */
    json_t *channels;
    /* per-pattern topic policies (topic_policy.h): history, conflation, slow-consumer policy; [] by
     * default. Config file only. */
    json_t *topics;
    /* where this came from */
    char *config_path;        /* the config file read, or NULL */
    bool static_dir_explicit; /* static_dir was set by file, environment or flag (not the default) */
};

/* The default static_dir, relative to the working directory: the dashboard, when run from the repo. */
#define OPTIONS_DEFAULT_STATIC_DIR "client-js/dashboard"

/* o = every default. */
void options_defaults(struct options *o);
/* Free what o owns and zero it. */
void options_cleanup(struct options *o);
/* dst = a deep copy of src (dst is overwritten, not cleaned). 0 or -1 (OOM; dst zeroed). */
int options_copy(struct options *dst, const struct options *src);

/* Called for each non-fatal remark while reading a config file (an unknown key). */
typedef void (*options_warn_fn)(void *arg, const char *message);

/* Apply the JSON config file at path over o. Unknown keys are reported through warn and ignored.
 * 0, or -1 with err holding a precise message ("FILE: line 3: ...", "FILE: max_channels: ..."); o is
 * unchanged on error. */
int options_load_file(struct options *o, const char *path, options_warn_fn warn, void *warn_arg, char *err,
                      size_t errlen);
/* Apply every CINDER_* variable of the environment over o. 0, or -1 with err (o unchanged). */
int options_load_env(struct options *o, char *err, size_t errlen);
/* Check the cross-setting rules (cluster expiry > heartbeat, a TLS key needs a certificate, ...).
 * 0 or -1 with err. */
int options_validate(const struct options *o, char *err, size_t errlen);

enum options_result {
    OPTIONS_RUN = 0,   /* parsed: serve */
    OPTIONS_EXIT = 1,  /* --help or --version was printed to out: exit 0 */
    OPTIONS_ERROR = -1 /* err holds a message: exit 2 */
};
/* Apply the command line over o. -c/--config FILE is only recorded here (config_path): read the file
 * first (options_config_arg finds it). An explicit --static-dir must name a directory ('' turns
 * static files off). */
enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, char *err,
                                  size_t errlen);
/* The -c/--config argument of argv (borrowed), else $CINDER_CONFIG, else NULL. */
const char *options_config_arg(int argc, char **argv);

/* Every setting, with its current value, as a config file object (new reference). */
json_t *options_to_json(const struct options *o);
/* Whether a reload from old to new changes a setting that needs a restart; *which names it. */
bool options_need_restart(const struct options *old_o, const struct options *new_o, const char **which);

/* "1048576", "64k", "1MiB" -> bytes. 0 or -1. */
int parse_size(const char *s, size_t *out);
/* "60", "60s", "500ms", "2m" -> milliseconds. 0 or -1. */
int parse_duration_ms(const char *s, uint64_t *out);

#endif
