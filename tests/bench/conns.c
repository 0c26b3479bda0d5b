/*
 * conns.c: the conns mode: what an idle joined connection costs the server. Opens --conns WebSockets
 * (at most --window setting up at once), joins each to --topic (telemetry:bench), waits --settle, then
 * holds them --hold seconds with heartbeats as phoenix.js sends them, and reads the server's VmRSS
 * before the first connection, after the joins and at the end of the hold.
 *
 * Both sides need a file descriptor per connection: the count is capped to what this process's
 * RLIMIT_NOFILE and the server's "Max open files" (from /proc/PID/limits) allow, minus a margin, and
 * the cap is reported.
 */
#include "connset.h"
#include "loadgen.h"
#include "net.h"
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FD_MARGIN 64

/* The soft open-files limit of pid, or -1. */
static long server_nofile(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/limits", pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "Max open files", 14) == 0) {
            sscanf(line + 14, "%ld", &v);
            break;
        }
    fclose(f);
    return v;
}

static void poll_for(struct lg_loop *l, struct connset *cs, double secs, uint64_t hb)
{
    uint64_t end = lg_now_us() + (uint64_t)(secs * 1e6), last_hb = 0;
    for (uint64_t now = lg_now_us(); now < end; now = lg_now_us()) {
        if (now - last_hb > 1000000) {
            connset_heartbeat(cs, now, hb);
            last_hb = now;
        }
        if (lg_loop_poll(l, 50000) < 0)
            break;
    }
}

int mode_conns(const struct lg_opts *o, struct target *t)
{
    int n = o->conns;
    char cap_note[200] = "";
    long mine = net_raise_nofile(), theirs = t->pid > 0 ? server_nofile(t->pid) : -1;
    if (mine > 0 && n > mine - FD_MARGIN) {
        n = (int)(mine - FD_MARGIN);
        snprintf(cap_note, sizeof(cap_note), "capped from %d by this process's open-files limit %ld",
                 o->conns, mine);
    }
    if (theirs > 0 && n > theirs - FD_MARGIN) {
        n = (int)(theirs - FD_MARGIN);
        snprintf(cap_note, sizeof(cap_note), "capped from %d by the server's open-files limit %ld", o->conns,
                 theirs);
    }
    if (cap_note[0])
        fprintf(stderr, "loadgen: conns: %d connections, %s\n", n, cap_note);

    struct lg_loop loop;
    if (lg_loop_init(&loop) != 0)
        return LG_EXIT_SETUP;
    long rss0 = 0, rss1 = 0, rss2 = 0;
    bool have_rss = t->pid > 0 && proc_rss_kib(t->pid, &rss0) == 0;
    double su0 = 0, ss0 = 0, su1 = 0, ss1 = 0;
    if (t->pid > 0)
        proc_cpu_seconds(t->pid, &su0, &ss0);
    const char *topic = o->topic ? o->topic : "telemetry:bench";
    struct connset cs = {.loop = &loop,
                         .n = n,
                         .dst = &t->addr,
                         .nsrc = o->src_addrs,
                         .prefix = "idle",
                         .topic = topic,
                         .window = o->window,
                         .user = NULL};
    uint64_t hb = (uint64_t)(o->heartbeat * 1e6);
    int rc = LG_EXIT_WRONG;
    if (connset_open(&cs, lg_now_us() + 180 * 1000000ull) != 0) {
        fprintf(stderr, "loadgen: conns: %s\n", cs.error);
        goto report;
    }
    if (t->pid > 0)
        proc_cpu_seconds(t->pid, &su1, &ss1);
    poll_for(&loop, &cs, o->settle, hb);
    if (have_rss)
        proc_rss_kib(t->pid, &rss1);
    poll_for(&loop, &cs, o->hold, hb);
    if (have_rss)
        proc_rss_kib(t->pid, &rss2);
    rc = cs.dropped || !target_alive(t) ? LG_EXIT_WRONG : LG_EXIT_OK;
report:;
    int held = cs.ready_count - cs.dropped, fds = t->pid > 0 ? proc_fd_count(t->pid) : -1;
    double per = held > 0 && have_rss && rss2 ? (double)(rss2 - rss0) / held : 0;
    double per_joined = held > 0 && have_rss && rss1 ? (double)(rss1 - rss0) / held : 0;
    double setup_cpu = (su1 - su0) + (ss1 - ss0);
    printf("conns: %d connections joined to %s, held %.0f s\n", n, topic, o->hold);
    if (cap_note[0])
        printf("  (%s)\n", cap_note);
    printf("  %-40s %d ready, %d failed, %d dropped, %d upgrades retried (503/429); server fds %d\n",
           "connections", cs.ready_count, cs.failed, cs.dropped, cs.retries, fds);
    printf("  %-40s %.2f s (%.0f/s); connect-to-joined p50 %.2f ms, p99 %.2f ms\n", "set-up", cs.setup_secs,
           cs.setup_secs > 0 ? cs.ready_count / cs.setup_secs : 0,
           lat_hist_percentile(&cs.setup_lat, 0.5) / 1e3, lat_hist_percentile(&cs.setup_lat, 0.99) / 1e3);
    printf("  %-40s %.2f s (%.0f us per connection)\n", "server CPU for the set-up", setup_cpu,
           cs.ready_count ? setup_cpu * 1e6 / cs.ready_count : 0);
    if (have_rss)
        printf("  %-40s %ld KiB idle, %ld after the joins, %ld at the end of the hold\n", "server VmRSS",
               rss0, rss1, rss2);
    printf("  %-40s %.2f KiB (%.2f right after the joins)\n", "server RSS per connection", per, per_joined);
    if (cs.error[0])
        printf("  first problem: %s\n", cs.error);
    json_t *j = json_pack("{ss ss si si si si si si sf sf sf sf sI sI sI sf sf ss sb}", "mode", "conns",
                          "label", o->label ? o->label : "conns", "requested", o->conns, "conns", n, "ready",
                          cs.ready_count, "failed", cs.failed, "dropped", cs.dropped, "server_fds", fds,
                          "setup_s", cs.setup_secs, "setup_cpu_s", setup_cpu, "hold_s", o->hold, "settle_s",
                          o->settle, "rss_idle_kib", (json_int_t)rss0, "rss_joined_kib", (json_int_t)rss1,
                          "rss_held_kib", (json_int_t)rss2, "kib_per_conn", per, "kib_per_conn_joined",
                          per_joined, "cap", cap_note, "ok", rc == LG_EXIT_OK);
    json_object_set_new(j, "retries", json_integer(cs.retries));
    lg_print_json(j);
    connset_close(&cs);
    lg_loop_cleanup(&loop);
    return rc;
}
