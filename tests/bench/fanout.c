/*
 * fanout.c: the fanout mode: N subscribers on one topic, a publisher at R messages a second, every
 * delivery checked.
 *
 * Each payload is {"s":SEQ,"t":SENT_US,"p":"xx..."} padded to --size bytes; SENT_US is CLOCK_MONOTONIC
 * taken just before the publish is written. Publishers:
 *   http  POST /api/broadcast on --publishers keep-alive connections, one request in flight on each
 *         (never pipelined); event "bench" on --topic (telemetry:bench).
 *   ws    a WebSocket joined to the subscribers' room (room:bench) pushing "shout"; the subscribers
 *         then also get presence_* frames, which are skipped.
 * Every subscriber has a bitmap of sequence numbers (seqmap.h): a second copy is a duplicate, a
 * missing one of a publish the server accepted (2xx, or an ok reply) is lost. Latency is publish to
 * the read that completed the frame at the subscriber; a second histogram starts at the time the publish
 * was due, so a publisher held up by a busy server (coordinated omission) shows too. The server's CPU (utime
 * + stime of its /proc stat) is read just before the first publish and after the last delivery, so deliveries
 * per server-CPU-second compare with the floor measured at the start of the same run.
 *
 * --readers K reads the subscribers on K threads of their own (readers.h; subscriber i on thread i % K),
 * each counting in its own tally, merged at the end; 0 (the default) reads them on the publisher's
 * thread. On a box where client and server share the cores, one reading thread is what the last
 * delivery of a broadcast waits for.
 *
 * --stall K makes K subscribers stop reading halfway through (their sockets leave the epoll set): a
 * check of the checker, whose run must end with loss reported and exit code 1.
 */
#include "connset.h"
#include "floor.h"
#include "httppub.h"
#include "loadgen.h"
#include "net.h"
#include "proc.h"
#include "readers.h"
#include "seqmap.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pub_status { PUB_UNSENT, PUB_SENT, PUB_OK, PUB_FAILED };

/* What reading the subscribers counts: one per reader thread, or one read on the main thread. */
struct tally {
    struct lat_hist lat;       /* from the send timestamp in the payload */
    struct lat_hist lat_sched; /* from the time the publish was due (a late publisher shows here) */
    uint64_t deliveries, other_frames, bad_payloads;
    /* read by the main thread while the readers run */
    _Atomic uint64_t unique, last_delivery_us;
};

struct fanout {
    const struct lg_opts *o;
    struct lg_loop loop;
    struct connset cs;
    const char *topic, *event;
    uint64_t nseq;
    struct seqmap *maps;
    uint8_t *status;         /* per sequence number: enum pub_status */
    struct readers rs;       /* rs.k reader threads (0: the subscribers are read on this thread) */
    struct tally *tallies;   /* rs.k of them, or 1 */
    struct lat_hist pub_rtt; /* publish to its answer (202, or the push's reply) */
    uint64_t *pub_sent_us;   /* per sequence number, for pub_rtt */
    /* publishing */
    struct httppub *pubs;
    int npubs;
    struct wsconn pubws;
    int pubws_ready; /* 0 joining, 1 joined, -1 failed */
    uint64_t next_seq, pub_ok, pub_failed, pub_answered, pub_late, pub_lag_max_us;
    uint64_t fail_status, fail_conn; /* failed publishes: a non-2xx answer, no answer (connection lost) */
    int last_bad_status;
    uint64_t last_send_us, last_answer_us;
    uint64_t t0_us;
    char pad[4096];
    size_t pad_len;
};

/* The payload of seq sent at now_us, padded to the configured size. Returns its length. */
static int payload(const struct fanout *f, char *buf, size_t cap, uint64_t seq, uint64_t now_us)
{
    int n = snprintf(buf, cap, "{\"s\":%llu,\"t\":%llu,\"p\":\"", (unsigned long long)seq,
                     (unsigned long long)now_us);
    size_t want = (size_t)f->o->size, pad = want > (size_t)n + 2 ? want - (size_t)n - 2 : 1;
    if (pad > f->pad_len)
        pad = f->pad_len;
    if ((size_t)n + pad + 3 > cap)
        return -1;
    memcpy(buf + n, f->pad, pad);
    n += (int)pad;
    buf[n++] = '"';
    buf[n++] = '}';
    buf[n] = '\0';
    return n;
}

