/*
 * loadgen.c: cinder's load generator: flags, the server under test, the hard deadline, the modes.
 *
 *   loadgen floor  [-n SOCKETS] [--duration S] [--size BYTES]
 *   loadgen conns  -n N [--hold S] [--topic T]                 (--spawn BIN | --port P [--server-pid PID])
 *   loadgen fanout -n SUBS --rate R [--duration S] [--size B] [--publisher http|ws]   (same)
 *   loadgen churn  -n M [--rate OPS] [--duration S] [--topic PREFIX]                   (same)
 *   loadgen summary FILE...      the target table and one JSON line from the modes' JSON lines
 *
 * Everything after "--" is passed to the spawned server. A client with no per-connection thread and
 * no libwebsockets (ws_client.c, wsconn.c): its costs stay small next to the server's. Every mode ends
 * by itself; SIGALRM at the hard deadline (or SIGINT, SIGTERM) kills a spawned server and exits 4.
 */
#include "floor.h"
#include "loadgen.h"
#include "net.h"
#include "stats.h"
#include "target.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one global: a signal handler has nothing else to find the spawned server by. */
static volatile pid_t spawned_pid;

static void on_fatal_signal(int sig)
{
    if (spawned_pid > 0)
        kill(spawned_pid, SIGKILL);
    static const char m1[] = "loadgen: hard deadline reached, stopping\n", m2[] = "loadgen: interrupted\n";
    ssize_t w = sig == SIGALRM ? write(2, m1, sizeof(m1) - 1) : write(2, m2, sizeof(m2) - 1);
    (void)w;
    _exit(LG_EXIT_DEADLINE);
}

void lg_print_json(json_t *obj)
{
    if (!obj) {
        printf("{\"error\":\"json\"}\n");
        return;
    }
    char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("%s\n", s ? s : "{\"error\":\"json\"}");
    fflush(stdout);
    free(s);
    json_decref(obj);
}

json_t *lg_lat_json(const struct lat_hist *h)
{
    return json_pack("{sI sI sI sI sI sI sf sI}", "p50", (json_int_t)lat_hist_percentile(h, 0.5), "p90",
                     (json_int_t)lat_hist_percentile(h, 0.9), "p99", (json_int_t)lat_hist_percentile(h, 0.99),
                     "p999", (json_int_t)lat_hist_percentile(h, 0.999), "max",
                     (json_int_t)(h->count ? h->max : 0), "min", (json_int_t)(h->count ? h->min : 0), "mean",
                     lat_hist_mean(h), "count", (json_int_t)h->count);
}

int mode_floor(const struct lg_opts *o)
{
    struct floor_result r;
    char err[256];
    if (floor_measure(o->conns, (size_t)o->size, o->duration, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "loadgen: %s\n", err);
        return LG_EXIT_SETUP;
    }
    printf("floor: one thread writes one %zu-byte frame per write() to %d loopback sockets, another drains\n",
           r.frame_len, r.sockets);
    printf("  %-40s %llu in %.2f s (%llu refused: peer full)\n", "writes", (unsigned long long)r.writes,
           r.secs, (unsigned long long)r.eagain);
    printf("  %-40s %.2f s (user %.2f, sys %.2f); drainer %.2f s\n", "writer CPU", r.w_user + r.w_sys,
           r.w_user, r.w_sys, r.drain_cpu_s);
    printf("  %-40s %.0f (%.2f us per write)\n", "writes per CPU second", r.writes_per_cpu_s,
           r.writes_per_cpu_s > 0 ? 1e6 / r.writes_per_cpu_s : 0);
    lg_print_json(json_pack("{ss ss si si sf sI sI sf sf sf sf sb}", "mode", "floor", "label",
                            o->label ? o->label : "floor", "sockets", r.sockets, "frame_bytes",
                            (int)r.frame_len, "secs", r.secs, "writes", (json_int_t)r.writes, "eagain",
                            (json_int_t)r.eagain, "writer_user_s", r.w_user, "writer_sys_s", r.w_sys,
                            "writes_per_cpu_s", r.writes_per_cpu_s, "drainer_cpu_s", r.drain_cpu_s, "ok", 1));
    return LG_EXIT_OK;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: loadgen MODE [flags] [-- server flags]\n"
                "modes: floor, conns, fanout, churn; summary FILE... (see tests/bench/loadgen.c)\n"
                "server:  --spawn BIN (start it on a free 127.0.0.1 port, stop it at the end)\n"
                "         --host 127.0.0.X --port P [--server-pid PID] (an already running server)\n"
                "load:    -n/--conns N  --rate R  --duration S  --size BYTES  --topic T\n"
                "         --publisher http|ws  --publishers K  --hold S  --settle S  --drain S\n"
                "         --floor-secs S (fanout; 0 skips)  --heartbeat S  --window N  --src-addrs N\n"
                "         --deadline S (hard limit; default from the other durations)  --label NAME\n"
                "         --stall K (fanout: K subscribers stop reading halfway; the run must then fail)\n"
                "         --readers K (fanout: K threads read the subscribers; 0, the default: the\n"
                "         publisher's thread)\n");
}

