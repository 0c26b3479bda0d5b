/*
 * loadgen.h: the load generator's options and its modes (one file each). Every mode prints a human
 * table and one JSON line, ends by itself, and returns the process's exit code (LG_EXIT_*).
 */
#ifndef CINDER_BENCH_LOADGEN_H
#define CINDER_BENCH_LOADGEN_H

#include "target.h"

#include <jansson.h>
#include <stdbool.h>

enum lg_exit {
    LG_EXIT_OK = 0,
    LG_EXIT_WRONG = 1,    /* loss, duplicates, errors, refused or dropped connections */
    LG_EXIT_USAGE = 2,    /* bad flags */
    LG_EXIT_SETUP = 3,    /* could not start or reach the server, out of resources */
    LG_EXIT_DEADLINE = 4, /* the hard deadline passed (SIGALRM) */
};

enum lg_publisher { LG_PUB_HTTP, LG_PUB_WS };

struct lg_opts {
    const char *mode;
    const char *label; /* names the scenario in the JSON line */
    /* the server */
    const char *host;
    int port;
    int server_pid;
    const char *spawn;
    char **server_args;
    int nserver_args;
    unsigned src_addrs; /* source addresses 127.0.0.2.. (0: the kernel's choice) */
    /* the load */
    int conns;       /* connections: subscribers (fanout), churners (churn), held (conns), sockets (floor) */
    double rate;     /* fanout: messages/s; churn: joins+leaves/s (0: as fast as replies come) */
    double duration; /* seconds of load */
    double hold;     /* conns: seconds to hold after joining */
    double drain;    /* seconds to wait for the last deliveries or replies */
    double settle;   /* seconds between set-up and measuring */
    double floor_secs;
    double heartbeat; /* seconds between heartbeats on an otherwise quiet connection */
    double deadline;  /* hard limit of the whole run, seconds (0: computed) */
    int size;         /* fanout payload bytes */
    enum lg_publisher publisher;
    int publishers; /* HTTP publisher connections */
    const char *topic;
    int window;  /* connects or joins in flight */
    int stall;   /* fanout: this many subscribers stop reading halfway (proves loss is detected) */
    int readers; /* fanout: threads reading the subscribers (0: the publisher's thread) */
};

/* Each mode: runs, prints, returns an LG_EXIT_* code. t is the server (already started or given). */
int mode_floor(const struct lg_opts *o);
int mode_conns(const struct lg_opts *o, struct target *t);
int mode_fanout(const struct lg_opts *o, struct target *t);
int mode_churn(const struct lg_opts *o, struct target *t);
int mode_summary(int nfiles, char **files);

/* Prints obj as one compact JSON line on stdout, then releases it. */
void lg_print_json(json_t *obj);

/* A latency histogram as {"p50":..,"p90":..,"p99":..,"p999":..,"max":..,"mean":..} in microseconds. */
struct lat_hist;
json_t *lg_lat_json(const struct lat_hist *h);

#endif