static uint64_t sched_us(const struct fanout *f, uint64_t seq)
{
    return f->t0_us + (uint64_t)((double)seq * 1e6 / f->o->rate);
}

/* Runs on the thread that reads c: touches only c's own seqmap and that thread's tally. */
static void on_sub_frame(struct connset *cs, struct wsconn *c, const struct phx_frame *fr, uint64_t now)
{
    struct fanout *f = cs->user;
    struct tally *t = &f->tallies[f->rs.k ? c->idx % f->rs.k : 0];
    if (!phx_str_is(&fr->event, f->event)) {
        if (!phx_str_starts(&fr->event, "presence_") && !phx_str_is(&fr->topic, "phoenix"))
            t->other_frames++;
        return;
    }
    uint64_t seq, sent;
    if (phx_payload_u64(fr->payload, fr->payload_len, "s", &seq) != 0 ||
        phx_payload_u64(fr->payload, fr->payload_len, "t", &sent) != 0) {
        t->bad_payloads++;
        return;
    }
    t->deliveries++;
    atomic_store_explicit(&t->last_delivery_us, now, memory_order_relaxed);
    if (seqmap_mark(&f->maps[c->idx], seq) == SEQ_NEW) {
        atomic_fetch_add_explicit(&t->unique, 1, memory_order_relaxed);
        uint64_t due = sched_us(f, seq);
        lat_hist_add(&t->lat, now >= sent ? now - sent : 0);
        lat_hist_add(&t->lat_sched, now >= due ? now - due : 0);
    }
}

static unsigned ntallies(const struct fanout *f)
{
    return f->rs.k ? f->rs.k : 1;
}

/* Unique deliveries so far, and the time of the latest, over every tally (while the readers run). */
static uint64_t unique_so_far(const struct fanout *f)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < ntallies(f); i++)
        n += atomic_load_explicit(&f->tallies[i].unique, memory_order_relaxed);
    return n;
}

static uint64_t last_delivery(const struct fanout *f)
{
    uint64_t last = 0;
    for (unsigned i = 0; i < ntallies(f); i++) {
        uint64_t t = atomic_load_explicit(&f->tallies[i].last_delivery_us, memory_order_relaxed);
        if (t > last)
            last = t;
    }
    return last;
}

/* Heartbeats for the subscribers reader r reads (on its thread). */
static void reader_tick(struct reader *r, uint64_t now)
{
    struct fanout *f = r->rs->user;
    connset_heartbeat_share(&f->cs, (int)r->index, (int)r->rs->k, now, (uint64_t)(f->o->heartbeat * 1e6));
}

/* Hands subscriber i to reader thread i % k and starts the threads. 0 or -1. */
static int start_readers(struct fanout *f)
{
    if (f->rs.k == 0)
        return 0;
    for (int i = 0; i < f->cs.n; i++)
        if (wsconn_move(&f->cs.c[i], &f->rs.r[(unsigned)i % f->rs.k].loop) != 0)
            return -1;
    return readers_start(&f->rs);
}

static void settle_publish(struct fanout *f, uint64_t seq, bool ok)
{
    if (seq >= f->nseq || f->status[seq] != PUB_SENT)
        return;
    f->status[seq] = ok ? PUB_OK : PUB_FAILED;
    if (ok)
        lat_hist_add(&f->pub_rtt, lg_now_us() - f->pub_sent_us[seq]);
    f->pub_answered++;
    f->last_answer_us = lg_now_us();
    if (ok)
        f->pub_ok++;
    else
        f->pub_failed++;
}

