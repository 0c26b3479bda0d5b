/*
 * history_bench: what history costs, measured on the core library (no network, callgrind-friendly).
 *
 *   history_bench [subscribers] [messages]     (defaults 100 and 10000)
 *
 * 1. Publish cost with history off and on: the median time per broadcast of a ~100-byte payload to
 *    `subscribers` connections, on a topic without and with a history policy (size = messages).
 * 2. Recovery: the time for one join with {"since": ...} to replay `messages` missed broadcasts.
 * Prints a table and one JSON line.
 */
#include "conn.h"
#include "handlers/demo.h"
#include "options.h"
#include "pubsub.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nop_wake(struct conn *c) {}
static void nop_close(struct conn *c) {}
static const struct transport_ops bench_ops = {.name = "bench", .wake = nop_wake, .close = nop_close};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void drain(struct conn *c)
{
    while (!outq_empty(&c->q))
        conn_pop(c, false);
}

static struct conn *join(struct server *s, int i, const char *topic)
{
    char user[32];
    snprintf(user, sizeof(user), "u%d", i);
    struct conn *c = conn_create(s, &bench_ops, NULL, PHX_V2, strdup(user), NULL);
    char buf[128];
    snprintf(buf, sizeof(buf), "[\"1\",\"1\",\"%s\",\"phx_join\",{}]", topic);
    conn_on_message(c, buf, strlen(buf), false);
    drain(c);
    return c;
}

/* Median microseconds per broadcast on topic, over `runs` broadcasts. */
static double publish_cost(struct server *s, struct conn **subs, int nsubs, const char *topic, int runs)
{
    double *t = calloc((size_t)runs, sizeof(double));
    json_t *p = json_pack("{sis[ff]ss}", "id", 7, "pos", 52.52, 13.40, "pad",
                          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    for (int r = 0; r < runs; r++) {
        json_object_set_new(p, "n", json_integer(r));
        struct broadcast b = {.topic = topic, .event = "pos", .json = p};
        double t0 = now_us();
        pubsub_broadcast(s, &b);
        t[r] = now_us() - t0;
        for (int i = 0; i < nsubs; i++)
            drain(subs[i]);
    }
    json_decref(p);
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    double med = t[runs / 2];
    free(t);
    return med;
}

int main(int argc, char **argv)
{
    int nsubs = argc > 1 ? atoi(argv[1]) : 100;
    int messages = argc > 2 ? atoi(argv[2]) : 10000;
    if (nsubs < 1)
        nsubs = 100;
    if (messages < 1)
        messages = 10000;
    char config[200];
    snprintf(config, sizeof(config), "[{\"pattern\":\"telemetry:h*\",\"history\":{\"size\":%d}}]", messages);
    struct options o;
    options_defaults(&o);
    o.max_queue_size = 64 * 1024 * 1024;
    o.topics = json_loads(config, 0, NULL);
    struct server *s = server_create(&o, &demo_app);
    options_cleanup(&o);
    if (!s) {
        fprintf(stderr, "history_bench: cannot create the server\n");
        return 1;
    }
    struct conn **plain = calloc((size_t)nsubs, sizeof(*plain)),
                **hist = calloc((size_t)nsubs, sizeof(*hist));
    for (int i = 0; i < nsubs; i++) {
        plain[i] = join(s, i, "telemetry:plain");
        hist[i] = join(s, nsubs + i, "telemetry:h1");
    }
    double off = publish_cost(s, plain, nsubs, "telemetry:plain", messages);
    double on = publish_cost(s, hist, nsubs, "telemetry:h1", messages);

    /* one client that saw nothing of the last `messages` broadcasts asks for them */
    char buf[256];
    struct conn *late = conn_create(s, &bench_ops, NULL, PHX_V2, strdup("late"), NULL);
    {
        const char *j = "[\"1\",\"1\",\"telemetry:h2\",\"phx_join\",{}]";
        conn_on_message(late, j, strlen(j), false);
    }
    const char *reply = (const char *)frame_data(outq_peek(&late->q));
    const char *ep = strstr(reply, "\"epoch\":\"");
    char epoch[17] = "";
    if (ep)
        memcpy(epoch, ep + 9, 16);
    drain(late);
    {
        const char *l = "[\"1\",\"2\",\"telemetry:h2\",\"phx_leave\",{}]";
        conn_on_message(late, l, strlen(l), false);
    }
    drain(late);
    struct conn *none[1] = {late};
    publish_cost(s, none, 0, "telemetry:h2", messages);
    snprintf(buf, sizeof(buf),
             "[\"3\",\"3\",\"telemetry:h2\",\"phx_join\",{\"since\":{\"seq\":0,\"epoch\":\"%s\"}}]", epoch);
    double t0 = now_us();
    conn_on_message(late, buf, strlen(buf), false);
    double recover_us = now_us() - t0;
    uint32_t frames = late->q.count;
    size_t bytes = late->q.bytes;
    drain(late);

    printf("history: %d subscribers, %d messages, medians\n", nsubs, messages);
    printf("  broadcast, no history              %8.1f us\n", off);
    printf("  broadcast, history on              %8.1f us   (x%.2f)\n", on, on / off);
    printf("  replay of %d missed messages   %8.1f ms   (%u frames, %zu bytes queued)\n", messages,
           recover_us / 1000.0, frames, bytes);
    printf("{\"bench\":\"history\",\"subscribers\":%d,\"messages\":%d,\"broadcast_us_off\":%.1f,\"broadcast_"
           "us_on\":"
           "%.1f,\"recovery_ms\":%.2f,\"recovered_frames\":%u}\n",
           nsubs, messages, off, on, recover_us / 1000.0, frames);
    for (int i = 0; i < nsubs; i++) {
        conn_destroy(&plain[i]);
        conn_destroy(&hist[i]);
    }
    conn_destroy(&late);
    free(plain);
    free(hist);
    server_destroy(&s);
    return frames == (uint32_t)messages + 1 ? 0 : 1; /* the join reply and every missed message */
}