/* Per-mode defaults for whatever the flags left unset (negative). */
static void defaults(struct lg_opts *o)
{
    bool floor = strcmp(o->mode, "floor") == 0, fan = strcmp(o->mode, "fanout") == 0,
         churn = strcmp(o->mode, "churn") == 0;
    if (o->conns < 0)
        o->conns = floor ? 2000 : fan ? 100 : churn ? 100 : 1000;
    if (o->rate < 0)
        o->rate = fan ? 50 : 0;
    if (o->duration < 0)
        o->duration = floor ? 2 : 5;
    if (o->size < 0)
        o->size = 100;
    if (o->hold < 0)
        o->hold = 5;
    if (o->drain < 0)
        o->drain = fan ? 5 : 2;
    if (o->settle < 0)
        o->settle = fan ? 0.5 : 2;
    if (o->floor_secs < 0)
        o->floor_secs = 2;
    if (o->heartbeat <= 0)
        o->heartbeat = 30;
    if (o->publishers <= 0)
        o->publishers = 2;
    if (o->window <= 0)
        o->window = 256;
    if (o->deadline <= 0)
        o->deadline = 240 + o->duration + o->drain + o->settle + (fan ? o->floor_secs : 0) +
                      (strcmp(o->mode, "conns") == 0 ? o->hold : 0);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? LG_EXIT_USAGE : LG_EXIT_OK;
    }
    struct lg_opts o = {.mode = argv[1],
                        .host = "127.0.0.1",
                        .conns = -1,
                        .rate = -1,
                        .duration = -1,
                        .hold = -1,
                        .drain = -1,
                        .settle = -1,
                        .floor_secs = -1,
                        .size = -1,
                        .src_addrs = 8};
    if (strcmp(o.mode, "summary") == 0)
        return mode_summary(argc - 2, argv + 2);
    if (strcmp(o.mode, "floor") && strcmp(o.mode, "conns") && strcmp(o.mode, "fanout") &&
        strcmp(o.mode, "churn")) {
        fprintf(stderr, "loadgen: unknown mode %s\n", o.mode);
        usage(stderr);
        return LG_EXIT_USAGE;
    }
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},       {"port", required_argument, NULL, 'p'},
        {"server-pid", required_argument, NULL, 'P'}, {"spawn", required_argument, NULL, 'S'},
        {"conns", required_argument, NULL, 'n'},      {"subs", required_argument, NULL, 'n'},
        {"rate", required_argument, NULL, 'r'},       {"duration", required_argument, NULL, 'd'},
        {"hold", required_argument, NULL, 'o'},       {"drain", required_argument, NULL, 'D'},
        {"settle", required_argument, NULL, 's'},     {"floor-secs", required_argument, NULL, 'F'},
        {"heartbeat", required_argument, NULL, 'b'},  {"deadline", required_argument, NULL, 'X'},
        {"size", required_argument, NULL, 'z'},       {"publisher", required_argument, NULL, 'u'},
        {"publishers", required_argument, NULL, 'U'}, {"topic", required_argument, NULL, 't'},
        {"window", required_argument, NULL, 'w'},     {"src-addrs", required_argument, NULL, 'A'},
        {"label", required_argument, NULL, 'L'},      {"stall", required_argument, NULL, 'T'},
        {"readers", required_argument, NULL, 'R'},    {NULL, 0, NULL, 0},
    };
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'H':
            o.host = optarg;
            break;
        case 'p':
            o.port = atoi(optarg);
            break;
        case 'P':
            o.server_pid = atoi(optarg);
            break;
        case 'S':
            o.spawn = optarg;
            break;
        case 'n':
            o.conns = atoi(optarg);
            break;
        case 'r':
            o.rate = atof(optarg);
            break;
        case 'd':
            o.duration = atof(optarg);
            break;
        case 'o':
            o.hold = atof(optarg);
            break;
        case 'D':
            o.drain = atof(optarg);
            break;
        case 's':
            o.settle = atof(optarg);
            break;
        case 'F':
            o.floor_secs = atof(optarg);
            break;
        case 'b':
            o.heartbeat = atof(optarg);
            break;
        case 'X':
            o.deadline = atof(optarg);
            break;
        case 'z':
            o.size = atoi(optarg);
            break;
        case 'u':
            if (strcmp(optarg, "http") && strcmp(optarg, "ws")) {
                fprintf(stderr, "loadgen: --publisher is http or ws\n");
                return LG_EXIT_USAGE;
            }
            o.publisher = strcmp(optarg, "ws") == 0 ? LG_PUB_WS : LG_PUB_HTTP;
            break;
        case 'U':
            o.publishers = atoi(optarg);
            break;
        case 't':
            o.topic = optarg;
            break;
        case 'w':
            o.window = atoi(optarg);
            break;
        case 'A':
            o.src_addrs = (unsigned)atoi(optarg);
            break;
        case 'L':
            o.label = optarg;
            break;
        case 'T':
            o.stall = atoi(optarg);
            break;
        case 'R':
            o.readers = atoi(optarg);
            if (o.readers < 0 || o.readers > 64) {
                fprintf(stderr, "loadgen: --readers is 0..64\n");
                return LG_EXIT_USAGE;
            }
            break;
        default:
            usage(stderr);
            return LG_EXIT_USAGE;
        }
    }
    o.server_args = argv + optind;
    o.nserver_args = argc - optind;
    defaults(&o);
    if (o.conns < 1 || o.duration <= 0 || o.size < 0 || o.src_addrs > 250) {
        fprintf(stderr, "loadgen: -n must be >= 1, --duration > 0, --src-addrs <= 250\n");
        return LG_EXIT_USAGE;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)ceil(o.deadline));
    net_raise_nofile();
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (strcmp(o.mode, "floor") == 0)
        return mode_floor(&o);

    struct target t;
    memset(&t, 0, sizeof(t));
    char err[256];
    if (o.spawn) {
        char *extra[64];
        int ne = 0;
        extra[ne++] = "--log-level";
        extra[ne++] = "warn";
        for (int i = 0; i < o.nserver_args && ne < 56; i++)
            extra[ne++] = o.server_args[i];
        if (target_spawn(&t, o.spawn, extra, ne, err, sizeof(err)) != 0) {
            fprintf(stderr, "loadgen: %s\n", err);
            return LG_EXIT_SETUP;
        }
        spawned_pid = t.pid;
    } else {
        if (o.port <= 0 || net_loopback_addr(o.host, o.port, &t.addr) != 0) {
            fprintf(stderr, "loadgen: give --spawn BIN, or --port P with --host in 127.0.0.0/8\n");
            return LG_EXIT_USAGE;
        }
        t.pid = o.server_pid;
        if (t.pid <= 0)
            fprintf(stderr, "loadgen: no --server-pid: no server CPU or memory figures\n");
    }

    int rc;
    if (strcmp(o.mode, "conns") == 0)
        rc = mode_conns(&o, &t);
    else if (strcmp(o.mode, "fanout") == 0)
        rc = mode_fanout(&o, &t);
    else
        rc = mode_churn(&o, &t);

    bool died = t.spawned && !target_alive(&t);
    if (died)
        fprintf(stderr, "loadgen: the server exited during the run (log: %s)\n", t.log_path);
    spawned_pid = 0;
    bool keep = died || (rc != LG_EXIT_OK && o.stall == 0); /* a deliberate stall's failure needs no log */
    target_stop(&t, keep);
    if (keep && !died && t.log_path[0])
        fprintf(stderr, "loadgen: server log kept: %s\n", t.log_path);
    return died && rc == LG_EXIT_OK ? LG_EXIT_WRONG : rc;
}