static void on_http_done(struct httppub *p, uint64_t tag, int status)
{
    struct fanout *f = p->user;
    bool ok = status >= 200 && status < 300;
    if (status < 0)
        f->fail_conn++;
    else if (!ok) {
        f->fail_status++;
        f->last_bad_status = status;
    }
    settle_publish(f, tag, ok);
}

/* The WebSocket publisher: joins the room, then its pushes' replies settle the publishes. */
static void pubws_open(struct wsconn *c)
{
    struct fanout *f = c->user;
    char join[256];
    int n = snprintf(join, sizeof(join), "[\"1\",\"1\",\"%s\",\"phx_join\",{}]", f->topic);
    wsconn_send_text(c, join, (size_t)n);
}

static void pubws_text(struct wsconn *c, const char *text, size_t len, uint64_t now)
{
    struct fanout *f = c->user;
    struct phx_frame fr;
    if (phx_scan(text, len, &fr) != 0 || !phx_str_is(&fr.event, "phx_reply") || !fr.ref.p)
        return; /* its own copies of the shouts, presence */
    bool ok = phx_reply_ok(fr.payload, fr.payload_len);
    if (phx_str_is(&fr.ref, "1")) {
        f->pubws_ready = ok ? 1 : -1;
        return;
    }
    if (fr.ref.len > 1 && fr.ref.p[0] == 'p')
        settle_publish(f, strtoull(fr.ref.p + 1, NULL, 10), ok);
}

static void pubws_close(struct wsconn *c)
{
    struct fanout *f = c->user;
    if (f->pubws_ready == 0)
        f->pubws_ready = -1;
    for (uint64_t s = 0; s < f->next_seq; s++) /* unanswered pushes will never be */
        settle_publish(f, s, false);
}

static const struct wsconn_ops pubws_ops = {
    .on_open = pubws_open, .on_text = pubws_text, .on_close = pubws_close};

/* Publishes every sequence number whose time has come, on an idle publisher. Returns true when one is
 * due but every publisher is busy. */
static bool publish_due(struct fanout *f, uint64_t now)
{
    char pl[4200], body[4400];
    /* Bounded by nseq. */
    while (f->next_seq < f->nseq && now >= sched_us(f, f->next_seq)) {
        uint64_t seq = f->next_seq;
        struct httppub *idle = NULL;
        if (f->o->publisher == LG_PUB_HTTP) {
            for (int i = 0; i < f->npubs && !idle; i++)
                if (f->pubs[i].state == HP_IDLE)
                    idle = &f->pubs[i];
            if (!idle)
                return true; /* all busy: this one goes out late, as soon as one answers */
        }
        uint64_t t = lg_now_us(), lag = t - sched_us(f, seq);
        if (lag > f->pub_lag_max_us)
            f->pub_lag_max_us = lag;
        if (lag > 5000)
            f->pub_late++;
        int pn = payload(f, pl, sizeof(pl), seq, t), bn;
        f->pub_sent_us[seq] = t;
        f->last_send_us = t;
        if (f->o->publisher == LG_PUB_HTTP) {
            bn = snprintf(body, sizeof(body), "{\"topic\":\"%s\",\"event\":\"%s\",\"payload\":%.*s}",
                          f->topic, f->event, pn, pl);
            f->status[seq] = PUB_SENT;
            if (httppub_post(idle, "/api/broadcast", body, (size_t)bn, seq) != 0)
                settle_publish(f, seq, false);
        } else {
            bn = snprintf(body, sizeof(body), "[\"1\",\"p%llu\",\"%s\",\"shout\",%.*s]",
                          (unsigned long long)seq, f->topic, pn, pl);
            f->status[seq] = PUB_SENT;
            if (wsconn_send_text(&f->pubws, body, (size_t)bn) != 0)
                settle_publish(f, seq, false);
        }
        f->next_seq++;
        if (f->next_seq == f->nseq / 2)
            for (int i = 0; i < f->o->stall && i < f->cs.n; i++)
                lg_loop_del(f->cs.c[i].loop, &f->cs.c[i].sock);
        now = lg_now_us();
    }
    return false;
}

