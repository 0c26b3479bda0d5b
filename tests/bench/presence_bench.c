/*
 * presence_bench: what presence costs, measured on the core library (no network).
 *
 *   presence_bench [members]     (default 1000)
 *
 * 1. Memory per tracked presence: heap bytes (mallinfo2) per demo-room join, joins counted with and
 *    without presence so the channel's own cost can be subtracted.
 * 2. Diff cost on a topic of `members` subscribers: time for one more user to join (track, one
 *    presence_diff encoded once and queued to every member, presence_state built for the joiner) and
 *    to leave again, median of repeated runs.
 * Prints a table and one JSON line.
 */
#include "conn.h"
#include "handlers/demo.h"
#include "options.h"
#include "presence.h"
#include "server.h"
#include "tracker.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nop_wake(struct conn *c) {}
static void nop_close(struct conn *c) {}
static const struct transport_ops bench_ops = {.name = "bench", .wake = nop_wake, .close = nop_close};

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static struct conn *connect_user(struct server *s, int i)
{
    char user[32], sid[48];
    snprintf(user, sizeof(user), "user%d", i);
    snprintf(sid, sizeof(sid), "users_socket:user%d", i);
    return conn_create(s, &bench_ops, NULL, PHX_V2, strdup(user), strdup(sid));
}

static void send(struct conn *c, const char *text)
{
    conn_on_message(c, text, strlen(text), false);
}

static void drain(struct conn *c)
{
    while (!outq_empty(&c->q))
        outq_pop(&c->q);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Heap bytes per joined channel on topic pattern "<prefix>N" (each connection joins its own topic,
 * one member each, so no diff fans out). */
static double bytes_per_join(const char *prefix, int n)
{
    struct options o;
    options_defaults(&o);
    struct server *s = server_create(&o, &demo_app);
    struct conn **conns = calloc((size_t)n, sizeof(*conns));
    for (int i = 0; i < n; i++)
        conns[i] = connect_user(s, i);
    size_t before = heap_bytes();
    char buf[128];
    for (int i = 0; i < n; i++) {
        snprintf(buf, sizeof(buf), "[\"1\",\"1\",\"%s%d\",\"phx_join\",{}]", prefix, i);
        send(conns[i], buf);
        drain(conns[i]);
    }
    double per = (double)(heap_bytes() - before) / n;
    for (int i = 0; i < n; i++)
        conn_destroy(&conns[i]);
    free(conns);
    server_destroy(&s);
    return per;
}

int main(int argc, char **argv)
{
    int members = argc > 1 ? atoi(argv[1]) : 1000;
    if (members < 1)
        members = 1000;
    const int mem_n = 20000, runs = 101;

    double with_presence = bytes_per_join("room:", mem_n);
    double without = bytes_per_join("telemetry:", mem_n);

    struct options o;
    options_defaults(&o);
    struct server *s = server_create(&o, &demo_app);
    struct conn **conns = calloc((size_t)members + 1, sizeof(*conns));
    for (int i = 0; i <= members; i++)
        conns[i] = connect_user(s, i);
    for (int i = 0; i < members; i++) {
        send(conns[i], "[\"1\",\"1\",\"room:big\",\"phx_join\",{}]");
        drain(conns[i]);
        for (int j = 0; j < i; j++)
            drain(conns[j]);
    }
    double join_us[101], leave_us[101];
    struct conn *x = conns[members];
    for (int r = 0; r < runs; r++) {
        char buf[96];
        snprintf(buf, sizeof(buf), "[\"%d\",\"%d\",\"room:big\",\"phx_join\",{}]", r + 2, r + 2);
        double t0 = now_us();
        send(x, buf);
        double t1 = now_us();
        snprintf(buf, sizeof(buf), "[\"%d\",\"x\",\"room:big\",\"phx_leave\",{}]", r + 2);
        send(x, buf);
        double t2 = now_us();
        join_us[r] = t1 - t0;
        leave_us[r] = t2 - t1;
        for (int i = 0; i <= members; i++)
            drain(conns[i]);
    }
    qsort(join_us, runs, sizeof(double), cmp_double);
    qsort(leave_us, runs, sizeof(double), cmp_double);
    size_t tracked = tracker_entry_count(s->tracker);
    for (int i = 0; i <= members; i++)
        conn_destroy(&conns[i]);
    free(conns);
    server_destroy(&s);

    printf("presence: %d joins for memory, %d members for diffs, median of %d runs\n", mem_n, members, runs);
    printf("  heap per joined room channel with presence   %8.0f B\n", with_presence);
    printf("  heap per joined channel without presence     %8.0f B\n", without);
    printf("  => heap per tracked presence                 %8.0f B\n", with_presence - without);
    printf("  join into a %d-member topic (track + diff to all + state) %8.1f us\n", members,
           join_us[runs / 2]);
    printf("  leave from a %d-member topic (untrack + diff to all)      %8.1f us\n", members,
           leave_us[runs / 2]);
    printf("{\"bench\":\"presence\",\"members\":%d,\"bytes_per_presence\":%.0f,\"bytes_per_channel\":%.0f,"
           "\"join_diff_us_median\":%.1f,\"leave_diff_us_median\":%.1f,\"tracked_at_end\":%zu}\n",
           members, with_presence - without, without, join_us[runs / 2], leave_us[runs / 2],
           tracked - (size_t)members);
    return 0;
}