static int setup_publisher(struct fanout *f, const struct sockaddr_in *dst, uint64_t deadline)
{
    if (f->o->publisher == LG_PUB_HTTP) {
        f->npubs = f->o->publishers;
        f->pubs = calloc((size_t)f->npubs, sizeof(*f->pubs));
        if (!f->pubs)
            return -1;
        for (int i = 0; i < f->npubs; i++)
            f->pubs[i].sock.fd = -1;
        for (int i = 0; i < f->npubs; i++) {
            f->pubs[i].on_done = on_http_done;
            f->pubs[i].user = f;
            if (httppub_start(&f->pubs[i], &f->loop, dst, (unsigned)i, f->o->src_addrs) != 0)
                return -1;
        }
        for (int idle = 0; idle < f->npubs && lg_now_us() < deadline;) {
            lg_loop_poll(&f->loop, 10000);
            idle = 0;
            for (int i = 0; i < f->npubs; i++)
                idle += f->pubs[i].state == HP_IDLE;
        }
        for (int i = 0; i < f->npubs; i++)
            if (f->pubs[i].state != HP_IDLE)
                return -1;
        return 0;
    }
    f->pubws.ops = &pubws_ops;
    f->pubws.user = f;
    f->pubws.idx = (uint32_t)f->cs.n;
    if (wsconn_start(&f->pubws, &f->loop, dst, 1, f->o->src_addrs,
                     "/socket/websocket?token=publisher&vsn=2.0.0") != 0)
        return -1;
    while (f->pubws_ready == 0 && lg_now_us() < deadline)
        lg_loop_poll(&f->loop, 10000);
    return f->pubws_ready == 1 ? 0 : -1;
}

/* Lost deliveries: sequence numbers the server accepted that a subscriber lacks. */
static uint64_t count_lost(const struct fanout *f)
{
    uint64_t lost = 0;
    for (int i = 0; i < f->cs.n; i++)
        for (uint64_t s = 0; s < f->nseq; s++)
            if (f->status[s] == PUB_OK && !seqmap_has(&f->maps[i], s))
                lost++;
    return lost;
}

/* Publishes on schedule until every sequence number is sent or send_end passes, then waits for the
 * answers and the deliveries. Ends when everything accepted arrived at every subscriber, when nothing
 * (delivery or answer) came for the drain time, or at hard_end. */
static void run_until_delivered(struct fanout *f, const struct target *t, uint64_t send_end,
                                uint64_t hard_end)
{
    uint64_t last_hb = lg_now_us(), hb = (uint64_t)(f->o->heartbeat * 1e6),
             drain_us = (uint64_t)(f->o->drain * 1e6);
    for (;;) { /* bounded by hard_end */
        uint64_t now = lg_now_us();
        if (now >= hard_end)
            break;
        bool sending = f->next_seq < f->nseq && now < send_end, blocked = false;
        if (sending)
            blocked = publish_due(f, now);
        if (!sending && f->pub_answered == f->next_seq && unique_so_far(f) >= f->pub_ok * (uint64_t)f->cs.n)
            break; /* everything accepted arrived everywhere */
        uint64_t last = last_delivery(f), progress = last > f->last_answer_us ? last : f->last_answer_us;
        if (!sending && now > progress + drain_us && now > f->last_send_us + drain_us)
            break; /* nothing more is coming */
        if (now - last_hb > 1000000) {
            if (f->rs.k == 0) /* else each reader sends its own subscribers' */
                connset_heartbeat(&f->cs, now, hb);
            if (f->o->publisher == LG_PUB_WS)
                wsconn_heartbeat_if_due(&f->pubws, now, hb);
            last_hb = now;
            if (!target_alive(t))
                break;
        }
        /* Until the next publish is due; while every publisher is busy, an answer wakes the loop. */
        uint64_t wait = 5000;
        if (sending && !blocked) {
            uint64_t next = sched_us(f, f->next_seq);
            wait = next > now ? next - now : 0;
            if (wait > 5000)
                wait = 5000;
        }
        if (lg_loop_poll(&f->loop, wait) < 0)
            break;
    }
}

static void print_results(const struct fanout *f, json_t *j)
{
    printf("fanout: %d subscribers x %.0f msg/s x %.1f s, %d-byte payload, %s publisher, topic %s, ", f->cs.n,
           f->o->rate, f->o->duration, f->o->size, f->o->publisher == LG_PUB_HTTP ? "HTTP" : "WebSocket",
           f->topic);
    if (f->rs.k)
        printf("read on %u threads\n", f->rs.k);
    else
        printf("read on the publisher's thread\n");
    printf("  %-40s %s\n", "published (accepted)", json_string_value(json_object_get(j, "published_text")));
    printf("  %-40s %lld of %lld expected, %.0f/s\n", "deliveries",
           (long long)json_integer_value(json_object_get(j, "deliveries")),
           (long long)json_integer_value(json_object_get(j, "expected")),
           json_real_value(json_object_get(j, "deliveries_per_s")));
    printf("  %-40s %lld / %lld (other frames %lld, bad payloads %lld)\n", "lost / duplicated",
           (long long)json_integer_value(json_object_get(j, "lost")),
           (long long)json_integer_value(json_object_get(j, "dups")),
           (long long)json_integer_value(json_object_get(j, "other_frames")),
           (long long)json_integer_value(json_object_get(j, "bad_payloads")));
    json_t *l = json_object_get(j, "latency_us");
    printf("  %-40s %.2f / %.2f / %.2f / %.2f / %.2f ms\n", "latency p50 / p90 / p99 / p99.9 / max",
           json_integer_value(json_object_get(l, "p50")) / 1e3,
           json_integer_value(json_object_get(l, "p90")) / 1e3,
           json_integer_value(json_object_get(l, "p99")) / 1e3,
           json_integer_value(json_object_get(l, "p999")) / 1e3,
           json_integer_value(json_object_get(l, "max")) / 1e3);
    l = json_object_get(j, "latency_from_due_us");
    printf("  %-40s %.2f / %.2f / %.2f ms\n", "latency from due time p50 / p99 / max",
           json_integer_value(json_object_get(l, "p50")) / 1e3,
           json_integer_value(json_object_get(l, "p99")) / 1e3,
           json_integer_value(json_object_get(l, "max")) / 1e3);
    l = json_object_get(j, "publish_rtt_us");
    printf("  %-40s %.2f / %.2f / %.2f ms\n", "publish to answer p50 / p99 / max",
           json_integer_value(json_object_get(l, "p50")) / 1e3,
           json_integer_value(json_object_get(l, "p99")) / 1e3,
           json_integer_value(json_object_get(l, "max")) / 1e3);
    printf("  %-40s %.2f s (user %.2f, sys %.2f)\n", "server CPU",
           json_real_value(json_object_get(j, "server_cpu_s")),
           json_real_value(json_object_get(j, "server_user_s")),
           json_real_value(json_object_get(j, "server_sys_s")));
    printf("  %-40s %.0f\n", "deliveries per server CPU second",
           json_real_value(json_object_get(j, "deliveries_per_server_cpu_s")));
    if (json_real_value(json_object_get(j, "floor_writes_per_cpu_s")) > 0)
        printf("  %-40s %.0f writes/CPU-s (%lld-byte frames) -> ratio %.2f\n", "floor (same run)",
               json_real_value(json_object_get(j, "floor_writes_per_cpu_s")),
               (long long)json_integer_value(json_object_get(j, "frame_bytes")),
               json_real_value(json_object_get(j, "floor_ratio")));
    else
        printf("  %-40s not measured (--floor-secs 0)\n", "floor (same run)");
    printf("  %-40s %.2f s; publisher late >5 ms: %lld (max lag %.1f ms)\n", "client CPU",
           json_real_value(json_object_get(j, "client_cpu_s")),
           (long long)json_integer_value(json_object_get(j, "pub_late")),
           json_integer_value(json_object_get(j, "pub_lag_max_us")) / 1e3);
}

int mode_fanout(const struct lg_opts *o, struct target *t)
{
    struct fanout *f = calloc(1, sizeof(*f));
    if (!f)
        return LG_EXIT_SETUP;
    int rc = LG_EXIT_SETUP;
    f->o = o;
    f->topic = o->topic ? o->topic : o->publisher == LG_PUB_WS ? "room:bench" : "telemetry:bench";
    f->event = o->publisher == LG_PUB_WS ? "shout" : "bench";
    f->pad_len = sizeof(f->pad);
    memset(f->pad, 'x', sizeof(f->pad));
    f->nseq = (uint64_t)ceil(o->rate * o->duration);
    lat_hist_init(&f->pub_rtt);
    if (f->nseq == 0 || o->size > 4000) {
        fprintf(stderr, "loadgen: fanout needs --rate x --duration >= 1 and --size <= 4000\n");
        free(f);
        return LG_EXIT_USAGE;
    }

    /* The delivered frame, for the floor: [null,null,"TOPIC","EVENT",PAYLOAD] plus the 2-byte header. */
    size_t frame_bytes =
        2 + strlen("[null,null,\"\",\"\",]") + strlen(f->topic) + strlen(f->event) + (size_t)o->size;
    struct floor_result fl = {0};
    char err[256];
    if (o->floor_secs > 0) {
        int ns = o->conns < 4000 ? o->conns : 4000;
        if (floor_measure(ns, frame_bytes > 127 ? 127 : frame_bytes, o->floor_secs, &fl, err, sizeof(err)) !=
            0)
            fprintf(stderr, "loadgen: %s (no floor ratio)\n", err);
    }

    f->maps = calloc((size_t)o->conns, sizeof(*f->maps));
    f->status = calloc((size_t)f->nseq, 1);
    f->pub_sent_us = calloc((size_t)f->nseq, sizeof(*f->pub_sent_us));
    f->rs = (struct readers){.k = (unsigned)o->readers, .tick = reader_tick, .user = f};
    f->tallies = calloc(ntallies(f), sizeof(*f->tallies));
    if (!f->maps || !f->status || !f->pub_sent_us || !f->tallies || lg_loop_init(&f->loop) != 0 ||
        readers_init(&f->rs) != 0)
        goto out;
    for (unsigned i = 0; i < ntallies(f); i++) {
        lat_hist_init(&f->tallies[i].lat);
        lat_hist_init(&f->tallies[i].lat_sched);
    }
    for (int i = 0; i < o->conns; i++)
        if (seqmap_init(&f->maps[i], f->nseq) != 0)
            goto out;

    f->cs = (struct connset){.loop = &f->loop,
                             .n = o->conns,
                             .dst = &t->addr,
                             .nsrc = o->src_addrs,
                             .prefix = "sub",
                             .topic = f->topic,
                             .window = o->window,
                             .on_frame = on_sub_frame,
                             .user = f};
    uint64_t setup_deadline = lg_now_us() + 120 * 1000000ull;
    if (connset_open(&f->cs, setup_deadline) != 0) {
        fprintf(stderr, "loadgen: fanout set-up: %s\n", f->cs.error);
        rc = LG_EXIT_WRONG;
        goto out;
    }
    /* The WebSocket publisher joins before the settle, so the presence_diff of its join drains with the
     * rest; HTTP publishers connect after it, as a keep-alive connection left idle through a long settle
     * would be closed by the server's idle timeout, racing the first publish. */
    bool ws = o->publisher == LG_PUB_WS;
    if (ws && setup_publisher(f, &t->addr, lg_now_us() + 10 * 1000000ull) != 0) {
        fprintf(stderr, "loadgen: the WebSocket publisher could not connect or join\n");
        goto out;
    }
    /* Let set-up traffic (presence on a room) drain before measuring. */
    for (uint64_t end = lg_now_us() + (uint64_t)(o->settle * 1e6); lg_now_us() < end;)
        lg_loop_poll(&f->loop, 10000);
    f->tallies[0].other_frames = 0; /* the readers have not started: all set-up frames counted here */
    if (!ws && setup_publisher(f, &t->addr, lg_now_us() + 10 * 1000000ull) != 0) {
        fprintf(stderr, "loadgen: the HTTP publishers could not connect\n");
        goto out;
    }

    double su0 = 0, ss0 = 0, su1 = 0, ss1 = 0, c0 = self_cpu_seconds();
    bool have_cpu = t->pid > 0 && proc_cpu_seconds(t->pid, &su0, &ss0) == 0;
    /* The schedule starts once the reader threads run: they read t0_us, set before they start. */
    f->t0_us = lg_now_us() + 2000;
    if (start_readers(f) != 0) {
        fprintf(stderr, "loadgen: the reader threads could not start\n");
        goto out;
    }
    uint64_t send_end = f->t0_us + (uint64_t)((o->duration + (o->duration > 10 ? o->duration : 10)) * 1e6);
    run_until_delivered(f, t, send_end, send_end + (uint64_t)((o->drain + 30) * 1e6));
    uint64_t t1 = lg_now_us();
    readers_stop(&f->rs);
    have_cpu = have_cpu && proc_cpu_seconds(t->pid, &su1, &ss1) == 0;
    double client_cpu = self_cpu_seconds() - c0;
    uint64_t unanswered = f->next_seq - f->pub_answered, unsent = f->nseq - f->next_seq;
    for (uint64_t s = 0; s < f->nseq; s++) /* still unanswered at the end: failed */
        settle_publish(f, s, false);

    /* the readers are stopped: their tallies merge into the first */
    struct tally *sum = &f->tallies[0];
    for (unsigned i = 1; i < ntallies(f); i++) {
        struct tally *r = &f->tallies[i];
        lat_hist_merge(&sum->lat, &r->lat);
        lat_hist_merge(&sum->lat_sched, &r->lat_sched);
        sum->deliveries += r->deliveries;
        sum->other_frames += r->other_frames;
        sum->bad_payloads += r->bad_payloads;
    }
    uint64_t last_us = last_delivery(f);
    uint64_t lost = count_lost(f), dups = 0, oor = 0, unique = 0;
    for (int i = 0; i < o->conns; i++) {
        dups += f->maps[i].dups;
        oor += f->maps[i].out_of_range;
        unique += f->maps[i].unique;
    }
    double span = (double)((last_us > f->t0_us ? last_us : t1) - f->t0_us) / 1e6;
    double scpu = (su1 - su0) + (ss1 - ss0);
    double per_cpu = have_cpu && scpu > 0 ? (double)unique / scpu : 0;
    long rss = 0;
    if (t->pid > 0)
        proc_rss_kib(t->pid, &rss);
    char pubtext[200];
    snprintf(pubtext, sizeof(pubtext),
             "%llu of %llu; failed %llu (non-2xx %llu, connection lost %llu, unanswered %llu)",
             (unsigned long long)f->pub_ok, (unsigned long long)f->nseq, (unsigned long long)f->pub_failed,
             (unsigned long long)f->fail_status, (unsigned long long)f->fail_conn,
             (unsigned long long)unanswered);
    if (unsent)
        snprintf(pubtext + strlen(pubtext), sizeof(pubtext) - strlen(pubtext),
                 "; %llu not sent (publisher too late)", (unsigned long long)unsent);

    json_t *j = json_pack(
        "{ss ss si sf sf si ss ss sI sI sI sI sI sI sI sI sI sI sf so so so sf sf sf sf sf si sf sf sf sI sI "
        "sI "
        "sf ss}",
        "mode", "fanout", "label", o->label ? o->label : "fanout", "subs", o->conns, "rate", o->rate,
        "duration_s", o->duration, "size", o->size, "publisher", o->publisher == LG_PUB_HTTP ? "http" : "ws",
        "topic", f->topic, "published", (json_int_t)f->pub_ok, "pub_failed", (json_int_t)f->pub_failed,
        "deliveries", (json_int_t)sum->deliveries, "unique", (json_int_t)unique, "expected",
        (json_int_t)(f->pub_ok * (uint64_t)o->conns), "lost", (json_int_t)lost, "dups", (json_int_t)dups,
        "out_of_range", (json_int_t)oor, "other_frames", (json_int_t)sum->other_frames, "bad_payloads",
        (json_int_t)sum->bad_payloads, "deliveries_per_s", span > 0 ? (double)unique / span : 0.0,
        "latency_us", lg_lat_json(&sum->lat), "latency_from_due_us", lg_lat_json(&sum->lat_sched),
        "publish_rtt_us", lg_lat_json(&f->pub_rtt), "server_cpu_s", scpu, "server_user_s", su1 - su0,
        "server_sys_s", ss1 - ss0, "deliveries_per_server_cpu_s", per_cpu, "floor_writes_per_cpu_s",
        fl.writes_per_cpu_s, "frame_bytes", (int)frame_bytes, "floor_ratio",
        fl.writes_per_cpu_s > 0 ? per_cpu / fl.writes_per_cpu_s : 0.0, "client_cpu_s", client_cpu, "setup_s",
        f->cs.setup_secs, "pub_late", (json_int_t)f->pub_late, "pub_lag_max_us",
        (json_int_t)f->pub_lag_max_us, "server_rss_kib", (json_int_t)rss, "wall_s",
        (double)(t1 - f->t0_us) / 1e6, "published_text", pubtext);
    if (!j)
        goto out;
    print_results(f, j);
    bool wrong = lost || dups || oor || sum->bad_payloads || f->pub_failed || f->pub_ok == 0 ||
                 f->cs.dropped || !target_alive(t);
    if (f->cs.dropped)
        printf("  dropped subscribers: %d (%s)\n", f->cs.dropped, f->cs.error);
    if (!target_alive(t))
        printf("  the server is gone\n");
    if (f->last_bad_status)
        printf("  last non-2xx answer to a publish: %d\n", f->last_bad_status);
    json_object_set_new(j, "readers", json_integer((json_int_t)f->rs.k));
    json_object_set_new(j, "dropped", json_integer(f->cs.dropped));
    json_object_set_new(j, "setup_retries", json_integer(f->cs.retries));
    json_object_set_new(j, "unsent", json_integer((json_int_t)unsent));
    json_object_set_new(j, "pub_fail_status", json_integer((json_int_t)f->fail_status));
    json_object_set_new(j, "pub_fail_conn", json_integer((json_int_t)f->fail_conn));
    json_object_set_new(j, "pub_unanswered", json_integer((json_int_t)unanswered));
    json_object_set_new(j, "ok", json_boolean(!wrong));
    json_object_del(j, "published_text");
    lg_print_json(j);
    rc = wrong ? LG_EXIT_WRONG : LG_EXIT_OK;
out:
    readers_stop(&f->rs); /* before the sockets they read are closed */
    connset_close(&f->cs);
    if (o->publisher == LG_PUB_WS && f->pubws.loop)
        wsconn_cleanup(&f->pubws);
    for (int i = 0; f->pubs && i < f->npubs; i++)
        httppub_cleanup(&f->pubs[i]);
    free(f->pubs);
    for (int i = 0; f->maps && i < o->conns; i++)
        seqmap_cleanup(&f->maps[i]);
    free(f->maps);
    free(f->status);
    free(f->pub_sent_us);
    readers_cleanup(&f->rs);
    free(f->tallies);
    if (f->loop.rbuf)
        lg_loop_cleanup(&f->loop);
    free(f);
    return rc;
}
